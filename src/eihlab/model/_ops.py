"""The array operations of the model's dynamics, bound to the active backend.

Every component's dynamics does its elementwise maths through this module (``xp.maximum``, ``xp.exp``, ...)
rather than through numpy directly, so that one definition of the model serves three backends:

- **numpy** (default): the names are numpy's own functions, rebound at import, so the engine's fast path
  pays nothing for the indirection;
- **jax**: under :func:`jax_numpy`, ``jax.numpy``, so that :mod:`eihlab.engine.jax_backend` can trace and
  compile (XLA) one step of the model;
- **symbolic**: under :func:`symbolic`, the same names build sympy expressions over object arrays. Running
  :func:`eihlab.model.system.evaluate` on symbols then yields the model's right-hand side as equations, which
  :mod:`eihlab.model.sbml` writes as SBML. Operators (``+``, ``*``, ``@``) need no dispatch: numpy
  applies them element by element to object arrays, and :class:`SymbolicArray` keeps comparisons symbolic.

Only the functions below go through the backend. Arrays built from the inputs alone (``np.zeros(u.n)``,
``np.asarray(u.tdcs_m1_ma)``) stay numpy: inputs are concrete in every backend. Python branches may read
inputs, never states or parameters.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import numpy as np
from scipy.special import expit as _expit

maximum: Callable[..., Any] = np.maximum
minimum: Callable[..., Any] = np.minimum
exp: Callable[..., Any] = np.exp
log: Callable[..., Any] = np.log
sqrt: Callable[..., Any] = np.sqrt
power: Callable[..., Any] = np.power
abs: Callable[..., Any] = np.abs  # noqa: A001 - mirrors numpy's name
where: Callable[..., Any] = np.where
clip: Callable[..., Any] = np.clip
expit: Callable[..., Any] = _expit
asarray: Callable[..., Any] = np.asarray
any: Callable[..., Any] = np.any  # noqa: A001 - mirrors numpy's name
amax: Callable[..., Any] = np.max
broadcast_to: Callable[..., Any] = np.broadcast_to
expm1: Callable[..., Any] = np.expm1

_NAMES = (
    "maximum",
    "minimum",
    "exp",
    "log",
    "sqrt",
    "power",
    "abs",
    "where",
    "clip",
    "expit",
    "asarray",
    "any",
    "amax",
    "broadcast_to",
    "expm1",
)
_NUMPY = {name: globals()[name] for name in _NAMES}


class SymbolicArray(np.ndarray):
    """An object array of sympy expressions whose comparisons give symbolic relations, not booleans.

    numpy's comparison operators cast their result to ``bool``, which a relation between symbols refuses;
    this subclass keeps the results as objects (``np.less(..., dtype=object)``). Python tries the subclass's
    reflected operator first, so ``plain_array > symbolic`` works too.
    """

    def _compare(self, other: Any, ufunc: np.ufunc) -> SymbolicArray:
        return np.asarray(ufunc(np.asarray(self, dtype=object), other, dtype=object)).view(SymbolicArray)

    def __lt__(self, other: Any) -> SymbolicArray:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> SymbolicArray:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> SymbolicArray:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> SymbolicArray:
        return self._compare(other, np.greater_equal)


def symbolic_array(values: Any) -> SymbolicArray:
    """``values`` as a :class:`SymbolicArray`."""
    return np.asarray(values, dtype=object).view(SymbolicArray)


def _symbolic_functions() -> dict[str, Callable[..., Any]]:
    import sympy

    def vec(f: Callable[..., Any]) -> Callable[..., Any]:
        v = np.vectorize(f, otypes=[object])
        return lambda *args: symbolic_array(v(*args))

    def piecewise(c: Any, a: Any, b: Any) -> Any:
        if isinstance(c, bool | np.bool_):
            return a if c else b
        return sympy.Piecewise((a, c), (b, True))

    def asarray_symbolic(x: Any, dtype: Any = None) -> Any:
        return symbolic_array(x)

    def any_symbolic(x: Any) -> bool:
        # a condition on symbols may hold: take the branch that keeps the general expression
        return builtins.any(not isinstance(v, bool | np.bool_) or v for v in np.asarray(x, dtype=object).ravel())

    return {
        "maximum": vec(lambda a, b: sympy.Max(a, b)),
        "minimum": vec(lambda a, b: sympy.Min(a, b)),
        "exp": vec(sympy.exp),
        "log": vec(sympy.log),
        "sqrt": vec(sympy.sqrt),
        "power": vec(lambda a, b: sympy.Pow(a, b)),
        "abs": vec(sympy.Abs),
        "where": vec(piecewise),
        "clip": vec(lambda x, lo, hi: sympy.Min(sympy.Max(x, lo), hi)),
        "expit": vec(lambda x: 1 / (1 + sympy.exp(-x))),
        "asarray": asarray_symbolic,
        "any": any_symbolic,
        "amax": lambda x, axis: symbolic_array(np.apply_along_axis(lambda v: sympy.Max(*v), axis, x)),
        "broadcast_to": lambda x, shape: symbolic_array(np.broadcast_to(np.asarray(x, dtype=object), shape)),
        "expm1": vec(lambda x: sympy.exp(x) - 1),
    }


def _jax_functions() -> dict[str, Callable[..., Any]]:
    import jax
    import jax.numpy as jnp

    return {
        "maximum": jnp.maximum,
        "minimum": jnp.minimum,
        "exp": jnp.exp,
        "log": jnp.log,
        "sqrt": jnp.sqrt,
        "power": jnp.power,
        "abs": jnp.abs,
        "where": jnp.where,
        "clip": jnp.clip,
        "expit": jax.nn.sigmoid,
        "asarray": jnp.asarray,
        # a traced condition may hold: take the branch that keeps the general expression
        "any": lambda x: True,
        "amax": lambda x, axis: jnp.max(x, axis=axis),
        "broadcast_to": jnp.broadcast_to,
        "expm1": jnp.expm1,
    }


@contextmanager
def _bound(functions: dict[str, Callable[..., Any]]) -> Iterator[None]:
    globals().update(functions)
    try:
        yield
    finally:
        globals().update(_NUMPY)


def symbolic() -> AbstractContextManager[None]:
    """Bind the operations to sympy for the duration of the block (not thread-safe; export only)."""
    return _bound(_symbolic_functions())


def jax_numpy() -> AbstractContextManager[None]:
    """Bind the operations to ``jax.numpy`` while a function is traced (see :mod:`eihlab.engine.jax_backend`)."""
    return _bound(_jax_functions())


__all__ = [*_NAMES, "SymbolicArray", "jax_numpy", "symbolic", "symbolic_array"]
