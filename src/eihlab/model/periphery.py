r"""Periphery: afferents, muscle receptors, muscle fatigue and peripheral sensitisation.

Equations (per subject; regions r; time in minutes)

* Effort :math:`\epsilon = I + (1 - I)\phi` (relative intensity :math:`I`, rising to 1 as fatigue
  :math:`\phi` reaches exhaustion: motor units are recruited to hold the force), and perceived exertion
  (central motor command) :math:`\min(s\,\epsilon^{1.6}, 1)` (Borg 1982), with :math:`s` the session's
  exertion factor (day-to-day spread, mean 1) and 1 maximal exertion, the top of Borg's scale.
* Proprioceptive drive of the large fibres (muscle spindles and tendon organs → Aα/Aβ, SP2 input):
  :math:`a_r = w_r\,\mathrm{on}\,\pi_\text{family}\,(0.5 + I)`, with :math:`w_r` the exercised share of
  region r, :math:`\pi` the family's proprioceptive gain and :math:`I` the relative force (load) of the work,
  not the effort: tendon organs fire in proportion to active tension (Houk & Henneman 1967,
  J Neurophysiol 30:466), and spindle support does not grow, if anything it declines, as a contraction
  at constant force fatigues (Macefield et al. 1991, doi:10.1113/jphysiol.1991.sp018721). Effort and
  perceived exertion (which do rise with fatigue) act centrally instead (MD modulation, motor command).
* Muscle metabolite (group III/IV) drive: :math:`m = \min((I/I_\text{met})^{3}, 4)\,(1 + 2\,\phi)` where
  :math:`I_\text{met}` is critical power (cardiorespiratory work), the occlusion level (isometric) or a heavy
  load (resistance) and :math:`\phi` fatigue. For cardiorespiratory work :math:`I` is the fraction of the
  power at VO2max, :math:`(f - r)/(1 - r)` for an intensity :math:`f` stated as a fraction of VO2max and
  :math:`r = \dot V O_{2,rest}/\dot V O_{2max}` (%VO2R ≈ % of work-rate reserve), the unit of critical power.
* Fatigue :math:`\phi` (0 fresh, 1 exhausted) depletes at :math:`1/ET(I)` while exercising — the W′ balance
  of the critical-power model for dynamic work (Skiba 2012, doi:10.1249/MSS.0b013e3182197aec) and the
  endurance-time curve for sustained contractions (Frey-Law & Avin 2010, doi:10.1080/00140130903389068) —
  and recovers with :math:`\tau_\phi` once the bout is over. At :math:`\phi = 1` the subject stops (task
  failure): work, its afferent drive and its barrage end, and recovery waits for the end of the bout.
* Exercise-evoked nociception (the barrage that drives RVM NR1 phosphorylation, §4.6):
  :math:`n_\text{ex} = m\,\bar s_\text{ex}\sqrt{M} + k_\text{mv} I (\bar s_\text{ex} - 1)` with
  :math:`\bar s_\text{ex}` the peripheral sensitisation of the exercised regions and M the working muscle mass;
  the second term is movement-evoked pain of sensitised tissue. (How much of it reaches the RVM depends on
  dorsal-horn transmission; see :mod:`eihlab.model.descending`.)
* Peripheral sensitisation of region r relaxes (τ = 1 d) to
  :math:`1 + \text{cond}_r + k_\text{doms} D_r + k_\text{inj} J_r + k_\text{acid} A_r`, where the muscle damage
  :math:`D_r` of eccentric work peaks about two days after the bout (DOMS; Lau 2015, review ref [30]).
"""

from __future__ import annotations

import numpy as np

from eihlab.model import _ops as xp
from eihlab.model._context import Context
from eihlab.model._elements import Edge, Node, Param, StateVar
from eihlab.model.body import REGIONS
from eihlab.model.inputs import FAMILIES

C = "periphery"
A = "assumed: scale chosen so that the T1/T4 orderings hold; to be calibrated (issue 3)"

