r"""Cortex: M1, DLPFC, insula, MOPFC and the neuromodulation inputs (tDCS, rTMS, motor cortex stimulation).

* M1 excitability :math:`E` (T3, τ ≈ 1 wk) relaxes to :math:`1 - s_c + k_s\hat S + k_x\hat L_\text{all}`:
  suppressed in chronic pain (CX1, :math:`s_c` from the condition), raised by repeated stimulation
  (stimulation load :math:`S`) and regular active exercise (CX2).
* After-effects of one stimulation session relax during the session towards :math:`k I_\text{tDCS}` (mA) or
  :math:`k_\text{rTMS}` and decay with τ (tDCS ≈ 60-90 min; rTMS τ scaled by :math:`(10\,\text{Hz}/f)^{\beta}`,
  low-frequency after-effects outlasting high-frequency ones, CX7 [65]).
* Motor-command after-effect :math:`c` (Lu model c [47]): relaxes (τ ≈ 5 min) towards
  :math:`E(1 + t_\text{M1} + r)\cdot\text{exertion}` during active movement (exertion from
  :mod:`eihlab.model.periphery`): the stimulation after-effects :math:`t_\text{M1}, r` raise M1 excitability, so
  the same voluntary effort drives M1 harder — why tDCS before aerobic exercise adds to its analgesia (CX14
  [68][69]).
* M1 drive to descending control (CX3, CX5): :math:`m = E(1 + f_t t_\text{M1} + r) + c + \text{MCS}`. Anodal
  tDCS is subthreshold polarisation: it raises excitability (the MEP, :math:`E(1 + t_\text{M1} + r) + c +
  \text{MCS}`) but adds only the fraction :math:`f_t` of its after-effect to resting M1 output; the rest acts as
  a gain on M1's input (the motor command above; CPM through CX11 in :mod:`eihlab.model.descending`). rTMS
  fires M1 and adds its whole after-effect.
* DLPFC activity relaxes (τ ≈ 2 min) to :math:`1 - d_c + k_e\,\text{active} + k_t I_\text{tDCS,DLPFC}`
  (CX15, CX18, CX19; rest lowers DLPFC relative to exercise).
* Insula grey matter (T4, τ ≈ 1 yr) rises with mind-body practice (CX23) and raises pain *tolerance* (not
  threshold) through parasympathetic tone and positive affect (CX24): the tolerated percept is multiplied by
  :math:`\max(1 + k_\text{tol}(\mathrm{GMV}_\text{insula} - 1), 0.1)`; MOPFC grey matter (τ ≈ 1 month)
  with regular exercise (CX21).
"""

from __future__ import annotations

import numpy as np

from eihlab.model import _ops as xp
from eihlab.model._context import Context, saturating
from eihlab.model._elements import Edge, Node, Param, StateVar

C = "cortex"
A = "assumed: scale chosen so that the review's directions hold; to be calibrated (issue 3)"

