r"""Thalamus: the VM/MD nociceptive discriminators, VPL relay and VL (You et al. [49][55], §4.2).

* VM receives C-fibre heat input and, with the insula, triggers descending **inhibition**; its weight in the
  heat percept is :math:`v = k_\text{VM}\,\mathrm{GMV}_\text{insula}` at rest (TH1, TH2; exercise below).
* MD receives Aδ+C mechanical input and, with the ACC, triggers descending **facilitation**; its weight in
  the mechanical percept is :math:`d = k_\text{MD}(1 + \sigma)(1 - \mu e)(1 + k_b \bar b)`, where
  :math:`\bar b` is the nociceptive barrage (group III/IV, i.e. Aδ and C, muscle afferents during hard work;
  acid) averaged over minutes (:mod:`eihlab.model.descending`; 0 at rest), the input TH3 carries, so that
  exhausting work engages MD facilitation while its barrage lasts; the exercise modulation :math:`\mu` rises
  (τ ≈ 2 min) towards :math:`k_\mu` times the perceived exertion of active movement and decays (τ ≈ 20 min)
  after it; :math:`e = \min(E_\text{desc}, 1)` is the person's descending efficacy. Since perceived exertion is
  capped at maximal (:mod:`eihlab.model.periphery`) and :math:`k_\mu \le 1`, :math:`\mu e \le 1`: exercise can
  silence MD but never invert its weight (before that cap a high session exertion did, and one whiplash
  patient's low-back PPT rose by 440 kPa). The review says only that proprioception and the motor command "may
  promote or suppress" VM/MD function; a suppressive sign on MD is this implementation's inference ([X],
  mechanisms §4.2), the one that makes aerobic exercise raise PPT more than HPT (P4).
* The same modulation promotes VM: :math:`v = k_\text{VM}\,\mathrm{GMV}_\text{insula}(1 + k_{v}\mu)` (EX8, the
  promoting reading of the same sentence, [X]), so that exercise also lowers heat pain away from the exercised
  limb, where neither the segmental gate nor MD acts on a heat percept.
* VPL relays dorsal-horn output upwards and is inhibited by motor cortex stimulation (SC15).
"""

from __future__ import annotations

from eihlab.model import _ops as xp
from eihlab.model._context import Context
from eihlab.model._elements import Edge, Node, Param, StateVar

C = "thalamus"

