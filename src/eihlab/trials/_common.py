"""Helpers shared by the power and sensitivity analyses: outcomes, arms and chunked simulation of one arm.

The simulation helper mirrors the per-arm loop of :func:`eihlab.experiment.runner.run_experiment` (same
condition, injury event, perturbation and per-subject schedule), so that a cohort simulated here gives exactly
the observations ``run_experiment`` would give for the same subject ids and seed; it adds a progress callback
per block of subjects and lets the caller supply the cohort draw (a large pool, or one virtual subject per
sensitivity-analysis sample row).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eihlab.engine.simulate import CHUNK, simulate_arm
from eihlab.errors import InputError
from eihlab.experiment.runner import _perturbation
from eihlab.experiment.schema import Arm, Experiment
from eihlab.population.cohort import CohortDraw
from eihlab.population.conditions import Condition, get_condition
from eihlab.protocol.events import ExerciseEvent, InjuryEvent, Measure, ProbeEvent
from eihlab.protocol.schedule import Schedule, build_schedule

Progress = Callable[[int], None]
"""Progress callback: called with the number of subjects (or sample rows) just simulated."""


@dataclass(frozen=True)
class Outcome:
    """One measure at one site (``site`` is ``""`` for a site-less read-out)."""

    measure: str
    site: str

    @property
    def label(self) -> str:
        """``MEASURE@SITE`` (or ``MEASURE`` when there is no site)."""
        return f"{self.measure}@{self.site}" if self.site else self.measure


def arm_index(exp: Experiment, name: str) -> int:
    """Position of the arm called ``name`` in ``exp.arms``."""
    for i, arm in enumerate(exp.arms):
        if arm.name == name:
            return i
    raise InputError("arm", name, [a.name for a in exp.arms])


def measure_label(m: Measure) -> str:
    """The ``measure`` column value of a probe measure in the observations (a read-out's quantity)."""
    return m.quantity if m.measure == "readout" and m.quantity else m.measure


def _probe_outcomes(ev: ProbeEvent) -> list[Outcome]:
    return [Outcome(measure_label(m), m.site or "") for m in ev.measures]


def arm_outcomes(arm: Arm) -> list[Outcome]:
    """The measures an arm probes, in the order of its probe events (duplicates removed)."""
    seen: list[Outcome] = []
    for ev in arm.events:
        if isinstance(ev, ProbeEvent):
            seen.extend(o for o in _probe_outcomes(ev) if o not in seen)
    return seen


def arm_probe_times(arm: Arm, outcome: Outcome) -> list[float]:
    """Sorted probe times (min) at which ``arm`` measures ``outcome``."""
    times: set[float] = set()
    for ev in arm.events:
        if isinstance(ev, ProbeEvent) and outcome in _probe_outcomes(ev):
            times.update(float(t) for t in ev.start_times())
    return sorted(times)


def baseline_time(times: list[float]) -> float:
    """The baseline probe time, as :func:`eihlab.stats.subject_changes` picks it: the latest ``t <= 0``, else the
    earliest."""
    pre = [t for t in times if t <= 0.0]
    return max(pre) if pre else min(times)


def has_exercise(arm: Arm) -> bool:
    """Whether an arm contains an exercise event."""
    return any(isinstance(ev, ExerciseEvent) for ev in arm.events)


def resolve_outcome(output: str | None, arms: list[Arm]) -> Outcome:
    """Parse ``MEASURE@SITE`` (or ``MEASURE``) and check that every arm in ``arms`` probes it.

    Without ``output`` the first measure probed by ``arms[0]`` is used.
    """
    probed = [arm_outcomes(a) for a in arms]
    common = [o for o in probed[0] if all(o in p for p in probed[1:])]
    if not common:
        raise InputError("output", output, f"a measure probed in every arm of {[a.name for a in arms]}")
    if output is None:
        return common[0]
    text = output.strip()
    measure, _, site = text.partition("@")
    if not measure or (("@" in text) and not site):
        raise InputError("output", output, "MEASURE@SITE, e.g. PPT@quadriceps_right")
    wanted = Outcome(measure.strip(), site.strip())
    if wanted not in common:
        raise InputError("output", output, [o.label for o in common])
    return wanted


def slice_draw(draw: CohortDraw, lo: int, hi: int) -> CohortDraw:
    """Subjects ``lo:hi`` of a cohort draw (parameters and physiology)."""
    phys = draw.physiology
    sliced = dataclasses.replace(
        phys,
        **{f.name: getattr(phys, f.name)[lo:hi] for f in dataclasses.fields(phys) if f.name != "species"},
    )
    return CohortDraw(draw.subject_ids[lo:hi], {k: v[lo:hi] for k, v in draw.params.items()}, sliced)


def arm_condition(exp: Experiment, arm: Arm) -> Condition:
    """The condition an arm's subjects are in (the arm's own, else the cohort's)."""
    return get_condition(arm.condition or exp.cohort.condition, exp.cohort.species)


def simulate_draw(
    exp: Experiment,
    index: int,
    draw: CohortDraw,
    *,
    seed: int,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Simulate arm ``exp.arms[index]`` for the subjects of ``draw``; tidy observations without an arm column.

    Rows keep the order of :func:`eihlab.engine.simulate.simulate_arm`: for every probe time and measure, one
    block of subjects in the order of ``draw`` (trials innermost). Subjects are simulated in blocks of
    :data:`eihlab.engine.simulate.CHUNK`, with ``progress(block size)`` after each. The experiment must have
    passed :func:`eihlab.experiment.runner.validate_experiment`.
    """
    arm = exp.arms[index]
    condition = arm_condition(exp, arm)
    events = list(arm.events)
    if condition.injury and not any(isinstance(e, InjuryEvent) for e in events):
        events.append(
            InjuryEvent.model_validate(
                dict(model=condition.injury, side=condition.injury_side, at=-condition.onset_days * 1440.0)
            )
        )
    gains = _perturbation(arm, f"arms[{index}]")
    frames = []
    for lo in range(0, draw.n, CHUNK):
        hi = min(lo + CHUNK, draw.n)
        part = slice_draw(draw, lo, hi)

        def schedule_for(a: int, b: int, part: CohortDraw = part) -> Schedule:
            return build_schedule(events, slice_draw(part, a, b).physiology, field=f"arms[{index}].events")

        frames.append(
            simulate_arm(schedule_for, part, species=exp.cohort.species, seed=seed, arm_index=index, gains=gains)
        )
        if progress is not None:
            progress(hi - lo)
    return pd.concat(frames, ignore_index=True)


def outcome_values(obs: pd.DataFrame, outcome: Outcome, time: float, n: int) -> np.ndarray:
    """Per-subject trial means of ``outcome`` at ``time`` from :func:`simulate_draw` output, by position.

    Works when subject ids repeat (the sensitivity analysis gives every sample row the same id).
    """
    rows = obs[(obs["measure"] == outcome.measure) & (obs["site"] == outcome.site) & (obs["time_min"] == time)]
    values = rows["value"].to_numpy(dtype=float)
    if n == 0 or values.size % n:
        raise RuntimeError(f"{outcome.label} at {time:g} min: {values.size} values for {n} subjects")
    return values.reshape(n, -1).mean(axis=1)
