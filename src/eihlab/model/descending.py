r"""Descending PAG–RVM control with its opioid, endocannabinoid, serotonergic and NMDA-NR1 systems.

Medium states (minutes–hours):

* β-endorphin/Met-enkephalin release :math:`B` relaxes (τ ≈ 15 min) to
  :math:`K\,(1 + k_B\,\mathrm{logistic}((I - I_B)/w)\sqrt{M})` while exercising (SC2: moderate or higher
  intensity), to :math:`K` at rest; :math:`K` is the trained opioid content (SC3, T3).
* AEA and 2-AG relax to :math:`1 + k_e I \sqrt{M}` (SC7) with clearance τ lengthened by FAAH/MAGL and reuptake
  inhibitors, :math:`\tau = \tau_e (1 + c_\text{inhibitor})` (SC9).
* RVM p-NR1 :math:`N` rises within minutes and decays (τ ≈ 4 h) towards :math:`e/(e + e_{50}) + v` with
  :math:`e = [\bar b - \theta_N]_+`, where :math:`\bar b` is the nociceptive barrage (exercise-evoked
  nociception, acid) after dorsal-horn transmission, averaged over minutes (τ ≈ 2 min), and :math:`v` the
  viral NR1 expression (SC12, §4.6).

Occupancies (competitive antagonism, the antagonist's C/K shifting the EC50):
:math:`o_\text{op} = B/(B + E_\text{op}(1 + c_\text{nal}))`,
:math:`o_\text{cb} = \mathrm{CB1}\cdot e/(e + E_\text{cb}(1 + c_\text{cb1-ant}))` with :math:`e` the mean of AEA
and 2-AG, and synaptic 5-HT :math:`h = \text{5HT}\cdot\text{R}_\text{5HT}(1 + c_\text{SSRI})/\text{SERT}`.

Descending output: the OFF-side drive :math:`x = w_o o_\text{op} + w_c o_\text{cb} + w_h h + w_m m + w_d
\,\text{DLPFC} + w_n(\text{NAc}-1)_+` (m the M1 drive) gives inhibition
:math:`\iota = \eta\, x / (x + x_{50})`, saturating in x and scaled by the person's descending efficacy
:math:`\eta` — the pathway CPM and EIH share (P8). :math:`x_{50}` is about the resting drive, so that tonic
inhibition sits near half its maximum and the acute increments of exercise and conditioning still move it.
Facilitation (ON side) is :math:`\phi = f_\text{on}\,\mathrm{MOR} + f_N N + f_c (\text{CeA}-1)_+ + \phi_c`
with :math:`\phi_c` the condition's facilitation.
"""

from __future__ import annotations

import numpy as np

from eihlab.model import _ops as xp
from eihlab.model._context import Context, saturating, sigmoid
from eihlab.model._elements import Edge, Node, Param, StateVar

C = "descending"
A = "assumed: scale chosen so that the T1/T4 magnitudes are of the right order; to be calibrated (issue 3)"

