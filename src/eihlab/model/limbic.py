r"""Amygdala–accumbens circuits (Kami et al. [59]; [60][61]) and the VTA.

Relaxation targets (τ ≈ 3 d; :math:`\hat J` injury level, :math:`\hat V` saturated voluntary-running load):

* medBA glutamatergic BLA→NAc neurons (reward, AM1): :math:`1 + k_r \hat V`;
* latBA→CeM glutamatergic neurons (negative valence, AM2): :math:`1 + k_n \hat J (1 - \hat V)`;
* CeA GABAergic neurons (AM3): :math:`1 + k_c \hat J - k_v \hat V`; their excess feeds descending
  facilitation ("cortical nociceptive sensitisation" [61]).
"""

from __future__ import annotations

from eihlab.model import _ops as xp
from eihlab.model._context import Context, saturating
from eihlab.model._elements import Edge, Node, Param, StateVar

C = "limbic"
A = "assumed: scale chosen so that the review's directions hold; to be calibrated (issue 3)"

NODES = (
    Node(
        "medBA_BLA_to_NAc",
        "subcortical",
        "neuron",
        "medial basal amygdala → NAc glutamatergic neurons (reward)",
        ("[59]", "[60]"),
    ),
    Node(
        "latBA_to_CeM",
        "subcortical",
        "neuron",
        "lateral basal amygdala → CeM glutamatergic neurons (negative valence)",
        ("[59]", "[60]"),
    ),
    Node("CeA_GABA", "subcortical", "neuron", "central amygdala GABAergic neurons", ("[59]", "[61]")),
    Node("CeM", "subcortical", "nucleus", "medial central amygdala", ("[60]",)),
    Node("NAc", "subcortical", "nucleus", "nucleus accumbens (reward)", ("[59]",)),
    Node("VTA", "subcortical", "nucleus", "ventral tegmental area (dopamine)", ("[76]",)),
)
EDGES = (
    Edge("AM1", "training_load", "medBA_BLA_to_NAc", +1, "voluntary running", "T3", ("[59]",)),
    Edge("AM1b", "medBA_BLA_to_NAc", "NAc", +1, "reward pathway", "T3", ("[59]", "[60]")),
    Edge("AM2", "injury", "latBA_to_CeM", +1, "sedentary neuropathic state", "T3", ("[59]", "[60]")),
    Edge("AM3", "training_load", "CeA_GABA", -1, "voluntary running lowers CeA GABA activation", "T3", ("[59]",)),
    Edge("AM3b", "injury", "CeA_GABA", +1, "injury activates CeA GABA neurons", "T3", ("[59]",)),
    Edge("AM3c", "CeA_GABA", "RVM_ON", +1, "CeA GABA activation → nociceptive sensitisation", "T3", ("[61]",)),
    Edge("AM5", "NAc", "PAG_Glu", +1, "positive emotion supports descending inhibition", "T3", ("[59]", "[X]")),
    Edge("CX22", "training_load", "VTA", -1, "mind-body exercise lowers left VTA–MOPFC FC", "T3", ("[76]",)),
)
PARAMETERS = (
    Param(
        "tau_limbic",
        4320.0,
        "min",
        1440.0,
        14400.0,
        "[59]: changes over days 5-13 of running",
        "time constant of amygdala plasticity",
        0.0,
        C,
    ),
    Param("k_reward", 0.8, "1", 0.0, 3.0, A, "BLA→NAc activation by voluntary running", 0.3, C),
    Param("k_negative_valence", 0.8, "1", 0.0, 3.0, A, "latBA→CeM activation by injury", 0.3, C),
    Param("k_cea_injury", 0.8, "1", 0.0, 3.0, A, "CeA GABA activation by injury", 0.3, C),
    Param("k_cea_running", 0.8, "1", 0.0, 3.0, A, "CeA GABA reduction by voluntary running", 0.3, C),
)
STATES = (
    StateVar("bla_nac", "medBA_BLA_to_NAc", "1", 1.0, "BLA→NAc (medBA) neuron activity, relative"),
    StateVar("latba_cem", "latBA_to_CeM", "1", 1.0, "latBA→CeM neuron activity, relative"),
    StateVar("cea_gaba", "CeA_GABA", "1", 1.0, "CeA GABAergic activation, relative"),
)


def dynamics(ctx: Context) -> None:
    """Reward and negative-valence circuits."""
    s, p = ctx.s, ctx.p
    injury = ctx.sig["injury_level"]
    vol = saturating(s["load_voluntary"], p["load_half"])
    tau = p["tau_limbic"]
    ctx.relax("bla_nac", 1.0 + ctx.g("AM1") * p["k_reward"] * vol, tau)
    ctx.relax("latba_cem", 1.0 + ctx.g("AM2") * p["k_negative_valence"] * injury * (1.0 - vol), tau)
    cea = 1.0 + ctx.g("AM3b") * p["k_cea_injury"] * injury - ctx.g("AM3") * p["k_cea_running"] * vol
    ctx.relax("cea_gaba", ctx.node("CeA_GABA") * xp.maximum(cea, 0.0), tau)
    ctx.signal("nac_reward", ctx.g("AM1b") * ctx.node("NAc") * s["bla_nac"])
    mind_body = saturating(s["load_mind_body"], p["load_half"])
    ctx.signal("fc_vta_mopfc", ctx.node("VTA") * (1.0 - 0.3 * ctx.g("CX22") * mind_body))
