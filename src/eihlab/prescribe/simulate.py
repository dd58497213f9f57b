"""Simulating doses for a weighted cohort of virtual patients, many doses at once.

The engine is vectorised over subjects, and a bout's intensity is a per-subject array; so the ``K`` intensities
of one candidate (same type, region, duration and sets) are simulated in one pass by stacking ``K`` copies of
the ``N`` virtual patients (``K·N`` rows). Every copy of a patient uses the same subject id, hence the same
random numbers (common random numbers), which makes the predicted response a smooth function of the dose.

Predictions are noise-free: trial-to-trial threshold noise is switched off (``trial_noise_cv = 0``) and each
threshold is taken once; the session offset is shared by the baseline and the post-exercise probes and
cancels in the change. What remains is the virtual patients' physiology and their day-to-day exertion.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from eihlab.engine.simulate import Perturbation, simulate_chunk
from eihlab.model import system
from eihlab.model.inputs import Inputs
from eihlab.population.cohort import CohortDraw
from eihlab.protocol.events import ExerciseEvent, Measure, ProbeEvent
from eihlab.protocol.exercise import exercise_type
from eihlab.protocol.intensity import ExerciseFamily, IntensityUnit, relative_intensity
from eihlab.protocol.physiology import SubjectPhysiology
from eihlab.protocol.schedule import Bout, build_schedule

SPECIES = "human"
POST_MIN = 2.0
"""Minutes after the last set at which the acute EIH is read ("immediately after")."""
LATER_MIN = 15.0
"""Minutes after the last set of the second (persistence) reading."""
NEXT_DAY_MIN = 1440.0
"""Minutes after the last set of the next-day reading (a delayed flare)."""
BASELINE_MIN = -5.0


@dataclass(frozen=True)
class Dose:
    """The time structure of one session: type, exercised region, minutes per set, sets, reps, rest."""

    type: str
    region: str
    duration_min: float
    sets: int = 1
    reps: int | None = None
    rest_min: float = 1.0
    weeks: int | None = None
    sessions_per_week: int | None = None

    @property
    def family(self) -> str:
        """The exercise family of the type."""
        return exercise_type(self.type).family

    @property
    def session_minutes(self) -> float:
        """Length of one session, first set to the end of the last."""
        per_set = self.reps * 3.0 / 60.0 if self.reps is not None else self.duration_min
        return self.sets * per_set + (self.sets - 1) * self.rest_min

    def set_ends(self) -> list[float]:
        """End of each set of the (first) session, minutes."""
        per_set = self.reps * 3.0 / 60.0 if self.reps is not None else self.duration_min
        return [k * (per_set + self.rest_min) + per_set for k in range(self.sets)]

    def event(self, value: float, unit: str) -> ExerciseEvent:
        """The exercise event of this dose at one intensity."""
        data: dict[str, object] = {
            "type": self.type,
            "intensity": {"value": value, "unit": unit},
            "duration": self.duration_min,
            "sets": self.sets,
            "rest_between_sets": self.rest_min,
            "body_region": self.region,
        }
        if self.reps is not None:
            data["reps"] = self.reps
        if self.weeks is not None:
            data.update(weeks=self.weeks, sessions_per_week=self.sessions_per_week)
        return ExerciseEvent.model_validate(data)


@dataclass(frozen=True)
class Outcome:
    """Per dose and virtual patient (arrays ``(K, N)``) responses to a dose.

    ``ppt`` maps ``(site, minutes after the session)`` to the % change in PPT from baseline; ``barrage`` is
    the peak averaged nociceptive barrage over the patient's NR1 threshold (> 1: beyond the pain range);
    ``baseline_kpa`` the resting PPT per site; ``fatigue`` the peak fatigue (1 = exhaustion); ``readouts``
    other model quantities (their peak over the ends of the sets).
    """

    ppt: dict[tuple[str, float], np.ndarray]
    baseline_kpa: dict[str, np.ndarray]
    barrage: np.ndarray
    fatigue: np.ndarray
    readouts: dict[str, np.ndarray]


def stack_physiology(phys: SubjectPhysiology, k: int) -> SubjectPhysiology:
    """``k`` copies of every subject's physiology, copy-major."""
    fields = {f.name: np.tile(getattr(phys, f.name), k) for f in dataclasses.fields(phys) if f.name != "species"}
    return SubjectPhysiology(species=phys.species, **fields)