NODES = (
    Node("muscle_spindle_GTO", "periphery", "receptor", "Muscle spindles and Golgi tendon organs", ("[47]",)),
    Node(
        "Aa_Ab_afferent", "periphery", "afferent", "Large fibres: proprioception, pressure, tension", ("[47]", "[48]")
    ),
    Node("Adelta_afferent", "periphery", "afferent", "Thinly myelinated nociceptors (mechanical, PPT)", ("[31]",)),
    Node(
        "C_afferent", "periphery", "afferent", "Unmyelinated nociceptors (heat; with Aδ mechanical)", ("[31]", "[49]")
    ),
    Node("muscle_metaboreceptor", "periphery", "receptor", "Group III/IV muscle afferents (metabolites)", ("[X]",)),
    Node("muscle_fatigue", "periphery", "state", "Depletion of work capacity (W′, endurance time)", ("[29]", "[30]")),
    Node(
        "peripheral_sensitisation",
        "periphery",
        "state",
        "Sensitised nociceptors of an affected region",
        ("[32]", "[33]"),
    ),
    Node("muscle_damage", "periphery", "state", "Eccentric muscle damage (DOMS)", ("[30]",)),
    Node("exercise", "systemic", "input", "Exercise dose: type, intensity, duration, region", ("[7]",)),
    Node("injury", "systemic", "input", "Nerve or tissue injury (rodent models), persistent input", ("[41]", "[46]")),
    Node("acid_injection", "periphery", "input", "Intramuscular acidic saline (pH)", ("[62]", "[64]")),
)

EDGES = (
    Edge(
        "EX1",
        "exercise",
        "muscle_spindle_GTO",
        +1,
        "movement/tension",
        "T0",
        ("[47]",),
        "movement and load excite spindles and tendon organs",
    ),
    Edge("SP0", "muscle_spindle_GTO", "Aa_Ab_afferent", +1, "proprioception", "T0", ("[47]", "[48]")),
    Edge(
        "EX2",
        "exercise",
        "muscle_metaboreceptor",
        +1,
        "metabolites",
        "T0",
        ("[X]",),
        "metabolite accumulation above critical power / occlusion",
    ),
    Edge("EX3", "exercise", "muscle_fatigue", +1, "work above capacity", "T1", ("[29]", "[62]")),
    Edge("PE1", "muscle_metaboreceptor", "Adelta_afferent", +1, "exercise-evoked nociception", "T0", ("[62]", "[64]")),
    Edge("PE2", "peripheral_sensitisation", "Adelta_afferent", +1, "sensitised transduction", "T3", ("[32]",)),
    Edge("PE3", "peripheral_sensitisation", "C_afferent", +1, "sensitised transduction", "T3", ("[32]",)),
    Edge("EX4", "exercise", "muscle_damage", +1, "eccentric load", "T2", ("[30]",)),
    Edge("PE4", "muscle_damage", "peripheral_sensitisation", +1, "DOMS", "T2", ("[30]",)),
    Edge("PE5", "injury", "peripheral_sensitisation", +1, "injury", "T3", ("[41]",)),
    Edge("PE6", "acid_injection", "peripheral_sensitisation", +1, "low pH", "T2", ("[62]", "[64]")),
    Edge("PE7", "acid_injection", "C_afferent", +1, "low pH nociception", "T1", ("[62]",)),
    Edge("PE8", "injury", "C_afferent", +1, "persistent nociceptive input", "T3", ("[47]", "[48]")),
)

_FAMILY_PROPRIO = {
    "aerobic": 0.4,
    "anaerobic": 0.9,
    "isometric": 1.0,
    "dynamic_resistance": 1.0,
    "eccentric": 1.0,
    "mind_body": 0.6,
    "passive": 0.5,
}

