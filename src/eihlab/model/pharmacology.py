r"""Drugs, blockers and other agents: kinetics and site of action.

Concentrations follow a one-compartment model with first-order absorption (Bateman function); for an
intravenous bolus (``ka = inf``) it reduces to :math:`C(t) = (D/V)\,e^{-k_e t}`:

.. math::  C(t) = \frac{D}{V}\,\frac{k_a}{k_a - k_e}\left(e^{-k_e t} - e^{-k_a t}\right),\quad t \ge 0,

with :math:`k_e = \ln 2 / t_{1/2}`. The model receives :math:`C/K` (concentration over potency), which for
a competitive antagonist shifts the agonist's EC50 by :math:`1 + C/K` and for an enzyme or transporter
inhibitor slows clearance by the same factor. Doses are in mg/kg; :math:`V` in L/kg; K in mg/L.

The viral NR1 vector is not a drug: its expression rises as :math:`1 - e^{-t/\tau}` after injection and
persists ([63]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eihlab.model._elements import Edge, Node


@dataclass(frozen=True, slots=True)
class Agent:
    """Kinetics and site of action of one agent.

    Parameters
    ----------
    name
        Port name (see :data:`eihlab.model.inputs.DRUGS`).
    half_life_min
        Elimination half-life (min).
    ka_per_min
        Absorption rate constant (1/min); ``inf`` for intravenous bolus.
    volume_l_kg
        Apparent volume of distribution (L/kg).
    potency_mg_l
        Concentration giving a C/K of 1 (Ki, IC50 or EC50).
    target
        The node or edge it acts on.
    action
        In words.
    source
        Provenance of the kinetic values.
    typical_dose_mg_kg
        A dose used in the cited studies (for documentation and defaults).
    """

    name: str
    half_life_min: float
    ka_per_min: float
    volume_l_kg: float
    potency_mg_l: float
    target: str
    action: str
    source: str
    typical_dose_mg_kg: float

    def concentration_ratio(self, dose_mg_kg: float, t_since_min: np.ndarray | float) -> np.ndarray:
        """C/K at ``t_since_min`` after one dose (0 before it)."""
        t = np.asarray(t_since_min, dtype=float)
        if self.name == "nr1_vector":
            level = np.where(t >= 0, dose_mg_kg * (1.0 - np.exp(-np.maximum(t, 0.0) / self.half_life_min)), 0.0)
            return np.asarray(level)
        ke = np.log(2.0) / self.half_life_min
        tt = np.maximum(t, 0.0)
        if np.isinf(self.ka_per_min):
            shape = np.exp(-ke * tt)
        else:
            ka = self.ka_per_min
            shape = ka / (ka - ke) * (np.exp(-ke * tt) - np.exp(-ka * tt))
        conc = dose_mg_kg / self.volume_l_kg * shape
        return np.asarray(np.where(t >= 0, conc / self.potency_mg_l, 0.0))


_INF = float("inf")
AGENTS: dict[str, Agent] = {
    a.name: a
    for a in (
        Agent(
            "naloxone",
            64.0,
            _INF,
            2.0,
            0.002,
            "PAG_opioid→RVM_OFF (SC4)",
            "competitive μ-opioid antagonist",
            "doi:10.2165/00003088-199019010-00001 (t½ ≈ 1 h); potency assumed (Ki ≈ 1-2 nM)",
            0.1,
        ),
        Agent(
            "naltrexone",
            240.0,
            0.05,
            16.0,
            0.002,
            "PAG_opioid→RVM_OFF (SC4)",
            "competitive opioid antagonist (oral)",
            "assumed: naltrexone + 6β-naltrexol t½ ≈ 4-13 h",
            0.7,
        ),
        Agent(
            "cb1_antagonist",
            360.0,
            0.03,
            5.0,
            0.05,
            "PAG_CB1→RVM_OFF (SC8c)",
            "competitive CB1 antagonist (rimonabant-like)",
            "assumed: rimonabant-like, i.p. in rodents",
            3.0,
        ),
        Agent(
            "faah_inhibitor",
            600.0,
            0.05,
            2.0,
            0.2,
            "serum_AEA clearance (SC9)",
            "slows AEA degradation",
            "[53]: metabolic-enzyme inhibitor prolongs EIH (URB597-like, assumed kinetics)",
            0.3,
        ),
        Agent(
            "magl_inhibitor",
            600.0,
            0.05,
            2.0,
            0.2,
            "serum_2AG clearance (SC9)",
            "slows 2-AG degradation",
            "[53] (JZL184-like, assumed kinetics)",
            4.0,
        ),
        Agent(
            "ecb_reuptake_inhibitor",
            240.0,
            0.05,
            2.0,
            0.5,
            "AEA/2-AG clearance (SC9)",
            "blocks endocannabinoid reuptake",
            "[53] (VDM11/AM404-like, assumed kinetics)",
            3.0,
        ),
        Agent(
            "ssri",
            1200.0,
            0.02,
            20.0,
            0.02,
            "RVM_SERT (SC11b)",
            "serotonin reuptake inhibitor",
            "assumed: fluoxetine-like",
            0.3,
        ),
        Agent(
            "il10_antagonist",
            4320.0,
            0.01,
            0.1,
            0.5,
            "IL10→DH_neuron_excitability (SP12)",
            "neutralising anti-IL-10",
            "[43][45]: i.m. or i.p. antibody; antibody t½ of days assumed",
            0.05,
        ),
        Agent(
            "il4_antagonist",
            4320.0,
            0.01,
            0.1,
            0.2,
            "IL4 (SP10b, SP16)",
            "neutralising anti-IL-4",
            "[46]: i.p. antibody; t½ of days assumed",
            0.05,
        ),
        Agent(
            "nr1_vector",
            4320.0,
            _INF,
            1.0,
            1.0,
            "RVM_NR1p",
            "viral (FIV) NR1 over-expression; 'dose' = expression level",
            "[63] (mechanisms §11.3); expression onset over days assumed",
            1.0,
        ),
    )
}

NODES = (
    Node("naloxone", "systemic", "drug", "opioid receptor antagonist", ("[13]", "[16]")),
    Node("cb1_antagonist", "systemic", "drug", "CB1 antagonist", ("[53]",)),
    Node("ecb_enzyme_inhibitor", "systemic", "drug", "FAAH/MAGL and reuptake inhibitors", ("[53]",)),
    Node("il10_antagonist", "systemic", "drug", "IL-10 antagonist (i.m. or i.p.)", ("[43]", "[45]")),
    Node("il4_antagonist", "systemic", "drug", "IL-4 antagonist (i.p.)", ("[46]",)),
    Node("nr1_vector", "systemic", "drug", "viral NR1 expression", ("[63]",)),
)
EDGES = (
    Edge("PH1", "naloxone", "PAG_opioid", -1, "competitive opioid block", "T1", ("[16]",)),
    Edge("PH2", "cb1_antagonist", "PAG_CB1", -1, "competitive CB1 block", "T1", ("[53]",)),
    Edge("SC9", "ecb_enzyme_inhibitor", "serum_AEA", +1, "slower eCB clearance prolongs EIH", "T1", ("[53]",)),
    Edge("PH4", "il10_antagonist", "IL10", -1, "neutralises IL-10", "T3", ("[43]", "[45]")),
    Edge("PH5", "il4_antagonist", "IL4", -1, "neutralises IL-4", "T3", ("[46]",)),
    Edge("PH6", "nr1_vector", "RVM_NR1p", +1, "NR1 over-expression → facilitation", "T3", ("[63]",)),
)
PARAMETERS = ()
STATES = ()
