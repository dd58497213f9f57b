"""The evaluation context handed to every component's dynamics function.

A component reads states (``ctx.s``), parameters (``ctx.p``), inputs (``ctx.u``), edge gains (``ctx.g``) and
signals computed by components earlier in the evaluation order (``ctx.sig``); it writes algebraic signals
(:meth:`Context.signal`) and, for each state it owns, either a relaxation target
``dy/dt = (F - y) / tau`` (:meth:`Context.relax`) or a rate ``dy/dt = r`` (:meth:`Context.rate`).
All arrays have the subject axis first: ``(n,)`` for scalars per subject, ``(n, N_REGIONS)`` per region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from eihlab.model import _ops as xp
from eihlab.model.inputs import Inputs

Array = np.ndarray


@dataclass(slots=True)
class Context:
    """State, parameters, inputs and edge gains at one time point, for ``n`` subjects."""

    s: Mapping[str, Array]
    p: Mapping[str, Array]
    u: Inputs
    edge_gain: Mapping[str, Array | float]
    node_gain: Mapping[str, Array | float]
    sig: dict[str, Array] = field(default_factory=dict)
    targets: dict[str, tuple[Array, Array | float]] = field(default_factory=dict)
    rates: dict[str, Array] = field(default_factory=dict)
    switching: set[str] = field(default_factory=set)

    def g(self, edge_id: str) -> Array | float:
        """Gain of an edge (1 unless knocked out or scaled by the experiment)."""
        return self.edge_gain.get(edge_id, 1.0)

    def node(self, name: str) -> Array | float:
        """Activity scale of a node (1 unless lesioned or scaled)."""
        return self.node_gain.get(name, 1.0)

    def g_regional(self, edge_id: str) -> Array | float:
        """:meth:`g` shaped to multiply a per-region array ``(n, N_REGIONS)``: a per-subject gain gets a region axis."""
        return _per_region(self.g(edge_id))

    def node_regional(self, name: str) -> Array | float:
        """:meth:`node` shaped to multiply a per-region array ``(n, N_REGIONS)``."""
        return _per_region(self.node(name))

    def signal(self, name: str, value: Array) -> Array:
        """Record an algebraic signal (fast subsystem) and return it."""
        self.sig[name] = value
        return value

    def relax(self, state: str, target: Array, tau_min: Array | float) -> None:
        """Declare ``d state/dt = (target - state) / tau_min`` (time in minutes)."""
        self.targets[state] = (target, tau_min)

    def relax_asymmetric(self, state: str, target: Array, tau_rise: Array | float, tau_decay: Array | float) -> None:
        """Declare a relaxation that rises with ``tau_rise`` (target above the state) and decays with ``tau_decay``.

        The time constant switches where the state meets its target; the integrator places that switch inside
        a step instead of at its edges (:func:`eihlab.model.system.advance`).
        """
        self.targets[state] = (target, xp.where(target > self.s[state], tau_rise, tau_decay))
        self.switching.add(state)

    def rate(self, state: str, rate_per_min: Array) -> None:
        """Declare ``d state/dt = rate_per_min`` (integrated exactly over a step with constant rate)."""
        self.rates[state] = rate_per_min


def _per_region(gain: Array | float) -> Array | float:
    """A per-subject gain ``(n,)`` as ``(n, 1)``; scalars pass through."""
    return gain[:, None] if np.ndim(gain) == 1 else gain  # type: ignore[index]


def hill(x: Array, ec50: Array | float, n: float = 1.0) -> Array:
    """Occupancy ``x^n / (x^n + ec50^n)`` for ``x >= 0``."""
    xn = xp.power(xp.maximum(x, 0.0), n)
    return xn / (xn + xp.power(ec50, n))


def sigmoid(x: Array, midpoint: Array | float, width: Array | float) -> Array:
    """Logistic ``1 / (1 + exp(-(x - midpoint) / width))``."""
    return xp.asarray(xp.expit((x - midpoint) / width))


def saturating(x: Array, half: Array | float) -> Array:
    """Michaelis-Menten saturation ``x / (x + half)`` of a non-negative drive."""
    x = xp.maximum(x, 0.0)
    return x / (x + half)
