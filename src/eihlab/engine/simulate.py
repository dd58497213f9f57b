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


def _exhaustion_stretch(bout: Bout, state: system.State, params: dict[str, np.ndarray], inputs: Inputs) -> np.ndarray:
    """Per-subject time-stretch of a bout held to exhaustion: ``ET_i / nominal duration``."""
    rate = system.endurance_rate(state, params, inputs)
    with np.errstate(divide="ignore"):
        et = (1.0 - state["fatigue"]) / rate
    nominal = bout.t1 - bout.t0
    return np.asarray(np.clip(et, 0.05, bout.max_minutes) / nominal)


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
    stretch: dict[int, np.ndarray] = {}

    def take_probes(t: float) -> None:
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

    for t, dt in schedule.grid():
        inputs = schedule.inputs_at(t)
        take_probes(t)
        bout = schedule.bout_at(t)
        dt_eff: np.ndarray | float = dt
        if bout is not None and bout.to_exhaustion:
            key = id(bout)
            if key not in stretch:
                stretch[key] = _exhaustion_stretch(bout, engine.host(state), params, inputs)
            dt_eff = dt * stretch[key]
        state = engine.step(state, params, inputs, dt_eff, g.edges, g.nodes)
    state = engine.host(state)
    system.check_finite(state, f"t = {schedule.end:g} min")
    take_probes(schedule.end)
    return cols


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


__all__ = ["BACKENDS", "CHUNK", "NumpyStepper", "Perturbation", "simulate_arm", "simulate_chunk", "stepper"]
