"""The evidence-entry format: a published finding as an experiment plus statistical expectations.

An entry is YAML::

    id: naugle2014_hrr55_vs_hrr70
    ref: "[26] Naugle KM, 2014, J Pain"
    level: clinical                      # clinical | spinal | subcortical | cortical | calibration
    experiment: naugle2014_hrr55_vs_hrr70   # a bundled experiment name, a path, or an inline mapping
    n: 40                                # optional: cohort size per arm for this check
    study_n: {n: 27, source: "PMC4056570: 12 men and 15 women completed"}   # optional: the study's own n
    ambiguity: ""                        # where the review is ambiguous, what was encoded
    expectations:
      - text: PPT rises more after 70 % HRR than after 55 % HRR
        contrast:
          - {arm: hrr70, measure: PPT, site: quadriceps_right, time: 25}
          - {arm: hrr55, measure: PPT, site: quadriceps_right, time: 25, coef: -1}
        expect: increase

A *term* is a per-subject series: the ``statistic`` (``change`` from the arm's baseline, the default;
``pct_change``; or the raw ``value``) of a measure at a site and time of one arm; ``site`` may be a list (the
mean of the sites' % changes). A *contrast* is a linear combination of terms, estimated per subject when all
its terms share subjects (crossover designs, or terms of one arm) and by Welch's method otherwise.
``expect`` is judged on the 95 % CI: ``increase`` (CI above 0), ``decrease`` (CI below 0), ``not_increase``
(CI not above 0 — "no EIH"), ``not_decrease``. A ``correlation`` (Pearson r with a Fisher CI between two
terms across subjects) takes ``positive`` or ``negative``; a ``ratio`` of two contrasts and a ``range`` of a
contrast or an effect size take numeric bounds (``low``, ``high``) on the point estimate. An ``effect_size`` is
:math:`d_z` (mean change / SD of change) unless ``standardiser: baseline`` asks for :math:`d_{av}` (mean change /
average SD of pre and post values). Only ``primary`` expectations decide whether the entry passes.

A ``subgroup`` restricts an expectation to the subjects a term selects — a responder analysis, as EIH studies
report it ("subjects with systemic EIH had a weaker second CPM")::

      - text: EIH responders (top half by trapezius PPT change) have a weaker CPM after the exercise
        subgroup: {term: {arm: isometric, measure: PPT, site: trapezius_right, time: 3}, top_fraction: 0.5}
        contrast:
          - {arm: isometric, measure: CPM, site: quadriceps_right, time: 10}
        expect: decrease

It keeps the subjects whose term lies ``above`` or ``below`` a value, or the ``top_fraction`` or
``bottom_fraction`` of them ranked by it (a median split is 0.5). Subjects are the same people across the arms
of a crossover; in a parallel design a subgroup can only restrict terms of its own arm.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from eihlab.protocol.events import Minutes

Level = Literal["clinical", "spinal", "subcortical", "cortical", "calibration"]
LEVELS: tuple[str, ...] = ("clinical", "spinal", "subcortical", "cortical", "calibration")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def _exactly_one(self, fields: tuple[str, ...], what: str) -> None:
        """Raise unless exactly one of ``fields`` is set (``what`` names the model in the message)."""
        chosen = [k for k in fields if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError(f"{what} needs exactly one of {', '.join(fields)}; got {chosen}")


class Term(_Strict):
    """One per-subject series of an arm."""

    arm: str
    measure: str
    site: str | list[str] = ""
    time: Minutes | Literal["first_post", "last"] = "first_post"
    statistic: Literal["change", "pct_change", "value"] = "change"
    coef: float = 1.0


class Subgroup(_Strict):
    """The subjects an expectation is restricted to, selected by one per-subject term (a responder analysis)."""

    term: Term
    above: float | None = None
    below: float | None = None
    top_fraction: float | None = Field(default=None, gt=0.0, lt=1.0)
    bottom_fraction: float | None = Field(default=None, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _one_rule(self) -> Subgroup:
        self._exactly_one(("above", "below", "top_fraction", "bottom_fraction"), "a subgroup")
        return self


class Expectation(_Strict):
    """One statistical expectation on the simulated cohort."""

    text: str
    contrast: list[Term] | None = None
    correlation: tuple[Term, Term] | None = None
    ratio: tuple[list[Term], list[Term]] | None = None
    effect_size: Term | None = None
    expect: Literal["increase", "decrease", "not_increase", "not_decrease", "positive", "negative", "within"] = (
        "increase"
    )
    low: float | None = None
    high: float | None = None
    standardiser: Literal["change", "baseline"] = "change"
    subgroup: Subgroup | None = None
    primary: bool = True

    @model_validator(mode="after")
    def _one_kind(self) -> Expectation:
        self._exactly_one(("contrast", "correlation", "ratio", "effect_size"), "an expectation")
        if (self.expect == "within") != (self.low is not None or self.high is not None):
            raise ValueError("expect: within goes with low/high bounds (and only with them)")
        if self.ratio is not None or self.effect_size is not None:
            if self.expect != "within":
                raise ValueError("ratio and effect_size expectations use expect: within with low/high")
        if self.standardiser != "change" and self.effect_size is None:
            raise ValueError("standardiser applies to effect_size expectations only")
        if self.correlation is not None and self.expect not in ("positive", "negative"):
            raise ValueError("a correlation expects positive or negative")
        return self


class StudyN(_Strict):
    """The published study's sample size, counted like the cohort's ``n`` (per arm in a parallel design, in total
    in a crossover), with where it was read. Documentation by default; ``eihlab evidence run --study-n`` runs the
    entry at it."""

    n: int = Field(ge=2)
    source: str = Field(min_length=1)


class Entry(_Strict):
    """A finding (or calibration target) as an experiment plus expectations.

    ``n`` is the simulated cohort size of the check (default: the experiment's), chosen for the check, not taken
    from the study; ``study_n`` records the study's own size where its report states it.
    """

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    ref: str
    level: Level
    experiment: str | dict[str, Any]
    n: int | None = Field(default=None, ge=2)
    seed: int | None = Field(default=None, ge=0)
    study_n: StudyN | None = None
    ambiguity: str = ""
    expectations: list[Expectation] = Field(min_length=1)
