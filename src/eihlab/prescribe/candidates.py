"""The dose space: exercise types × body regions, with continuous intensity and a volume, in therapists' units.

A :class:`Candidate` is one exercise type on one body region (cycling of the legs, isometric handgrip of the
left hand, a whole-body resistance circuit, mind-body exercise ...). The optimiser searches its intensity
(continuous, within the type's feasible range) and its volume (minutes of aerobic or mind-body exercise,
seconds per isometric hold, repetitions per resistance set). Relative to the patient, a candidate's region is
``affected`` (it loads a painful region), ``non-affected`` or ``whole body``.

Intensities are searched in the unit the model and therapists share for the family (%HRR for aerobic and
mind-body exercise, %MVC for isometric, %1RM for dynamic resistance) and reported as therapists use them:

* a target heart-rate range by the Karvonen formula, HR = HRrest + %HRR·(HRmax − HRrest), for ±5 %HRR
  around the dose, with the patient's resting and maximal heart rate (Tanaka's 208 − 0.7·age if unknown);
* Borg RPE (6–20): for %HRR through the ACSM category table (:data:`eihlab.protocol.intensity.RPE_HRR_KNOTS`),
  for strength work RPE = 6 + 14·(fraction of maximum), the package's assumed linear map
  (:func:`eihlab.protocol.intensity._rating_fraction`);
* the ACSM category (very light … near-maximal): %HRR by :func:`eihlab.protocol.intensity.acsm_category`; %MVC
  and %1RM by the ACSM resistance-training bands (< 30 very light, 30–49 light, 50–69 moderate, 70–84
  vigorous, ≥ 85 near-maximal %1RM; ACSM GETP 10th ed., Table 6.1; applied to %MVC as well, assumed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from eihlab.model.body import REGION_GROUPS
from eihlab.prescribe.patient import Patient
from eihlab.prescribe.simulate import Dose
from eihlab.protocol.exercise import exercise_type
from eihlab.protocol.intensity import RPE_HRR_KNOTS, acsm_category
from eihlab.protocol.physiology import karvonen_hr

CARDIO_FAMILIES = frozenset({"aerobic", "mind_body"})
STRENGTH_BANDS: tuple[tuple[float, str], ...] = (
    (85.0, "near-maximal"),
    (70.0, "vigorous"),
    (50.0, "moderate"),
    (30.0, "light"),
    (0.0, "very light"),
)
"""ACSM resistance-training intensity bands in %1RM (GETP 10th ed., Table 6.1)."""
HR_BAND = 5.0
"""Half-width of the target range, %HRR."""


@dataclass(frozen=True)
class Template:
    """An exercise type with its searchable ranges (before sides are chosen for the patient)."""

    type: str
    region: str
    label: str
    unit: str
    lo: float
    hi: float
    volumes: tuple[float, ...]
    sets: int = 1
    rest_min: float = 1.0
    bilateral: str | None = None
    """``"upper_limb"``/``"lower_limb"``: the template exists per side (``region`` is then a stem)."""


TEMPLATES: tuple[Template, ...] = (
    Template("cycling", "lower_limbs", "Cycling (leg ergometer)", "%HRR", 20.0, 85.0, (10.0, 20.0, 40.0)),
    Template("walking", "lower_limbs", "Brisk walking", "%HRR", 20.0, 65.0, (15.0, 30.0, 45.0)),
    Template("arm_cycling", "upper_limbs", "Arm cycling (arm ergometer)", "%HRR", 20.0, 80.0, (10.0, 20.0, 30.0)),
    Template("tai_chi", "whole_body", "Mind-body exercise (tai chi, yoga)", "%HRR", 15.0, 45.0, (20.0, 30.0, 45.0)),
    Template(
        "dynamic_resistance",
        "whole_body",
        "Whole-body resistance circuit",
        "%1RM",
        20.0,
        80.0,
        (6.0, 9.0, 12.0),
        sets=3,
        rest_min=2.0,
    ),
    Template("shoulder_press", "neck_shoulders", "Shoulder press", "%1RM", 20.0, 80.0, (6.0, 9.0, 12.0), 3, 2.0),
    Template("leg_press", "lower_limbs", "Leg press", "%1RM", 20.0, 80.0, (6.0, 9.0, 12.0), 3, 2.0),
    Template(
        "isometric_handgrip",
        "upper_limb",
        "Isometric handgrip",
        "%MVC",
        10.0,
        50.0,
        (0.5, 1.0, 2.0),
        3,
        1.0,
        bilateral="upper_limb",
    ),
    Template(
        "isometric_knee_extension",
        "lower_limb",
        "Isometric knee extension",
        "%MVC",
        10.0,
        50.0,
        (0.5, 1.0, 2.0),
        3,
        1.0,
        bilateral="lower_limb",
    ),
    Template(
        "isometric_back_extension", "trunk", "Isometric back extension", "%MVC", 10.0, 50.0, (0.5, 1.0, 2.0), 3, 1.0
    ),
)
"""The searched exercise types (intensity ranges: assumed feasible ranges of each modality — e.g. tai chi
rarely exceeds ~45 %HRR, brisk walking ~65 %HRR; resistance sets of 6–12 repetitions, isometric holds of
30 s to 2 min, three sets)."""


@dataclass(frozen=True)
class Candidate:
    """One exercise type on one region, for one patient."""

    key: str
    label: str
    type: str
    region: str
    role: str
    unit: str
    lo: float
    hi: float
    volumes: tuple[float, ...]
    sets: int
    rest_min: float

    @property
    def family(self) -> str:
        """The model's exercise family."""
        return exercise_type(self.type).family

    @property
    def volume_kind(self) -> str:
        """What the volume counts: ``minutes``, ``hold_minutes`` or ``reps``."""
        if self.family in CARDIO_FAMILIES:
            return "minutes"
        return "hold_minutes" if self.family == "isometric" else "reps"

    def dose(self, volume: float, weeks: int | None = None, sessions_per_week: int | None = None) -> Dose:
        """The session structure at a volume (optionally as a programme)."""
        if self.volume_kind == "reps":
            return Dose(
                self.type, self.region, 1.0, self.sets, int(round(volume)), self.rest_min, weeks, sessions_per_week
            )
        return Dose(self.type, self.region, float(volume), self.sets, None, self.rest_min, weeks, sessions_per_week)

    def describe_volume(self, volume: float) -> str:
        """The volume in words (``30 min``, ``3 × 1 min holds, 1 min rest``, ``3 × 10 reps, 2 min rest``)."""
        if self.volume_kind == "minutes":
            return f"{volume:g} min"
        if self.volume_kind == "hold_minutes":
            hold = f"{volume * 60:g} s" if volume < 1 else f"{volume:g} min"
            return f"{self.sets} × {hold} holds, {self.rest_min:g} min rest"
        return f"{self.sets} × {int(round(volume))} reps, {self.rest_min:g} min rest"

    def next_volume(self, volume: float) -> float:
        """The next volume step (the next larger grid value; aerobic minutes +25 %, capped at the largest)."""
        if self.volume_kind == "minutes":
            return float(min(round(volume * 1.25), max(self.volumes)))
        larger = [v for v in self.volumes if v > volume + 1e-9]
        return larger[0] if larger else volume

    @property
    def intensity_step(self) -> float:
        """Intensity step of the progression (5 %HRR, %MVC or %1RM)."""
        return 5.0

    def sessions(self) -> tuple[int, int, int]:
        """Sessions per week in weeks 1–4, 5–8 and 9–12 (aerobic and mind-body 3-4-5; strength 2-3-3; ACSM)."""
        return (3, 4, 5) if self.family in CARDIO_FAMILIES else (2, 3, 3)