PARAMETERS = (
    Param(
        "session_exertion_cv",
        0.7,
        "1",
        0.0,
        1.0,
        "calibration_targets T3 (EIH between-session ICC ≈ 0.4-0.6): day-to-day variation of the response",
        "session-to-session spread of perceived exertion at a given dose",
        0.0,
        C,
    ),
    Param(
        "exertion_exponent",
        1.6,
        "1",
        1.0,
        2.5,
        "doi:10.1249/00005768-198205000-00012 (Borg 1982: perceived exertion grows as power^1.6)",
        "exponent from relative effort to perceived exertion / central motor command",
        0.0,
        C,
    ),
    *(
        Param(
            f"proprio_gain_{f}",
            v,
            "1",
            0.0,
            2.0,
            "assumed: Lu model b, load-bearing and resisted movement recruit more spindle/GTO input ([47])",
            f"proprioceptive drive per unit work, {f}",
            0.2,
            C,
        )
        for f, v in _FAMILY_PROPRIO.items()
    ),
    Param(
        "occlusion_fraction_mvc",
        0.25,
        "1",
        0.1,
        0.5,
        "assumed: intramuscular pressure occludes flow above ~20-30 % MVC",
        "isometric intensity where metabolites accumulate",
        0.15,
        C,
    ),
    Param(
        "resistance_metabolic_fraction",
        0.6,
        "1",
        0.3,
        0.9,
        A,
        "resistance intensity (%1RM) with strong metabolite accumulation",
        0.15,
        C,
    ),
    Param(
        "cp_fraction",
        0.75,
        "1",
        0.5,
        0.95,
        "doi:10.1249/MSS.0b013e3182197aec (CP ≈ 70-80 % of power at VO2max)",
        "critical power / power at VO2max",
        0.08,
        C,
    ),
    Param(
        "vo2_rest_fraction",
        0.0875,
        "1",
        0.02,
        0.4,
        "1 MET (3.5 mL/kg/min) over a typical adult VO2max of 40 mL/kg/min; a sampled cohort (and a twin) sets "
        "each subject's own VO2rest/VO2max from its physiology (eihlab.population.cohort), so rodents get their "
        "species' resting VO2; experiments cannot override it",
        "resting VO2 as a fraction of VO2max (converts %VO2max to a fraction of the power at VO2max)",
        0.0,
        C,
    ),
    Param(
        "w_prime_min",
        1.4,
        "min",
        0.5,
        4.0,
        "doi:10.1249/MSS.0b013e3182197aec (W′ ≈ 15-25 kJ at ~250 W)",
        "W′ expressed as minutes at the power of VO2max",
        0.25,
        C,
    ),
    Param(
        "endurance_long_min",
        180.0,
        "min",
        60.0,
        400.0,
        "assumed: sub-critical exercise can be sustained for hours",
        "time to exhaustion at critical power from substrate depletion",
        0.2,
        C,
    ),
    Param(
        "isometric_et_b0_s",
        21.92,
        "s",
        5.0,
        40.0,
        "doi:10.1080/00140130903389068 (pooled power model)",
        "isometric endurance time at 100 % MVC",
        0.25,
        C,
    ),
    Param(
        "isometric_et_b1",
        -1.98,
        "1",
        -3.0,
        -1.0,
        "doi:10.1080/00140130903389068 (pooled power model)",
        "exponent of the endurance-time power law",
        0.0,
        C,
    ),
    Param(
        "rep_duration_s",
        3.0,
        "s",
        1.5,
        6.0,
        "assumed: ~1.5 s concentric + 1.5 s eccentric per repetition",
        "duration of one repetition",
        0.0,
        C,
    ),
    Param(
        "tau_fatigue_recovery",
        8.0,
        "min",
        2.0,
        30.0,
        "doi:10.1249/MSS.0b013e3182197aec (W′ reconstitution τ ≈ 5-10 min)",
        "recovery time constant of fatigue",
        0.2,
        C,
    ),
    Param("k_exercise_nociception", 1.0, "1", 0.2, 3.0, A, "gain of exercise-evoked nociceptive drive", 0.3, C),
    Param(
        "k_movement_pain",
        2.0,
        "1",
        0.0,
        6.0,
        "[32][33] and review §7: exercising a painful limb provokes pain (affected limb → no EIH/hyperalgesia)",
        "movement-evoked nociception per unit load and excess peripheral sensitisation",
        0.3,
        C,
    ),
    Param(
        "tau_peripheral_sens",
        1440.0,
        "min",
        360.0,
        10080.0,
        "assumed: nociceptor sensitisation changes over ~1 day",
        "time constant of peripheral sensitisation",
        0.0,
        C,
    ),
    Param(
        "k_eccentric_damage",
        0.08,
        "1/min",
        0.0,
        0.5,
        "[30]: 100 % MVC eccentric work → DOMS",
        "damage rate per minute of maximal eccentric work",
        0.3,
        C,
    ),
    Param(
        "tau_damage_repair",
        4320.0,
        "min",
        1440.0,
        14400.0,
        "assumed: DOMS resolves within ~5-7 days",
        "repair time constant of muscle damage",
        0.2,
        C,
    ),
    Param(
        "tau_doms",
        1440.0,
        "min",
        360.0,
        4320.0,
        "[30]: threshold fall largest ~2 days after eccentric exercise",
        "delay from damage to sensitisation",
        0.0,
        C,
    ),
    Param("k_doms_sens", 1.0, "1", 0.0, 3.0, A, "sensitisation per unit damage", 0.3, C),
    Param("k_injury_sens", 1.5, "1", 0.0, 5.0, A, "peripheral sensitisation per unit injury drive", 0.2, C),
    Param(
        "k_acid_sens",
        0.3,
        "1",
        0.0,
        2.0,
        "[62][64]: a single acid injection gives only transient hyperalgesia",
        "sensitisation per unit acid drive",
        0.2,
        C,
    ),
)