NODES = (
    Node(
        "M1",
        "cortical",
        "cortex",
        "Primary motor cortex: motor command; excitability suppressed in chronic pain",
        ("[18]", "[20]"),
    ),
    Node("corticospinal", "cortical", "tract", "Corticospinal output (MEP; Glu, DA, NE)", ("[20]",)),
    Node("S1", "cortical", "cortex", "Primary somatosensory cortex", ("[58]",)),
    Node("DLPFC", "cortical", "cortex", "Dorsolateral prefrontal cortex", ("[19]", "[74]")),
    Node("mPFC", "cortical", "cortex", "Medial prefrontal cortex (left)", ("[67]",)),
    Node("MOPFC", "cortical", "cortex", "Medial orbital prefrontal cortex", ("[76]",)),
    Node("ACC", "cortical", "cortex", "Anterior cingulate cortex (MD partner)", ("[49]", "[67]")),
    Node("insula", "cortical", "cortex", "Insula (VM partner; thermal processing)", ("[49]", "[74]", "[77]")),
    Node(
        "parasympathetic_affect",
        "cortical",
        "pathway",
        "Parasympathetic activity and positive affect set by the left insula (pain tolerance)",
        ("[77]",),
    ),
    Node("sensorimotor_network", "cortical", "network", "Resting-state sensorimotor network", ("[66]",)),
    Node("tDCS", "cortical", "input", "Transcranial direct current stimulation (anodal)", ("[67]", "[68]", "[70]")),
    Node("rTMS", "cortical", "input", "Repetitive TMS of M1 (1 or 10 Hz)", ("[65]", "[66]")),
    Node("MCS", "cortical", "input", "Epidural motor cortex stimulation (rat)", ("[22]",)),
)
EDGES = (
    Edge("CX1", "DH_neuron_excitability", "M1", -1, "chronic pain suppresses M1", "T3", ("[18]",)),
    Edge("CX2", "exercise", "M1", +1, "active movement (motor command)", "T0", ("[18]", "[47]")),
    Edge("CX2b", "tDCS", "M1", +1, "anodal tDCS of M1", "T1", ("[67]", "[68]")),
    Edge("CX2c", "rTMS", "M1", +1, "rTMS of M1 (1 and 10 Hz analgesic)", "T1", ("[65]",)),
    Edge("CX2d", "MCS", "M1", +1, "motor cortex stimulation", "T0", ("[22]",)),
    Edge("CX4", "M1", "corticospinal", +1, "MEP amplitude and duration", "T0", ("[20]",)),
    Edge("CX9", "rTMS", "sensorimotor_network", +1, "functional connectivity", "T3", ("[66]",)),
    Edge("CX10", "tDCS", "mPFC", +1, "blood flow (also caudate, pons, ACC, PAG)", "T1", ("[67]",)),
    Edge("CX15", "exercise", "DLPFC", +1, "exercise raises DLPFC and insula activity", "T1", ("[74]",)),
    Edge("CX18", "tDCS", "DLPFC", +1, "tDCS of DLPFC", "T1", ("[71]", "[72]", "[73]")),
    Edge("CX19", "exercise", "DLPFC", +1, "PNF activates DLPFC", "T1", ("[75]",)),
    Edge("CX21", "training_load", "MOPFC", +1, "12 wk exercise raises MOPFC grey matter", "T3", ("[76]",)),
    Edge("CX23", "training_load", "insula", +1, "long-term yoga: left insula GMV and WM", "T4", ("[77]",)),
    Edge(
        "CX24",
        "insula",
        "parasympathetic_affect",
        +1,
        "left insula → parasympathetic activity → positive emotion → pain tolerance",
        "T4",
        ("[77]",),
    ),
    Edge("CX25", "exercise", "S1", +1, "sensorimotor interaction of active movement", "T0", ("[47]",)),
    Edge(
        "EXa",
        "exercise",
        "S1",
        -1,
        "Lu model a: predicted feedback cancels actual (local, during movement)",
        "T0",
        ("[47]",),
    ),
)
PARAMETERS = (
    Param("tau_m1_excitability", 10080.0, "min", 2880.0, 40320.0, A, "time constant of M1 excitability", 0.0, C),
    Param(
        "k_stimulation_m1",
        0.4,
        "1",
        0.0,
        1.5,
        "[65][67][71]-[73]: repeated sessions improve chronic pain",
        "M1 excitability gain from repeated stimulation",
        0.3,
        C,
    ),
    Param(
        "k_exercise_m1",
        0.2,
        "1",
        0.0,
        1.0,
        "[18]: active movement restores M1",
        "M1 excitability gain from regular exercise",
        0.3,
        C,
    ),
    Param(
        "tau_tdcs_after",
        75.0,
        "min",
        20.0,
        180.0,
        "doi:10.1111/j.1469-7793.2000.t01-1-00633.x (anodal after-effects up to ~90 min)",
        "decay of tDCS after-effects",
        0.3,
        C,
    ),
    Param("k_tdcs", 0.25, "1/mA", 0.0, 1.0, A, "M1 after-effect per mA of anodal tDCS", 0.4, C),
    Param(
        "tdcs_tonic_fraction",
        0.2,
        "1",
        0.0,
        1.0,
        "doi:10.1111/j.1469-7793.2000.t01-1-00633.x, doi:10.1177/1073858410386614: anodal tDCS is subthreshold "
        "polarisation that raises M1 excitability (MEP) without itself firing M1; [70]: it strengthens CPM in "
        "healthy people with little change of resting thresholds; assumed share of the after-effect that adds "
        "tonic M1 output",
        "fraction of the tDCS after-effect that adds to resting M1 drive (the rest acts as a gain on M1 input)",
        0.0,
        C,
    ),
    Param("k_rtms", 0.45, "1", 0.0, 1.5, A, "M1 after-effect of one rTMS session", 0.4, C),
    Param("tau_rtms_after_10hz", 60.0, "min", 15.0, 240.0, A, "decay of 10 Hz rTMS after-effects", 0.3, C),
    Param(
        "rtms_frequency_exponent",
        0.5,
        "1",
        0.0,
        1.0,
        "[65]: 1 Hz effects lasted longer than 10 Hz",
        "τ ∝ (10 Hz/f)^β",
        0.0,
        C,
    ),
    Param("k_mcs", 1.0, "1", 0.0, 3.0, "[22]", "M1 drive during motor cortex stimulation", 0.3, C),
    Param(
        "tau_motor_rise",
        1.0,
        "min",
        0.2,
        5.0,
        "[47] Lu models a/c: the motor command engages at movement onset",
        "rise time of the motor-command drive",
        0.0,
        C,
    ),
    Param(
        "tau_motor_after",
        5.0,
        "min",
        1.0,
        20.0,
        "[47] Lu model c is 'brief', after the movement",
        "decay of the motor-command after-effect",
        0.3,
        C,
    ),
    Param("k_motor_command", 1.3, "1", 0.0, 3.0, A, "descending drive per unit motor effort", 0.35, C),
    Param("tau_dlpfc", 2.0, "min", 0.5, 10.0, "[74]", "DLPFC activity time constant", 0.0, C),
    Param("k_exercise_dlpfc", 0.3, "1", 0.0, 1.0, "[74][75]", "DLPFC activation during exercise", 0.3, C),
    Param("k_tdcs_dlpfc", 0.2, "1/mA", 0.0, 1.0, "[71]-[73]", "DLPFC activation per mA tDCS", 0.3, C),
    Param(
        "tau_insula_gmv",
        525600.0,
        "min",
        43200.0,
        2628000.0,
        "[77]: cross-sectional (years of yoga)",
        "time constant of insula grey-matter change",
        0.6,
        C,
    ),
    Param(
        "k_mind_body_insula",
        0.4,
        "1",
        0.0,
        1.5,
        "[77]",
        "insula grey-matter gain per h/d of mind-body practice",
        0.3,
        C,
    ),
    Param(
        "k_insula_tolerance",
        2.0,
        "1",
        0.0,
        5.0,
        "[77] (CX24: left insula grey matter → parasympathetic activity → positive emotion → pain tolerance); "
        "assumed scale: 10 % more left-insula grey matter raises the tolerated pain by 20 %",
        "relative rise of the tolerated percept per unit relative rise of left-insula grey matter",
        0.3,
        C,
    ),
    Param(
        "tau_mopfc_gmv",
        43200.0,
        "min",
        10080.0,
        131400.0,
        "[76]: 12 wk",
        "time constant of MOPFC grey-matter change",
        0.0,
        C,
    ),
    Param("k_exercise_mopfc", 0.2, "1", 0.0, 1.0, "[76]", "MOPFC grey-matter gain per unit training", 0.3, C),
    Param(
        "tau_stimulation_load",
        4320.0,
        "min",
        1440.0,
        14400.0,
        "assumed: repeated sessions summate over days",
        "integration of repeated stimulation sessions",
        0.0,
        C,
    ),
)
STATES = (
    StateVar("m1_excitability", "M1", "1", 1.0, "M1 excitability relative to healthy"),
    StateVar("stimulation_load", "M1", "1", 0.0, "recent M1/DLPFC stimulation sessions"),
    StateVar("tdcs_after", "tDCS", "1", 0.0, "after-effect of M1 tDCS"),
    StateVar("rtms_after", "rTMS", "1", 0.0, "after-effect of rTMS"),
    StateVar("motor_after", "M1", "1", 0.0, "after-effect of the active motor command (Lu model c)"),
    StateVar("dlpfc", "DLPFC", "1", 1.0, "DLPFC activity"),
    StateVar("insula_gmv", "insula", "1", 1.0, "left insula grey matter, relative"),
    StateVar("mopfc_gmv", "MOPFC", "1", 1.0, "MOPFC grey matter, relative"),
)


