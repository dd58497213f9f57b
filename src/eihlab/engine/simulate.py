"""Integrating one arm for a cohort, vectorised over subjects, and taking its probes.

The engine walks the schedule's protocol-aware grid (see :mod:`eihlab.protocol.schedule`), advancing every
subject at once with the model's exponential-Euler step, and at each probe time reads the model's state
through the virtual QST probes. Subjects are processed in chunks (default 2,048) because numpy over very
large arrays is memory-bound; only probe values are kept, never the trajectory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eihlab._random import standard_normals
from eihlab.engine.jax_backend import JaxStepper
from eihlab.errors import InputError
from eihlab.model import system
from eihlab.model.inputs import Inputs
from eihlab.population.cohort import CohortDraw
from eihlab.protocol.qst import PROBES, NoiseStream, ProbeContext, draws_per_measure, unit_of
from eihlab.protocol.schedule import Bout, Schedule

_SESSION_DRAWS = 5
"""Per-session normals: mechanical, heat, cold and rating offsets, and the day's exertion factor."""
CHUNK = 2048


@dataclass(frozen=True, slots=True)
class Perturbation:
    """Edge and node gains of an arm (knock-outs are gains of 0)."""

    edges: Mapping[str, float]
    nodes: Mapping[str, float]


def _slice(draw: CohortDraw, lo: int, hi: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return draw.subject_ids[lo:hi], {k: v[lo:hi] for k, v in draw.params.items()}


def _exhaustion_stretch(
    bout: Bout, state: system.State, params: dict[str, np.ndarray], inputs: Inputs, edges: system.Gains
) -> np.ndarray:
    """Per-subject time-stretch of a bout held to exhaustion: ``ET_i / nominal duration``."""
    et = system.minutes_to_exhaustion(state, params, inputs, edges)
    nominal = bout.t1 - bout.t0
    return np.asarray(np.clip(et, 0.05, bout.max_minutes) / nominal)


class _ExhaustionClock:
    r"""Ends each subject's step where it reaches exhaustion within a bout of fixed length.

    Fatigue rises at a constant rate while working, so each subject's exhaustion time in the bout is known at
    its start, :math:`t_0 + (1 - \phi_0)/r`. The step that contains it ends there for that subject; the rest
    of the step is added to the subject's next step (exhausted: no work), or run as one extra step at the
    bout's end. Driving the whole step with the time-averaged work instead
    (:func:`eihlab.model.system.work_fraction`) is first order in the step: 1.3e-3 of a probe value at 0.5-min
    steps, against 3.4e-4 when the step ends at exhaustion (the benchmark's acute protocol, worst of 8 subjects).
    """

    def __init__(self, t0: float, minutes_left: np.ndarray) -> None:
        self.t_exhausted = t0 + np.asarray(minutes_left, dtype=float)
        self.lag = np.zeros_like(self.t_exhausted)

    def step_lengths(self, t: float, dt: float) -> np.ndarray:
        """Each subject's step from where it stands (``t - lag``) to ``t + dt`` or to its exhaustion."""
        start, end = t - self.lag, t + dt
        crossing = (self.t_exhausted > start) & (self.t_exhausted < end)
        self.lag = np.where(crossing, end - self.t_exhausted, 0.0)
        return np.asarray(np.where(crossing, self.t_exhausted, end) - start)


class NumpyStepper:
    """The engine's stepping with numpy (the reference path).

    A stepper gives the resting state (:meth:`rest`), advances one ETD2 step (:meth:`step`) and hands the
    state to the host (:meth:`host`) for the probes.
    """

    @staticmethod
    def rest(params: system.Params, n: int, edges: system.Gains, nodes: system.Gains) -> system.State:
        """The resting steady state."""
        return system.steady_state(params, Inputs.rest(n), edges, nodes)

    @staticmethod
    def host(state: system.State) -> system.State:
        """The state itself (already numpy)."""
        return state

    @staticmethod
    def step(
        state: system.State,
        params: system.Params,
        inputs: Inputs,
        dt: np.ndarray | float,
        edges: system.Gains,
        nodes: system.Gains,
    ) -> system.State:
        """One ETD2 step (:func:`eihlab.model.system.step`)."""
        return system.step(state, params, inputs, dt, edges, nodes)


BACKENDS = ("numpy", "jax")


def stepper(backend: str | None = None) -> NumpyStepper | JaxStepper:
    """The stepper of ``backend`` (default: the ``EIHLAB_BACKEND`` environment variable, else numpy)."""
    name = backend or os.environ.get("EIHLAB_BACKEND", "numpy")
    if name == "numpy":
        return NumpyStepper()
    if name == "jax":
        return JaxStepper()
    raise InputError("backend (EIHLAB_BACKEND)", name, BACKENDS)


def simulate_chunk(
    schedule: Schedule,
    subject_ids: np.ndarray,
    params: dict[str, np.ndarray],
    *,
    species: str,
    seed: int,
    arm_index: int,
    gains: Perturbation,
    initial: system.State | None = None,
    backend: str | None = None,
) -> dict[str, list[np.ndarray]]:
    """Simulate one chunk of subjects through a schedule; returns column lists of the observations.

    ``backend`` picks the stepping (``numpy`` or ``jax``; see :func:`stepper`); both give the same numbers
    to rounding.
    """
    n = subject_ids.size
    engine = stepper(backend)
    edges = {k: np.full(n, v) for k, v in gains.edges.items()}
    nodes = {k: np.full(n, v) for k, v in gains.nodes.items()}
    g = Perturbation(edges, nodes)  # type: ignore[arg-type]
    state = initial if initial is not None else engine.rest(params, n, g.edges, g.nodes)

    k_draws = _SESSION_DRAWS + sum(draws_per_measure(m) for p in schedule.probes for m in p.measures)
    z = standard_normals(seed, subject_ids, f"measurement:{arm_index}", k_draws)
    session, noise = z[:, :_SESSION_DRAWS], NoiseStream(z[:, _SESSION_DRAWS:])
    # how hard this subject pushes on this day: a session-level factor on perceived exertion
    sigma = params["session_exertion_cv"]
    params = {**params, "session_exertion": np.exp(sigma * session[:, 4] - 0.5 * sigma**2)}

    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("subject", "time_min", "measure", "site", "trial", "value", "unit", "censored")
    }
    probes = list(schedule.probes)

    def take_probes(t: float, state: system.State) -> None:
        ctx: system.Context | None = None
        while probes and probes[0].time <= t + 1e-9:
            probe = probes.pop(0)
            if ctx is None:
                ctx = system.evaluate(engine.host(state), params, schedule.inputs_at(t), g.edges, g.nodes)
            pc = ProbeContext(ctx, species, session, noise)
            for m in probe.measures:
                values, censored = PROBES[m.measure](pc, m)
                trials = values.shape[1]
                cols["subject"].append(np.repeat(subject_ids, trials))
                cols["time_min"].append(np.full(n * trials, probe.time))
                cols["measure"].append(
                    np.full(n * trials, m.measure if m.measure != "readout" else m.quantity, dtype=object)
                )
                cols["site"].append(np.full(n * trials, m.site or "", dtype=object))
                cols["trial"].append(np.tile(np.arange(1, trials + 1), n))
                cols["value"].append(values.reshape(-1))
                cols["unit"].append(np.full(n * trials, unit_of(m), dtype=object))
                cols["censored"].append(censored.reshape(-1))

    walk(schedule, state, params, engine, g, take_probes)
    return cols


