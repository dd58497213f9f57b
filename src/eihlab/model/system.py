r"""Evaluating and advancing the whole model for a cohort (vectorised over subjects).

State update (exponential Euler for the relaxation form; exact when the target and rate are constant over
the step):

.. math::  y_{k+1} = F + (y_k - F)\,e^{-\Delta t/\tau} + r\,\Delta t

where F, τ and r are evaluated at the start of the step. The step is chosen by the engine from the protocol
(fine during bouts and drug action, coarse between sessions), so a 30-s ramp and a 12-week programme are both
integrated without stepping at the fastest time scale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from functools import cache

import numpy as np

from eihlab.errors import SimulationError
from eihlab.model import _ops as xp
from eihlab.model import percept, periphery
from eihlab.model._context import Context
from eihlab.model.body import N_REGIONS, Site, region_membership, site_region_coupling
from eihlab.model.inputs import Inputs
from eihlab.model.registry import DYNAMICS, PARAMETERS, STATES, on_defaults_changed

State = dict[str, np.ndarray]
Params = dict[str, np.ndarray]
Gains = Mapping[str, np.ndarray | float]

_NONNEG = frozenset(s.name for s in STATES)
_CAPPED_AT_ONE = {"fatigue"}


def default_parameters(n: int) -> Params:
    """Every parameter at its default, as arrays of shape ``(n,)``, plus the derived per-region arrays."""
    params = {p.name: np.full(n, p.default, dtype=float) for p in PARAMETERS}
    params["psens_condition"] = np.zeros((n, N_REGIONS))
    return params


def initial_state(n: int) -> State:
    """Every state at its healthy resting value."""
    return {s.name: np.full((n, N_REGIONS) if s.per_region else (n,), s.initial, dtype=float) for s in STATES}


def _context(state: State, params: Params, inputs: Inputs, edge_gain: Gains | None, node_gain: Gains | None) -> Context:
    """An empty context; an intensity stated in absolute units is made relative to the current fitness."""
    if inputs.absolute_dose:
        inputs = dataclasses.replace(inputs, intensity=inputs.intensity / state["fitness"])
    return Context(state, params, inputs, edge_gain or {}, node_gain or {})


def evaluate(
    state: State, params: Params, inputs: Inputs, edge_gain: Gains | None = None, node_gain: Gains | None = None
) -> Context:
    """Run every component's dynamics once; returns the context with targets, rates and signals."""
    ctx = _context(state, params, inputs, edge_gain, node_gain)
    for dynamics in DYNAMICS:
        dynamics(ctx)
    return ctx


def work_fraction(
    state: State,
    params: Params,
    inputs: Inputs,
    dt_min: np.ndarray | float,
    edge_gain: Gains | None = None,
) -> np.ndarray:
    r"""Share of a step of ``dt_min`` that each subject works before exhaustion, :math:`\min((1-\phi)/(r\Delta t), 1)`.

    Fatigue :math:`\phi` rises at the constant rate :math:`r = 1/ET(I)` while working, so a subject who reaches
    1 within the step works exactly this share of it; the step then drives the model with that share of the
    exercise input (its time average over the step), which is first order in the step. The engine avoids that
    by ending a subject's step where it reaches exhaustion (:func:`minutes_to_exhaustion`,
    :mod:`eihlab.engine.simulate`), so there this is 1 or 0; other callers of :func:`step` get the average.
    1 for a subject who does not reach exhaustion within the step (or is at rest), 0 for one already exhausted.
    """
    remaining = minutes_to_exhaustion(state, params, inputs, edge_gain)
    return xp.asarray(xp.clip(remaining / xp.maximum(xp.asarray(dt_min, dtype=float), 1e-300), 0.0, 1.0))


def minutes_to_exhaustion(state: State, params: Params, inputs: Inputs, edge_gain: Gains | None = None) -> np.ndarray:
    r"""Minutes of the current exercise each subject can still work, :math:`(1 - \phi)/(g_{EX3}\,r)`.

    ``inf`` for a subject whose fatigue does not rise (:math:`r = 0`); 0 for one already exhausted.
    """
    gain = (edge_gain or {}).get("EX3", 1.0)
    rate = gain * endurance_rate(state, params, inputs)
    with np.errstate(divide="ignore"):
        return xp.asarray(xp.where(rate > 0, (1.0 - state["fatigue"]) / xp.maximum(rate, 1e-300), np.inf))


def endurance_rate(state: State, params: Params, inputs: Inputs) -> np.ndarray:
    """Fatigue gained per minute of the current exercise, ``1 / ET(I)`` (:func:`periphery.endurance_rate`).

    Needs no evaluation of the model: only the inputs (an absolute dose made relative to fitness) and parameters.
    """
    return periphery.endurance_rate(_context(state, params, inputs, None, None), np.ones(inputs.n))


