r"""SBML export of the model's ODE system, generated from the same component code the engine runs.

:func:`equations` runs :func:`eihlab.model.system.evaluate` once on sympy symbols (the operations of
:mod:`eihlab.model._ops` bound to sympy) for one subject: every state (per region where the state is), every
parameter and the two time-varying exercise inputs ``u_exercising`` and ``u_intensity`` become symbols; the
structure of the exercise (its family, the regions at work, drugs, stimulation) is fixed by the ``inputs``
given. The result is the right-hand side of the ODE system the engine integrates,

.. math::  \dot y = (F(y, p, u) - y) / \tau(y, p, u) + r(y, p, u),

with every algebraic signal of the model (``inhibition``, ``md_weight``, ...) as a named intermediate.
:func:`to_sbml` writes it as SBML Level 3 Version 2 (libsbml): states are non-constant parameters with rate
rules, signals are assignment rules, the model's parameters and the two inputs are constant parameters that a
simulator sets per subject and per protocol segment (the input is piecewise constant, as in the engine).
``max``/``min``/``clip`` become MathML ``max``/``min`` (Level 3 Version 2), ``where`` becomes ``piecewise``,
a rise/decay switch of a time constant becomes max/min (see :func:`_relaxation`), and ``τ = ∞`` (a state frozen
while exercising) becomes a relaxation rate of 0. Simulators that root-find on ``piecewise`` conditions
(libRoadRunner ≥ 2.6) stall on conditions that chatter around equality; the export avoids writing them.

What the export leaves out: the engine's guards (fatigue clipped to [0, 1], states kept non-negative) are not
part of the ODE; the QST probes (how a state is read as a threshold) are not exported, so a simulator's state
is read through :mod:`eihlab.protocol.qst` as ``benchmarks/engine.py`` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eihlab.model import _ops, system
from eihlab.model._context import Context
from eihlab.model.body import REGION_NAMES
from eihlab.model.inputs import Inputs
from eihlab.model.registry import DYNAMICS, PARAMETERS, STATES

INPUTS = ("u_exercising", "u_intensity")
"""The inputs that stay symbolic (set by the simulator per protocol segment)."""


@dataclass(frozen=True)
class Equations:
    """The model's ODE system for one subject, as sympy expressions.

    Attributes
    ----------
    rates
        ``{state id: dy/dt}`` (per-region states have one id per region, ``psens__thigh_left``...).
    signals
        ``{signal id: expression}``, the algebraic intermediates in evaluation order.
    parameters
        ``{parameter id: default value}`` of the parameters the equations use (inputs included, at 0).
    initial
        ``{state id: value}``, the healthy initial state.
    units
        ``{parameter or state id: unit}`` where the parameter table gives one.
    """

    rates: dict[str, Any]
    signals: dict[str, Any]
    parameters: dict[str, float]
    initial: dict[str, float]
    units: dict[str, str] = field(default_factory=dict)


def state_ids(name: str, per_region: bool) -> list[str]:
    """SBML ids of one state: ``name``, or ``name__<region>`` per region."""
    return [f"{name}__{r}" for r in REGION_NAMES] if per_region else [name]


@dataclass(slots=True)
class _RecordingContext(Context):
    """A context whose signals become named symbols (kept as assignment rules), so that expressions stay small."""

    recorded: dict[str, Any] = field(default_factory=dict)

    def signal(self, name: str, value: Any) -> Any:
        import sympy

        arr = np.asarray(value, dtype=object)
        flat = arr.reshape(-1)
        out = np.empty(flat.shape, dtype=object)
        for i, v in enumerate(flat):
            if isinstance(v, sympy.Basic) and not v.is_number:
                sid = f"sig_{name}" if flat.size == 1 else f"sig_{name}__{REGION_NAMES[i % len(REGION_NAMES)]}"
                self.recorded[sid] = v
                out[i] = sympy.Symbol(sid)
            else:
                out[i] = v
        result = _ops.symbolic_array(out.reshape(arr.shape))
        self.sig[name] = result if result.ndim else result.item()
        return self.sig[name]


def _symbols(ids: list[str], shape: tuple[int, ...]) -> np.ndarray:
    import sympy

    return _ops.symbolic_array([sympy.Symbol(i) for i in ids]).reshape(shape)


def equations(
    inputs: Inputs | None = None,
    *,
    edge_gain: Mapping[str, float] | None = None,
    node_gain: Mapping[str, float] | None = None,
) -> Equations:
    """The model's right-hand side for one subject under the structure of ``inputs``.

    Parameters
    ----------
    inputs
        One subject's inputs (``n = 1``) whose structure is kept: exercise family, regions, drugs,
        stimulation. Their ``exercising`` and ``intensity`` are replaced by the symbols ``u_exercising`` and
        ``u_intensity`` (set both to 0 for rest). Rest by default.
    edge_gain, node_gain
        Knock-outs or scalings of edges and nodes, as in an experiment's arm (constants of the export).

    Returns
    -------
    Equations
        Rates, signals, parameters and initial values.
    """
    import sympy

    if inputs is not None and inputs.n != 1:
        raise ValueError(f"inputs.n = {inputs.n}: the SBML export describes one subject (n = 1)")
    if inputs is not None and inputs.absolute_dose:
        raise ValueError("inputs.absolute_dose = True: export a bout with a relative intensity (%VO2max, %HRR, %MVC)")
    system.reference_levels()  # computed (and cached) by the numpy model before the operations turn symbolic
    template = inputs if inputs is not None else Inputs.rest(1)
    u = dataclasses.replace(
        template, exercising=_symbols(["u_exercising"], (1,)), intensity=_symbols(["u_intensity"], (1,))
    )
    state: dict[str, np.ndarray] = {}
    initial: dict[str, float] = {}
    units: dict[str, str] = {}
    for s in STATES:
        ids = state_ids(s.name, s.per_region)
        state[s.name] = _symbols(ids, (1, len(ids)) if s.per_region else (1,))
        initial.update(dict.fromkeys(ids, float(s.initial)))
        units.update(dict.fromkeys(ids, s.unit))
    defaults = system.default_parameters(1)
    params: dict[str, np.ndarray] = {p.name: _symbols([p.name], (1,)) for p in PARAMETERS}
    params["psens_condition"] = _symbols(state_ids("psens_condition", True), (1, len(REGION_NAMES)))
    params["session_exertion"] = _symbols(["session_exertion"], (1,))
    values = {p.name: float(p.default) for p in PARAMETERS}
    values.update(dict.fromkeys(state_ids("psens_condition", True), float(defaults["psens_condition"][0, 0])))
    values["session_exertion"] = 1.0
    units.update({p.name: p.unit for p in PARAMETERS})

    ctx = _RecordingContext(state, params, u, dict(edge_gain or {}), dict(node_gain or {}))
    with _ops.symbolic():
        for dynamics in DYNAMICS:
            dynamics(ctx)

    rates: dict[str, Any] = {}
    for s in STATES:
        ids = state_ids(s.name, s.per_region)
        y = state[s.name].reshape(-1)
        rhs = np.zeros(len(ids), dtype=object)
        if s.name in ctx.targets:
            target, tau = ctx.targets[s.name]
            target_b = np.broadcast_to(np.asarray(target, dtype=object), state[s.name].shape).reshape(-1)
            tau_b = np.broadcast_to(np.asarray(tau, dtype=object), state[s.name].shape).reshape(-1)
            for i in range(len(ids)):
                rhs[i] = rhs[i] + _relaxation(sympy.sympify(target_b[i]), y[i], sympy.sympify(tau_b[i]))
        if s.name in ctx.rates:
            r = np.broadcast_to(np.asarray(ctx.rates[s.name], dtype=object), state[s.name].shape).reshape(-1)
            rhs = rhs + r
        rates.update({sid: sympy.sympify(expr) for sid, expr in zip(ids, rhs, strict=True)})

    used: set[str] = set()
    for expr in (*rates.values(), *ctx.recorded.values()):
        used.update(str(sym) for sym in expr.free_symbols)
    parameters = {k: v for k, v in values.items() if k in used}
    parameters.update(dict.fromkeys(INPUTS, 0.0))
    return Equations(rates, dict(ctx.recorded), parameters, initial, units)


def _relaxation(target: Any, y: Any, tau: Any) -> Any:
    """``(F - y) / τ`` with ``τ = ∞`` as a rate of 0, and a rise/decay switch written without a condition.

    A time constant chosen by direction, ``τ = τ_rise if F > y else τ_decay`` (the model's fast-rise, slow-decay
    states), becomes ``max(F - y, 0)/τ_rise + min(F - y, 0)/τ_decay``: the same function, but with no
    ``piecewise`` whose condition a simulator must root-find while the state sits on its target (CVODE in
    libRoadRunner stalls on such a condition chattering around equality).
    """
    import sympy

    inverse = sympy.piecewise_fold(1 / tau)
    if isinstance(inverse, sympy.Piecewise) and len(inverse.args) == 2:
        (rise, cond), (decay, otherwise) = inverse.args
        inequality = (sympy.StrictGreaterThan, sympy.GreaterThan, sympy.StrictLessThan, sympy.LessThan)
        if otherwise == sympy.true and isinstance(cond, inequality):
            if sympy.expand(cond.gts - target) == 0 and cond.lts == y:
                return rise * sympy.Max(target - y, 0) + decay * sympy.Min(target - y, 0)
    return (target - y) * inverse


class _L3Printer:
    """sympy expression → SBML Level 3 infix (``libsbml.parseL3Formula``)."""

    def __init__(self) -> None:
        from sympy.printing.str import StrPrinter

        class Printer(StrPrinter):
            def _print_Pow(self, e: Any) -> str:
                return f"pow({self._print(e.base)}, {self._print(e.exp)})"

            def _print_exp(self, e: Any) -> str:
                return f"exp({self._print(e.args[0])})"

            def _print_log(self, e: Any) -> str:
                return f"ln({self._print(e.args[0])})"

            def _print_Abs(self, e: Any) -> str:
                return f"abs({self._print(e.args[0])})"

            def _print_Max(self, e: Any) -> str:
                return "max(" + ", ".join(self._print(a) for a in e.args) + ")"

            def _print_Min(self, e: Any) -> str:
                return "min(" + ", ".join(self._print(a) for a in e.args) + ")"

            def _print_Piecewise(self, e: Any) -> str:
                *pieces, (last, cond) = e.args
                out = self._print(last) if cond == True else f"piecewise({self._print(last)}, {self._print(cond)})"  # noqa: E712
                for value, c in reversed(pieces):
                    out = f"piecewise({self._print(value)}, {self._print(c)}, {out})"
                return out

            def _print_Relational(self, e: Any) -> str:
                return f"({self._print(e.lhs)}) {e.rel_op} ({self._print(e.rhs)})"

            def _print_And(self, e: Any) -> str:
                return " && ".join(f"({self._print(a)})" for a in e.args)

            def _print_Or(self, e: Any) -> str:
                return " || ".join(f"({self._print(a)})" for a in e.args)

            def _print_Infinity(self, e: Any) -> str:
                return "INF"

            def _print_Rational(self, e: Any) -> str:
                return repr(float(e))

            def _print_Float(self, e: Any) -> str:
                return repr(float(e))

            def _print_BooleanTrue(self, e: Any) -> str:
                return "true"

            def _print_BooleanFalse(self, e: Any) -> str:
                return "false"

        self._printer = Printer({"full_prec": True})

    def __call__(self, expr: Any) -> str:
        return str(self._printer.doprint(expr))


def to_sbml(eq: Equations, model_id: str = "eihlab") -> str:
    """Write :class:`Equations` as an SBML Level 3 Version 2 document (a string).

    Parameters
    ----------
    eq
        The equations.
    model_id
        The model's SBML id.

    Returns
    -------
    str
        The SBML document.

    Raises
    ------
    RuntimeError
        If libsbml rejects a formula or the document fails its consistency check.
    """
    import libsbml

    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId(model_id)
    model.setName("eihlab: exercise-induced hypoalgesia, one subject (exported from eihlab.model)")
    printer = _L3Printer()

    def parameter(pid: str, value: float, constant: bool) -> None:
        par = model.createParameter()
        par.setId(pid)
        par.setValue(value)
        par.setConstant(constant)

    def formula(target: str, expr: Any) -> Any:
        text = printer(expr)
        ast = libsbml.parseL3Formula(text)
        if ast is None:
            raise RuntimeError(f"libsbml could not parse the formula of {target!r}: {libsbml.getLastParseL3Error()}")
        return ast

    for pid, value in eq.parameters.items():
        parameter(pid, value, True)
    for sid, value in eq.initial.items():
        parameter(sid, value, False)
    for sid, expr in eq.signals.items():
        parameter(sid, 0.0, False)
        rule = model.createAssignmentRule()
        rule.setVariable(sid)
        rule.setMath(formula(sid, expr))
    for sid, expr in eq.rates.items():
        rule = model.createRateRule()
        rule.setVariable(sid)
        rule.setMath(formula(sid, expr))
    if doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR):
        raise RuntimeError(f"SBML export is invalid: {doc.getErrorLog().toString()}")
    return str(libsbml.writeSBMLToString(doc))


def export(inputs: Inputs | None = None, **gains: Mapping[str, float]) -> str:
    """SBML of the model for one subject under the structure of ``inputs`` (see :func:`equations`)."""
    return to_sbml(equations(inputs, **gains))


__all__ = ["Equations", "INPUTS", "equations", "export", "state_ids", "to_sbml"]
