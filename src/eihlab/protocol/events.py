"""What is done to a subject, as validated, immutable event records.

Times are relative to the (first) exercise bout: negative before it, 0 at its start. A time or duration is a
number of minutes or a string with a unit (``"15 min"``, ``"2 h"``, ``"3 d"``, ``"4 wk"``). A ``repeat`` block
turns any event into a series (``every: 1 d, count: 10``); an exercise event with ``weeks`` and
``sessions_per_week`` is a training programme.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from eihlab.model.body import REGION_GROUPS
from eihlab.model.pharmacology import AGENTS
from eihlab.protocol.exercise import EXERCISE_TYPES
from eihlab.protocol.intensity import INTENSITY_UNITS
from eihlab.protocol.timeparse import to_minutes


def _minutes(v: object) -> object:
    return v if v == "to_exhaustion" else to_minutes(v, "time")


def _one_of(names: Iterable[str], what: str) -> AfterValidator:
    """A validator accepting only ``names``; the error lists them."""
    allowed = tuple(names)

    def check(v: str) -> str:
        if v not in allowed:
            raise ValueError(f"unknown {what} {v!r}; allowed: {', '.join(sorted(allowed))}")
        return v

    return AfterValidator(check)


Minutes = Annotated[float, BeforeValidator(_minutes)]
"""A time: a number of minutes, or a string with a unit ('30 min', '3 d')."""
PositiveMinutes = Annotated[float, BeforeValidator(_minutes), Field(gt=0)]
"""A positive duration (minutes or a string with a unit)."""
Region = Annotated[str, _one_of(REGION_GROUPS, "body region")]
"""A body region or region group of :data:`eihlab.model.body.REGION_GROUPS`."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Repeat(_Strict):
    """Repeat an event ``count`` times, ``every`` apart."""

    every: PositiveMinutes
    count: int = Field(ge=1, le=10000)


class Intensity(_Strict):
    """An intensity in the unit the user has (``{value: 70, unit: "%HRR"}``)."""

    value: float
    unit: Annotated[str, _one_of(INTENSITY_UNITS, "unit")]
    mode: str | None = None


class _Timed(_Strict):
    at: Minutes = 0.0
    repeat: Repeat | None = None

    def start_times(self) -> list[float]:
        """Start times of every occurrence (minutes)."""
        if self.repeat is None:
            return [self.at]
        return [self.at + i * self.repeat.every for i in range(self.repeat.count)]


class ExerciseEvent(_Timed):
    """One exercise bout, a series of sets, or a programme over weeks.

    ``duration`` is per set; ``"to_exhaustion"`` holds the bout until each subject's fatigue reaches 1
    (``max_duration`` caps it). With ``reps`` the set lasts ``reps`` repetitions.
    """

    kind: Literal["exercise"] = "exercise"
    type: Annotated[str, _one_of(EXERCISE_TYPES, "exercise type")]
    intensity: Intensity | None = None
    duration: PositiveMinutes | Literal["to_exhaustion"] = 30.0
    max_duration: PositiveMinutes = 60.0
    reps: int | None = Field(default=None, ge=1, le=500)
    sets: int = Field(default=1, ge=1, le=50)
    rest_between_sets: Annotated[float, BeforeValidator(_minutes), Field(ge=0)] = 1.0
    body_region: Region | None = None
    weeks: int | None = Field(default=None, ge=1, le=104)
    sessions_per_week: int | None = Field(default=None, ge=1, le=14)

    @model_validator(mode="after")
    def _programme(self) -> ExerciseEvent:
        if (self.weeks is None) != (self.sessions_per_week is None):
            raise ValueError("weeks and sessions_per_week go together")
        if self.type == "passive_movement" and self.intensity is not None:
            raise ValueError("passive movement takes no intensity")
        if self.type != "passive_movement" and self.intensity is None:
            raise ValueError("intensity is required for active exercise")
        return self

    def start_times(self) -> list[float]:
        """Session start times, expanding a programme (sessions spread evenly over each week)."""
        base = super().start_times()
        if self.weeks is None or self.sessions_per_week is None:
            return base
        spacing = 7.0 / self.sessions_per_week
        days = [w * 7 + round(i * spacing) for w in range(self.weeks) for i in range(self.sessions_per_week)]
        return [t0 + d * 1440.0 for t0 in base for d in days]


