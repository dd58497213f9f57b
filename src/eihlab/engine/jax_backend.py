"""The engine's step compiled by JAX (XLA): the same model code, traced with ``jax.numpy``, on CPU or GPU.

The model's dynamics do their elementwise maths through :mod:`eihlab.model._ops`; under
:func:`eihlab.model._ops.jax_numpy` those names are ``jax.numpy``'s, so :func:`eihlab.model.system.step`
(evaluate, predict, evaluate, ETD2 update) traces into one XLA computation that fuses the model's several
hundred elementwise operations. Nothing of the model is written twice.

Inputs are split into a *static* part (the exercise family, regions at work, stimulation: what the model's
Python branches read; it keys the compilation cache) and a *dynamic* part (exercise on/off and intensity,
drug levels, acid and injury drives: traced arrays). A protocol therefore compiles a handful of steps (rest,
the bout, each drug combination), each once per process. Float64 is switched on (``jax_enable_x64``) so that
the numbers equal the numpy path's to rounding.

Probes, exhaustion stretches and the steady state's convergence test read the state on the host with the
numpy model (a probe is rare; a step is not).
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

import numpy as np

from eihlab.model import _ops, system
from eihlab.model.inputs import Inputs

_DYNAMIC = ("exercising", "intensity", "drug", "acid", "injury", "injury_central")
"""Input fields traced as arrays; the others are static (compile-time) values."""

StaticInputs = tuple[tuple[str, Any], ...]


def available() -> bool:
    """Whether JAX is installed."""
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def _freeze(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype.str, value.tobytes())
    return ("value", value)


def _thaw(frozen: Any) -> Any:
    if frozen[0] == "array":
        return np.frombuffer(frozen[3], dtype=frozen[2]).reshape(frozen[1])
    return frozen[1]


def split_inputs(u: Inputs) -> tuple[StaticInputs, dict[str, Any]]:
    """``(static, dynamic)``: a hashable key of the static fields and a pytree of the dynamic ones."""
    static = tuple((f.name, _freeze(getattr(u, f.name))) for f in dataclasses.fields(Inputs) if f.name not in _DYNAMIC)
    dynamic = {name: getattr(u, name) for name in _DYNAMIC}
    return static, dynamic


def join_inputs(static: StaticInputs, dynamic: dict[str, Any]) -> Inputs:
    """Inverse of :func:`split_inputs`."""
    return Inputs(**{name: _thaw(v) for name, v in static}, **dynamic)


def _compiled() -> tuple[Any, Any]:
    import jax

    jax.config.update("jax_enable_x64", True)

    @partial(jax.jit, static_argnums=0)
    def step(
        static: StaticInputs, state: system.State, params: system.Params, dynamic: Any, dt: Any, edges: Any, nodes: Any
    ) -> system.State:
        u = join_inputs(static, dynamic)
        with _ops.jax_numpy():
            return system.step(state, params, u, dt, edges, nodes)

    @partial(jax.jit, static_argnums=0)
    def relax(
        static: StaticInputs, state: system.State, params: system.Params, dynamic: Any, dt: Any, edges: Any, nodes: Any
    ) -> system.State:
        u = join_inputs(static, dynamic)
        with _ops.jax_numpy():
            return system.advance(state, system.evaluate(state, params, u, edges, nodes), dt)

    return step, relax


_COMPILED: tuple[Any, Any] | None = None


def _functions() -> tuple[Any, Any]:
    global _COMPILED
    if _COMPILED is None:
        system.reference_levels()  # cached by the numpy model before any tracing
        _COMPILED = _compiled()
    return _COMPILED


def bucket(n: int) -> int:
    """The compiled cohort size for ``n`` subjects: the next power of two, at least 64.

    XLA compiles for fixed shapes; padding a chunk to its bucket keeps a run to a few compilations (the last,
    smaller chunk of a cohort reuses one) instead of one per chunk size.
    """
    return max(64, 1 << (n - 1).bit_length())


def _pad(tree: Any, n: int, size: int) -> Any:
    """Pad every leaf whose first axis is the subject axis (length ``n``) to ``size``, repeating the last subject."""
    import jax

    def pad(x: Any) -> Any:
        if size == n or np.ndim(x) == 0 or np.shape(x)[0] != n:
            return x
        widths = [(0, size - n)] + [(0, 0)] * (np.ndim(x) - 1)
        return np.pad(np.asarray(x), widths, mode="edge")

    return jax.tree.map(pad, tree)


def _pad_inputs(u: Inputs, size: int) -> Inputs:
    """``u`` for ``size`` subjects: per-subject fields padded (``region_weight`` is per region, not per subject)."""
    if size == u.n:
        return u
    fields = {f.name: _pad(getattr(u, f.name), u.n, size) for f in dataclasses.fields(Inputs)}
    fields.update(n=size, region_weight=u.region_weight)
    return Inputs(**fields)


class JaxStepper:
    """The engine's stepping through JAX; see :class:`eihlab.engine.simulate.NumpyStepper` for the contract.

    A stepper serves one chunk at a time. Its state stays on the device, padded to the chunk's
    :func:`bucket`, between steps; :meth:`host` returns the chunk's subjects as numpy arrays.
    """

    def __init__(self) -> None:
        if not available():
            raise ImportError("the JAX backend needs jax: pip install 'eihlab[jax]' (or jax[cuda12] for GPUs)")
        self._step, self._relax = _functions()
        self._n = 0
        self._padded: tuple[Any, ...] = ()

    def _constants(self, params: system.Params, edges: system.Gains, nodes: system.Gains, n: int) -> tuple[Any, ...]:
        """Parameters and gains padded to the bucket, once per chunk (the objects are kept, so ids stay valid)."""
        if not self._padded or self._padded[0] is not params or self._n != n:
            self._n = n
            padded = _pad((params, edges, nodes), n, bucket(n))
            self._padded = (params, edges, nodes, *padded)
        return self._padded[3:]

    def rest(self, params: system.Params, n: int, edges: system.Gains, nodes: system.Gains) -> system.State:
        """The resting steady state (compiled relaxation steps, convergence tested on the host), padded."""
        size = bucket(n)
        p, e, g = self._constants(params, edges, nodes, n)
        static, dynamic = split_inputs(Inputs.rest(size))
        return system.steady_state(
            p, Inputs.rest(size), e, g, relax_step=lambda state, dt: self._relax(static, state, p, dynamic, dt, e, g)
        )

    def host(self, state: system.State) -> system.State:
        """The chunk's subjects' state as numpy arrays."""
        return {k: np.asarray(v)[: self._n] for k, v in state.items()}

    def step(
        self,
        state: system.State,
        params: system.Params,
        inputs: Inputs,
        dt: np.ndarray | float,
        edges: system.Gains,
        nodes: system.Gains,
    ) -> system.State:
        """One compiled ETD2 step; takes and returns the padded state."""
        n, size = inputs.n, bucket(inputs.n)
        p, e, g = self._constants(params, edges, nodes, n)
        static, dynamic = split_inputs(_pad_inputs(inputs, size))
        state, dynamic, dt_arr = _pad((state, dynamic, np.asarray(dt, dtype=float)), n, size)
        return dict(self._step(static, state, p, dynamic, dt_arr, e, g))


__all__ = ["JaxStepper", "available", "bucket", "join_inputs", "split_inputs"]
