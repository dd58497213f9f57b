"""The experiment schema (version 1): a cohort and arms, each arm a timeline of events.

An experiment file is YAML::

    schema_version: 1
    name: cycling_70hrr_crossover
    description: Rest vs 30 min cycling at 70 % HRR; PPT at two sites and HPT.
    design: crossover            # crossover: the same subjects in every arm; parallel: new subjects per arm
    cohort: {species: human, condition: healthy, n: 40, seed: 1}
    arms:
      - name: rest
        events:
          - {kind: probe, times: [-5, 30, 45, 60], measures: [{measure: PPT, site: quadriceps_right}]}
      - name: exercise
        events:
          - {kind: exercise, type: cycling, intensity: {value: 70, unit: "%HRR"}, duration: 30 min}
          - {kind: probe, times: [-5, 30, 45, 60], measures: [{measure: PPT, site: quadriceps_right}]}
    compare: [{exercise: exercise, control: rest}]

Unknown fields are errors. See :mod:`eihlab.protocol.events` for the events.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from eihlab.protocol.events import Event


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cohort(_Strict):
    """Who is simulated: species, condition, size, demographics and between-person variability."""

    species: Literal["human", "rat", "mouse"] = "human"
    condition: str = "healthy"
    n: int = Field(default=40, ge=1, le=10_000_000)
    seed: int = Field(default=0, ge=0)
    age_y: float | tuple[float, float] | None = None
    female_fraction: float = Field(default=0.5, ge=0.0, le=1.0)
    variability: float = Field(default=1.0, ge=0.0, le=3.0)
    parameters: dict[str, float] = Field(default_factory=dict)


class Arm(_Strict):
    """One arm (a session in a crossover, a group in a parallel design)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    condition: str | None = None
    n: int | None = Field(default=None, ge=1, le=10_000_000)
    events: list[Event] = Field(min_length=1)
    knockouts: list[str] = Field(default_factory=list)
    scale: dict[str, float] = Field(default_factory=dict)
    parameters: dict[str, float] = Field(default_factory=dict)

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if x < 0:
                raise ValueError(f"scale of {k!r} must not be negative")
        return v


class Comparison(_Strict):
    """A within-subject (crossover) or between-group contrast to summarise."""

    exercise: str
    control: str


class Experiment(_Strict):
    """A whole experiment."""

    schema_version: Literal[1] = 1
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    reference: str = ""
    design: Literal["crossover", "parallel"] = "crossover"
    cohort: Cohort = Cohort()
    arms: list[Arm] = Field(min_length=1)
    compare: list[Comparison] = Field(default_factory=list)

    @model_validator(mode="after")
    def _arms(self) -> Experiment:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names must be unique, got {names}")
        for c in self.compare:
            for arm in (c.exercise, c.control):
                if arm not in names:
                    raise ValueError(f"compare refers to unknown arm {arm!r}; arms are {names}")
        if self.design == "crossover":
            for i, a in enumerate(self.arms):
                if a.n is not None:
                    raise ValueError(
                        f"arms[{i}].n = {a.n}: a group size of its own is allowed only in a parallel design "
                        "(a crossover runs the same subjects in every arm); set cohort.n instead"
                    )
        return self

    def arm_n(self, index: int) -> int:
        """Subjects in arm ``index``: its own ``n`` (parallel designs) or the cohort's."""
        own = self.arms[index].n
        return self.cohort.n if own is None else own

    @property
    def id_stride(self) -> int:
        """Spacing of the subject ids of successive parallel groups (arm ``i`` starts at ``i * stride``)."""
        return max(self.arm_n(i) for i in range(len(self.arms)))

    def with_size(self, n: int) -> Experiment:
        """The experiment with ``cohort.n = n``; arms with a size of their own keep their ratio to it.

        An arm of ``m`` subjects in a cohort of ``n0`` gets ``max(2, round(m n / n0))`` (unequal groups such as
        30 exercised and 20 controls stay unequal when a study is re-run at another size).
        """
        arms = [
            a if a.n is None else a.model_copy(update={"n": max(2, round(a.n * n / self.cohort.n))}) for a in self.arms
        ]
        return self.model_copy(update={"cohort": self.cohort.model_copy(update={"n": n}), "arms": arms})

    def size_text(self) -> str:
        """The group sizes in words: ``n = 30 per arm`` or ``n = 30 (wingate), 20 (rest)``."""
        if all(a.n is None for a in self.arms):
            return f"n = {self.cohort.n} per arm" if self.design == "parallel" else f"n = {self.cohort.n}"
        return "n = " + ", ".join(f"{self.arm_n(i)} ({a.name})" for i, a in enumerate(self.arms))