def advance(state: State, ctx: Context, dt_min: np.ndarray | float, ctx_end: Context | None = None) -> State:
    r"""One exponential step of length ``dt_min`` (scalar or per subject) from the context ``ctx``.

    Without ``ctx_end``: exponential Euler (first order), with target F, time constant τ and added rate r
    frozen at the start of the step.

    With ``ctx_end`` (the model evaluated at the first-order prediction of the step's end, same inputs):
    the second-order exponential time-differencing step (ETD2; Cox & Matthews 2002,
    doi:10.1006/jcph.2002.6995) for the relaxation form, exact when F is linear in time and τ constant:

    .. math::

        x = \Delta t \, \tfrac12 (1/\tau_0 + 1/\tau_1), \quad
        y_1 = y_0 e^{-x} + F_0 (1 - e^{-x}) + (F_1 - F_0)\,(1 - \varphi_1(x)), \quad
        \varphi_1(x) = (1 - e^{-x}) / x,

    and Heun's rule ``y += (r_0 + r_1) Δt / 2`` for added rates. A state that relaxes fast (x ≫ 1) lands on
    the target at the step's end, F₁, not at its start.

    A state declared with a rise and a decay time constant (:meth:`Context.relax_asymmetric`) whose gap to its
    target changes sign within the step (d₀ = F₀ - y₀ and d₁ = F₁ - ŷ₁ at the predicted end) is advanced in two
    parts: with τ₀ up to :math:`s = \Delta t\, d_0/(d_0 - d_1)`, where the gap closes, and with τ₁ after it, F
    linear throughout. Averaging two time constants that differ a hundredfold across the switch was the
    engine's largest error (first order in the step: 0.6 % of a PPT after a bout that phosphorylated RVM NR1,
    at 0.5-min steps).
    """
    dt = xp.asarray(dt_min, dtype=float)
    dt2 = dt[:, None] if dt.ndim == 1 else dt
    new: State = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, y in state.items():
            dt_b = dt2 if y.ndim == 2 else dt
            value = y
            if name in ctx.targets:
                target, tau = ctx.targets[name]
                if ctx_end is None:
                    value = target + (value - target) * xp.exp(-dt_b / xp.asarray(tau))
                else:
                    target_end, tau_end = ctx_end.targets[name]
                    rate = (
                        1.0 / xp.asarray(tau) if tau is tau_end else 0.5 / xp.asarray(tau) + 0.5 / xp.asarray(tau_end)
                    )
                    value = _etd2(y, target, target_end, dt_b * rate)
                    if name in ctx.switching:
                        value = _switching(y, target, target_end, ctx_end.s[name], tau, tau_end, dt_b, value)
            if name in ctx.rates:
                rate = ctx.rates[name] if ctx_end is None else 0.5 * (ctx.rates[name] + ctx_end.rates[name])
                value = value + rate * dt_b
            if name in _CAPPED_AT_ONE:
                value = xp.clip(value, 0.0, 1.0)
            elif name in _NONNEG:
                value = xp.maximum(value, 0.0)
            new[name] = xp.asarray(value, dtype=float)
    return new


def _etd2(y: np.ndarray, target: np.ndarray, target_end: np.ndarray, x: np.ndarray) -> np.ndarray:
    """ETD2 for ``dy/dt = (F - y)/τ`` over a step of ``x = Δt/τ``, F linear from ``target`` to ``target_end``."""
    em = xp.expm1(-x)  # e^{-x} - 1, accurate for small x
    one_minus_phi1 = xp.where(x > 0, 1.0 + em / x, 0.0)
    return xp.asarray(y + (y - target) * em + (target_end - target) * one_minus_phi1)


def _switching(
    y: np.ndarray,
    target: np.ndarray,
    target_end: np.ndarray,
    predicted: np.ndarray,
    tau: np.ndarray | float,
    tau_end: np.ndarray | float,
    dt: np.ndarray,
    value: np.ndarray,
) -> np.ndarray:
    """The two-part step of a rise/decay relaxation whose gap to its target changes sign (see :func:`advance`)."""
    gap0, gap1 = target - y, target_end - predicted
    switched = (gap0 > 0) != (gap1 > 0)
    share = xp.clip(gap0 / xp.where(switched, gap0 - gap1, 1.0), 0.0, 1.0)
    t_switch = dt * share
    target_switch = target + (target_end - target) * share
    y_switch = _etd2(y, target, target_switch, t_switch / xp.asarray(tau))
    y_end = _etd2(y_switch, target_switch, target_end, (dt - t_switch) / xp.asarray(tau_end))
    return xp.asarray(xp.where(switched, y_end, value))


def derivatives(state: State, ctx: Context) -> State:
    """The ODE right-hand side ``dy/dt = (F - y)/τ + r`` at ``state`` (``τ = ∞`` freezes a state: 0).

    What an adaptive solver integrates (``benchmarks/engine.py``) and what the SBML export must equal.
    """
    out: State = {}
    for name, y in state.items():
        dy = np.zeros_like(y)
        if name in ctx.targets:
            target, tau = ctx.targets[name]
            with np.errstate(invalid="ignore", divide="ignore"):
                dy = np.where(np.isinf(tau), 0.0, (target - y) / np.asarray(tau))
        if name in ctx.rates:
            dy = dy + ctx.rates[name]
        out[name] = np.broadcast_to(dy, y.shape)
    return out


