"""The body-site map: regions, test sites and their spinal segments.

Exercise acts segmentally (gate control at the segments of the moving limb, peripheral sensitisation of an
affected region) and systemically (descending modulation). A site's coupling to a region is the fraction of
the site's spinal segments that the region's segments cover on the same side, with a small commissural
spill-over to the other side. "Local > remote" EIH then follows from anatomy rather than from a flag.

Segment ranges follow standard dermatome/myotome charts (assumed: textbook anatomy, e.g. Standring,
*Gray's Anatomy* 42nd ed.); the trigeminal territory is written ``V``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from eihlab.errors import InputError

Side = Literal["left", "right", "midline"]

_SEGMENT_ORDER: tuple[str, ...] = (
    ("V",)
    + tuple(f"C{i}" for i in range(1, 9))
    + tuple(f"T{i}" for i in range(1, 13))
    + tuple(f"L{i}" for i in range(1, 6))
    + tuple(f"S{i}" for i in range(1, 6))
    + ("Co",)
)


def segment_range(first: str, last: str) -> frozenset[str]:
    """Return the set of segments from ``first`` to ``last`` inclusive (``segment_range("L2", "L4")``)."""
    i, j = _SEGMENT_ORDER.index(first), _SEGMENT_ORDER.index(last)
    return frozenset(_SEGMENT_ORDER[i : j + 1])


@dataclass(frozen=True, slots=True)
class Region:
    """A body region that can be exercised, sensitised or injured.

    ``muscle_fraction`` is the region's share of skeletal muscle mass when the whole region works (assumed:
    typical adult proportions, legs ≈ 55 %, arms ≈ 15 %, trunk ≈ 25 % of appendicular+axial muscle).
    """

    name: str
    segments: frozenset[str]
    side: Side
    muscle_fraction: float


REGIONS: tuple[Region, ...] = (
    Region("head", frozenset({"V", "C2", "C3"}), "midline", 0.01),
    Region("neck_shoulder_left", segment_range("C3", "C6"), "left", 0.03),
    Region("neck_shoulder_right", segment_range("C3", "C6"), "right", 0.03),
    Region("upper_limb_left", segment_range("C5", "T1"), "left", 0.08),
    Region("upper_limb_right", segment_range("C5", "T1"), "right", 0.08),
    Region("trunk", segment_range("T2", "L5"), "midline", 0.22),
    Region("lower_limb_left", segment_range("L2", "S2"), "left", 0.27),
    Region("lower_limb_right", segment_range("L2", "S2"), "right", 0.27),
)
REGION_NAMES: tuple[str, ...] = tuple(r.name for r in REGIONS)
N_REGIONS = len(REGIONS)

REGION_GROUPS: dict[str, tuple[str, ...]] = {
    **{r.name: (r.name,) for r in REGIONS},
    "upper_limbs": ("upper_limb_left", "upper_limb_right"),
    "lower_limbs": ("lower_limb_left", "lower_limb_right"),
    "neck_shoulders": ("neck_shoulder_left", "neck_shoulder_right"),
    "whole_body": (
        "upper_limb_left",
        "upper_limb_right",
        "trunk",
        "lower_limb_left",
        "lower_limb_right",
        "neck_shoulder_left",
        "neck_shoulder_right",
    ),
}
"""Names a user may give as an exercised or affected body region."""


@dataclass(frozen=True, slots=True)
class Site:
    """A test site for QST probes.

    ``ppt_scale`` is the site's pressure-pain threshold relative to the quadriceps (T3: quadriceps ≈ 400-700
    kPa, trapezius ≈ 300-500 kPa, hand lower). ``heat_offset_c`` shifts the heat threshold (DFNS: face lower
    than hand lower than foot, qst_conventions §3.2).
    """

    name: str
    region: str
    segments: frozenset[str]
    side: Side
    ppt_scale: float = 1.0
    heat_offset_c: float = 0.0
    species: tuple[str, ...] = ("human",)


def _bilateral(
    stem: str, region_stem: str, first: str, last: str, ppt_scale: float, heat: float = 0.0
) -> tuple[Site, Site]:
    segs = segment_range(first, last)
    return (
        Site(f"{stem}_left", f"{region_stem}_left", segs, "left", ppt_scale, heat),
        Site(f"{stem}_right", f"{region_stem}_right", segs, "right", ppt_scale, heat),
    )


_HUMAN_SITES: tuple[Site, ...] = (
    *_bilateral("quadriceps", "lower_limb", "L2", "L4", 1.0, 0.8),
    *_bilateral("vastus_lateralis", "lower_limb", "L2", "L4", 1.0, 0.8),
    *_bilateral("rectus_femoris", "lower_limb", "L2", "L4", 1.0, 0.8),
    *_bilateral("infrapatellar", "lower_limb", "L3", "L4", 0.95, 0.8),
    *_bilateral("tibialis_anterior", "lower_limb", "L4", "L5", 1.05, 1.0),
    Site(
        "gastrocnemius_left", "lower_limb_left", segment_range("S1", "S2"), "left", 0.95, 1.0, ("human", "rat", "mouse")
    ),
    Site(
        "gastrocnemius_right",
        "lower_limb_right",
        segment_range("S1", "S2"),
        "right",
        0.95,
        1.0,
        ("human", "rat", "mouse"),
    ),
    *_bilateral("foot", "lower_limb", "L5", "S1", 1.0, 1.0),
    *_bilateral("trapezius", "neck_shoulder", "C3", "C4", 0.75, 0.0),
    *_bilateral("deltoid", "neck_shoulder", "C5", "C6", 0.85, 0.0),
    *_bilateral("biceps", "upper_limb", "C5", "C6", 0.8, 0.0),
    *_bilateral("brachioradialis", "upper_limb", "C5", "C6", 0.75, 0.0),
    *_bilateral("forearm", "upper_limb", "C6", "C8", 0.75, 0.0),
    *_bilateral("hand", "upper_limb", "C6", "T1", 0.65, 0.0),
    *_bilateral("thenar", "upper_limb", "C6", "C7", 0.65, 0.0),
    *_bilateral("first_dorsal_interosseous", "upper_limb", "C8", "T1", 0.65, 0.0),
    *_bilateral("finger", "upper_limb", "C6", "C8", 0.7, 0.0),
    Site("lumbar_paraspinal_left", "trunk", segment_range("L1", "L5"), "left", 0.95, 0.3),
    Site("lumbar_paraspinal_right", "trunk", segment_range("L1", "L5"), "right", 0.95, 0.3),
    Site("sternum", "trunk", segment_range("T2", "T4"), "midline", 0.7, 0.2),
    Site("forehead", "head", frozenset({"V"}), "midline", 0.55, -1.0),
)

_RODENT = ("rat", "mouse")
_RODENT_SITES: tuple[Site, ...] = (
    Site("hind_paw_left", "lower_limb_left", segment_range("L4", "L5"), "left", 1.0, 0.0, _RODENT),
    Site("hind_paw_right", "lower_limb_right", segment_range("L4", "L5"), "right", 1.0, 0.0, _RODENT),
    Site("fore_paw_left", "upper_limb_left", segment_range("C6", "T1"), "left", 1.0, 0.0, _RODENT),
    Site("fore_paw_right", "upper_limb_right", segment_range("C6", "T1"), "right", 1.0, 0.0, _RODENT),
    Site("tail", "trunk", frozenset({"S4", "S5", "Co"}), "midline", 1.0, 0.0, _RODENT),
)

SITES: dict[str, Site] = {s.name: s for s in _HUMAN_SITES + _RODENT_SITES}
if len(SITES) != len(_HUMAN_SITES) + len(_RODENT_SITES):
    raise RuntimeError("duplicate site names in the body map")

CONTRALATERAL_SPILL = 0.1
"""Fraction of a region's segmental (gate) effect that reaches the same segments on the other side (assumed:
commissural interneurons; T2 shows contralateral EIH ≈ remote EIH, so the spill-over must be small)."""


def get_site(name: str, species: str = "human", field: str = "site") -> Site:
    """Look a site up by name, checking that it exists for the species."""
    allowed = [s.name for s in SITES.values() if species in s.species]
    site = SITES.get(name)
    if site is None or species not in site.species:
        raise InputError(field, name, allowed)
    return site


def region_indices(name: str, field: str = "body_region") -> tuple[int, ...]:
    """Indices into :data:`REGIONS` of a region or region group name."""
    if name not in REGION_GROUPS:
        raise InputError(field, name, REGION_GROUPS)
    return tuple(REGION_NAMES.index(r) for r in REGION_GROUPS[name])


def site_region_coupling(site: Site) -> np.ndarray:
    """Segmental coupling of a site to every region, shape ``(N_REGIONS,)``.

    ``w[r] = |segments(site) ∩ segments(r)| / |segments(site)|``, times 1 on the same side (or when either
    is midline) and :data:`CONTRALATERAL_SPILL` on the opposite side.
    """
    w = np.zeros(N_REGIONS)
    for i, region in enumerate(REGIONS):
        overlap = len(site.segments & region.segments) / len(site.segments)
        same_side = site.side == region.side or "midline" in (site.side, region.side)
        w[i] = overlap * (1.0 if same_side else CONTRALATERAL_SPILL)
    return w


def region_membership(site: Site) -> np.ndarray:
    """One-hot vector of the region a site belongs to (for peripheral sensitisation of a region)."""
    w = np.zeros(N_REGIONS)
    w[REGION_NAMES.index(site.region)] = 1.0
    return w
