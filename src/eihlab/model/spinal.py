r"""Spinal dorsal horn: gate control, central sensitisation, microglia.

* Gate (SP2, SP3; Lu model b [47]): the inhibitory gate of each region relaxes towards the region's
  proprioceptive drive, :math:`\dot g_r = (k_g e^{-k_d\sigma} a_r - g_r)/\tau`, weakened by central
  sensitisation σ (disinhibition), with :math:`\tau = \tau_{g,\text{rise}}` (≈ 0.5 min) while the target
  exceeds the gate and :math:`\tau = \tau_g` (≈ 5 min) while it decays: segmental inhibition by large-fibre
  input follows that input within seconds, and model b's after-effect is the 'longer-lasting' part. At a test
  site the gate is :math:`\gamma = \sum_r c_{sr} g_r` with the segmental coupling :math:`c_{sr}` of
  :mod:`eihlab.model.body`; it divides the transmission-cell (T-cell) gain by :math:`1 + \gamma` (see
  :mod:`eihlab.model.percept`).
* Segmental wind-up :math:`w_r` rises within a minute towards :math:`k_w` times the movement-evoked pain
  of region r (loading a sensitised region; SP1) and fades over ~15 min; it raises the transmission gain at
  the region's segments.
* Hyperalgesic priming and its triggering (the two-hit acid model of chronic muscle pain: Sluka 2001,
  doi:10.1002/mus.1007; fatigue-enhanced hyperalgesia, Sluka 2012, doi:10.1016/j.pain.2012.04.005 and
  [62][64]). The first insult primes, the second triggers:

  - latent priming :math:`\pi \in [0, 1]`: a nociceptive barrage (acid, exercise-evoked) arriving while RVM
    NR1 is phosphorylated leaves a trace that decays over days (second acid injections 2-5 d apart give
    lasting hyperalgesia, 10 d apart do not): :math:`\dot\pi = r(1 - \pi) - \pi/\tau_\pi`, :math:`r = k_\pi\,b\,N`.
    Priming is silent: by itself it does not change thresholds (a fatiguing bout followed by neutral saline,
    or years of exercise-evoked barrage in trained neuropathic rats, leave no hyperalgesia);
  - the primed state becomes available to a trigger only after it has matured, :math:`\pi_m` following
    :math:`\pi` with :math:`\tau_m` of hours (priming needs new protein synthesis; a single acid injection,
    whose load clears within an hour, therefore primes but does not trigger itself);
  - a later low-pH muscle input (intramuscular acid, sensed by ASIC3; after a fatiguing run even pH 5 does,
    Yokoyama 2007, doi:10.1016/j.jpain.2007.05.008) triggers the expressed, lasting state
    :math:`\dot\mu = k_\mu\,A\,\pi_m (1 - \mu)/\rho - \mu/\tau_\mu`, which lasts
    weeks and is maintained centrally: it keeps RVM NR1 phosphorylated (:mod:`eihlab.model.descending`; Da
    Silva 2010, [63]) and adds :math:`k_\pi \mu` to dorsal-horn excitability. Muscle IL-10 from M2 macrophages
    of physically active animals opposes both priming and trigger, dividing their rates by
    :math:`\rho = 1 + k_{10,\pi}(\text{IL10}-1)_+` (Leung 2016, doi:10.1097/j.pain.0000000000000394).
* Latent central sensitisation :math:`\lambda` (dorsal-horn excitability: AMPA, TLR-4, P2X4 phosphorylation;
  SP5-SP7) relaxes (τ ≈ 2 d) to :math:`[\sigma_c + k_J J + k_p(\text{pro}-1)_+ + k_{M1}(\text{M1}-1)]_+`,
  where :math:`\sigma_c` is the condition's central sensitisation. Pro-inflammatory cytokines sensitise only
  above the healthy level.
* Expressed central sensitisation :math:`\sigma` (what percepts see) follows within minutes
  :math:`[\lambda + k_\pi\mu + \hat J\,(k_{10} + k_4 - (k_{10}\,\text{IL10} + k_4\,\text{IL4})/(1 + c_\text{nal}))]_+`
  with :math:`\hat J = J/(J + J_r)`. IL-10 and IL-4 act on pain through the opioid that they make
  injury-activated immune cells release: IL-10 makes spinal microglia express β-endorphin (Wu et al. 2018,
  doi:10.1016/j.bbi.2018.06.015: naloxone, CTAP or β-endorphin antiserum completely block spinal IL-10
  anti-allodynia, separately from its anti-neuroinflammatory action), IL-4 makes M2 macrophages release opioid
  peptides (Celik et al. 2020, doi:10.1172/jci.insight.133093). The tone is measured from an injured animal at
  healthy cytokine levels: a fall of IL-10/IL-4 after injury is a loss of opioid tone (more sensitisation),
  a rise above healthy relieves it, and naloxone removes the whole tone within minutes, unmasking the
  sensitisation it held in remission (μ-opioid tone holds latent sensitisation in remission: Corder et al.
  2013, doi:10.1126/science.1232430). Their anti-inflammatory action is not counted here: it is in the
  cytokine and macrophage equations (IL-10 lowers pro-inflammatory cytokines, SP11b; the IL-4-driven M2
  milieu repolarises M1 macrophages, SP13c), so naloxone reverses the whole EIH that training's restoration of
  IL-10/IL-4 gives a neuropathic animal, as Stagg 2011 [16] reports. Both routes are shown in nerve-injured
  animals, whose injury activates the immune cells that make the opioid, hence the factor :math:`\hat J`
  (:math:`J_r` small): without injured tissue (fibromyalgia, chronic whiplash) training does not relieve
  sensitisation through IL-10/IL-4, and its effect there comes from the descending systems, as the small effect of
  aerobic training on tender points suggests (Busch et al. 2008, J Rheumatol 35:1130).
* Microglia relax to :math:`1 + k_\mu \sigma` (SP7).
"""