NODES = (
    Node(
        "VM",
        "subcortical",
        "nucleus",
        "Thalamic ventromedial nucleus: heat/C discriminator → inhibition",
        ("[49]", "[55]"),
    ),
    Node(
        "MD",
        "subcortical",
        "nucleus",
        "Thalamic mediodorsal nucleus: mechanical Aδ+C discriminator → facilitation",
        ("[49]", "[55]"),
    ),
    Node("VPL", "subcortical", "nucleus", "Thalamic ventral posterolateral relay", ("[22]",)),
    Node("VL", "subcortical", "nucleus", "Thalamic ventrolateral nucleus (FC partner of M1, insula, PAG)", ("[58]",)),
)
EDGES = (
    Edge("TH1", "C_afferent", "VM", +1, "heat", "T0", ("[49]", "[55]")),
    Edge("TH2", "VM", "PAG_Glu", +1, "VM (with insula) initiates descending inhibition", "T0", ("[49]", "[55]")),
    Edge("TH3", "Adelta_afferent", "MD", +1, "mechanical (Aδ + C)", "T0", ("[49]", "[55]")),
    Edge("TH4", "MD", "RVM_ON", +1, "MD (with ACC) initiates descending facilitation", "T0", ("[49]", "[55]")),
    Edge("TH5", "insula", "VM", +1, "VM–insula projection", "T4", ("[49]", "[77]")),
    Edge("EX6", "exercise", "MD", -1, "proprioceptive/motor input may suppress MD facilitation", "T1", ("[X]", "[49]")),
    Edge("EX8", "exercise", "VM", +1, "proprioceptive/motor input may promote VM inhibition", "T1", ("[X]", "[49]")),
    Edge("SC15", "MCS", "VPL", -1, "motor cortex stimulation inhibits VPL nociceptive neurons", "T0", ("[22]",)),
)
PARAMETERS = (
    Param(
        "k_vm",
        0.3,
        "1",
        0.0,
        1.0,
        "[31][49]: HPT relates to descending inhibition",
        "VM-triggered inhibition in the heat percept",
        0.3,
        C,
    ),
    Param(
        "k_md",
        0.3,
        "1",
        0.0,
        1.0,
        "[31][49]: PPT relates to descending facilitation",
        "MD-triggered facilitation in the mechanical percept",
        0.3,
        C,
    ),
    Param(
        "k_md_exercise",
        0.4,
        "1",
        0.0,
        1.0,
        "assumed [X] (mechanisms §4.2): exercise suppresses MD facilitation",
        "maximal suppression of MD by active movement",
        0.6,
        C,
    ),
    Param(
        "k_vm_exercise",
        0.5,
        "1",
        0.0,
        2.0,
        "assumed [X] (mechanisms §4.2: proprioception and the motor command 'may promote or suppress' VM/MD "
        "function); the promoting reading for VM, the heat discriminator that triggers inhibition, is this "
        "implementation's inference; its scale is set by calibration_targets T4 (heat pain ratings after 55 and "
        "70 % HRR cycling, Naugle 2014 [6])",
        "relative rise of the VM weight per unit exercise modulation of the thalamus",
        0.3,
        C,
    ),
    Param(
        "k_md_nociception",
        0.2,
        "1",
        0.0,
        1.0,
        "[49][55] (TH3): MD is driven by Aδ+C mechanical nociceptive input and triggers facilitation; the group "
        "III/IV muscle afferents of exhausting work are Aδ and C fibres; assumed scale (a barrage of 1, sustained "
        "hard work, raises the MD weight by 20 %)",
        "rise of the MD weight per unit averaged nociceptive barrage",
        0.3,
        C,
    ),
    Param(
        "tau_md_rise",
        2.0,
        "min",
        0.5,
        10.0,
        "[3]: EIH appears immediately after short (1.5-5 min) isometric bouts",
        "rise time of the exercise modulation of MD",
        0.3,
        C,
    ),
    Param(
        "tau_md_modulation",
        20.0,
        "min",
        2.0,
        40.0,
        "[3]: acute EIH lasts up to ~30 min",
        "decay of the exercise modulation of MD",
        0.3,
        C,
    ),
    Param(
        "k_mcs_vpl", 0.5, "1", 0.0, 1.0, "[22]", "fractional VPL suppression during motor cortex stimulation", 0.0, C
    ),
)
STATES = (StateVar("md_modulation", "MD", "1", 0.0, "exercise suppression of MD facilitation (0-1)"),)


def dynamics(ctx: Context) -> None:
    """Discriminator weights and the exercise modulation of MD."""
    s, p, u = ctx.s, ctx.p, ctx.u
    active = ctx.sig["active_movement"]
    target = ctx.g("EX6") * p["k_md_exercise"] * ctx.sig["exertion"] * active
    ctx.relax_asymmetric("md_modulation", target, p["tau_md_rise"], p["tau_md_modulation"])
    ctx.signal(
        "vm_weight",
        ctx.g("TH1")
        * ctx.g("TH2")
        * ctx.node("VM")
        * p["k_vm"]
        * xp.power(s["insula_gmv"], ctx.g("TH5"))
        * (1.0 + ctx.g("EX8") * p["k_vm_exercise"] * s["md_modulation"]),
    )
    ctx.signal(
        "md_weight",
        ctx.g("TH3")
        * ctx.g("TH4")
        * ctx.node("MD")
        * p["k_md"]
        * (1.0 + s["central_sens"])
        # μ ≤ k_md_exercise ≤ 1 since perceived exertion is capped at maximal, so the suppression stays ≤ 1
        * (1.0 - s["md_modulation"] * xp.minimum(p["descending_efficacy"], 1.0))
        * (1.0 + ctx.g("TH3") * p["k_md_nociception"] * s["barrage_avg"]),
    )
    ctx.signal("vpl_suppression", 1.0 - ctx.g("SC15") * p["k_mcs_vpl"] * u.mcs)