def region_role(region: str, painful_regions: tuple[str, ...]) -> str:
    """``whole body``, ``affected`` (the region includes a painful region) or ``non-affected``."""
    if region == "whole_body":
        return "whole body"
    return "affected" if set(REGION_GROUPS[region]) & set(painful_regions) else "non-affected"


def candidate_space(patient: Patient) -> list[Candidate]:
    """The candidates for a patient: every template, bilateral ones per side when only one side hurts."""
    painful = patient.painful_regions()
    out: list[Candidate] = []
    for t in TEMPLATES:
        regions = [t.region]
        if t.bilateral is not None:
            left, right = f"{t.bilateral}_left", f"{t.bilateral}_right"
            hurts = [r in painful for r in (left, right)]
            regions = [left, right] if hurts[0] != hurts[1] else [right]
        for region in regions:
            side = region.rsplit("_", 1)[-1] if t.bilateral is not None else ""
            label = f"{t.label}, {side}" if side else t.label
            out.append(
                Candidate(
                    key=f"{t.type}:{region}",
                    label=label,
                    type=t.type,
                    region=region,
                    role=region_role(region, painful),
                    unit=t.unit,
                    lo=t.lo,
                    hi=t.hi,
                    volumes=t.volumes,
                    sets=t.sets,
                    rest_min=t.rest_min,
                )
            )
    return out


def strength_category(percent: float) -> str:
    """ACSM band of a %1RM (or %MVC) load."""
    for lower, name in STRENGTH_BANDS:
        if percent >= lower:
            return name
    return "very light"


def therapist_units(candidate: Candidate, value: float, patient: Patient) -> dict[str, Any]:
    """The dose in the units the patient and therapist use.

    Returns
    -------
    dict
        ``value``, ``unit``, ``category`` (ACSM), ``rpe`` ([low, high] Borg 6–20), and for %HRR
        ``target_hr_bpm`` ([low, high], Karvonen) and ``hrr_range``.
    """
    out: dict[str, Any] = {"value": float(value), "unit": candidate.unit}
    if candidate.unit == "%HRR":
        lo, hi = max(value - HR_BAND, 0.0), min(value + HR_BAND, 100.0)
        hr = karvonen_hr(np.array([lo, hi]) / 100.0, patient.hr_rest_bpm, patient.hr_max_bpm)
        rpe = np.interp([lo, hi], RPE_HRR_KNOTS[1], RPE_HRR_KNOTS[0])
        out.update(
            target_hr_bpm=[int(round(float(hr[0]))), int(round(float(hr[1])))],
            hrr_range=[lo, hi],
            rpe=[round(float(rpe[0]), 1), round(float(rpe[1]), 1)],
            category=acsm_category(value / 100.0),
        )
    else:
        effort = 6.0 + 14.0 * value / 100.0
        out.update(
            target_hr_bpm=None,
            rpe=[round(effort - 1.0, 1), round(effort + 1.0, 1)],
            category=strength_category(value),
        )
    return out


__all__ = [
    "TEMPLATES",
    "Candidate",
    "candidate_space",
    "region_role",
    "strength_category",
    "therapist_units",
]
