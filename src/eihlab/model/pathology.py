"""Pathological state parameters: what a condition shifts (DESIGN: "a condition is a set of parameter shifts").

All default to the healthy value (0). :mod:`eihlab.population.conditions` sets them per condition, with
between-person spread, and names the affected body regions whose peripheral sensitisation is
``affected_sensitisation``.
"""

from __future__ import annotations

from eihlab.model._elements import Node, Param

C = "pathology"
NODES = (
    Node(
        "chronic_pain_state",
        "systemic",
        "state",
        "Condition: sensitisation, impaired modulation, suppressed cortex",
        ("[17]", "[18]", "[32]"),
    ),
)
EDGES = ()
STATES = ()
PARAMETERS = (
    Param(
        "cs_condition",
        0.0,
        "1",
        0.0,
        3.0,
        "[32][33][38]-[40]: central sensitisation in chronic pain",
        "condition's central sensitisation",
        0.4,
        C,
    ),
    Param(
        "facilitation_condition",
        0.0,
        "1",
        0.0,
        2.0,
        "[17][32]: enhanced descending facilitation in chronic pain",
        "condition's extra descending facilitation",
        0.4,
        C,
    ),
    Param(
        "m1_suppression",
        0.0,
        "1",
        0.0,
        0.8,
        "[18]: M1 activity suppressed to varying degrees in chronic pain",
        "fractional suppression of M1 excitability",
        0.4,
        C,
    ),
    Param(
        "dlpfc_suppression",
        0.0,
        "1",
        0.0,
        0.8,
        "[19]: DLPFC activity suppressed in chronic pain",
        "fractional suppression of DLPFC activity",
        0.4,
        C,
    ),
    Param(
        "affected_sensitisation",
        0.0,
        "1",
        0.0,
        4.0,
        "[32][33]: peripheral sensitisation of the affected limb",
        "peripheral sensitisation of the condition's affected regions",
        0.4,
        C,
    ),
)