from __future__ import annotations

from eihlab.model import _ops as xp
from eihlab.model._context import Context
from eihlab.model._elements import Edge, Node, Param, StateVar

C = "spinal"
_WU = "doi:10.1016/j.bbi.2018.06.015"
_CELIK = "doi:10.1172/jci.insight.133093"
_CORDER = "doi:10.1126/science.1232430"
_SLUKA2001 = "doi:10.1002/mus.1007"
_SLUKA2012 = "doi:10.1016/j.pain.2012.04.005"
_LEUNG = "doi:10.1097/j.pain.0000000000000394"
A = "assumed: scale chosen so that the review's directions hold; to be calibrated (issue 3)"

NODES = (
    Node(
        "gate_cell", "spinal", "neuron", "'Glial' gate cells (substantia gelatinosa interneurons [X])", ("[47]", "[48]")
    ),
    Node("T_cell", "spinal", "neuron", "Central transmission cells (dorsal-horn projection neurons)", ("[47]",)),
    Node(
        "DH_neuron_excitability",
        "spinal",
        "state",
        "Dorsal-horn excitability: central sensitisation",
        ("[38]", "[39]", "[40]"),
    ),
    Node("AMPA_p", "spinal", "receptor", "AMPA receptor phosphorylation", ("[38]",)),
    Node("TLR4_p", "spinal", "receptor", "TLR-4 activation", ("[39]",)),
    Node("P2X4_p", "spinal", "receptor", "P2X4 activation", ("[40]",)),
    Node("microglia", "spinal", "immune_cell", "Microglial activation", ("[38]", "[39]", "[40]")),
    Node(
        "hyperalgesic_priming",
        "spinal",
        "state",
        "Lasting trace of nociception during descending facilitation",
        ("[62]", "[64]"),
    ),
)
EDGES = (
    Edge("SP1", "Adelta_afferent", "T_cell", +1, "nociceptive input (Aδ, C)", "T0", ("[47]", "[48]")),
    Edge("SP2", "Aa_Ab_afferent", "gate_cell", +1, "proprioception, pressure, tension", "T0", ("[47]", "[48]")),
    Edge("SP3", "gate_cell", "T_cell", -1, "gate inhibition", "T0", ("[47]", "[48]")),
    Edge("SP4", "T_cell", "VPL", +1, "ascending nociception", "T0", ("[47]",)),
    Edge(
        "SP5",
        "injury",
        "AMPA_p",
        +1,
        "persistent noxious input → receptor phosphorylation",
        "T3",
        ("[38]", "[39]", "[40]"),
    ),
    Edge("SP6", "AMPA_p", "DH_neuron_excitability", +1, "synaptic excitability", "T3", ("[38]", "[39]", "[40]")),
    Edge("SP7", "DH_neuron_excitability", "microglia", +1, "microglial activation", "T3", ("[38]", "[39]", "[40]")),
    Edge("SP9", "IL1b", "DH_neuron_excitability", +1, "pro-inflammatory cytokines sensitise", "T3", ("[41]",)),
    Edge("SP12", "IL10", "DH_neuron_excitability", -1, "IL-10 counteracts sensitisation", "T3", ("[43]", "[45]")),
    Edge("SP14", "macrophage_M1", "DH_neuron_excitability", +1, "M1 macrophages and pain", "T3", ("[44]",)),
    Edge("SP16", "IL4", "DH_neuron_excitability", -1, "IL-4 necessary for low-intensity EIH", "T3", ("[46]",)),
    Edge(
        "SP18",
        "RVM_NR1p",
        "hyperalgesic_priming",
        +1,
        "nociception during facilitation leaves priming",
        "T2",
        ("[62]", "[64]"),
    ),
    Edge(
        "SP19",
        "hyperalgesic_priming",
        "DH_neuron_excitability",
        +1,
        "triggered (expressed) priming sensitises",
        "T2",
        ("[62]", "[64]"),
    ),
    Edge(
        "SP23",
        "acid_injection",
        "hyperalgesic_priming",
        +1,
        "a low-pH muscle insult triggers the primed state into lasting hyperalgesia",
        "T2",
        ("[62]", "[64]", _SLUKA2001),
    ),
    Edge(
        "SP24",
        "IL10",
        "hyperalgesic_priming",
        -1,
        "muscle IL-10 (M2 macrophages of active animals) opposes priming and its triggering",
        "T3",
        ("[43]", _LEUNG),
    ),
    Edge(
        "SP22",
        "naloxone",
        "DH_neuron_excitability",
        +1,
        "naloxone unmasks sensitisation held down by IL-10/IL-4-induced opioid release",
        "T1",
        (_WU, _CELIK, _CORDER),
    ),
)
PARAMETERS = (
    Param(
        "k_windup",
        0.4,
        "1",
        0.0,
        2.0,
        "[47][48] (SP1) and review §7: exercising the painful limb gives no EIH or hyperalgesia",
        "segmental wind-up per unit movement-evoked pain of a region",
        0.3,
        C,
    ),
    Param(
        "tau_windup",
        15.0,
        "min",
        3.0,
        60.0,
        "assumed: short-term segmental sensitisation fades over tens of minutes",
        "decay of segmental wind-up",
        0.0,
        C,
    ),
    Param(
        "k_disinhibition",
        0.7,
        "1",
        0.0,
        3.0,
        "doi:10.1038/nature01868 (Coull 2003: loss of dorsal-horn inhibition in sensitisation)",
        "weakening of the large-fibre gate per unit central sensitisation",
        0.3,
        C,
    ),
    Param(
        "k_stimulation_cs",
        0.3,
        "1",
        0.0,
        1.5,
        "[71]-[73]: repeated tDCS of M1/DLPFC improves chronic pain and sensitisation",
        "maximal fall of central sensitisation with repeated cortical stimulation",
        0.3,
        C,
    ),
    Param(
        "k_gate",
        0.2,
        "1",
        0.0,
        1.5,
        "calibration_targets T2 (local ≈ 2 × remote after isometric exercise)",
        "gate strength per unit proprioceptive drive",
        0.6,
        C,
    ),
    Param(
        "tau_gate_rise",
        0.5,
        "min",
        0.1,
        3.0,
        "[47][48]: large-fibre (Aα/Aβ) input inhibits dorsal-horn transmission segmentally within seconds; "
        "[3]: EIH is present immediately after brief (1.5-5 min) isometric bouts and sets of resistance exercise",
        "rise time of the segmental gate while proprioceptive drive is on",
        0.3,
        C,
    ),
    Param(
        "tau_gate",
        5.0,
        "min",
        0.5,
        20.0,
        "[47] Lu model b is 'longer-lasting' than model a; T2 local EIH is measured within minutes",
        "decay of the gate after movement",
        0.3,
        C,
    ),
    Param("tau_central_sens", 2880.0, "min", 720.0, 14400.0, A, "time constant of central sensitisation", 0.0, C),
    Param("k_injury_cs", 0.8, "1", 0.0, 3.0, "[38]-[40]", "central sensitisation per unit injury", 0.3, C),
    Param("k_proinflammatory_cs", 0.5, "1", 0.0, 2.0, "[41]", "sensitisation per unit pro-inflammatory excess", 0.3, C),
    Param("k_m1_cs", 0.2, "1", 0.0, 1.0, "[44]", "sensitisation per unit M1 macrophage excess", 0.3, C),
    Param(
        "k_il10_cs",
        0.4,
        "1",
        0.0,
        2.0,
        "[43][45]: IL-10 antagonist partly blocks EIH",
        "opioid-mediated desensitisation per unit IL-10 signal (relative to healthy) in injured animals",
        0.3,
        C,
    ),
    Param(
        "k_il4_cs",
        0.6,
        "1",
        0.0,
        2.0,
        "[46]: IL-4 antagonist abolishes low-intensity EIH",
        "opioid-mediated desensitisation per unit IL-4 signal (relative to healthy) in injured animals",
        0.3,
        C,
    ),
    Param(
        "injury_relief_half",
        0.05,
        "1",
        0.01,
        0.5,
        f"assumed: the opioid-mediated IL-10/IL-4 relief is shown in nerve-injured animals, where injury-activated "
        f"spinal microglia ({_WU}) and M2 macrophages at the injured nerve ({_CELIK}) make the opioid; no source "
        "shows exercise-raised IL-10/IL-4 relieving sensitisation without injured tissue, and aerobic training "
        "in fibromyalgia changes tender-point thresholds little (SMD 0.23, 95 % CI -0.18 to 0.65; Busch et al. "
        "2008, J Rheumatol 35:1130). Small, so that a rodent injury model keeps most of the relief",
        "injury level (saturated injury drive J) at which the immune relief of sensitisation is half-engaged",
        0.0,
        C,
    ),
    Param(
        "k_priming_rate",
        0.3,
        "1/min",
        0.0,
        1.0,
        f"{_SLUKA2001}; [62]: one pH 4 injection or one fatiguing bout primes (a later pH 4 or pH 5 injection then "
        "gives lasting hyperalgesia); assumed scale: one pH 4 injection or a 2-h fatiguing run brings a mouse "
        "near the ceiling. Priming is latent, so trained neuropathic rats that prime themselves from their "
        "exercise-evoked barrage stay unaffected unless a low-pH insult follows",
        "latent priming per minute of nociceptive barrage during NR1 facilitation",
        0.3,
        C,
    ),
    Param(
        "tau_priming",
        7200.0,
        "min",
        1440.0,
        20160.0,
        f"{_SLUKA2001}: a second acid injection 2-5 d after the first gives lasting hyperalgesia, 10 d after "
        "does not; [62][64]",
        "decay of latent hyperalgesic priming",
        0.0,
        C,
    ),
    Param(
        "tau_priming_maturation",
        360.0,
        "min",
        30.0,
        1440.0,
        f"assumed: priming needs new protein synthesis over hours; {_SLUKA2001}: a single acid injection gives "
        "only transient hyperalgesia (it primes but does not trigger itself), a 2-h fatiguing run followed by "
        f"acid does ([62], {_SLUKA2012})",
        "time for latent priming to become available to a trigger",
        0.0,
        C,
    ),
    Param(
        "k_priming_trigger",
        0.1,
        "1/min",
        0.0,
        0.5,
        f"{_SLUKA2001}; [62]: the second pH 4 (or a pH 5 after fatigue) injection gives lasting bilateral "
        "hyperalgesia; assumed scale: a pH 5 injection (drive 2, cleared within ~1 h) into a fully primed "
        "mouse triggers most of the maximal response",
        "rate of triggering per unit low-pH drive and mature priming",
        0.3,
        C,
    ),
    Param(
        "tau_primed_hyperalgesia",
        40320.0,
        "min",
        4320.0,
        60480.0,
        f"{_SLUKA2001}: hyperalgesia after the second acid injection lasts about 4 weeks; Da Silva 2010 [63]: "
        "maintained by RVM NMDA receptors",
        "decay of triggered (expressed) priming",
        0.0,
        C,
    ),
    Param(
        "k_il10_priming",
        5.0,
        "1",
        0.0,
        10.0,
        f"{_LEUNG}: IL-10 from M2 muscle macrophages of physically active mice prevents the acid model's "
        "hyperalgesia, and blocking muscle IL-10 restores it (assumed scale: a 50 % IL-10 excess slows priming "
        "and triggering 3.5-fold)",
        "relative fall of the priming and triggering rates per unit IL-10 excess",
        0.3,
        C,
    ),
    Param(
        "k_priming_cs",
        2.0,
        "1",
        0.0,
        3.0,
        f"assumed: {_SLUKA2001} reports a large bilateral fall of paw withdrawal thresholds after the second acid "
        "injection; with the maintained NR1 facilitation, full triggered priming lowers a mechanical threshold by "
        "~75 %",
        "central sensitisation per unit triggered priming",
        0.3,
        C,
    ),
    Param("k_microglia", 1.0, "1", 0.0, 3.0, A, "microglial activation per unit sensitisation", 0.2, C),
    Param(
        "tau_cs_expression",
        10.0,
        "min",
        2.0,
        60.0,
        f"{_CORDER}: naloxone reinstates masked hyperalgesia within 15-30 min; {_WU}: intrathecal naloxone "
        "blocks IL-10 anti-allodynia acutely",
        "time constant with which expressed dorsal-horn excitability follows its latent level and opioid tone",
        0.0,
        C,
    ),
)
MAX_SENSITISATION = 5.0
"""Ceiling of central sensitisation and priming (dorsal-horn excitability saturates; keeps the
sensitisation → exercise pain → NR1 → priming loop bounded)."""

