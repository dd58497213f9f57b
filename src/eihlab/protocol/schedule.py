"""From an arm's events to a time grid and the model's inputs at each step.

The grid is protocol-aware: 0.5-min steps while anything is applied (a bout, a stimulation session, an acid
bolus or drug absorption; 2-min steps in the sessions of a programme that no probe observes within a day),
then steps growing geometrically (×1.6) up to one day between events, so that
bout edges are never stepped over (the known failure of adaptive solvers on short bouts in long protocols)
and 12-week programmes stay cheap. The step restarts fine only after a perturbation (the edge of something
applied, an injury); a probe time only cuts a step, and the quiet hour before the first event (the cohort's
steady state) is crossed in one step (89 → 71 steps for the benchmark's acute bout, probe values unchanged).
A bout held ``to_exhaustion`` is stretched per subject: each subject's steps in it last ``ET_i / K`` minutes so
that fatigue reaches 1 exactly at the bout's nominal end, and all later times stay aligned across subjects
(reported times are nominal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np

from eihlab.model.body import N_REGIONS, REGIONS, region_indices
from eihlab.model.inputs import FAMILIES, Inputs
from eihlab.model.pharmacology import AGENTS
from eihlab.population.conditions import INJURY_SEVERITY
from eihlab.protocol.events import (
    AcidEvent,
    DrugEvent,
    Event,
    ExerciseEvent,
    InjuryEvent,
    Measure,
    ProbeEvent,
    StimulationEvent,
)
from eihlab.protocol.exercise import exercise_type
from eihlab.protocol.intensity import ExerciseFamily, IntensityUnit, relative_intensity
from eihlab.protocol.physiology import SubjectPhysiology

FINE_DT_MIN = 0.5
"""Step (min) while anything is applied. With the engine's second-order step (ETD2, see
:func:`eihlab.model.system.advance`), and each subject's step ending where it reaches exhaustion
(:mod:`eihlab.engine.simulate`), the acute probe values of ``benchmarks/engine.py`` are within 3.4e-4 of an
rtol-1e-10 LSODA reference (worst of 20 subjects; 7.6e-4 at 1-min steps, 2.8e-3 at 2 min)."""
UNOBSERVED_DT_MIN = 2.0
"""Step (min) inside a bout or stimulation session that no probe observes: none during it or within
:data:`UNOBSERVED_MARGIN_MIN` after it (the sessions of a long programme, whose acute effects have faded by the
next probe and which act on it only through slow states). The engine's error at 2-min steps is 2.0e-3 on acute
probe values (``benchmarks/engine.py``); on the slow states that carry a session to a probe a day or more later
it is far smaller: on the six longest bundled programmes (2 years of yoga, 12 weeks of cycling and tai chi,
wheel running, treadmill training with naloxone or an IL-4 antagonist; 6 subjects) the largest change of any
probe value against fine steps throughout is 0.035 (kPa), 8.8e-5 relative, and ``eihlab evidence run`` takes
1 min 49 s instead of 5-6 min (``tests/test_schedule.py`` checks a 4-week programme to 1e-4). A bout held to
exhaustion keeps the fine step."""
UNOBSERVED_MARGIN_MIN = 1440.0
"""A session ending this long (min) or more before the next probe is unobserved."""
MAX_DT_MIN = 1440.0
"""Largest step (min) between sessions."""
GROWTH = 1.6
"""Growth factor of the step after a busy window."""
ABSOLUTE_UNITS = frozenset({"W", "km/h", "m/min", "METs", "kg"})
"""Units whose relative intensity falls as the subject gets fitter."""
ACID_HALF_LIFE_MIN = 20.0
"""Half-life (min) of an intramuscular acid load's pH deficit (7.4 - pH; assumed: pH recovers within ~1 h)."""
ASIC3_THRESHOLD_PH = 7.0
"""Muscle pH below which ASIC3 opens and the acid drives nociceptors (ASIC3 currents activate below about pH
7.0-7.2, half-maximal near pH 6.6-6.7: Waldmann et al. 1997, doi:10.1074/jbc.272.34.20975; Sutherland et al.
2001, doi:10.1073/pnas.011415298). Neutral saline (pH 7.2) drives nothing, and an acid load stops driving
once buffered above it: after about 52 min from pH 5 and 62 min from pH 4."""


@dataclass(frozen=True, slots=True)
class Bout:
    """One set of exercise, resolved for the cohort."""

    t0: float
    t1: float
    family: int
    intensity: np.ndarray
    region_weight: np.ndarray
    muscle_fraction: float
    active: float
    voluntary: float
    absolute: bool
    to_exhaustion: bool
    max_minutes: float


@dataclass(frozen=True, slots=True)
class Session:
    """One brain-stimulation session."""

    t0: float
    t1: float
    method: str
    current_ma: float
    frequency_hz: float


@dataclass(frozen=True, slots=True)
class Probe:
    """One probe occurrence: a time and the measures taken then."""

    time: float
    measures: tuple[Measure, ...]