STATES = (
    StateVar("fatigue", "muscle_fatigue", "1", 0.0, "fraction of work capacity used (1 = exhaustion)"),
    StateVar("damage", "muscle_damage", "1", 0.0, "eccentric muscle damage", per_region=True),
    StateVar("doms", "muscle_damage", "1", 0.0, "delayed-onset soreness signal", per_region=True),
    StateVar("psens", "peripheral_sensitisation", "1", 1.0, "nociceptor gain relative to healthy", per_region=True),
)

_MASS = np.array([r.muscle_fraction for r in REGIONS])


CARDIORESPIRATORY = ("aerobic", "anaerobic", "mind_body")
"""Families whose intensity is a fraction of VO2max, and whose limit is critical power."""


def power_fraction(ctx: Context) -> np.ndarray:
    """Cardiorespiratory intensity as a fraction of the power at VO2max: ``(f - r)/(1 - r)``, at least 0.

    The input ``f`` is a fraction of VO2max and ``r = VO2rest/VO2max``. Work rate rises linearly with VO2
    above its zero-work value, so the fraction of work-rate reserve is the fraction of VO2 reserve (Swain &
    Leutholtz 1997, doi:10.1097/00005768-199703000-00018, the basis of ACSM's %VO2R), and critical power is
    stated as a fraction of the power at VO2max (``cp_fraction``). Comparing ``f`` itself with it put a
    70 % HRR bout (f ≈ 0.73) above CP for about 30 % of healthy adults, where its power fraction is 0.70.
    """
    r = ctx.p["vo2_rest_fraction"]
    return xp.asarray(xp.maximum(ctx.u.intensity - r, 0.0) / (1.0 - r))