def walk(
    schedule: Schedule,
    state: system.State,
    params: dict[str, np.ndarray],
    engine: NumpyStepper | JaxStepper,
    gains: Perturbation,
    at: Callable[[float, system.State], None],
) -> system.State:
    """Advance ``state`` over the schedule's grid; ``at(t, state)`` is called at every step's start and the end.

    Within a bout each subject's step ends where it reaches exhaustion (:class:`_ExhaustionClock`); a bout
    held to exhaustion is stretched per subject (:func:`_exhaustion_stretch`). Returns the final state (host).
    """
    stretch: dict[int, np.ndarray] = {}
    clocks: dict[int, _ExhaustionClock | None] = {}  # None: nobody reaches exhaustion in the bout
    edges, nodes = gains.edges, gains.nodes
    for t, dt in schedule.grid():
        inputs = schedule.inputs_at(t)
        at(t, state)
        bout = schedule.bout_at(t)
        dt_eff: np.ndarray | float = dt
        if bout is not None and bout.to_exhaustion:
            if id(bout) not in stretch:
                stretch[id(bout)] = _exhaustion_stretch(bout, engine.host(state), params, inputs, edges)
            dt_eff = dt * stretch[id(bout)]
        elif bout is not None:
            if id(bout) not in clocks:
                left = system.minutes_to_exhaustion(engine.host(state), params, inputs, edges)
                clocks[id(bout)] = _ExhaustionClock(t, left) if np.any(left < bout.t1 - t) else None
            clock = clocks[id(bout)]
            if clock is not None:
                dt_eff = clock.step_lengths(t, dt)
        state = engine.step(state, params, inputs, dt_eff, edges, nodes)
        if bout is not None and t + dt >= bout.t1 - 1e-9:
            clock = clocks.get(id(bout))
            if clock is not None and clock.lag.any():
                # subjects who reached exhaustion in the bout's last step: the exhausted rest of it
                state = engine.step(state, params, inputs, clock.lag, edges, nodes)
    state = engine.host(state)
    system.check_finite(state, f"t = {schedule.end:g} min")
    at(schedule.end, state)
    return state


def simulate_arm(
    schedule_for: Callable[[int, int], Schedule],
    draw: CohortDraw,
    *,
    species: str,
    seed: int,
    arm_index: int,
    gains: Perturbation,
    chunk: int | None = None,
    backend: str | None = None,
) -> pd.DataFrame:
    """Simulate a whole cohort arm chunk by chunk; returns the tidy observations (without the arm column).

    ``schedule_for(lo, hi)`` builds the schedule of subjects ``lo:hi`` (intensities depend on each
    subject's physiology).
    """
    parts: list[dict[str, list[np.ndarray]]] = []
    size = chunk or CHUNK
    for lo in range(0, draw.n, size):
        hi = min(lo + size, draw.n)
        ids, params = _slice(draw, lo, hi)
        schedule = schedule_for(lo, hi)
        parts.append(
            simulate_chunk(
                schedule, ids, params, species=species, seed=seed, arm_index=arm_index, gains=gains, backend=backend
            )
        )
    columns = {
        k: np.concatenate([a for part in parts for a in part[k]]) if any(part[k] for part in parts) else np.array([])
        for k in parts[0]
    }
    return pd.DataFrame(columns)


__all__ = ["BACKENDS", "CHUNK", "NumpyStepper", "Perturbation", "simulate_arm", "simulate_chunk", "stepper", "walk"]