STATES = (
    StateVar("gate", "gate_cell", "1", 0.0, "segmental gate inhibition (per region)", per_region=True),
    StateVar("windup", "T_cell", "1", 0.0, "segmental wind-up from movement-evoked pain (per region)", per_region=True),
    StateVar("priming", "hyperalgesic_priming", "1", 0.0, "latent hyperalgesic priming (0-1)"),
    StateVar("priming_mature", "hyperalgesic_priming", "1", 0.0, "latent priming available to a trigger (0-1)"),
    StateVar("primed_sens", "hyperalgesic_priming", "1", 0.0, "triggered priming: lasting hyperalgesia (0-1)"),
    StateVar("latent_sens", "DH_neuron_excitability", "1", 0.0, "latent central sensitisation (0 = healthy)"),
    StateVar("central_sens", "DH_neuron_excitability", "1", 0.0, "expressed central sensitisation (0 = healthy)"),
    StateVar("microglia", "microglia", "1", 1.0, "microglial activation, relative"),
)


def dynamics(ctx: Context) -> None:
    """Gate, priming, central sensitisation and microglia."""
    s, p, u = ctx.s, ctx.p, ctx.u
    # central sensitisation disinhibits the dorsal horn (KCC2 loss): the large-fibre gate weakens
    disinhibition = xp.exp(-p["k_disinhibition"] * s["central_sens"])[:, None]
    drive = (
        ctx.g_regional("SP2")
        * ctx.node_regional("gate_cell")
        * p["k_gate"][:, None]
        * disinhibition
        * ctx.sig["proprio_drive"]
    )
    ctx.relax_asymmetric("gate", drive, p["tau_gate_rise"][:, None], p["tau_gate"][:, None])
    # persistent nociceptive input from loading a painful region winds up its segments (SP1)
    windup = ctx.g_regional("SP1") * p["k_windup"][:, None] * ctx.sig["movement_pain_region"]
    ctx.relax_asymmetric("windup", windup, 1.0, p["tau_windup"][:, None])

    acid = xp.asarray(u.acid)
    acid_total = acid.sum(axis=-1) if acid.ndim > 1 else xp.broadcast_to(acid, (u.n,))
    barrage = acid_total + ctx.sig["exercise_nociception"]
    ctx.signal("nociceptive_barrage", barrage)
    # latent priming: d(priming)/dt = r (1 - priming) - priming/tau with r = k * barrage * NR1p, written in
    # relaxation form (1/tau_eff = r + 1/tau, target r tau_eff): the ceiling bounds the trace, not its build-up
    # IL-10 from M2 macrophages of active animals opposes both the priming and its triggering (SP24)
    node = ctx.node("hyperalgesic_priming")
    il10_restraint = 1.0 + ctx.g("SP24") * p["k_il10_priming"] * xp.maximum(ctx.sig["il10_signal"] - 1.0, 0.0)
    rate = ctx.g("SP18") * p["k_priming_rate"] * barrage * s["nr1p"] / il10_restraint
    tau_p = 1.0 / (rate + 1.0 / p["tau_priming"])
    ctx.relax("priming", node * rate * tau_p, tau_p)
    ctx.relax("priming_mature", s["priming"], p["tau_priming_maturation"])
    # a low-pH muscle insult triggers the mature priming into lasting hyperalgesia
    trigger = ctx.g("SP23") * p["k_priming_trigger"] * acid_total * s["priming_mature"] / il10_restraint
    tau_t = 1.0 / (trigger + 1.0 / p["tau_primed_hyperalgesia"])
    ctx.relax("primed_sens", node * trigger * tau_t, tau_t)
    injury = ctx.sig["injury_level"]
    sens = (
        p["cs_condition"]
        + ctx.g("SP5") * ctx.g("SP6") * p["k_injury_cs"] * injury
        # cytokines sensitise above the healthy level; lowered below it (by a trained person's IL-10) they do not
        # desensitise
        + ctx.g("SP9") * p["k_proinflammatory_cs"] * xp.maximum(s["proinflammatory"] - 1.0, 0.0)
        + ctx.g("SP14") * p["k_m1_cs"] * (s["macrophage_m1"] - 1.0)
        - ctx.g("CX18b") * p["k_stimulation_cs"] * s["stimulation_load"] / (s["stimulation_load"] + 0.3)
    )
    # IL-10/IL-4 act on pain through the opioid that injury-activated immune cells release (Wu 2018; Celik
    # 2020): a tone measured from an injured animal at healthy cytokine levels, removed by naloxone in minutes
    injured = injury / (injury + p["injury_relief_half"])
    k10 = ctx.g("SP12") * p["k_il10_cs"]
    k4 = ctx.g("SP16") * p["k_il4_cs"]
    blocker = ctx.g("SP22") * (u.drug_level("naloxone") + u.drug_level("naltrexone"))
    opioid_tone = (k10 * ctx.sig["il10_signal"] + k4 * ctx.sig["il4_signal"]) / (1.0 + blocker)
    unrelieved = injured * (k10 + k4 - opioid_tone)
    latent = xp.clip(sens, 0.0, MAX_SENSITISATION)
    ctx.relax("latent_sens", ctx.node("DH_neuron_excitability") * latent, p["tau_central_sens"])
    # triggered priming is expressed (weeks, [62][64]); latent priming is silent
    primed = ctx.g("SP19") * p["k_priming_cs"] * s["primed_sens"]
    expressed = xp.clip(s["latent_sens"] + primed + unrelieved, 0.0, MAX_SENSITISATION)
    ctx.relax("central_sens", expressed, p["tau_cs_expression"])
    ctx.relax("microglia", 1.0 + ctx.g("SP7") * p["k_microglia"] * s["central_sens"], p["tau_central_sens"])