NODES = (
    Node("PAG_Glu", "subcortical", "neuron", "PAG glutamatergic (output) neurons", ("[22]",)),
    Node("PAG_GABA", "subcortical", "neuron", "PAG GABAergic interneurons", ("[22]",)),
    Node("PAG_opioid", "subcortical", "transmitter", "β-endorphin and Met-enkephalin in PAG/RVM", ("[16]", "[50]")),
    Node("PAG_MOR", "subcortical", "receptor", "μ-opioid receptor expression in PAG/RVM", ("[51]", "[52]")),
    Node("PAG_CB1", "subcortical", "receptor", "CB1 expression in PAG", ("[53]",)),
    Node("serum_AEA", "systemic", "transmitter", "anandamide", ("[13]",)),
    Node("serum_2AG", "systemic", "transmitter", "2-arachidonoylglycerol", ("[13]",)),
    Node("brainstem_5HT", "subcortical", "transmitter", "brainstem serotonin and 5-HT1B/2A/2C receptors", ("[54]",)),
    Node("RVM_SERT", "subcortical", "transporter", "serotonin transporter in RVM", ("[15]",)),
    Node("RVM_OFF", "subcortical", "neuron", "RVM OFF cells: descending inhibition", ("[15]", "[16]", "[49]")),
    Node("RVM_ON", "subcortical", "neuron", "RVM ON cells: descending facilitation", ("[52]",)),
    Node("RVM_NR1p", "subcortical", "receptor", "phosphorylated NMDA NR1 in RVM", ("[62]", "[63]", "[64]")),
    Node(
        "dorsal_horn_descending",
        "spinal",
        "pathway",
        "descending control reaching the dorsal horn",
        ("[15]", "[16]", "[49]"),
    ),
)
EDGES = (
    Edge("SC1", "RVM_OFF", "dorsal_horn_descending", -1, "descending inhibition", "T1", ("[14]", "[15]", "[49]")),
    Edge("SC1f", "RVM_ON", "dorsal_horn_descending", +1, "descending facilitation", "T1", ("[15]", "[16]", "[49]")),
    Edge("SC1p", "PAG_Glu", "RVM_OFF", +1, "PAG → RVM", "T1", ("[14]", "[15]")),
    Edge("SC2", "exercise", "PAG_opioid", +1, "moderate or higher intensity releases opioids", "T1", ("[50]",)),
    Edge("SC3", "training_load", "PAG_opioid", +1, "5 wk treadmill raises β-EP, Met-Enk", "T3", ("[16]",)),
    Edge("SC4", "PAG_opioid", "RVM_OFF", +1, "opioid-mediated inhibition (naloxone-sensitive)", "T1", ("[16]",)),
    Edge("SC5", "training_load", "PAG_MOR", -1, "4 wk treadmill lowers MOR expression", "T3", ("[51]",)),
    Edge("SC6", "PAG_MOR", "RVM_ON", +1, "MOR activation maintains ON-cell facilitation", "T3", ("[52]",)),
    Edge("SC7", "exercise", "serum_AEA", +1, "isometric exercise raises AEA and 2-AG", "T1", ("[13]",)),
    Edge("SC7b", "exercise", "serum_2AG", +1, "isometric exercise raises AEA and 2-AG", "T1", ("[13]",)),
    Edge("SC8", "training_load", "PAG_CB1", +1, "aerobic exercise raises PAG CB1", "T3", ("[53]",)),
    Edge("SC8b", "serum_AEA", "PAG_CB1", +1, "endocannabinoids act on CB1", "T1", ("[53]",)),
    Edge("SC8c", "PAG_CB1", "RVM_OFF", +1, "CB1-mediated inhibition", "T1", ("[53]",)),
    Edge(
        "SC10",
        "training_load",
        "brainstem_5HT",
        +1,
        "low-intensity treadmill raises 5-HT and receptors",
        "T3",
        ("[54]",),
    ),
    Edge("SC10b", "brainstem_5HT", "RVM_OFF", +1, "serotonergic inhibition", "T3", ("[54]",)),
    Edge("SC11", "training_load", "RVM_SERT", -1, "regular running lowers SERT", "T3", ("[15]",)),
    Edge("SC11b", "RVM_SERT", "brainstem_5HT", -1, "reuptake lowers synaptic 5-HT [X]", "T1", ("[15]", "[X]")),
    Edge(
        "SC12", "RVM_NR1p", "RVM_ON", +1, "fatigue-driven facilitation → hyperalgesia", "T1", ("[62]", "[63]", "[64]")
    ),
    Edge(
        "SC12b",
        "muscle_metaboreceptor",
        "RVM_NR1p",
        +1,
        "continuous nociceptive input phosphorylates NR1",
        "T1",
        ("[62]", "[64]"),
    ),
    Edge(
        "SC12c",
        "hyperalgesic_priming",
        "RVM_NR1p",
        +1,
        "triggered priming keeps NR1 phosphorylated (lasting widespread hyperalgesia)",
        "T2",
        ("[63]", "[64]", "doi:10.1002/mus.1007"),
    ),
    Edge("SC13", "MCS", "PAG_Glu", +1, "motor cortex stimulation activates PAG Glu neurons", "T0", ("[22]",)),
    Edge("SC14", "MCS", "PAG_GABA", -1, "motor cortex stimulation suppresses PAG GABA neurons", "T0", ("[22]",)),
    Edge("SC14b", "PAG_GABA", "PAG_Glu", -1, "GABAergic control of PAG output [X]", "T0", ("[22]", "[X]")),
    Edge("CX3", "M1", "PAG_Glu", +1, "M1 drives descending inhibition", "T1", ("[20]", "[22]", "[67]")),
    Edge("CX5", "corticospinal", "PAG_Glu", +1, "corticospinal Glu/DA/NE and M1-PAG coupling", "T1", ("[20]",)),
    Edge("CX11", "tDCS", "RVM_OFF", +1, "anodal tDCS strengthens CPM (descending efficacy)", "T1", ("[70]",)),
    Edge("CX17", "DLPFC", "PAG_Glu", +1, "DLPFC → PAG (inferred pro-inhibitory)", "T1", ("[19]",)),
)
PARAMETERS = (
    Param(
        "descending_efficacy",
        1.0,
        "1",
        0.0,
        2.0,
        "[34]-[37]: CPM efficiency varies between people and is impaired in chronic pain",
        "maximal descending inhibition (shared by CPM and EIH)",
        0.5,
        C,
    ),
    Param(
        "k_stimulation_efficacy",
        0.5,
        "1",
        0.0,
        2.0,
        "[70]: anodal tDCS raises CPM in healthy people",
        "relative gain in descending efficacy per unit stimulation after-effect",
        0.3,
        C,
    ),
    Param(
        "x50_inhibition",
        2.5,
        "1",
        0.5,
        10.0,
        "assumed: about the resting OFF-side drive (≈ 2.6), so that tonic descending inhibition sits near half its "
        "maximum and keeps the dynamic range that CPM ([34]-[37]), exercise opioids ([16][50]) and CB1 ([53]) "
        "need; at 1.0 the resting drive gave 72 % of the maximum and acute increments barely moved thresholds",
        "OFF-side drive giving half-maximal inhibition",
        0.0,
        C,
    ),
    Param("w_opioid", 3.0, "1", 0.0, 5.0, "[16][50]", "opioid contribution to the OFF-side drive", 0.3, C),
    Param("w_cannabinoid", 1.2, "1", 0.0, 5.0, "[13][53]", "CB1 contribution to the OFF-side drive", 0.3, C),
    Param("w_serotonin", 0.3, "1", 0.0, 2.0, "[54]", "5-HT contribution to the OFF-side drive", 0.3, C),
    Param("w_m1", 1.2, "1", 0.0, 3.0, "[20][22][67]", "M1 contribution to the OFF-side drive", 0.3, C),
    Param("w_dlpfc", 0.3, "1", 0.0, 2.0, "[19][74]", "DLPFC contribution to the OFF-side drive", 0.3, C),
    Param("w_reward", 0.3, "1", 0.0, 2.0, "[59] (AM5, [R])", "reward (NAc) contribution to the OFF-side drive", 0.3, C),
    Param("w_pag_gaba", 0.3, "1", 0.0, 1.0, "[22]", "PAG GABA tone restraining PAG output", 0.0, C),
    Param("k_mcs_gaba", 0.8, "1", 0.0, 1.0, "[22]", "suppression of PAG GABA by motor cortex stimulation", 0.0, C),
    Param("opioid_ec50", 3.0, "1", 0.3, 5.0, A, "opioid level (relative to rest) at half occupancy", 0.0, C),
    Param("k_opioid_release", 0.3, "1", 0.0, 5.0, A, "opioid release at high intensity (relative)", 0.35, C),
    Param(
        "opioid_intensity_midpoint",
        0.6,
        "1",
        0.4,
        0.8,
        "[50]: moderate or higher intensity",
        "relative intensity of half-maximal opioid release",
        0.1,
        C,
    ),
    Param(
        "tau_opioid",
        15.0,
        "min",
        5.0,
        60.0,
        "assumed: plasma β-endorphin returns to baseline within ~30-60 min",
        "opioid release/clearance time constant",
        0.2,
        C,
    ),
    Param(
        "k_opioid_training",
        2.0,
        "1",
        0.0,
        3.0,
        "[16]: 5 wk treadmill ↑ β-EP, Met-Enk",
        "rise of opioid content with training",
        0.3,
        C,
    ),
    Param(
        "k_mor_training", 0.4, "1", 0.0, 0.9, "[51]: 4 wk treadmill ↓ MOR", "fractional MOR fall with training", 0.3, C
    ),
    Param(
        "tau_opioid_content",
        10080.0,
        "min",
        2880.0,
        40320.0,
        "[16][51]: weeks",
        "time constant of opioid content and MOR expression",
        0.0,
        C,
    ),
    Param("k_ecb_release", 0.5, "1", 0.0, 4.0, "[13]", "AEA/2-AG release per unit intensity", 0.35, C),
    Param(
        "k_ecb_isometric",
        8.0,
        "1",
        1.0,
        8.0,
        "[13]: reported after isometric exercise",
        "extra eCB release in sustained contractions",
        0.0,
        C,
    ),
    Param(
        "tau_ecb",
        12.0,
        "min",
        3.0,
        60.0,
        "assumed: AEA and 2-AG return to baseline within ~30 min",
        "endocannabinoid clearance time constant",
        0.2,
        C,
    ),
    Param("ecb_ec50", 1.5, "1", 0.3, 5.0, A, "eCB level (relative) at half CB1 occupancy", 0.0, C),
    Param("k_cb1_training", 0.4, "1", 0.0, 2.0, "[53]", "rise of PAG CB1 with aerobic training", 0.3, C),
    Param(
        "k_5ht_training", 0.5, "1", 0.0, 2.0, "[54]", "rise of 5-HT and receptors with low-intensity training", 0.3, C
    ),
    Param("k_sert_training", 0.3, "1", 0.0, 0.8, "[15]", "fractional SERT fall with training", 0.3, C),
    Param(
        "tau_serotonin",
        7200.0,
        "min",
        1440.0,
        40320.0,
        "[54]: 2 weeks",
        "time constant of 5-HT system plasticity",
        0.0,
        C,
    ),
    Param("f_on", 0.3, "1", 0.0, 1.5, "[52]", "ON-cell facilitation at resting MOR expression", 0.3, C),
    Param(
        "f_nr1",
        0.4,
        "1",
        0.0,
        0.6,
        "[62]-[64]; upper bound: acute post-exercise hyperalgesia in people with chronic pain lowers PPT by about "
        "10-30 % (chronic fatigue syndrome after submaximal cycling, [32] and Van Oosterwijck 2010, J Intern Med "
        "268:265; whiplash after high-intensity cycling, [33]), so fully phosphorylated NR1 may lower a PPT by at "
        "most e^-0.6 ≈ 45 % (a bound of 3 let the fit choose 1.5: PPT falls of 60-75 % after 30 min of cycling)",
        "facilitation per unit p-NR1",
        0.3,
        C,
    ),
    Param("f_cea", 0.3, "1", 0.0, 2.0, "[61]", "facilitation per unit CeA GABA excess", 0.3, C),
    Param(
        "tau_barrage",
        2.0,
        "min",
        1.0,
        30.0,
        "review §4.6: 'continuous nociceptive input'; Wingate (30 s all-out) still gives EIH [28] while a few "
        "minutes of cycling to VO2max [29] or high-intensity cycling in CWAD [33] do not: the average spans "
        "minutes, not seconds (assumed 2 min; 6 min let a bout to exhaustion end before its barrage registered)",
        "averaging time of the nociceptive barrage that drives NR1 phosphorylation",
        0.0,
        C,
    ),
    Param(
        "nr1_half", 1.0, "1", 0.1, 5.0, A, "supra-threshold barrage giving half-maximal NR1 phosphorylation", 0.35, C
    ),
    Param(
        "nr1_threshold",
        2.0,
        "1",
        0.5,
        5.0,
        "calibration_targets T4: maximal/exhausting exercise abolishes EIH, moderate does not (prior 1.5 let "
        "sustained vigorous cycling phosphorylate NR1 in a third of healthy subjects)",
        "nociceptive barrage above which NR1 is phosphorylated",
        0.25,
        C,
    ),
    Param(
        "tau_nr1_rise",
        10.0,
        "min",
        1.0,
        60.0,
        "Zou 2000 (doi:10.1523/JNEUROSCI.20-18-06989.2000): dorsal-horn p-NR1 is raised at the first sample, "
        "30 min after capsaicin, and back by 120 min; review §4.6: only continuous input phosphorylates NR1. "
        "assumed 10 min within that bound; 2 min let 25 min of cycling at 70 % HRR phosphorylate NR1 in the "
        "subjects above critical power and reversed the 70 > 55 % HRR ordering of T4 (any value in 8-40 min keeps it)",
        "rise time constant of RVM p-NR1",
        0.3,
        C,
    ),
    Param(
        "tau_nr1",
        240.0,
        "min",
        30.0,
        2880.0,
        "[29][64]: hyperalgesia at 20-60 min and later",
        "decay of RVM p-NR1",
        0.3,
        C,
    ),
)
STATES = (
    StateVar("beta_ep", "PAG_opioid", "1", 1.0, "released β-EP/Met-Enk, relative to rest"),
    StateVar("opioid_content", "PAG_opioid", "1", 1.0, "PAG/RVM opioid peptide content, relative"),
    StateVar("mor", "PAG_MOR", "1", 1.0, "MOR expression, relative"),
    StateVar("aea", "serum_AEA", "1", 1.0, "serum anandamide, relative"),
    StateVar("two_ag", "serum_2AG", "1", 1.0, "serum 2-AG, relative"),
    StateVar("cb1", "PAG_CB1", "1", 1.0, "PAG CB1 expression, relative"),
    StateVar("serotonin", "brainstem_5HT", "1", 1.0, "brainstem 5-HT and 5-HT1B/2A/2C receptors, relative"),
    StateVar("sert", "RVM_SERT", "1", 1.0, "RVM SERT, relative"),
    StateVar("barrage_avg", "RVM_NR1p", "1", 0.0, "nociceptive barrage reaching the RVM, averaged over minutes"),
    StateVar("nr1p", "RVM_NR1p", "1", 0.0, "RVM p-NR1 (0 at rest)"),
)