def dynamics(ctx: Context) -> None:
    """M1 excitability and drive, stimulation after-effects, DLPFC, insula and MOPFC."""
    s, p, u = ctx.s, ctx.p, ctx.u
    active = ctx.sig["active_movement"]
    tdcs_m1 = np.asarray(u.tdcs_m1_ma, dtype=float)  # inputs are concrete in every backend
    tdcs_dlpfc = np.asarray(u.tdcs_dlpfc_ma, dtype=float)
    stim_on = (np.abs(tdcs_m1) > 0) | (np.abs(tdcs_dlpfc) > 0) | (u.rtms_hz > 0)
    ctx.relax("stimulation_load", 24.0 * np.broadcast_to(stim_on, (u.n,)).astype(float), p["tau_stimulation_load"])

    excit = (
        1.0
        - ctx.g("CX1") * p["m1_suppression"]
        + (ctx.g("CX2b") + ctx.g("CX2c")) / 2.0 * p["k_stimulation_m1"] * saturating(s["stimulation_load"], 0.3)
        + ctx.g("CX2") * p["k_exercise_m1"] * saturating(s["load_all"], p["load_half"])
    )
    ctx.relax("m1_excitability", xp.maximum(excit, 0.05), p["tau_m1_excitability"])

    tdcs_target = ctx.g("CX2b") * p["k_tdcs"] * tdcs_m1
    ctx.relax("tdcs_after", xp.broadcast_to(tdcs_target, (u.n,)), xp.where(tdcs_m1 != 0, 10.0, p["tau_tdcs_after"]))
    if u.rtms_hz > 0:
        ctx.relax("rtms_after", ctx.g("CX2c") * p["k_rtms"] * np.ones(u.n), 10.0)
    else:
        # the after-effect of the last train decays with a frequency-dependent time constant kept in a signal
        tau_r = p["tau_rtms_after_10hz"] * xp.power(10.0 / max(u.rtms_recent_hz, 0.1), p["rtms_frequency_exponent"])
        ctx.relax("rtms_after", np.zeros(u.n), tau_r)

    # acute after-effects raise M1 excitability: the same voluntary effort then drives M1 harder (CX14 [68][69])
    gain = 1.0 + s["tdcs_after"] + s["rtms_after"]
    motor_target = ctx.g("CX2") * p["k_motor_command"] * s["m1_excitability"] * gain * ctx.sig["exertion"] * active
    ctx.relax_asymmetric("motor_after", motor_target, p["tau_motor_rise"], p["tau_motor_after"])
    evoked = s["motor_after"] + ctx.g("CX2d") * p["k_mcs"] * u.mcs
    m1 = ctx.node("M1") * (
        s["m1_excitability"] * (1.0 + p["tdcs_tonic_fraction"] * s["tdcs_after"] + s["rtms_after"]) + evoked
    )
    ctx.signal("m1_drive", m1)
    # the MEP probes excitability (a TMS pulse evokes output from M1 at its current gain), the full after-effect
    ctx.signal("mep_amplitude", ctx.g("CX4") * ctx.node("M1") * (s["m1_excitability"] * gain + evoked))

    dl = (
        1.0
        - p["dlpfc_suppression"]
        + ctx.g("CX15") * p["k_exercise_dlpfc"] * active
        + ctx.g("CX19") * p["k_exercise_dlpfc"] * xp.amax(ctx.sig["proprio_drive"], axis=1)
        + ctx.g("CX18") * p["k_tdcs_dlpfc"] * tdcs_dlpfc
    )
    ctx.relax("dlpfc", ctx.node("DLPFC") * xp.maximum(dl, 0.0), p["tau_dlpfc"])
    ctx.relax("insula_gmv", 1.0 + ctx.g("CX23") * p["k_mind_body_insula"] * s["load_mind_body"], p["tau_insula_gmv"])
    # CX24: tolerance (not threshold) rises with left-insula grey matter, via parasympathetic tone and affect [77]
    ctx.signal(
        "tolerance_gain",
        xp.maximum(
            1.0
            + ctx.g("CX24") * ctx.node("parasympathetic_affect") * p["k_insula_tolerance"] * (s["insula_gmv"] - 1.0),
            0.1,
        ),
    )
    ctx.relax(
        "mopfc_gmv",
        1.0 + ctx.g("CX21") * p["k_exercise_mopfc"] * saturating(s["load_all"], p["load_half"]),
        p["tau_mopfc_gmv"],
    )
