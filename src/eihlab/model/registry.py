"""The model assembled: every component's nodes, edges, parameters and states in one place.

This is the single source for ``eihlab model describe``, parameter defaults and bounds, cohort sampling,
knock-outs and the evaluation order of the dynamics.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from eihlab.errors import InputError
from eihlab.model import (
    cortex,
    descending,
    immune,
    limbic,
    pathology,
    percept,
    periphery,
    pharmacology,
    readouts,
    spinal,
    thalamus,
    training,
)
from eihlab.model._context import Context
from eihlab.model._elements import TIMESCALE_WORDS, Edge, Node, Param, StateVar

DYNAMIC_COMPONENTS: tuple[ModuleType, ...] = (
    periphery,
    training,
    immune,
    spinal,
    limbic,
    cortex,
    thalamus,
    descending,
    readouts,
)
"""Components with dynamics, in evaluation order (each reads signals of the ones before it)."""

ALL_COMPONENTS: tuple[ModuleType, ...] = (*DYNAMIC_COMPONENTS, pathology, pharmacology)

NODES: tuple[Node, ...] = tuple(n for c in ALL_COMPONENTS for n in c.NODES)
EDGES: tuple[Edge, ...] = tuple(e for c in ALL_COMPONENTS for e in c.EDGES)
DECLARED_PARAMETERS: tuple[Param, ...] = tuple(p for c in (*ALL_COMPONENTS, percept) for p in c.PARAMETERS)
"""Parameters as the component modules declare them (before calibration)."""
STATES: tuple[StateVar, ...] = tuple(s for c in DYNAMIC_COMPONENTS for s in c.STATES)

NODE_BY_NAME: dict[str, Node] = {n.name: n for n in NODES}
EDGE_BY_ID: dict[str, Edge] = {e.id: e for e in EDGES}
CALIBRATION_FILE = Path(__file__).with_name("calibrated.yaml")
"""Fitted defaults written by ``eihlab calibrate``: the source of truth for every ``calibrated`` parameter."""


def read_calibration(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    """The calibration file as a mapping (``{"parameters": {}}`` when there is none)."""
    if not path.exists():
        return {"parameters": {}}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data.setdefault("parameters", {})
    return dict(data)


def calibrated(declared: Param, value: float, targets: list[str]) -> Param:
    """A declared parameter with a fitted default; its source names the targets and keeps the prior source."""
    if not declared.lower <= value <= declared.upper:
        raise InputError(f"calibrated value of {declared.name}", value, f"[{declared.lower}, {declared.upper}]")
    source = f"calibrated to {', '.join(targets)} (prior: {declared.source}, {declared.default:g})"
    return dataclasses.replace(declared, default=float(value), source=source)


def _with_calibration(declared: tuple[Param, ...], fitted: Mapping[str, Any]) -> list[Param]:
    by_name = {p.name: p for p in declared}
    unknown = sorted(set(fitted) - set(by_name))
    if unknown:
        raise RuntimeError(f"{CALIBRATION_FILE.name}: unknown parameter {unknown[0]!r}")
    return [
        calibrated(p, fitted[p.name]["value"], list(fitted[p.name]["targets"])) if p.name in fitted else p
        for p in declared
    ]


PARAMETERS: list[Param] = _with_calibration(DECLARED_PARAMETERS, read_calibration()["parameters"])
"""The parameters in effect: declared, with calibrated defaults applied (mutated only by :func:`trial_defaults`)."""
PARAM_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}
_DEFAULTS_CHANGED: list[Callable[[], None]] = []
"""Callbacks (cache clears) run whenever the defaults in effect change."""


def on_defaults_changed(callback: Callable[[], None]) -> None:
    """Register a callback (e.g. a cache clear) for changes of the defaults in effect."""
    _DEFAULTS_CHANGED.append(callback)


@contextmanager
def trial_defaults(values: Mapping[str, float]) -> Iterator[None]:
    """Temporarily run the model with other parameter defaults (the candidate points of a calibration).

    The parameters keep their bounds, spread and declared source; the previous defaults are restored on exit.
    """
    saved = list(PARAMETERS)
    try:
        for i, p in enumerate(PARAMETERS):
            if p.name in values:
                PARAMETERS[i] = calibrated(p, values[p.name], ["(trial)"])
        PARAM_BY_NAME.update({p.name: p for p in PARAMETERS})
        for callback in _DEFAULTS_CHANGED:
            callback()
        yield
    finally:
        PARAMETERS[:] = saved
        PARAM_BY_NAME.update({p.name: p for p in PARAMETERS})
        for callback in _DEFAULTS_CHANGED:
            callback()


STATE_BY_NAME: dict[str, StateVar] = {s.name: s for s in STATES}
DYNAMICS: tuple[Callable[[Context], None], ...] = tuple(c.dynamics for c in DYNAMIC_COMPONENTS)


def _check_consistency() -> None:
    for registry, kind in ((NODES, "node"), (EDGES, "edge"), (PARAMETERS, "parameter"), (STATES, "state")):
        names = [str(getattr(x, "name", getattr(x, "id", ""))) for x in registry]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise RuntimeError(f"duplicate {kind} names: {sorted(dupes)}")
    for e in EDGES:
        for end in (e.source, e.target):
            if end not in NODE_BY_NAME:
                raise RuntimeError(f"edge {e.id} refers to unknown node {end!r}")
    for s in STATES:
        if s.node not in NODE_BY_NAME:
            raise RuntimeError(f"state {s.name} refers to unknown node {s.node!r}")


_check_consistency()


def resolve_edge(name: str, field: str = "knockouts") -> str:
    """Return the edge id for an id or a ``"source->target"`` name, or raise :class:`InputError`."""
    if name in EDGE_BY_ID:
        return name
    if "->" in name:
        src, tgt = (x.strip() for x in name.split("->", 1))
        matches = [e.id for e in EDGES if e.source == src and e.target == tgt]
        if len(matches) == 1:
            return matches[0]
    raise InputError(field, name, "an edge id (see `eihlab model describe`) or 'source->target'")


def resolve_node(name: str, field: str = "knockouts") -> str:
    """Return a node name, or raise :class:`InputError`."""
    if name in NODE_BY_NAME:
        return name
    raise InputError(field, name, "a node name (see `eihlab model describe`)")


def describe() -> dict[str, list[dict[str, Any]]]:
    """The model as data: nodes, edges and parameters (the schema of ``eihlab model describe --json``)."""
    return {
        "nodes": [
            {"name": n.name, "level": n.level, "kind": n.kind, "description": n.description, "refs": list(n.refs)}
            for n in NODES
        ],
        "edges": [
            {
                "id": e.id,
                "source": e.source,
                "target": e.target,
                "sign": "+" if e.sign > 0 else "-",
                "modality": e.modality,
                "timescale": e.timescale,
                "timescale_words": TIMESCALE_WORDS[e.timescale],
                "refs": list(e.refs),
                "description": e.description,
            }
            for e in EDGES
        ],
        "parameters": [
            {
                "name": p.name,
                "component": p.component,
                "default": p.default,
                "unit": p.unit,
                "lower": p.lower,
                "upper": p.upper,
                "cv": p.cv,
                "distribution": p.dist,
                "source": p.source,
                "description": p.description,
            }
            for p in PARAMETERS
        ],
        "states": [
            {"name": s.name, "node": s.node, "unit": s.unit, "per_region": s.per_region, "description": s.description}
            for s in STATES
        ],
    }
