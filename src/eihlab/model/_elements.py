"""The vocabulary the model is declared in: nodes, edges, parameters and state variables.

Every component module (``periphery``, ``spinal``, ``immune``, ...) declares tuples of these records. They are
collected by :mod:`eihlab.model.registry` into the single source that feeds defaults, validation, cohort
sampling, knock-outs, sensitivity analysis and ``eihlab model describe``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Level = Literal["periphery", "spinal", "subcortical", "cortical", "systemic"]
Timescale = Literal["T0", "T1", "T2", "T3", "T4"]
"""Time-scale classes of the review (``spec/mechanisms.md`` §0): T0 during movement (seconds), T1 within
30 min of a bout, T2 hours to days after a bout, T3 days to weeks of training, T4 years of practice."""

TIMESCALE_WORDS: dict[str, str] = {
    "T0": "during movement (s)",
    "T1": "acute, 0-30 min after a bout",
    "T2": "hours-days after a bout",
    "T3": "days-weeks of training",
    "T4": "years of practice",
}


@dataclass(frozen=True, slots=True)
class Node:
    """A named element of the pain-modulating system.

    Parameters
    ----------
    name
        Identifier used in knock-outs and read-outs (``"PAG_opioid"``).
    level
        Anatomical level.
    kind
        What sort of element it is (``afferent``, ``neuron``, ``transmitter``, ``receptor``, ``cytokine``,
        ``immune_cell``, ``nucleus``, ``cortex``, ``input``).
    description
        One line, in the review's terms.
    refs
        Reference numbers of the review (``"[16]"``) or DOIs.
    """

    name: str
    level: Level
    kind: str
    description: str
    refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Edge:
    """A directed influence between two nodes.

    The edge's gain (1 by default) multiplies its term wherever the equations use it, so that scaling an edge
    to 0 is a lesion or a complete block and to 0.5 a partial one.

    Parameters
    ----------
    id
        Identifier: the review-extraction id of ``spec/mechanisms.md`` where there is one (``SP3``, ``SC4``,
        ``CX3``), else an ``EX``/``PH`` id of this implementation.
    source, target
        Node names.
    sign
        +1 raises the target, -1 lowers it.
    modality
        What the edge carries (``proprioception``, ``heat``, ``mechanical``, ``opioid``, ...).
    timescale
        Time-scale class (see :data:`Timescale`).
    refs
        Reference numbers of the review or DOIs; ``[X]`` marks an implementation inference.
    """

    id: str
    source: str
    target: str
    sign: int
    modality: str
    timescale: Timescale
    refs: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Param:
    """One model parameter with its unit, bounds, between-person spread and provenance.

    Parameters
    ----------
    name
        Unique identifier.
    default
        Population-typical value (healthy adult human unless the component says otherwise).
    unit
        Unit string (``"min"``, ``"kPa"``, ``"degC"``, ``"1"`` for dimensionless).
    lower, upper
        Plausible bounds; sampling clips to them and sensitivity analysis spans them.
    source
        A reference number of the review, a DOI, a calibration target (``"calibration_targets T2"``) or
        ``"assumed: <reason>"``.
    cv
        Between-person coefficient of variation (log-normal spread); 0 means the same for everyone.
    description
        What it does, in one line.
    dist
        ``"lognormal"`` (spread ``cv``) or ``"normal"`` (standard deviation ``cv * default``), for quantities
        such as temperatures whose spread is additive.
    """

    name: str
    default: float
    unit: str
    lower: float
    upper: float
    source: str
    description: str
    cv: float = 0.0
    component: str = ""
    dist: str = "lognormal"

    @property
    def sd(self) -> float:
        """Between-person standard deviation on the natural scale (``cv * default``)."""
        return self.cv * abs(self.default)

    def __post_init__(self) -> None:
        if not self.lower <= self.default <= self.upper:
            raise ValueError(f"parameter {self.name}: default {self.default} outside [{self.lower}, {self.upper}]")
        if not self.source:
            raise ValueError(f"parameter {self.name} has no source")


@dataclass(frozen=True, slots=True)
class StateVar:
    """A state variable of the slow or medium subsystem.

    Parameters
    ----------
    name
        Identifier (also the read-out name).
    node
        The node whose level or activity it represents.
    unit
        Unit (mostly ``"1"``: relative to the healthy resting level, or a normalised activity).
    initial
        Resting value in a healthy subject (the engine replaces it by the condition's steady state).
    per_region
        True when there is one value per body region (gate after-effect, peripheral sensitisation).
    description
        What it is.
    """

    name: str
    node: str
    unit: str
    initial: float
    description: str
    per_region: bool = False
    tags: tuple[str, ...] = field(default=())