def endurance_rate(ctx: Context, on: np.ndarray) -> np.ndarray:
    """Rate of fatigue accumulation (1/min) for the current exercise: ``1 / ET(I)``."""
    u, p = ctx.u, ctx.p
    intensity = u.intensity
    family = FAMILIES[u.family] if u.family >= 0 else "passive"
    if family in CARDIORESPIRATORY:
        cp = p["cp_fraction"]
        power = power_fraction(ctx)
        above = xp.maximum(power - cp, 0.0)
        rate = above / p["w_prime_min"] + xp.power(power / cp, 4) / p["endurance_long_min"]
    elif family == "isometric":
        et_min = p["isometric_et_b0_s"] * xp.power(xp.clip(intensity, 0.02, 1.2), p["isometric_et_b1"]) / 60.0
        rate = 1.0 / et_min
    elif family in ("dynamic_resistance", "eccentric"):
        # Brzycki: repetitions to failure = 37 - 36 * fraction of 1RM (eccentric strength ~ 1.3 x concentric)
        frac = intensity / (1.3 if family == "eccentric" else 1.0)
        reps = xp.clip(37.0 - 36.0 * frac, 1.0, 40.0)
        rate = 60.0 / (reps * p["rep_duration_s"])
    else:
        rate = np.zeros(u.n)
    return xp.asarray(rate * on)


def metabolic_drive(ctx: Context, on: np.ndarray) -> np.ndarray:
    """Group III/IV metabolite drive of the working muscle (0 at rest)."""
    u, p = ctx.u, ctx.p
    family = FAMILIES[u.family] if u.family >= 0 else "passive"
    if family == "isometric":
        ref = p["occlusion_fraction_mvc"]
    elif family in ("dynamic_resistance", "eccentric"):
        ref = p["resistance_metabolic_fraction"]
    elif family == "passive":
        return np.zeros(u.n)
    else:
        ref = p["cp_fraction"]
    load = power_fraction(ctx) if family in CARDIORESPIRATORY else xp.maximum(u.intensity, 0.0)
    # accumulation saturates: muscle metabolites (lactate, H+) have a physiological ceiling (assumed ×4 of CP)
    relative = xp.minimum(xp.power(load / ref, 3), 4.0)
    return xp.asarray(on * relative * (1.0 + 2.0 * ctx.s["fatigue"]))


def _inflammatory_factor(ctx: Context) -> np.ndarray:
    """How inflamed injured tissue is: raised by pro-inflammatory cytokines, lowered by IL-10 and IL-4.

    ``clip(pro / (1 + k (IL10·β10 - 1)_+ + k (IL4·β4 - 1)_+), 0.2, 3)`` with β the fraction left free by an
    antagonist; the same anti-inflammatory signals that damp central sensitisation damp the injured nerve
    and muscle (M2 macrophages act in muscle and DRG, [43][44]).
    """
    s, u, p = ctx.s, ctx.u, ctx.p
    il10 = s["il10"] / (1.0 + u.drug_level("il10_antagonist"))
    il4 = s["il4"] / (1.0 + u.drug_level("il4_antagonist"))
    anti = 1.0 + p["k_il10_cs"] * xp.maximum(il10 - 1.0, 0.0) + p["k_il4_cs"] * xp.maximum(il4 - 1.0, 0.0)
    return xp.asarray(xp.clip(s["proinflammatory"] / anti, 0.2, 3.0))