class DrugEvent(_Timed):
    """A dose of an agent (mg/kg; for ``nr1_vector`` the expression level)."""

    kind: Literal["drug"] = "drug"
    agent: Annotated[str, _one_of(AGENTS, "agent")]
    dose_mg_kg: float | None = Field(default=None, gt=0)

    def dose(self) -> float:
        """The dose, or the agent's typical dose."""
        return self.dose_mg_kg if self.dose_mg_kg is not None else AGENTS[self.agent].typical_dose_mg_kg


class StimulationEvent(_Timed):
    """Brain stimulation: anodal tDCS of M1 or DLPFC (mA), rTMS of M1 (Hz), or motor cortex stimulation."""

    kind: Literal["stimulation"] = "stimulation"
    method: Literal["tdcs_m1", "tdcs_dlpfc", "rtms_m1", "mcs"]
    duration: PositiveMinutes = 20.0
    current_ma: float = Field(default=2.0, ge=-4.0, le=4.0)
    frequency_hz: float = Field(default=10.0, gt=0.0, le=50.0)


class InjuryEvent(_Timed):
    """An injury model (rodent) starting at ``at`` and persisting."""

    kind: Literal["injury"] = "injury"
    model: Literal["sciatic_crush", "partial_sciatic_ligation", "spared_nerve_injury", "spinal_cord_injury"]
    side: Literal["left", "right"] = "left"
    severity: float = Field(default=1.0, gt=0.0, le=5.0)


class AcidEvent(_Timed):
    """An intramuscular injection of acidic saline (pH 4.0-7.2) into a muscle region."""

    kind: Literal["acid"] = "acid"
    ph: float = Field(default=5.0, ge=3.0, le=7.4)
    body_region: Region = "lower_limb_left"


MEASURES = (
    "PPT",
    "HPT",
    "CPT",
    "EPT",
    "cold_pressor_tolerance",
    "pain_rating",
    "temporal_summation",
    "CPM",
    "von_frey",
    "hargreaves",
    "paw_pressure",
    "readout",
)


class Conditioning(_Strict):
    """The conditioning stimulus of a CPM probe: immersion of a region in cold water."""

    body_region: str = "upper_limb_left"
    water_c: float = Field(default=10.0, ge=0.0, le=25.0)
    duration_s: float = Field(default=60.0, gt=0.0, le=600.0)


class Measure(_Strict):
    """One QST measure at one site (or a model read-out).

    Defaults follow ``qst_conventions.md``: PPT 1 cm² probe at 30 kPa/s with a 1000 kPa cut-off; thermal
    ramps from 32 °C at 1 °C/s with cut-offs 50/0 °C; cold pressor at 2 °C capped at 180 s; Hargreaves
    cut-off 20 s; rodent paw pressure (Randall-Selitto) at 16 g/s with a 250 g cut-off; von Frey filaments of
    the species' usual set.
    """

    measure: Annotated[str, _one_of(MEASURES, "measure")]
    site: str | None = None
    trials: int = Field(default=2, ge=1, le=10)
    ramp_rate: float | None = Field(default=None, gt=0)
    probe_cm2: float = Field(default=1.0, gt=0, le=10)
    cutoff: float | None = None
    stimulus: float | None = None
    stimulus_modality: Literal["pressure", "heat"] = "pressure"
    test: Literal["PPT", "HPT", "pain_rating"] = "PPT"
    paradigm: Literal["parallel", "sequential"] = "parallel"
    conditioning: Conditioning = Conditioning()
    quantity: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> Measure:
        if self.measure == "readout":
            if not self.quantity:
                raise ValueError("a readout needs a quantity")
        elif not self.site:
            raise ValueError(f"measure {self.measure} needs a site")
        return self


class ProbeEvent(_Timed):
    """QST probes (and read-outs) taken at one or more times."""

    kind: Literal["probe"] = "probe"
    times: list[Minutes] | None = None
    measures: list[Measure] = Field(min_length=1)

    @field_validator("times", mode="before")
    @classmethod
    def _times(cls, v: object) -> object:
        return v if v is None or isinstance(v, list) else [v]

    def start_times(self) -> list[float]:
        """Probe times (``times`` if given, else ``at``, expanded by ``repeat``)."""
        base = self.times if self.times is not None else [self.at]
        if self.repeat is None:
            return list(base)
        return [t + i * self.repeat.every for t in base for i in range(self.repeat.count)]


Event = Annotated[
    ExerciseEvent | DrugEvent | StimulationEvent | InjuryEvent | AcidEvent | ProbeEvent,
    Field(discriminator="kind"),
]