def step(
    state: State,
    params: Params,
    inputs: Inputs,
    dt_min: np.ndarray | float,
    edge_gain: Gains | None = None,
    node_gain: Gains | None = None,
) -> State:
    """One engine step: ETD2 (:func:`advance` from the step's start with a predicted end).

    The exercise input is scaled by each subject's :func:`work_fraction` of the step, fixed at the step's start
    for both evaluations. Costs two evaluations of the model; the order-1 step (``advance(state, ctx, dt)``)
    costs one but needs about 20 times more steps for the same accuracy around exercise bouts
    (``benchmarks/engine.py``).
    """
    inputs = dataclasses.replace(inputs, work_fraction=work_fraction(state, params, inputs, dt_min, edge_gain))
    ctx = evaluate(state, params, inputs, edge_gain, node_gain)
    predicted = advance(state, ctx, dt_min)
    return advance(state, ctx, dt_min, evaluate(predicted, params, inputs, edge_gain, node_gain))


def steady_state(
    params: Params,
    inputs: Inputs,
    edge_gain: Gains | None = None,
    node_gain: Gains | None = None,
    *,
    days: float = 720.0,
    steps: int = 16,
    max_iterations: int = 400,
    rtol: float = 1e-12,
    relax_step: Callable[[State, float], State] | None = None,
) -> State:
    """The resting state reached under constant ``inputs`` (a condition's chronic state).

    Integrates ``days`` with ``steps`` geometrically growing exponential-Euler steps from the healthy initial
    state, which settles the minute-scale and the week-scale states alike; then repeats steps of ``days``
    (fixed-point iteration ``y <- F(y)`` for every state faster than that) until no state moves by more than
    ``rtol`` relative (at most ``max_iterations``). Every condition of the population reaches the same state
    bit for bit with 16 steps as with 40 (one or two fixed-point iterations after them); the convergence test
    guards any that would not.

    ``relax_step(state, dt)`` replaces the exponential-Euler step ``advance(state, evaluate(state, ...), dt)``
    (a compiled backend passes its own).
    """
    if relax_step is None:

        def relax_step(state: State, dt: float) -> State:
            return advance(state, evaluate(state, params, inputs, edge_gain, node_gain), dt)

    state = initial_state(inputs.n)
    t_prev = 0.0
    for t in np.geomspace(0.5, days * 1440.0, steps):
        state = relax_step(state, float(t - t_prev))
        t_prev = t
    for _ in range(max_iterations):
        new = relax_step(state, days * 1440.0)
        moved = max(
            float(np.max(np.abs(new[k] - y), initial=0.0) / (1.0 + np.max(np.abs(y), initial=0.0)))
            for k, y in state.items()
        )
        state = new
        if moved <= rtol:
            break
    state = {k: np.asarray(v) for k, v in state.items()}
    check_finite(state, "steady state")
    return state


def check_finite(state: State, where: str) -> None:
    """Raise :class:`SimulationError` naming the first non-finite state."""
    for name, y in state.items():
        if not np.all(np.isfinite(y)):
            raise SimulationError(f"non-finite values in state {name!r} at {where}")


@cache
def reference_levels() -> dict[str, float]:
    """Inhibition, facilitation and discriminator weights of a default healthy subject at rest.

    Percepts are expressed relative to these, so that ``ppt_quadriceps_kpa`` etc. are the thresholds of a
    healthy person at rest.
    """
    params = default_parameters(1)
    rest = Inputs.rest(1)
    state = steady_state(params, rest)
    sig = evaluate(state, params, rest).sig
    return {k: float(sig[k][0]) for k in ("inhibition", "facilitation", "md_weight", "vm_weight")}


on_defaults_changed(reference_levels.cache_clear)


def percept_state(ctx: Context, site: Site) -> percept.PerceptState:
    """Collect what the perception map needs at one site from an evaluated context."""
    s, sig, u = ctx.s, ctx.sig, ctx.u
    coupling = site_region_coupling(site)
    member = region_membership(site)
    active = sig["active_movement"]
    return percept.PerceptState(
        psens_site=s["psens"] @ member,
        peripheral_opioid=ctx.g("SP21") * sig["m2_opioid"],
        central_sens=s["central_sens"],
        inhibition=sig["inhibition"],
        facilitation=sig["facilitation"],
        off_drive=sig["off_drive"],
        efficacy=sig["descending_efficacy"],
        md_weight=sig["md_weight"],
        vm_weight=sig["vm_weight"],
        gate_site=ctx.g("SP3") * (s["gate"] @ coupling),
        windup_site=s["windup"] @ coupling,
        attenuation_site=ctx.g("EXa") * ctx.p["k_sensory_attenuation"] * active * float(u.region_weight @ member),
        vpl=sig["vpl_suppression"],
    )
