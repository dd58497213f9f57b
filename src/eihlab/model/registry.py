"""The model assembled: every component's nodes, edges, parameters and states in one place.

This is the single source for ``eihlab model describe``, parameter defaults and bounds, cohort sampling,
knock-outs and the evaluation order of the dynamics.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

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
PARAMETERS: tuple[Param, ...] = tuple(p for c in (*ALL_COMPONENTS, percept) for p in c.PARAMETERS)
STATES: tuple[StateVar, ...] = tuple(s for c in DYNAMIC_COMPONENTS for s in c.STATES)

NODE_BY_NAME: dict[str, Node] = {n.name: n for n in NODES}
EDGE_BY_ID: dict[str, Edge] = {e.id: e for e in EDGES}
PARAM_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}
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
