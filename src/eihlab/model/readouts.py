r"""Imaging and electrophysiology proxies: what fMRI, blood flow and TMS studies measure, as model read-outs.

These are read-outs, not causes: nothing else in the model uses them. Each is a dimensionless proxy, ≈ 1 in
a healthy person at rest (for per-person comparison of changes, not absolute values), derived from the
states the review links them to:

* M1–VL, PAG–VL and S1–anterior-insula connectivity rise with M1 drive and PAG output (CX12 [58]):
  :math:`\mathrm{FC}_{M1-VL} = m/m_0`, :math:`\mathrm{FC}_{PAG-VL} = g/g_0`,
  :math:`\mathrm{FC}_{S1-aINS} = \sqrt{m/m_0 \cdot \mathrm{GMV}_\text{ins}}`;
* insula–VL connectivity tracks ascending nociceptive traffic and falls with relief (CX13 [58]):
  :math:`\mathrm{FC}_{INS-VL} = e^{\sigma/2}\,e^{(\phi-\phi_0) - (\iota-\iota_0)}`;
* sensorimotor-network connectivity rises with rTMS after-effects and stimulation load (CX9 [66]);
* PAG–MOPFC connectivity falls as MOPFC grey matter grows with training (CX20 [76]):
  :math:`\mathrm{FC}_{PAG-MOPFC} = 1 - 1.5(\mathrm{GMV}_\text{MOPFC} - 1)`;
* regional blood flow (mPFC, caudate, pons, ACC, PAG) rises with the tDCS after-effect (CX10 [67]);
  insula activity rises with active exercise (CX15 [74]).
"""

from __future__ import annotations

from eihlab.model import _ops as xp
from eihlab.model._context import Context
from eihlab.model._elements import Edge, Node

C = "readouts"
NODES = (
    Node("caudate_R", "subcortical", "nucleus", "right caudate (blood flow with anodal M1 tDCS)", ("[67]",)),
    Node("pontine_nuclei", "subcortical", "nucleus", "pontine nuclei (blood flow with anodal M1 tDCS)", ("[67]",)),
)
EDGES = (
    Edge("CX10b", "tDCS", "caudate_R", +1, "blood flow", "T1", ("[67]",)),
    Edge("CX10c", "tDCS", "pontine_nuclei", +1, "blood flow", "T1", ("[67]",)),
    Edge("CX12", "tDCS", "VL", +1, "M1-VL, S1-aINS, PAG-VL FC higher with analgesia", "T3", ("[58]",)),
    Edge("CX13", "tDCS", "insula", -1, "insula-VL FC lower with relief", "T3", ("[58]",)),
    Edge("CX20", "training_load", "MOPFC", -1, "12 wk exercise lowers right PAG-MOPFC FC", "T3", ("[76]",)),
)
PARAMETERS = ()
STATES = ()

_M1_REST = 1.0
"""M1 drive of a healthy person at rest (excitability 1, no after-effects)."""


def dynamics(ctx: Context) -> None:
    """Connectivity and blood-flow proxies."""
    s, sig = ctx.s, ctx.sig
    m1 = sig["m1_drive"] / _M1_REST
    pag_rest = (ctx.p["w_m1"] * _M1_REST + ctx.p["w_dlpfc"]) * (1.0 - ctx.p["w_pag_gaba"])
    ctx.signal("fc_m1_vl", m1)
    ctx.signal("fc_pag_vl", sig["pag_glu"] / pag_rest)
    ctx.signal("fc_s1_ains", xp.sqrt(xp.maximum(m1, 0.0) * s["insula_gmv"]))
    nociceptive = xp.exp(0.5 * s["central_sens"] + sig["facilitation"] - ctx.p["f_on"] - sig["inhibition"] + 0.5)
    ctx.signal("fc_insula_vl", nociceptive)
    ctx.signal("fc_sensorimotor", 1.0 + s["rtms_after"] + 0.3 * s["stimulation_load"] / (s["stimulation_load"] + 0.3))
    ctx.signal("fc_pag_mopfc", 1.0 - 1.5 * (s["mopfc_gmv"] - 1.0))
    blood_flow = 1.0 + s["tdcs_after"]
    for region in ("mpfc", "caudate", "pons", "acc", "pag"):
        ctx.signal(f"blood_flow_{region}", blood_flow)
    ctx.signal("insula_activity", 1.0 + 0.3 * sig["active_movement"])