def dynamics(ctx: Context) -> None:
    """Transmitter systems and the inhibition/facilitation balance."""
    s, p, u = ctx.s, ctx.p, ctx.u
    on = ctx.sig["active_movement"]
    mass = xp.sqrt(ctx.sig["working_mass"])
    half = p["load_half"]
    intensity = xp.maximum(u.intensity, 0.0)

    # opioids (SC2-SC6)
    content_target = 1.0 + ctx.g("SC3") * p["k_opioid_training"] * saturating(s["load_high"], half)
    ctx.relax("opioid_content", content_target, p["tau_opioid_content"])
    ctx.relax(
        "mor", 1.0 - ctx.g("SC5") * p["k_mor_training"] * saturating(s["load_high"], half), p["tau_opioid_content"]
    )
    release = (
        ctx.g("SC2") * p["k_opioid_release"] * sigmoid(intensity, p["opioid_intensity_midpoint"], 0.08) * mass * on
    )
    ctx.relax("beta_ep", ctx.node("PAG_opioid") * s["opioid_content"] * (1.0 + release), p["tau_opioid"])
    blocker = u.drug_level("naloxone") + u.drug_level("naltrexone")
    occ_opioid = ctx.signal("opioid_occupancy", s["beta_ep"] / (s["beta_ep"] + p["opioid_ec50"] * (1.0 + blocker)))

    # endocannabinoids (SC7-SC9)
    ecb_drive = (
        p["k_ecb_release"] * intensity * mass * on * (1.0 + (p["k_ecb_isometric"] - 1.0) * u.is_family("isometric"))
    )
    sc9 = ctx.g("SC9")
    slow_aea = 1.0 + sc9 * (u.drug_level("faah_inhibitor") + u.drug_level("ecb_reuptake_inhibitor"))
    slow_2ag = 1.0 + sc9 * (u.drug_level("magl_inhibitor") + u.drug_level("ecb_reuptake_inhibitor"))
    # an inhibitor slows clearance: both the time constant and the steady level rise by the same factor
    ctx.relax(
        "aea", ctx.node("serum_AEA") * (1.0 + ctx.g("SC7") * ecb_drive) * xp.sqrt(slow_aea), p["tau_ecb"] * slow_aea
    )
    ctx.relax(
        "two_ag", ctx.node("serum_2AG") * (1.0 + ctx.g("SC7b") * ecb_drive) * xp.sqrt(slow_2ag), p["tau_ecb"] * slow_2ag
    )
    aerobic_load = saturating(s["load_all"], half)
    ctx.relax(
        "cb1", ctx.node("PAG_CB1") * (1.0 + ctx.g("SC8") * p["k_cb1_training"] * aerobic_load), p["tau_opioid_content"]
    )
    ecb = 0.5 * (s["aea"] + s["two_ag"]) * ctx.g("SC8b")
    occ_cb = ctx.signal(
        "cb1_occupancy", s["cb1"] * ecb / (ecb + p["ecb_ec50"] * (1.0 + u.drug_level("cb1_antagonist")))
    )

    # serotonin (SC10, SC11)
    ctx.relax(
        "serotonin",
        ctx.node("brainstem_5HT") * (1.0 + ctx.g("SC10") * p["k_5ht_training"] * saturating(s["load_low"], half)),
        p["tau_serotonin"],
    )
    ctx.relax("sert", 1.0 - ctx.g("SC11") * p["k_sert_training"] * aerobic_load, p["tau_serotonin"])
    ht = ctx.signal(
        "serotonin_synaptic",
        s["serotonin"] * (1.0 + u.drug_level("ssri")) / xp.power(xp.maximum(s["sert"], 0.05), ctx.g("SC11b")),
    )

    # PAG output and the RVM OFF/ON balance
    pag_gaba = ctx.node("PAG_GABA") * p["w_pag_gaba"] * (1.0 - ctx.g("SC13") * p["k_mcs_gaba"] * u.mcs)
    pag_glu = (
        ctx.node("PAG_Glu")
        * (
            ctx.g("CX3") * ctx.g("CX5") * p["w_m1"] * ctx.sig["m1_drive"]
            + ctx.g("CX17") * p["w_dlpfc"] * s["dlpfc"]
            + ctx.g("AM5") * p["w_reward"] * xp.maximum(ctx.sig["nac_reward"] - 1.0, 0.0)
        )
        * (1.0 - ctx.g("SC14b") * pag_gaba)
    )
    ctx.signal("pag_glu", pag_glu)
    off_drive = ctx.node("RVM_OFF") * (
        ctx.g("SC1p") * pag_glu
        + ctx.g("SC4") * p["w_opioid"] * occ_opioid
        + ctx.g("SC8c") * p["w_cannabinoid"] * occ_cb
        + ctx.g("SC10b") * p["w_serotonin"] * ht
    )
    ctx.signal("off_drive", off_drive)
    boost = 1.0 + ctx.g("CX11") * p["k_stimulation_efficacy"] * (s["tdcs_after"] + s["rtms_after"])
    efficacy = ctx.signal("descending_efficacy", p["descending_efficacy"] * ctx.g("SC1") * boost)
    ctx.signal("inhibition", inhibition(off_drive, efficacy, p["x50_inhibition"]))
    on_cells = ctx.node("RVM_ON") * (
        ctx.g("SC6") * p["f_on"] * s["mor"]
        + ctx.g("SC12") * p["f_nr1"] * s["nr1p"]
        + ctx.g("AM3c") * p["f_cea"] * xp.maximum(s["cea_gaba"] - 1.0, 0.0)
    )
    ctx.signal("facilitation", ctx.g("SC1f") * (on_cells + p["facilitation_condition"]))

    # NMDA NR1 phosphorylation (SC12)
    barrage = ctx.g("SC12b") * ctx.sig["nociceptive_barrage"] * _transmission(ctx)
    # only *continuous* input phosphorylates NR1 (§4.6): a brief supramaximal burst (Wingate) does not
    ctx.relax("barrage_avg", barrage, p["tau_barrage"])
    excess = xp.maximum(s["barrage_avg"] - p["nr1_threshold"], 0.0)
    # triggered hyperalgesic priming keeps RVM NR1 phosphorylated for weeks (SC12c: Da Silva 2010 [63], RVM
    # NMDA receptors maintain the acid model's hyperalgesia; [64]: p-NR1 rises after fatigue + acid)
    maintained = ctx.g("SC12c") * s["primed_sens"]
    nr1_target = xp.minimum(excess / (excess + p["nr1_half"]) + maintained, 1.0) + u.drug_level("nr1_vector")
    nr1_target = ctx.node("RVM_NR1p") * nr1_target
    ctx.relax_asymmetric("nr1p", nr1_target, p["tau_nr1_rise"], p["tau_nr1"])