def stack_params(params: Mapping[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
    """``k`` copies of every parameter array along the subject axis."""
    return {name: np.concatenate([v] * k, axis=0) for name, v in params.items()}


def rest_state(draw: CohortDraw, gains: Perturbation | None = None) -> system.State:
    """The virtual patients' resting (chronic) state."""
    g = gains or Perturbation({}, {})
    n = draw.n
    edges = {k: np.full(n, v) for k, v in g.edges.items()}
    nodes = {k: np.full(n, v) for k, v in g.nodes.items()}
    return system.steady_state(dict(draw.params), Inputs.rest(n), edges, nodes)


def simulate_dose(
    draw: CohortDraw,
    dose: Dose,
    values: Sequence[float],
    unit: str,
    sites: Sequence[str],
    *,
    seed: int,
    initial: system.State | None = None,
    gains: Perturbation | None = None,
    readouts: Sequence[str] = (),
    after: Sequence[float] = (POST_MIN, LATER_MIN, NEXT_DAY_MIN),
) -> Outcome:
    """Simulate ``len(values)`` intensities of one dose for every virtual patient.

    Parameters
    ----------
    draw
        The virtual patients (their physiology converts the intensities).
    dose
        Type, region, duration and sets of one session.
    values, unit
        The intensities to try, in one unit allowed for the family.
    sites
        PPT sites.
    seed
        The cohort seed (the noise streams of the engine).
    initial
        The resting state of ``draw`` (computed when not given).
    gains
        Knock-outs (edge or node gains).
    readouts
        Model quantities to read at the end of each set (their maximum is kept).
    after
        Minutes after the session at which PPT is read.

    Returns
    -------
    Outcome
    """
    k, n = len(values), draw.n
    g = gains or Perturbation({}, {})
    phys = stack_physiology(draw.physiology, k)
    params = stack_params(draw.params, k)
    params["trial_noise_cv"] = np.zeros(k * n)
    family = cast(ExerciseFamily, dose.family)
    intensity = np.concatenate(
        [relative_intensity(v, cast(IntensityUnit, unit), family, draw.physiology) for v in values]
    )
    if dose.weeks is not None:
        raise ValueError("simulate_dose takes one session; use simulate_programme for a programme")
    event = dose.event(values[0], unit)
    ends = dose.set_ends()
    quantities = ["barrage_avg", "fatigue", *readouts]
    pre = [Measure(measure="PPT", site=s, trials=1) for s in sites]
    probes = [
        ProbeEvent(times=[BASELINE_MIN], measures=pre),
        ProbeEvent(times=ends, measures=[Measure(measure="readout", quantity=q, trials=1) for q in quantities]),
        ProbeEvent(times=[ends[-1] + a for a in after], measures=pre),
    ]
    schedule = build_schedule([event, *probes], phys, field="dose")
    schedule.bouts = [_with_intensity(b, intensity) for b in schedule.bouts]
    start = initial if initial is not None else rest_state(draw, g)
    init = {name: np.concatenate([v] * k, axis=0) for name, v in start.items()}
    ids = np.tile(draw.subject_ids, k)
    cols = simulate_chunk(schedule, ids, params, species=SPECIES, seed=seed, arm_index=0, gains=g, initial=init)
    table: dict[tuple[str, str, float], np.ndarray] = {}
    for t, m, s, v in zip(cols["time_min"], cols["measure"], cols["site"], cols["value"], strict=True):
        table[(str(m[0]), str(s[0]), float(t[0]))] = np.asarray(v, dtype=float).reshape(k, n)
    baseline = {s: table[("PPT", s, BASELINE_MIN)] for s in sites}
    ppt = {(s, a): 100.0 * (table[("PPT", s, ends[-1] + a)] / baseline[s] - 1.0) for s in sites for a in after}

    def peak(q: str) -> np.ndarray:
        return np.max(np.stack([table[(q, "", t)] for t in ends]), axis=0)

    threshold = np.tile(draw.params["nr1_threshold"], k).reshape(k, n)
    return Outcome(
        ppt=ppt,
        baseline_kpa=baseline,
        barrage=peak("barrage_avg") / threshold,
        fatigue=peak("fatigue"),
        readouts={q: peak(q) for q in readouts},
    )


def _with_intensity(bout: Bout, intensity: np.ndarray) -> Bout:
    return dataclasses.replace(bout, intensity=np.asarray(intensity, dtype=float))


PHASE_WEEKS = 4
"""Weeks per progression phase (three phases make the 12-week programme)."""


def simulate_programme(
    draw: CohortDraw,
    phases: Sequence[tuple[Dose, float, str]],
    sites: Sequence[str],
    *,
    seed: int,
    initial: system.State | None = None,
) -> dict[tuple[str, int], np.ndarray]:
    """Simulate a programme of consecutive 4-week phases; returns the resting PPT change per site and week.

    Parameters
    ----------
    draw
        The virtual patients.
    phases
        ``(dose, value, unit)`` per phase; each dose carries its ``sessions_per_week`` (its ``weeks`` is set to
        :data:`PHASE_WEEKS`).
    sites
        PPT sites.
    seed
        Cohort seed.
    initial
        Resting state of ``draw``.

    Returns
    -------
    dict
        ``{(site, week): % change of resting PPT from before the programme}`` for the end of each phase
        (read 5 min before the next phase's first session; after the last phase, about a day after its last session).
    """
    n = draw.n
    events: list[ExerciseEvent | ProbeEvent] = []
    week_min = 7 * 1440.0
    for i, (dose, value, unit) in enumerate(phases):
        d = dataclasses.replace(dose, weeks=PHASE_WEEKS, sessions_per_week=dose.sessions_per_week or 3)
        event = d.event(value, unit).model_copy(update={"at": i * PHASE_WEEKS * week_min})
        events.append(event)
    times = [BASELINE_MIN] + [(i + 1) * PHASE_WEEKS * week_min + BASELINE_MIN for i in range(len(phases))]
    events.append(ProbeEvent(times=times, measures=[Measure(measure="PPT", site=s, trials=1) for s in sites]))
    schedule = build_schedule(list(events), draw.physiology, field="programme")
    params = {**draw.params, "trial_noise_cv": np.zeros(n)}
    start = initial if initial is not None else rest_state(draw)
    cols = simulate_chunk(
        schedule,
        draw.subject_ids,
        params,
        species=SPECIES,
        seed=seed,
        arm_index=1,
        gains=Perturbation({}, {}),
        initial=start,
    )
    table: dict[tuple[str, float], np.ndarray] = {}
    for t, labels, v in zip(cols["time_min"], cols["site"], cols["value"], strict=True):
        table[(str(labels[0]), float(t[0]))] = np.asarray(v, dtype=float)
    out: dict[tuple[str, int], np.ndarray] = {}
    for site in sites:
        base = table[(site, BASELINE_MIN)]
        for i in range(len(phases)):
            out[(site, (i + 1) * PHASE_WEEKS)] = 100.0 * (table[(site, times[i + 1])] / base - 1.0)
    return out