@dataclass(slots=True)
class Schedule:
    """The resolved timeline of an arm for a cohort."""

    n: int
    bouts: list[Bout] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    doses: list[tuple[float, str, float]] = field(default_factory=list)
    acid: list[tuple[float, np.ndarray, float]] = field(default_factory=list)
    injuries: list[tuple[float, np.ndarray, float]] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)

    @property
    def start(self) -> float:
        """First time of interest minus a quiet hour."""
        times = [b.t0 for b in self.bouts] + [s.t0 for s in self.sessions] + [d[0] for d in self.doses]
        times += [a[0] for a in self.acid] + [i[0] for i in self.injuries] + [p.time for p in self.probes]
        return min(times) - 60.0

    @property
    def end(self) -> float:
        """Last probe time (nothing after it is observed)."""
        return max(p.time for p in self.probes) if self.probes else self.start + 60.0

    def grid(self) -> list[tuple[float, float]]:
        """The integration steps ``(t, dt)`` in nominal minutes, probe times falling on step edges."""
        probe_times = np.array(sorted({p.time for p in self.probes}))

        def window_step(t0: float, t1: float) -> float:
            observed = probe_times[(probe_times >= t0) & (probe_times < t1 + UNOBSERVED_MARGIN_MIN)].size > 0
            return FINE_DT_MIN if observed else UNOBSERVED_DT_MIN

        busy = [(b.t0, b.t1, FINE_DT_MIN if b.to_exhaustion else window_step(b.t0, b.t1)) for b in self.bouts]
        busy += [(s.t0, s.t1, window_step(s.t0, s.t1)) for s in self.sessions]
        busy += [(t, t + 6 * 60.0, FINE_DT_MIN) for t, _, _ in self.doses]
        busy += [(t, t + acid_duration(deficit), FINE_DT_MIN) for t, _, deficit in self.acid if acid_duration(deficit)]
        # perturbations: the edges of busy windows and injuries; the step restarts (at the window's step) after
        # each. A probe only cuts a step, and the quiet start (the cohort's steady state) is crossed in the
        # largest steps.
        restart: dict[float, float] = {t: FINE_DT_MIN for t, _, _ in self.injuries}
        for lo, hi, step_min in busy:
            for edge in (lo, hi):
                restart[edge] = min(restart.get(edge, step_min), step_min)
        marks = {self.start, self.end} | set(restart) | {p.time for p in self.probes}
        edges = sorted(m for m in marks if self.start <= m <= self.end)
        steps: list[tuple[float, float]] = []
        dt = MAX_DT_MIN
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            inside = [step_min for lo, hi, step_min in busy if lo <= a < hi]
            is_busy = bool(inside)
            if is_busy or a in restart:
                dt = min(inside + ([restart[a]] if a in restart else []))
            t = a
            while t < b - 1e-9:
                step = min(dt, b - t)
                if b - (t + step) < 1e-6:
                    step = b - t
                steps.append((t, step))
                t += step
                if not is_busy:
                    dt = min(dt * GROWTH, MAX_DT_MIN)
        return steps

    def bout_at(self, t: float) -> Bout | None:
        """The bout running at nominal time t, if any."""
        for b in self.bouts:
            if b.t0 <= t < b.t1:
                return b
        return None

    def inputs_at(self, t: float) -> Inputs:
        """The input ports at nominal time ``t`` (piecewise constant over a step that starts at t)."""
        n = self.n
        u = Inputs.rest(n)
        bout = self.bout_at(t)
        if bout is not None:
            u.exercising = np.ones(n)
            u.intensity = bout.intensity
            u.family = bout.family
            u.region_weight = bout.region_weight
            u.muscle_fraction = bout.muscle_fraction
            u.active = bout.active
            u.voluntary_running = bout.voluntary
            u.absolute_dose = bout.absolute
        drug: dict[str, np.ndarray] = {}
        for t0, agent, dose in self.doses:
            if t >= t0:
                level = AGENTS[agent].concentration_ratio(dose, t - t0)
                drug[agent] = drug.get(agent, np.zeros(n)) + level
        u.drug = drug
        if self.acid:
            acid = np.zeros(N_REGIONS)
            for t0, mask, deficit in self.acid:
                if t >= t0:
                    acid += mask * acid_drive(7.4 - deficit * 0.5 ** ((t - t0) / ACID_HALF_LIFE_MIN))
            u.acid = np.broadcast_to(acid, (n, N_REGIONS))
        if self.injuries:
            inj = np.zeros(N_REGIONS)
            central = 0.0
            for t0, mask, sev in self.injuries:
                if t >= t0:
                    if mask.sum() == 0:
                        central += sev
                    inj += mask * sev
            u.injury = np.broadcast_to(inj, (n, N_REGIONS))
            u.injury_central = central
        recent = [s for s in self.sessions if s.method == "rtms_m1" and s.t0 <= t]
        if recent:
            u.rtms_recent_hz = recent[-1].frequency_hz
        for s in self.sessions:
            if s.t0 <= t < s.t1:
                if s.method == "tdcs_m1":
                    u.tdcs_m1_ma = s.current_ma
                elif s.method == "tdcs_dlpfc":
                    u.tdcs_dlpfc_ma = s.current_ma
                elif s.method == "rtms_m1":
                    u.rtms_hz = s.frequency_hz
                else:
                    u.mcs = 1.0
        return u


