"""The model's input ports (cf. Myokit's bindings): what a protocol can drive at a given time.

The protocol layer fills an :class:`Inputs` for each integration step; the model never sees the
experiment, only these ports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eihlab.model.body import N_REGIONS

FAMILIES: tuple[str, ...] = (
    "aerobic",
    "anaerobic",
    "isometric",
    "dynamic_resistance",
    "eccentric",
    "mind_body",
    "passive",
)
"""Exercise families the model distinguishes (each has its own afferent, metabolic and central profile)."""

DRUGS: tuple[str, ...] = (
    "naloxone",
    "naltrexone",
    "cb1_antagonist",
    "faah_inhibitor",
    "magl_inhibitor",
    "ecb_reuptake_inhibitor",
    "ssri",
    "il10_antagonist",
    "il4_antagonist",
    "nr1_vector",
)
"""Systemic agents; each port carries the concentration divided by the agent's potency (C / K)."""


@dataclass(slots=True)
class Inputs:
    """Input ports for ``n`` subjects at one time point.

    Attributes
    ----------
    exercising
        1 while a bout is under way (per subject: a bout held to exhaustion ends at different times).
    intensity
        Relative intensity, fraction of the family's maximum (VO2max, MVC or 1RM).
    family
        Index into :data:`FAMILIES`, or -1 at rest.
    active
        1 for voluntary (motor-command) movement, 0 for passive movement.
    region_weight
        Exercised regions, shape ``(N_REGIONS,)`` (1 = the whole region works).
    muscle_fraction
        Fraction of the body's muscle mass at work.
    voluntary_running
        1 when the exercise is self-chosen (rodent voluntary wheel): engages the reward circuit.
    drug
        ``{agent: C/K}`` arrays of shape ``(n,)`` for the agents in :data:`DRUGS`.
    acid
        Intramuscular acid nociceptive drive per region ``(n, N_REGIONS)`` (from pH).
    injury
        Persistent injury nociceptive drive per region ``(n, N_REGIONS)`` (nerve injury models).
    injury_central
        Central injury drive (spinal cord injury), ``(n,)``.
    tdcs_m1_ma, tdcs_dlpfc_ma
        Anodal tDCS current (mA; negative for cathodal), ``(n,)``.
    rtms_hz
        Frequency of rTMS of M1 while a train is on (Hz), 0 otherwise.
    rtms_recent_hz
        Frequency of the most recent train (sets how long its after-effect lasts).
    mcs
        1 while motor cortex stimulation (rodent, epidural) is on.
    absolute_dose
        True when the bout's intensity was stated in absolute units (W, km/h, m/min, METs, kg): the model
        then scales it by the subject's current fitness.
    work_fraction
        Share of the coming integration step that each subject still works before reaching exhaustion, set
        by the engine from the step's start (:func:`eihlab.model.system.work_fraction`); ``None`` (the ODE, an
        adaptive solver, the SBML export): work stops the instant fatigue reaches 1.
    """

    n: int
    exercising: np.ndarray
    intensity: np.ndarray
    family: int = -1
    active: float = 1.0
    region_weight: np.ndarray = field(default_factory=lambda: np.zeros(N_REGIONS))
    muscle_fraction: float = 0.0
    voluntary_running: float = 0.0
    drug: dict[str, np.ndarray] = field(default_factory=dict)
    acid: np.ndarray | float = 0.0
    injury: np.ndarray | float = 0.0
    injury_central: np.ndarray | float = 0.0
    tdcs_m1_ma: np.ndarray | float = 0.0
    tdcs_dlpfc_ma: np.ndarray | float = 0.0
    rtms_hz: float = 0.0
    rtms_recent_hz: float = 10.0
    mcs: float = 0.0
    absolute_dose: bool = False
    work_fraction: np.ndarray | None = None

    @classmethod
    def rest(cls, n: int) -> Inputs:
        """Inputs of a subject sitting quietly with nothing applied."""
        return cls(n=n, exercising=np.zeros(n), intensity=np.zeros(n))

    def drug_level(self, name: str) -> np.ndarray | float:
        """Normalised concentration ``C/K`` of an agent (0 when absent)."""
        return self.drug.get(name, 0.0)

    def is_family(self, name: str) -> float:
        """1.0 when the current exercise belongs to ``name``."""
        return 1.0 if self.family >= 0 and FAMILIES[self.family] == name else 0.0