def _transmission(ctx: Context) -> np.ndarray | float:
    """Dorsal-horn transmission of a nociceptive barrage towards the RVM, relative to a healthy person at rest.

    ``exp(c σ - a (ι - ι0) + b (φ - f_N N - φ0))`` with the mechanical weights of :mod:`eihlab.model.percept`:
    the input that phosphorylates RVM NR1 has itself passed the sensitised, less inhibited dorsal horn of a
    person with chronic pain. The facilitation that p-NR1 itself produces (``f_N N``) is left out: fed back
    through the exponential it closed an unbounded loop (NR1 → facilitation → e-fold transmission → barrage →
    NR1) that made NR1 bistable, so that a healthy subject near exhaustion amplified his own barrage about
    tenfold and lost 90 % of his PPT after 30 min of cycling (assumed: the loop's gain is bounded in vivo by
    the saturation of dorsal-horn output, which this exponential form does not have). Evaluated only when
    there is a barrage (at rest it is irrelevant, which keeps the healthy reference levels free of it).
    """
    barrage = ctx.sig["nociceptive_barrage"]
    if not xp.any(barrage > 0):
        return 1.0
    from eihlab.model.system import reference_levels  # lazy: the references are computed at rest

    ref = reference_levels()
    p, s, sig = ctx.p, ctx.s, ctx.sig
    return xp.asarray(
        xp.exp(
            p["c_cs_mechanical"] * s["central_sens"]
            - p["a_mechanical"] * (sig["inhibition"] - ref["inhibition"])
            + p["b_mechanical"] * (sig["facilitation"] - ctx.g("SC12") * p["f_nr1"] * s["nr1p"] - ref["facilitation"])
        )
    )


def inhibition(off_drive: np.ndarray, efficacy: np.ndarray, x50: np.ndarray) -> np.ndarray:
    """Descending inhibition ``efficacy * x / (x + x50)`` for an OFF-side drive ``x``."""
    return xp.asarray(efficacy * saturating(off_drive, x50))