def dynamics(ctx: Context) -> None:
    """Afferent drives, fatigue, exercise-evoked nociception and peripheral sensitisation."""
    s, p, u = ctx.s, ctx.p, ctx.u
    # work stops at exhaustion; on the engine's grid, a subject who reaches it within a step works its share.
    # The ODE's switch is written to be constant at rest, so that a simulator that root-finds on it (CVODE in
    # libRoadRunner) does not chase fatigue recovering from exactly 1 after the bout (it gave up there).
    switch = xp.where(u.exercising * (1.0 - s["fatigue"]) > 0.0, 1.0, 0.0)
    still_able = switch if u.work_fraction is None else u.work_fraction
    on = u.exercising * still_able
    active_on = on * u.active
    ctx.signal("exercise_on", on)
    ctx.signal("active_movement", active_on)
    intensity = xp.clip(u.intensity, 0.0, 1.0)
    effort = (intensity + (1.0 - intensity) * s["fatigue"]) * on
    ctx.signal("effort", effort)
    # perceived exertion is bounded by maximal exertion (the top of Borg's scale): a session that feels harder
    # than usual raises it, but not beyond what exhausting work gives
    ctx.signal("exertion", xp.minimum(xp.power(effort, p["exertion_exponent"]) * p.get("session_exertion", 1.0), 1.0))
    family = FAMILIES[u.family] if u.family >= 0 else None
    proprio_gain = p[f"proprio_gain_{family}"] if family else np.zeros(u.n)
    # spindle/GTO discharge follows the force (load) of the work, active or passive; not the fatigue-driven effort
    force = xp.clip(u.intensity, 0.0, 1.0) * on
    spindle = ctx.g("EX1") * ctx.node("muscle_spindle_GTO") * on * proprio_gain * (0.5 + force)
    proprio = ctx.g_regional("SP0") * ctx.node_regional("Aa_Ab_afferent") * spindle[:, None] * u.region_weight[None, :]
    ctx.signal("proprio_drive", proprio)

    # fatigue: depletion while exercising, exponential recovery once the bout is over. A subject who reaches
    # exhaustion before the bout's end stops (task failure) and does not recover until the bout ends, so the
    # work does not switch on and off at fatigue 1 (a sliding mode every solver would crawl through).
    ctx.rate("fatigue", ctx.g("EX3") * endurance_rate(ctx, on))
    ctx.relax("fatigue", np.zeros(u.n), xp.where(u.exercising > 0, np.inf, p["tau_fatigue_recovery"]))

    metab = ctx.g("EX2") * ctx.node("muscle_metaboreceptor") * metabolic_drive(ctx, on)
    mass = float(np.dot(u.region_weight, _MASS)) if u.muscle_fraction <= 0 else u.muscle_fraction
    weights = u.region_weight / u.region_weight.sum() if u.region_weight.sum() > 0 else u.region_weight
    sens_exercised = s["psens"] @ weights if weights.sum() > 0 else np.ones(u.n)
    # movement-evoked nociception of sensitised tissue: loading a painful region hurts even without metabolites
    load = xp.clip(u.intensity, 0.0, 1.0) * on * (u.active + 0.5 * (1.0 - u.active))
    excess_sens = xp.maximum(s["psens"] - 1.0, 0.0)
    regional = (
        ctx.g_regional("PE2") * p["k_movement_pain"][:, None] * load[:, None] * excess_sens * u.region_weight[None, :]
    )
    ctx.signal("movement_pain_region", regional)
    movement_pain = regional @ weights if weights.sum() > 0 else np.zeros(u.n)
    ex_noci = ctx.g("PE1") * p["k_exercise_nociception"] * metab * sens_exercised * xp.sqrt(mass) + movement_pain
    ctx.signal("exercise_nociception", ex_noci)
    ctx.signal("working_mass", np.full(u.n, mass) * on)

    # eccentric damage (per region) and its delayed soreness
    ecc = ctx.g("EX4") * u.is_family("eccentric") * on * xp.power(xp.maximum(u.intensity, 0.0), 2)
    repair = p["tau_damage_repair"][:, None]
    ctx.relax("damage", p["k_eccentric_damage"][:, None] * ecc[:, None] * u.region_weight[None, :] * repair, repair)
    ctx.relax("doms", s["damage"], p["tau_doms"][:, None])

    injury = xp.broadcast_to(u.injury, s["psens"].shape)
    acid = xp.broadcast_to(u.acid, s["psens"].shape)
    target = (
        1.0
        + p["psens_condition"]
        + ctx.g_regional("PE4") * p["k_doms_sens"][:, None] * s["doms"]
        + ctx.g_regional("PE5") * p["k_injury_sens"][:, None] * injury * _inflammatory_factor(ctx)[:, None]
        + ctx.g_regional("PE6") * p["k_acid_sens"][:, None] * acid
    )
    ctx.relax("psens", ctx.node_regional("peripheral_sensitisation") * target, p["tau_peripheral_sens"][:, None])