def _region_weight(name: str, share: float, field: str) -> tuple[np.ndarray, float]:
    w = np.zeros(N_REGIONS)
    idx = list(region_indices(name, field))
    w[idx] = share
    mass = float(sum(REGIONS[i].muscle_fraction for i in idx) * share)
    return w, mass


def acid_drive(ph: float) -> float:
    """Nociceptive drive of muscle at pH ``ph``: ``max(pH_ASIC3 - pH, 0)`` with pH_ASIC3 = 7.0
    (:data:`ASIC3_THRESHOLD_PH`): pH 5 → 2, pH 4 → 3, pH 7.2 → 0 (assumed linear in log [H+] below the
    threshold)."""
    return max(ASIC3_THRESHOLD_PH - ph, 0.0)


def acid_duration(deficit: float) -> float:
    """Minutes for which an injection with pH deficit ``deficit`` (7.4 - pH) drives nociceptors (0 if never).

    The deficit halves every :data:`ACID_HALF_LIFE_MIN`; the drive ends when the pH rises above
    :data:`ASIC3_THRESHOLD_PH`.
    """
    threshold = 7.4 - ASIC3_THRESHOLD_PH
    return ACID_HALF_LIFE_MIN * float(np.log2(deficit / threshold)) if deficit > threshold else 0.0


def build_schedule(events: list[Event], physiology: SubjectPhysiology, *, field: str = "events") -> Schedule:
    """Resolve an arm's events for a cohort (intensities through each subject's physiology)."""
    n = physiology.n
    sched = Schedule(n=n)
    for k, ev in enumerate(events):
        where = f"{field}[{k}]"
        if isinstance(ev, ExerciseEvent):
            _add_exercise(sched, ev, physiology, where)
        elif isinstance(ev, DrugEvent):
            sched.doses.extend((t, ev.agent, ev.dose()) for t in ev.start_times())
        elif isinstance(ev, StimulationEvent):
            sched.sessions.extend(
                Session(t, t + ev.duration, ev.method, ev.current_ma, ev.frequency_hz) for t in ev.start_times()
            )
        elif isinstance(ev, AcidEvent):
            mask, _ = _region_weight(ev.body_region, 1.0, f"{where}.body_region")
            sched.acid.extend((t, mask, 7.4 - ev.ph) for t in ev.start_times())
        elif isinstance(ev, InjuryEvent):
            sched.injuries.extend(
                (t, injury_mask(ev.model, ev.side), INJURY_SEVERITY[ev.model] * ev.severity) for t in ev.start_times()
            )
        elif isinstance(ev, ProbeEvent):
            sched.probes.extend(Probe(t, tuple(ev.measures)) for t in ev.start_times())
    sched.bouts.sort(key=lambda b: b.t0)
    for a, b in zip(sched.bouts[:-1], sched.bouts[1:], strict=True):
        if b.t0 < a.t1 - 1e-9:
            from eihlab.errors import InputError

            raise InputError(field, f"bouts at {a.t0:g} and {b.t0:g} min", "exercise bouts that do not overlap")
    sched.probes.sort(key=lambda p: p.time)
    return sched


def injury_mask(model: str, side: str) -> np.ndarray:
    """Regions an injury model drives (a zero mask means a central injury)."""
    if model == "spinal_cord_injury":
        return np.zeros(N_REGIONS)
    w, _ = _region_weight(f"lower_limb_{side}", 1.0, "injury.side")
    return w


def _add_exercise(sched: Schedule, ev: ExerciseEvent, phys: SubjectPhysiology, where: str) -> None:
    kind = exercise_type(ev.type, f"{where}.type")
    family = kind.family
    if ev.intensity is None:
        intensity = np.zeros(phys.n)
    else:
        intensity = relative_intensity(
            ev.intensity.value,
            cast(IntensityUnit, ev.intensity.unit),
            cast(ExerciseFamily, family),
            phys,
            mode=ev.intensity.mode,
        )
    # the whole region's segments receive the afferent drive; only part of its muscle mass works
    weight, mass = _region_weight(ev.body_region or kind.region, 1.0, f"{where}.body_region")
    mass *= kind.mass_share
    if ev.duration == "to_exhaustion":
        set_minutes = ev.max_duration
    elif ev.reps is not None:
        set_minutes = ev.reps * 3.0 / 60.0
    else:
        set_minutes = float(ev.duration)
    for start in ev.start_times():
        t = start
        for _ in range(ev.sets):
            sched.bouts.append(
                Bout(
                    t,
                    t + set_minutes,
                    FAMILIES.index(family),
                    np.asarray(intensity, dtype=float),
                    weight,
                    mass,
                    0.0 if family == "passive" else 1.0,
                    1.0 if kind.voluntary_running else 0.0,
                    ev.intensity is not None and ev.intensity.unit in ABSOLUTE_UNITS,
                    ev.duration == "to_exhaustion",
                    ev.max_duration,
                )
            )
            t += set_minutes + ev.rest_between_sets


__all__ = ["Schedule", "build_schedule"]
