r"""Noise-free simulation of a batch of twins: one virtual subject per candidate parameter vector.

The engine's :func:`eihlab.engine.simulate.simulate_chunk` draws each subject's session and trial noise from
its seed. A twin needs the *expected* measurement of a candidate instead, so this module walks the same
schedule with the same model step (:func:`eihlab.model.system.evaluate` / :func:`~eihlab.model.system.advance`)
and reads the same probes (:data:`eihlab.protocol.qst.PROBES`) with the trial-noise normals set to 0. The day's
session offsets (mechanical, heat, cold and rating thresholds, and the day's exertion factor
:math:`e^{\sigma_e u - \sigma_e^2/2}` with :math:`\sigma_e` = ``session_exertion_cv``) are taken at given
normals (0: the median day); :mod:`eihlab.twin.likelihood` integrates over them as random effects.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eihlab.engine.simulate import NumpyStepper, Perturbation, walk
from eihlab.model import system
from eihlab.model.inputs import Inputs
from eihlab.protocol.events import Event
from eihlab.protocol.physiology import SubjectPhysiology
from eihlab.protocol.qst import PROBES, NoiseStream, ProbeContext, draws_per_measure
from eihlab.protocol.schedule import Probe, build_schedule

__all__ = ["ArmValues", "simulate_arms"]

ArmValues = dict[tuple[float, int], np.ndarray]
"""Noise-free values of one arm: ``(probe time, index of the measure among that time's measures) -> (n,)`` array
(probe events at the same time are counted in the schedule's order)."""

SESSION_DRAWS = 5
"""Session normals per subject and arm (as :data:`eihlab.engine.simulate._SESSION_DRAWS`)."""


def simulate_arms(
    arms: Sequence[Sequence[Event]],
    params: system.Params,
    physiology: SubjectPhysiology,
    *,
    species: str = "human",
    session: np.ndarray | None = None,
    rest_state: system.State | None = None,
) -> list[ArmValues]:
    """Simulate every arm for the ``n`` subjects of ``params`` without measurement noise.

    Parameters
    ----------
    arms
        Each arm's events (exercise and probe events; times in minutes from the exercise start).
    params
        Parameter arrays of shape ``(n,)`` (and ``psens_condition`` of shape ``(n, regions)``).
    physiology
        The subjects' physiology (intensities are resolved through it).
    species
        Species of the subjects.
    session
        The session normals, shape ``(n, 5)`` (mechanical, heat, cold and rating offsets and the day's exertion
        deviate :math:`u`, as :func:`eihlab.engine.simulate.simulate_chunk` draws them); zeros by default.
    rest_state
        The subjects' resting steady state, if already known (it is computed otherwise; see
        :func:`eihlab.model.system.steady_state`).

    Returns
    -------
    list of ArmValues
        One mapping per arm from ``(time, measure index)`` to the expected (trial-mean) values; a CPM measure
        gives the expected conditioned-minus-baseline difference.
    """
    n = physiology.n
    session = np.zeros((n, SESSION_DRAWS)) if session is None else np.asarray(session, dtype=float)
    sigma = params["session_exertion_cv"]
    params = {**params, "session_exertion": np.exp(sigma * session[:, 4] - 0.5 * sigma**2)}
    rest = rest_state if rest_state is not None else system.steady_state(params, Inputs.rest(n))
    return [_one_arm(events, params, physiology, species, rest, session) for events in arms]


def _take(
    t: float,
    probes: list[Probe],
    ctx: system.Context,
    species: str,
    session: np.ndarray,
    noise: NoiseStream,
    values: ArmValues,
) -> None:
    """Read every probe due at ``t`` (without trial noise) into ``values``."""
    while probes and probes[0].time <= t + 1e-9:
        probe = probes.pop(0)
        pc = ProbeContext(ctx, species, session, noise)
        first = sum(1 for key in values if key[0] == probe.time)
        for j, m in enumerate(probe.measures):
            v, _ = PROBES[m.measure](pc, m)
            values[(probe.time, first + j)] = v.mean(axis=1)


def _one_arm(
    events: Sequence[Event],
    params: system.Params,
    physiology: SubjectPhysiology,
    species: str,
    rest: system.State,
    session: np.ndarray,
) -> ArmValues:
    n = physiology.n
    schedule = build_schedule(list(events), physiology)
    noise = NoiseStream(np.zeros((n, sum(draws_per_measure(m) for p in schedule.probes for m in p.measures))))
    probes = list(schedule.probes)
    values: ArmValues = {}

    def at(t: float, state: system.State) -> None:
        if probes and probes[0].time <= t + 1e-9:
            _take(t, probes, system.evaluate(state, params, schedule.inputs_at(t)), species, session, noise, values)

    walk(schedule, rest, params, NumpyStepper(), Perturbation({}, {}), at)
    return values
