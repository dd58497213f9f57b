"""Benchmark: eihlab's engine against ``solve_ivp`` and libRoadRunner on the same model and protocols, in one run.

Two protocols, one arm each, healthy humans:

- **acute**: 60 simulated minutes of rest, then 30 min cycling at 70 % HRR; PPT at the quadriceps and the
  trapezius and HPT at the forearm, at -5 (baseline), 30, 45 and 60 min (0/15/30 min after the bout);
- **programme**: cycling 30 min at 70 % HRR, 3 sessions a week for 12 weeks; the same probes at weeks
  0/4/8/12 (5 min before that day's session).

What is compared. The measurement-noise parameters are set to 0 (``trial_noise_cv``, ``session_noise_cv``,
``thermal_trial_noise_c``, ``rating_noise``, ``session_exertion_cv``), so that every probe value is a
deterministic function of the model's state; the session draws that remain (the HPT session offset) are
rebuilt exactly as :func:`eihlab.engine.simulate.simulate_chunk` draws them. For a few subjects of the same
cohort, the engine's probe values (through :func:`eihlab.experiment.runner.arm_observations`) are compared
with those of ``solve_ivp`` (LSODA and BDF at rtol 1e-6) and of a reference (LSODA at rtol 1e-10). The
solvers integrate the same right-hand side (relaxations ``(target - y) / tau`` plus added rates, from
:func:`eihlab.model.system.evaluate`) one subject at a time, restarted at every bout edge and probe time (an
adaptive solver otherwise steps over short bouts in a long protocol) and at exhaustion inside a bout (an event;
integrating through that jump of the right-hand side stalled LSODA at rtol 1e-10), from the same steady state.
``max_rel_err`` is the largest relative error of any probe value, of the engine and of both scipy methods,
against the reference. The engine's step is the second-order exponential step ETD2 on a protocol-aware grid;
its error is also reported as a function of its fine step (``FINE_DT_MIN``) and of its largest rest step.

libRoadRunner. The same right-hand side, exported to SBML by :mod:`eihlab.model.sbml` (generated from the model's
component code by running it on sympy symbols), compiled once by libRoadRunner and integrated by its CVODE at
rtol 1e-6, one subject at a time: ``resetAll``, that subject's parameters and starting state set, then the
protocol segment by segment (the two exercise inputs set at every bout edge, each segment restarted), the
probes read from its state through the same QST code.

Throughput. eihlab: subjects per second of a whole cohort through the real engine path (20,000 acute, 2,000
programme subjects), with each backend installed (numpy; JAX, compiled by XLA), after a one-chunk warm-up
(where JAX compiles; reported); the headline is the faster backend. scipy: seconds per subject measured on a
handful of subjects, one at a time, and extrapolated (subjects/s = 1 / mean seconds per subject, the faster
of LSODA and BDF). libRoadRunner: the
same, over more subjects (50 acute, 10 programme; compilation excluded and reported; CVODE's step limit is
20,000 per segment, and a subject it gives up on is counted as failed, its time included).

Peak memory: a 100,000-subject acute cohort run in a child process (``ru_maxrss`` of the child).

Run: ``python benchmarks/engine.py [--json] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eihlab._random import standard_normals
from eihlab.engine.simulate import CHUNK
from eihlab.experiment.runner import arm_observations, parse_experiment
from eihlab.experiment.schema import Experiment
from eihlab.model import system
from eihlab.model.inputs import Inputs
from eihlab.population.cohort import sample_cohort
from eihlab.population.conditions import get_condition
from eihlab.protocol import schedule as schedule_mod
from eihlab.protocol.qst import PROBES, NoiseStream, ProbeContext, draws_per_measure
from eihlab.protocol.schedule import Schedule, build_schedule

SEED = 7
NOISE_FREE = {
    "trial_noise_cv": 0.0,
    "session_noise_cv": 0.0,
    "thermal_trial_noise_c": 0.0,
    "rating_noise": 0.0,
    "session_exertion_cv": 0.0,
}
"""Measurement noise off: probe values become deterministic functions of the state."""
MEASURES = [
    {"measure": "PPT", "site": "quadriceps_right"},
    {"measure": "PPT", "site": "trapezius_right"},
    {"measure": "HPT", "site": "forearm_left"},
]
CYCLING = {"kind": "exercise", "type": "cycling", "intensity": {"value": 70, "unit": "%HRR"}, "duration": 30}
PROTOCOLS: dict[str, dict[str, Any]] = {
    "acute": {"events": [CYCLING, {"kind": "probe", "times": [-5, 30, 45, 60], "measures": MEASURES}]},
}
WEEK_MIN = 10080.0


def programme_events(weeks: int) -> list[dict[str, Any]]:
    """A cycling programme of ``weeks`` weeks (3 a week), probes at week 0 and every 4 weeks (1 week: 0 and 1).

    Parameters
    ----------
    weeks
        Programme length (12 in the benchmark; 1 in ``--quick``).

    Returns
    -------
    list of dict
        The arm's events.
    """
    marks = list(range(0, weeks + 1, 4)) if weeks >= 4 else [0, weeks]
    times = [w * WEEK_MIN - 5 for w in marks]
    return [
        {**CYCLING, "weeks": weeks, "sessions_per_week": 3},
        {"kind": "probe", "times": times, "measures": MEASURES},
    ]


SESSION_DRAWS = 5  # as eihlab.engine.simulate._SESSION_DRAWS
RTOL, ATOL = 1e-6, 1e-9
REF_RTOL, REF_ATOL = 1e-10, 1e-13


def experiment(protocol: str, n: int, weeks: int = 12) -> Experiment:
    """The benchmark experiment of one protocol (one arm, healthy humans, noise-free measurement).

    Parameters
    ----------
    protocol
        ``"acute"`` or ``"programme"``.
    n
        Cohort size.
    weeks
        Length of the programme.

    Returns
    -------
    Experiment
        The validated experiment.
    """
    return parse_experiment(
        {
            "schema_version": 1,
            "name": f"bench_{protocol}",
            "design": "parallel",
            "cohort": {
                "species": "human",
                "condition": "healthy",
                "n": n,
                "seed": SEED,
                "age_y": [20, 40],
                "parameters": NOISE_FREE,
            },
            "arms": [
                {
                    "name": protocol,
                    "events": PROTOCOLS["acute"]["events"] if protocol == "acute" else programme_events(weeks),
                }
            ],
        }
    )


# ----------------------------------------------------------------------------------------------- eihlab


def engine_probes(exp: Experiment, n: int) -> np.ndarray:
    """Noise-free probe values of subjects ``0..n-1`` through the engine, shape ``(n, probes x measures)``.

    Parameters
    ----------
    exp
        The experiment.
    n
        Number of subjects (the first ``n`` of the cohort).

    Returns
    -------
    numpy.ndarray
        Trial means (all trials are equal without noise), ordered by subject, then time, then measure.
    """
    obs = arm_observations(exp, 0, 0, n)
    obs["key"] = obs["measure"] + "@" + obs["site"]
    table = obs.groupby(["subject", "time_min", "key"])["value"].mean().unstack(["time_min", "key"])
    keys = [f"{m['measure']}@{m['site']}" for m in MEASURES]
    columns = [(t, k) for t in sorted(obs["time_min"].unique()) for k in keys]
    return np.asarray(table.sort_index()[columns].to_numpy(), dtype=float)


def engine_rate(exp: Experiment, backend: str = "numpy") -> tuple[float, float, float]:
    """Subjects per second of the whole cohort through the engine, the seconds it took, and the warm-up.

    Parameters
    ----------
    exp
        The experiment (its cohort size is the number of subjects run).
    backend
        ``"numpy"`` or ``"jax"`` (:func:`eihlab.engine.simulate.stepper`).

    Returns
    -------
    tuple of float
        Subjects per second, seconds, and the seconds of a one-chunk warm-up run before the timing (JAX
        compiles its steps there, for the chunk's shapes; numpy has nothing to compile).
    """
    os.environ["EIHLAB_BACKEND"] = backend
    try:
        start = time.perf_counter()
        arm_observations(exp, 0, 0, min(exp.cohort.n, CHUNK))  # the compiled shapes of the timed run
        warm = time.perf_counter() - start
        start = time.perf_counter()
        arm_observations(exp, 0)
        elapsed = time.perf_counter() - start
    finally:
        os.environ.pop("EIHLAB_BACKEND", None)
    return exp.cohort.n / elapsed, elapsed, warm


def engine_rates(exp: Experiment) -> dict[str, tuple[float, float, float]]:
    """:func:`engine_rate` for every backend installed (numpy always; JAX when it is installed)."""
    from eihlab.engine import jax_backend

    backends = ["numpy"] + (["jax"] if jax_backend.available() else [])
    return {b: engine_rate(exp, b) for b in backends}


# ------------------------------------------------------------------------------------------------ scipy


@dataclass
class Subjects:
    """Parameters, schedule, starting state and session draws of a few subjects, as the engine sets them."""

    params: dict[str, np.ndarray]
    schedules: list[Schedule]
    start: system.State
    z: np.ndarray
    probes: list[Any] = field(default_factory=list)


def subjects(exp: Experiment, n: int) -> Subjects:
    """Rebuild what :func:`eihlab.engine.simulate.simulate_chunk` starts from for subjects ``0..n-1``.

    Parameters
    ----------
    exp
        The experiment.
    n
        Number of subjects.

    Returns
    -------
    Subjects
        The subjects' parameters (``session_exertion`` included), one schedule per subject, the steady
        starting state and the per-subject standard normals.
    """
    import dataclasses

    cohort = exp.cohort
    arm = exp.arms[0]
    draw = sample_cohort(
        cohort.species,
        get_condition(cohort.condition, cohort.species),
        np.arange(n),
        cohort.seed,
        age_y=cohort.age_y,
        female_fraction=cohort.female_fraction,
        variability=cohort.variability,
        overrides={**cohort.parameters, **arm.parameters},
    )
    events = list(arm.events)

    def one(i: int) -> Schedule:
        phys = dataclasses.replace(
            draw.physiology,
            **{
                f.name: getattr(draw.physiology, f.name)[i : i + 1]
                for f in dataclasses.fields(draw.physiology)
                if f.name != "species"
            },
        )
        return build_schedule(events, phys)

    schedules = [one(i) for i in range(n)]
    k = SESSION_DRAWS + sum(draws_per_measure(m) for p in schedules[0].probes for m in p.measures)
    z = standard_normals(cohort.seed, np.arange(n), "measurement:0", k)
    sigma = draw.params["session_exertion_cv"]
    params = {**draw.params, "session_exertion": np.exp(sigma * z[:, 4] - 0.5 * sigma**2)}
    start = system.steady_state(params, Inputs.rest(n))
    return Subjects(params, schedules, start, z)


class ProbeReader:
    """Reads one subject's probes from a state, as the engine does (noise-free), in time order."""

    def __init__(self, sub: Subjects, i: int) -> None:
        self.params = {k: v[i : i + 1] for k, v in sub.params.items()}
        self.sched = sub.schedules[i]
        self.session = sub.z[i : i + 1, :SESSION_DRAWS]
        self.noise = NoiseStream(sub.z[i : i + 1, SESSION_DRAWS:])
        self.probes = list(self.sched.probes)
        self.values: list[float] = []

    def take(self, t: float, state: system.State) -> None:
        """Read every probe due at ``t`` from ``state``."""
        while self.probes and self.probes[0].time <= t + 1e-9:
            probe = self.probes.pop(0)
            ctx = system.evaluate(state, self.params, self.sched.inputs_at(t))
            pc = ProbeContext(ctx, "human", self.session, self.noise)
            for m in probe.measures:
                v, _ = PROBES[m.measure](pc, m)
                self.values.append(float(v.mean()))


def _edges(sched: Schedule) -> list[float]:
    marks = {sched.start, sched.end}
    for b in sched.bouts:
        marks.update((b.t0, b.t1))
    marks.update(p.time for p in sched.probes)
    return sorted(m for m in marks if sched.start <= m <= sched.end)


def scipy_probes(sub: Subjects, i: int, method: str, rtol: float, atol: float) -> np.ndarray:
    """Probe values of subject ``i`` from ``solve_ivp``, restarted at every bout edge and probe time.

    Parameters
    ----------
    sub
        The subjects.
    i
        Which subject.
    method
        ``solve_ivp`` method (``"LSODA"``, ``"BDF"``).
    rtol, atol
        Tolerances.

    Returns
    -------
    numpy.ndarray
        The probe values, ordered by time, then measure.
    """
    from scipy.integrate import solve_ivp

    params = {k: v[i : i + 1] for k, v in sub.params.items()}
    sched = sub.schedules[i]
    state0 = {k: v[i : i + 1] for k, v in sub.start.items()}
    layout = [(k, v.shape) for k, v in state0.items()]
    sizes = [int(np.prod(s)) for _, s in layout]

    def pack(s: system.State) -> np.ndarray:
        return np.concatenate([s[k].ravel() for k, _ in layout])

    def unpack(y: np.ndarray) -> system.State:
        out, j = {}, 0
        for (k, shape), size in zip(layout, sizes, strict=True):
            out[k] = y[j : j + size].reshape(shape)
            j += size
        return out

    def rhs_for(inputs: Inputs) -> Callable[[float, np.ndarray], np.ndarray]:
        def rhs(_t: float, y: np.ndarray) -> np.ndarray:
            s = unpack(y)
            return pack(system.derivatives(s, system.evaluate(s, params, inputs)))

        return rhs

    reader = ProbeReader(sub, i)
    take = lambda t, y: reader.take(t, unpack(y))  # noqa: E731
    y = pack(state0)
    edges = _edges(sched)
    # exhaustion (fatigue reaching 1) switches work off inside a bout: an event, at which the solver restarts, as
    # at a bout edge (integrating through the jump of the right-hand side stalled LSODA at rtol 1e-10)
    k = sum(sizes[: [name for name, _ in layout].index("fatigue")])

    def exhausted(_t: float, y: np.ndarray) -> float:
        return float(y[k] - 1.0)

    exhausted.terminal = True  # type: ignore[attr-defined]
    exhausted.direction = 1.0  # type: ignore[attr-defined]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        take(a, y)
        t, events = a, exhausted
        while t < b:
            sol = solve_ivp(rhs_for(sched.inputs_at(a)), (t, b), y, method=method, rtol=rtol, atol=atol, events=events)
            if not sol.success:
                raise RuntimeError(f"solve_ivp {method} failed on [{t:g}, {b:g}]: {sol.message}")
            t, y = float(sol.t[-1]), sol.y[:, -1].copy()
            if sol.status == 1:  # exhausted: the work is off (fatigue held at 1) for the rest of the segment
                y[k], events = 1.0, None
    take(edges[-1], y)
    return np.array(reader.values)


def scipy_run(sub: Subjects, n: int, method: str, rtol: float, atol: float) -> tuple[np.ndarray, float]:
    """Probe values of subjects ``0..n-1`` from one solver, and the mean seconds per subject.

    Parameters
    ----------
    sub
        The subjects.
    n
        How many.
    method, rtol, atol
        The solver.

    Returns
    -------
    tuple
        Values ``(n, probes x measures)`` and seconds per subject.
    """
    start = time.perf_counter()
    out = np.stack([scipy_probes(sub, i, method, rtol, atol) for i in range(n)])
    return out, (time.perf_counter() - start) / n


# ------------------------------------------------------------------------------------------- roadrunner


class RoadRunnerModel:
    """libRoadRunner (CVODE) on the SBML export of the model (:mod:`eihlab.model.sbml`), compiled once.

    The export keeps the bout's structure (cycling, the legs at work) and leaves ``u_exercising`` and
    ``u_intensity`` as parameters, set per protocol segment; every subject's parameters and starting state are
    set after a reset (``resetAll``), one subject at a time.
    """

    def __init__(self, sub: Subjects, rtol: float, atol: float) -> None:
        import roadrunner

        from eihlab.model import sbml
        from eihlab.model.body import REGION_NAMES
        from eihlab.model.registry import STATES

        sched = sub.schedules[0]
        eq = sbml.equations(sched.inputs_at(sched.bouts[0].t0))
        start = time.perf_counter()
        self.rr = roadrunner.RoadRunner(sbml.to_sbml(eq))
        self.compile_s = time.perf_counter() - start
        self.rr.integrator.relative_tolerance = rtol
        self.rr.integrator.absolute_tolerance = atol
        self.rr.integrator.maximum_num_steps = 20_000
        index = {pid: k for k, pid in enumerate(self.rr.model.getGlobalParameterIds())}
        self.state_layout = [
            (s.name, s.per_region, [index[i] for i in sbml.state_ids(s.name, s.per_region)]) for s in STATES
        ]
        self.param_index = np.array([index[pid] for pid in eq.parameters if pid not in sbml.INPUTS], dtype=np.int32)
        self.param_names = [pid for pid in eq.parameters if pid not in sbml.INPUTS]
        self.inputs = np.array([index[pid] for pid in sbml.INPUTS], dtype=np.int32)
        self.region = {f"psens_condition__{r}": j for j, r in enumerate(REGION_NAMES)}

    def _param_values(self, params: dict[str, np.ndarray]) -> np.ndarray:
        return np.array(
            [
                params["psens_condition"][0, self.region[n]] if n in self.region else params[n][0]
                for n in self.param_names
            ]
        )

    def state(self) -> system.State:
        """The current state as the model's state dict (one subject)."""
        values = np.asarray(self.rr.model.getGlobalParameterValues())
        return {
            name: values[idx].reshape(1, -1) if per_region else values[idx[:1]]
            for name, per_region, idx in self.state_layout
        }

    def _guard(self, state: system.State) -> None:
        """Apply the engine's guards at a segment edge: states non-negative, fatigue at most 1.

        Values below 1e-30 are set to 0. Without this CVODE fails on round-off: a state left at -6e-71 by a
        long rest stalls its Newton iteration at the next bout. The engine applies the same guards after every
        step.
        """
        for name, _, idx in self.state_layout:
            y = state[name].reshape(-1)
            guarded = np.clip(y, 0.0, 1.0) if name == "fatigue" else np.maximum(y, 0.0)
            guarded = np.where(guarded < 1e-30, 0.0, guarded)
            if np.any(guarded != y):
                self.rr.model.setGlobalParameterValues(np.asarray(idx, dtype=np.int32), guarded)

    def probes(self, sub: Subjects, i: int) -> np.ndarray:
        """Probe values of subject ``i``: reset, set parameters and state, integrate segment by segment.

        Parameters
        ----------
        sub
            The subjects.
        i
            Which subject.

        Returns
        -------
        numpy.ndarray
            The probe values, ordered by time, then measure.
        """
        rr, model = self.rr, self.rr.model
        rr.resetAll()
        reader = ProbeReader(sub, i)
        model.setGlobalParameterValues(self.param_index, self._param_values(reader.params))
        for name, _, idx in self.state_layout:
            model.setGlobalParameterValues(np.asarray(idx, dtype=np.int32), sub.start[name][i].reshape(-1))
        edges = _edges(reader.sched)
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            state = self.state()
            reader.take(a, state)
            self._guard(state)
            u = reader.sched.inputs_at(a)
            model.setGlobalParameterValues(
                self.inputs, [float(u.exercising[0]), float(np.asarray(u.intensity).reshape(-1)[0])]
            )
            rr.simulate(0.0, b - a, 2)  # the system is autonomous: each segment from its own t = 0
        reader.take(edges[-1], self.state())
        return np.array(reader.values)


def roadrunner_run(sub: Subjects, n: int, rtol: float, atol: float) -> tuple[np.ndarray | None, float, float, int]:
    """Probe values of subjects ``0..n-1`` from libRoadRunner, mean seconds per subject, compile seconds, failures.

    A subject whose integration CVODE gives up on (``CV_TOO_MUCH_WORK``) gets a row of NaN and is counted; the
    time spent on it counts. (Measured before the exhaustion switch was written to be constant at rest: 3 of 50
    acute subjects who reached exhaustion, at the start of the rest after the bout; none since.)
    Returns ``(None, nan, nan, 0)`` when libroadrunner is not installed.
    """
    try:
        model = RoadRunnerModel(sub, rtol, atol)
    except ImportError:
        return None, math.nan, math.nan, 0
    model.probes(sub, 0)  # warm-up (JIT) outside the timing
    rows: list[np.ndarray] = []
    failures = 0
    start = time.perf_counter()
    for i in range(n):
        try:
            rows.append(model.probes(sub, i))
        except RuntimeError:
            failures += 1
            rows.append(np.full(len(rows[0]) if rows else 1, np.nan))
    seconds = (time.perf_counter() - start) / n
    width = max(len(r) for r in rows)
    out = np.stack([r if len(r) == width else np.full(width, np.nan) for r in rows])
    return out, seconds, model.compile_s, failures


def max_rel(a: np.ndarray, ref: np.ndarray) -> float:
    """Largest relative error ``|a - ref| / |ref|`` (subjects a solver failed on, NaN rows, are left out)."""
    return float(np.nanmax(np.abs(a - ref) / np.abs(ref)))


# ----------------------------------------------------------------------------------------------- driver


def engine_step_study(
    exp: Experiment, n: int, ref: np.ndarray, steps: list[float], constant: str = "FINE_DT_MIN"
) -> dict[str, float]:
    """The engine's max relative error against the reference as a function of one of its grid constants.

    Parameters
    ----------
    exp
        The experiment.
    n
        Subjects compared.
    ref
        Reference probe values.
    steps
        Values (minutes) to try.
    constant
        ``"FINE_DT_MIN"`` (the step while anything is applied) or ``"MAX_DT_MIN"`` (the largest rest step).

    Returns
    -------
    dict
        ``{str(step): max relative error}``.
    """
    saved = getattr(schedule_mod, constant)
    out: dict[str, float] = {}
    try:
        for dt in steps:
            setattr(schedule_mod, constant, dt)
            out[f"{dt:g}"] = max_rel(engine_probes(exp, n), ref)
    finally:
        setattr(schedule_mod, constant, saved)
    return out


def protocol_result(
    protocol: str,
    n_engine: int,
    n_scipy: int,
    steps: list[float],
    max_steps: list[float] | None = None,
    weeks: int = 12,
    n_rr: int | None = None,
) -> dict[str, Any]:
    """Run one protocol on eihlab and scipy; throughput, agreement and the engine's step study.

    Parameters
    ----------
    protocol
        ``"acute"`` or ``"programme"``.
    n_engine
        Cohort size of the engine's throughput run.
    n_scipy
        Subjects integrated with scipy (and compared).
    steps
        Fine steps of the engine's convergence study.
    max_steps
        Largest rest steps of a second convergence study (none by default).
    weeks
        Length of the programme.
    n_rr
        Subjects run through libRoadRunner (default ``n_scipy``; the first ``n_scipy`` are compared).

    Returns
    -------
    dict
        The public numbers and a ``detail`` dict.
    """
    rates = engine_rates(experiment(protocol, n_engine, weeks))
    best = max(rates, key=lambda b: rates[b][0])
    eih_rate, eih_s, _ = rates[best]
    exp = experiment(protocol, n_scipy, weeks)
    sub = subjects(exp, max(n_scipy, n_rr or 0))
    ref, ref_s = scipy_run(sub, n_scipy, "LSODA", REF_RTOL, REF_ATOL)
    lsoda, lsoda_s = scipy_run(sub, n_scipy, "LSODA", RTOL, ATOL)
    bdf, bdf_s = scipy_run(sub, n_scipy, "BDF", RTOL, ATOL)
    rr, rr_s, rr_compile_s, rr_failures = roadrunner_run(sub, n_rr or n_scipy, RTOL, ATOL)
    eng = engine_probes(exp, n_scipy)
    errs = {"eihlab": max_rel(eng, ref), "scipy_lsoda": max_rel(lsoda, ref), "scipy_bdf": max_rel(bdf, ref)}
    if rr is not None:
        errs["roadrunner"] = max_rel(rr[:n_scipy], ref)
    scipy_rate = 1.0 / min(lsoda_s, bdf_s)
    rr_rate = None if rr is None else 1.0 / rr_s
    return {
        "eihlab_subj_per_s": eih_rate,
        "scipy_subj_per_s": scipy_rate,
        "roadrunner_subj_per_s": rr_rate,
        "max_rel_err": max(errs.values()),
        "detail": {
            "eihlab_subjects": n_engine,
            "eihlab_seconds": eih_s,
            "eihlab_backend": best,
            "eihlab_subj_per_s_by_backend": {b: r[0] for b, r in rates.items()},
            "eihlab_warmup_s_by_backend": {b: r[2] for b, r in rates.items()},
            "scipy_subjects": n_scipy,
            "scipy_lsoda_s_per_subject": lsoda_s,
            "scipy_bdf_s_per_subject": bdf_s,
            "reference_s_per_subject": ref_s,
            "ratio_eihlab_over_scipy": eih_rate / scipy_rate,
            "ratio_eihlab_over_roadrunner": None if rr_rate is None else eih_rate / rr_rate,
            "roadrunner_subjects": None if rr is None else len(rr),
            "roadrunner_compile_s": rr_compile_s,
            "roadrunner_failed_subjects": rr_failures,
            "max_rel_err_by_solver": errs,
            "eihlab_max_rel_err_by_fine_dt": engine_step_study(exp, n_scipy, ref, steps),
            "eihlab_max_rel_err_by_max_dt": engine_step_study(exp, n_scipy, ref, max_steps or [], "MAX_DT_MIN"),
            "engine_fine_dt_min": schedule_mod.FINE_DT_MIN,
            "engine_max_dt_min": schedule_mod.MAX_DT_MIN,
            "programme_weeks": weeks if protocol == "programme" else None,
        },
    }


def peak_mib(n: int) -> float:
    """Peak resident memory (MiB) of an ``n``-subject acute run in a child process.

    Parameters
    ----------
    n
        Cohort size.

    Returns
    -------
    float
        The child's ``ru_maxrss`` in MiB (Linux reports KiB).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import engine; "
        "from eihlab.experiment.runner import arm_observations; "
        "arm_observations(engine.experiment('acute', int(sys.argv[2])), 0)"
    )
    subprocess.run([sys.executable, "-c", code, str(_HERE), str(n)], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024.0


_HERE = __import__("pathlib").Path(__file__).resolve().parent


def _table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="eihlab engine vs scipy solve_ivp and libRoadRunner (same model, same protocol, one run)")
    for col in ("protocol", "eihlab subj/s", "scipy subj/s", "ratio", "roadrunner", "max rel err", "detail"):
        table.add_column(col)
    for name in ("acute", "programme"):
        r = result[name]
        d = r["detail"]
        by = d["max_rel_err_by_solver"]
        table.add_row(
            name,
            f"{r['eihlab_subj_per_s']:,.0f} ({d['eihlab_subjects']:,} subj; "
            + ", ".join(f"{b} {v:,.0f}" for b, v in d["eihlab_subj_per_s_by_backend"].items())
            + ")",
            f"{r['scipy_subj_per_s']:,.2f} (extrapolated from {d['scipy_subjects']} subj)",
            f"{d['ratio_eihlab_over_scipy']:,.0f}x",
            "n/a (libroadrunner not installed)"
            if r["roadrunner_subj_per_s"] is None
            else f"{r['roadrunner_subj_per_s']:,.1f} ({d['roadrunner_subjects']} subj, "
            f"{d['roadrunner_failed_subjects']} failed; eihlab "
            f"{d['ratio_eihlab_over_roadrunner']:,.0f}x)",
            f"{r['max_rel_err']:.2e}",
            f"eihlab {by['eihlab']:.1e}, LSODA {by['scipy_lsoda']:.1e}, BDF {by['scipy_bdf']:.1e}, "
            f"roadrunner {by.get('roadrunner', math.nan):.1e}; "
            f"eihlab by fine dt: "
            + ", ".join(f"{k} min {v:.1e}" for k, v in d["eihlab_max_rel_err_by_fine_dt"].items()),
        )
    Console().print(table)
    Console().print(f"peak memory, 100,000-subject acute cohort: {result['peak_mib_100k']:,.0f} MiB")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: run the benchmark and print a table, or the JSON summary with ``--json``.

    Parameters
    ----------
    argv
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    dict
        The full result (with ``detail``).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the JSON summary only")
    parser.add_argument("--quick", action="store_true", help="small cohorts: a smoke run")
    parser.add_argument("--detail", action="store_true", help="with --json: keep the detail dicts")
    args = parser.parse_args(argv)
    if args.quick:
        acute = protocol_result("acute", 1_000, 1, [0.5], n_rr=5)
        programme = protocol_result("programme", 200, 1, [0.5], weeks=1, n_rr=3)
        peak = peak_mib(2_000)
    else:
        acute = protocol_result("acute", 20_000, 20, [2.0, 1.0, 0.5, 0.25], n_rr=50)
        programme = protocol_result("programme", 2_000, 1, [2.0, 1.0, 0.5], [1440.0, 240.0, 60.0], n_rr=10)
        peak = peak_mib(100_000)
    result = {"acute": acute, "programme": programme, "peak_mib_100k": peak}
    if args.json:
        out = result if args.detail else {k: _public(v) for k, v in result.items()}
        print(json.dumps(out, indent=2, default=lambda x: None if isinstance(x, float) and math.isnan(x) else x))
    else:
        _table(result)
    return result


def _public(v: Any) -> Any:
    return {k: x for k, x in v.items() if k != "detail"} if isinstance(v, dict) else v


if __name__ == "__main__":
    main()
