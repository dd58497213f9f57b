"""The QST modalities ``eihlab analyze`` understands, with the direction in which each one shows hypoalgesia.

``direction`` is +1 when a *higher* value means *less* pain sensitivity (thresholds, tolerances and latencies:
PPT, HPT, von Frey, Hargreaves) and -1 when a *lower* value does (pain ratings, temporal summation, cold pain
threshold in °C, wind-up ratio). Responder rules and the ``inhibition`` column of the CPM table multiply a
change by ``direction`` so that a positive number is always hypoalgesia / inhibition (qst_conventions §0.4).

``ramp`` is the direction in which the stimulus moves towards its safety cut-off: +1 for an ascending
stimulus (pressure, heat, latencies, where a trial is censored *at or above* the cut-off), -1 for cooling
(CPT, censored at or below the cut-off).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MODALITIES", "Modality", "cpm_test_of", "direction_of_kind", "find_modality"]


@dataclass(frozen=True)
class Modality:
    """One QST modality.

    Attributes
    ----------
    name
        Canonical name used in every output table.
    kinds
        Kinds of unit accepted (see :mod:`eihlab.analysis.units`).
    direction
        +1 if an increase is hypoalgesia, -1 if a decrease is.
    lower, upper
        Valid range in canonical units (``None``: unbounded); a threshold below 0 is rejected.
    description
        One line for messages and the README.
    ramp
        +1 ascending stimulus (censored at or above the cut-off), -1 descending (cooling).
    difference
        The value is already a difference (a recorded CPM effect, a recorded temporal-summation score).
    latency
        A withdrawal latency with a cut-off: %MPE is computed.
    default_cutoff
        Cut-off (canonical unit) assumed for %MPE when the data state none.
    """

    name: str
    kinds: tuple[str, ...]
    direction: int
    lower: float | None
    upper: float | None
    description: str
    ramp: int = 1
    difference: bool = False
    latency: bool = False
    default_cutoff: float | None = None


_ALL_KINDS = ("pressure", "temperature", "rating", "time", "current", "force")

MODALITIES: dict[str, Modality] = {
    m.name: m
    for m in (
        Modality("PPT", ("pressure",), +1, 0.0, None, "pressure pain threshold (algometer)"),
        Modality("PDT", ("pressure",), +1, 0.0, None, "cuff pressure pain detection threshold"),
        Modality("PTT", ("pressure",), +1, 0.0, None, "cuff pressure pain tolerance threshold"),
        Modality("HPT", ("temperature",), +1, 0.0, None, "heat pain threshold"),
        Modality("CPT", ("temperature",), -1, None, None, "cold pain threshold (a lower °C is less sensitive)", -1),
        Modality("EPT", ("current",), +1, 0.0, None, "electrical pain threshold"),
        Modality("cold_pressor", ("time",), +1, 0.0, None, "cold pressor tolerance time"),
        Modality("pain_rating", ("rating",), -1, 0.0, 100.0, "pain rating (NRS 0-10 or VAS/NRS 0-100)"),
        Modality(
            "TSP",
            ("rating",),
            -1,
            -100.0,
            100.0,
            "temporal summation: rating of the last minus the first pulse of a train (column pulse), "
            "or the recorded score",
        ),
        Modality("WUR", ("ratio",), -1, 0.0, None, "wind-up ratio (train / single stimulus rating)"),
        Modality("von_frey", ("force",), +1, 0.0, None, "50 % von Frey withdrawal threshold"),
        Modality(
            "von_frey_seq",
            ("force",),
            +1,
            0.0,
            None,
            "von Frey up-down: X/O sequence (column sequence) and final filament (value); Chaplan/Dixon",
        ),
        Modality(
            "paw_pressure",
            ("force",),
            +1,
            0.0,
            None,
            "rodent paw-pressure (Randall-Selitto) withdrawal threshold",
            default_cutoff=250.0,
        ),
        Modality(
            "hargreaves", ("time",), +1, 0.0, None, "Hargreaves withdrawal latency", latency=True, default_cutoff=20.0
        ),
        Modality("tail_flick", ("time",), +1, 0.0, None, "tail-flick latency", latency=True, default_cutoff=10.0),
        Modality(
            "CPM",
            _ALL_KINDS,
            +1,
            None,
            None,
            "a recorded CPM effect (conditioned minus baseline, as `eihlab run` writes it)",
            difference=True,
        ),
        Modality("readout", ("relative",), +1, None, None, "a model read-out written by `eihlab run`"),
    )
}
"""Every modality, by canonical name."""

_ALIASES = {
    "pressure_pain_threshold": "PPT",
    "cuff_pdt": "PDT",
    "cuff_ptt": "PTT",
    "heat_pain_threshold": "HPT",
    "cold_pain_threshold": "CPT",
    "electrical_pain_threshold": "EPT",
    "cold_pressor_tolerance": "cold_pressor",
    "cpt_tolerance": "cold_pressor",
    "vas": "pain_rating",
    "nrs": "pain_rating",
    "rating": "pain_rating",
    "temporal_summation": "TSP",
    "ts": "TSP",
    "wind_up": "TSP",
    "windup": "TSP",
    "vonfrey": "von_frey",
    "vf": "von_frey",
    "vonfrey_seq": "von_frey_seq",
    "von_frey_updown": "von_frey_seq",
    "up_down": "von_frey_seq",
    "plantar": "hargreaves",
    "randall_selitto": "paw_pressure",
    "paw_pressure_test": "paw_pressure",
    "tailflick": "tail_flick",
}
_LOOKUP = {name.lower(): name for name in MODALITIES} | _ALIASES


def find_modality(text: str) -> Modality | None:
    """The modality a name or alias stands for (case-insensitive; ``-`` and spaces count as ``_``)."""
    key = str(text).strip().lower().replace("-", "_").replace(" ", "_")
    name = _LOOKUP.get(key)
    return MODALITIES[name] if name is not None else None


_TEST_OF_KIND = {"pressure": "PPT", "temperature": "HPT", "rating": "pain_rating"}


def cpm_test_of(kind: str) -> str:
    """Test stimulus of a recorded CPM effect, from its unit's kind (what ``eihlab run`` can record)."""
    return _TEST_OF_KIND.get(kind, "CPM")


def direction_of_kind(kind: str) -> int:
    """Direction of a recorded CPM effect: ratings fall with inhibition (-1), thresholds rise (+1)."""
    return -1 if kind == "rating" else +1
