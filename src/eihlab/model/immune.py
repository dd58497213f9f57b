r"""Spinal neuro-immune state (T3): cytokines and macrophage phenotype.

Relaxation targets (τ in days; :math:`J` injury drive, :math:`L` training loads with saturation
:math:`\hat L = L/(L + L_{50})`, :math:`\beta_x` the fraction of cytokine x left free by its antagonist):

* IL-4 (with IL-1ra and IL-5, lumped): :math:`\mathrm{IL4} = 1 - k_J \hat J + k_4 \hat L_\text{low}` — falls
  after nerve injury and is restored by 2 weeks of low-intensity treadmill (SP15, [46]).
* M2 macrophages: :math:`1 + k_{M2}\,\hat L_\text{all}\,\mathrm{IL4}\,\beta_4` — exercise shifts macrophages
  to M2 (SP10, [43][46]) through IL-4 signalling, the canonical M2-polarising cytokine (doi:10.1038/nri3073);
  this is why blocking IL-4 abolishes low-intensity EIH (SP16).
* IL-10: :math:`\mathrm{M2}` (SP11, [43]).
* M1 macrophages: :math:`1 + (k_J - k_{M1}\hat L_\text{all})\hat J / (1 + k_\text{rep}(\mathrm{M2}-1)_+)`.
  Injury recruits macrophages (SP13b); training recruits fewer (SP13); and the IL-4-driven M2 milieu that
  training builds repolarises the recruited cells (SP13c): macrophages are plastic and switch phenotype with
  their cytokine environment, IL-4 turning classically activated (M1) cells into alternatively activated
  (M2) ones (Stout et al. 2005, doi:10.4049/jimmunol.175.1.342; Sica & Mantovani 2012,
  doi:10.1172/JCI59643). This is how exercise lowers M1 after nerve injury [46] and keeps SCI rats' DRG
  macrophages near sham [44] — a phenotype shift of the same cells, not only fewer of them. Blocking IL-4
  blocks the M2 rise and so this part of the M1 fall. Before SP13c the M1 fall was the SP13 term alone,
  ``k_M1 L̂ Ĵ`` against an injury excess ``k_J Ĵ`` (k_M1 ≈ 0.5, k_J = 1.5, L̂ ≈ 0.4 for 20-30 min/day):
  about 14 % of the excess, half the between-animal spread of M1.
* pro-inflammatory IL-1β/IL-2/IL-6/TNF-α: :math:`(1 + k_J\hat J + k_{p}(\mathrm{M1}-1))/(1 + k_{10}(\mathrm{IL10}-1)_+)`
  (SP8, SP11b, [41][42]).
* M2-derived opioid peptides at the injured nerve (a signal, no state):
  :math:`\Omega = k_\Omega\,(\mathrm{M2}-1)_+ / (1 + c_\text{nal})` (SP20). IL-4-polarised M2
  macrophages release β-endorphin and Met-enkephalin where they infiltrate injured tissue and relieve
  neuropathic pain through peripheral opioid receptors, reversibly by naloxone (Celik et al. 2020,
  doi:10.1172/jci.insight.133093; Pannell et al. 2016, doi:10.1186/s12974-016-0735-z). This serial
  IL-4 → M2 → opioid route is how the review's two "abolishes" findings — naloxone after regular running
  (SC4, [16]) and the IL-4 antagonist after low-intensity running (SP16, [46]) — can both hold. Ω lowers
  the gain of sensitised input only (:mod:`eihlab.model.percept`): peripheral opioid receptors act in
  injured, inflamed tissue (doi:10.1038/nm1001-1003), and there they are anti-hyperalgesic — they reverse
  the sensitisation, at most to the healthy gain, so Ω divides the log of the site's peripheral
  sensitisation by 1 + Ω. (Before 2026-11-28 it subtracted :math:`\Omega(1 - 1/\mathrm{psens})`, which for
  Ω > 1 pushed a sensitised site below healthy: 12 weeks of cycling quadrupled a knee-OA patient's knee PPT.)
"""

from __future__ import annotations

import numpy as np

from eihlab.model import _ops as xp
from eihlab.model._context import Context, saturating
from eihlab.model._elements import Edge, Node, Param, StateVar

C = "immune"
_CELIK = "doi:10.1172/jci.insight.133093"
_PANNELL = "doi:10.1186/s12974-016-0735-z"
_SICA = "doi:10.1172/JCI59643"
_STOUT = "doi:10.4049/jimmunol.175.1.342"
A = "assumed: scale chosen so that regular exercise reverses injury-induced changes within 2-5 weeks; to be calibrated"

NODES = (
    Node("IL1b", "spinal", "cytokine", "pro-inflammatory IL-1β", ("[41]", "[42]")),
    Node("IL2", "spinal", "cytokine", "pro-inflammatory IL-2", ("[41]",)),
    Node("IL6", "spinal", "cytokine", "pro-inflammatory IL-6", ("[41]", "[42]")),
    Node("TNFa", "spinal", "cytokine", "pro-inflammatory TNF-α", ("[41]", "[42]")),
    Node("IL10", "spinal", "cytokine", "anti-inflammatory IL-10 (from M2 macrophages)", ("[43]", "[45]")),
    Node("IL4", "spinal", "cytokine", "anti-inflammatory IL-4; necessary for low-intensity EIH", ("[46]",)),
    Node("IL1ra", "spinal", "cytokine", "IL-1 receptor antagonist", ("[46]",)),
    Node("IL5", "spinal", "cytokine", "anti-inflammatory IL-5", ("[46]",)),
    Node("macrophage_M1", "spinal", "immune_cell", "pro-inflammatory macrophages", ("[44]", "[46]")),
    Node("macrophage_M2", "spinal", "immune_cell", "anti-inflammatory macrophages", ("[43]", "[46]")),
    Node(
        "M2_opioid",
        "periphery",
        "transmitter",
        "β-endorphin/Met-enkephalin released by M2 macrophages at the injured nerve",
        (_CELIK, _PANNELL),
    ),
)
EDGES = (
    Edge(
        "SP8",
        "injury",
        "IL1b",
        +1,
        "chronic pain → pro-inflammatory cytokines (IL-1β, IL-2, IL-6, TNF-α)",
        "T3",
        ("[41]", "[42]"),
    ),
    Edge("SP8b", "macrophage_M1", "IL6", +1, "M1 secretion of pro-inflammatory factors", "T3", ("[44]",)),
    Edge("SP10", "training_load", "macrophage_M2", +1, "regular exercise", "T3", ("[43]", "[46]")),
    Edge(
        "SP10b", "IL4", "macrophage_M2", +1, "IL-4 polarises macrophages to M2", "T3", ("[46]", "doi:10.1038/nri3073")
    ),
    Edge("SP11", "macrophage_M2", "IL10", +1, "M2 secretion", "T3", ("[43]",)),
    Edge(
        "SP11b",
        "IL10",
        "IL1b",
        -1,
        "IL-10 suppresses pro-inflammatory cytokines",
        "T3",
        ("[43]", "doi:10.1146/annurev.immunol.19.1.683"),
    ),
    Edge("SP13", "training_load", "macrophage_M1", -1, "regular exercise", "T3", ("[44]", "[46]")),
    Edge(
        "SP13c",
        "macrophage_M2",
        "macrophage_M1",
        -1,
        "the IL-4-driven M2 shift repolarises injury-recruited M1 macrophages (phenotype switch, not extra cells)",
        "T3",
        ("[44]", "[46]", _SICA, _STOUT),
    ),
    Edge(
        "SP15", "training_load", "IL4", +1, "2 wk low-intensity treadmill restores IL-4, IL-1ra, IL-5", "T3", ("[46]",)
    ),
    Edge("SP15b", "injury", "IL4", -1, "nerve injury lowers IL-4, IL-1ra, IL-5", "T3", ("[46]",)),
    Edge("SP13b", "injury", "macrophage_M1", +1, "injury recruits M1 macrophages", "T3", ("[44]",)),
    Edge("SP20", "macrophage_M2", "M2_opioid", +1, "M2 macrophages release opioid peptides", "T3", (_CELIK, _PANNELL)),
    Edge(
        "SP21",
        "M2_opioid",
        "peripheral_sensitisation",
        -1,
        "peripheral opioid analgesia in injured tissue (naloxone-sensitive)",
        "T1",
        (_CELIK, "doi:10.1038/nm1001-1003"),
    ),
    Edge("PH1b", "naloxone", "M2_opioid", -1, "naloxone blocks peripheral opioid receptors", "T1", ("[16]", _CELIK)),
)
PARAMETERS = (
    Param("tau_cytokine", 2880.0, "min", 720.0, 10080.0, A, "time constant of cytokine levels", 0.0, C),
    Param("tau_macrophage", 5760.0, "min", 1440.0, 20160.0, A, "time constant of macrophage phenotype", 0.0, C),
    Param("load_half", 0.3, "h/d", 0.05, 2.0, A, "training load giving half the maximal immune response", 0.3, C),
    Param("injury_half", 1.0, "1", 0.2, 5.0, A, "injury drive giving half the maximal immune response", 0.0, C),
    Param(
        "k_injury_il4",
        0.5,
        "1",
        0.0,
        0.9,
        "[46]: IL-4, IL-1ra, IL-5 fall after nerve injury",
        "fractional fall of IL-4 with injury",
        0.2,
        C,
    ),
    Param("k_load_il4", 0.8, "1", 0.0, 2.0, "[46]", "IL-4 restoration by low-intensity training", 0.3, C),
    Param("k_load_m2", 1.5, "1", 0.0, 4.0, "[43][46]", "M2 rise with training", 0.3, C),
    Param("k_injury_m1", 1.5, "1", 0.0, 4.0, "[44]", "M1 rise after injury", 0.3, C),
    Param("k_load_m1", 0.6, "1", 0.0, 0.9, "[44][46]", "fractional M1 fall with training", 0.3, C),
    Param(
        "k_m2_repolarisation",
        1.5,
        "1",
        0.0,
        4.0,
        f"{_SICA}, {_STOUT} (macrophages switch phenotype with their cytokine milieu: IL-4 turns M1 into M2); "
        "[44][46] (exercise shifts nerve-injury macrophages from M1 to M2 and keeps SCI rats' M1 near sham). "
        "Size assumed: with the M2 excess of 0.6-0.7 that 2-4 weeks of low-intensity running produce here, "
        "about half of the injury-recruited M1 excess is repolarised",
        "fractional repolarisation of injury-recruited M1 macrophages per unit M2 excess",
        0.3,
        C,
    ),
    Param("k_injury_proinflammatory", 1.0, "1", 0.0, 4.0, "[41][42]", "pro-inflammatory rise with injury", 0.3, C),
    Param("k_m1_proinflammatory", 0.5, "1", 0.0, 2.0, "[44]", "pro-inflammatory secretion per M1 excess", 0.3, C),
    Param(
        "k_il10_proinflammatory",
        1.0,
        "1",
        0.0,
        2.0,
        "doi:10.1146/annurev.immunol.19.1.683 (IL-10 inhibits IL-1β/IL-6/TNF-α production); strength assumed",
        "suppression of pro-inflammatory cytokines per unit IL-10 excess",
        0.3,
        C,
    ),
    Param(
        "k_m2_opioid",
        1.5,
        "1",
        0.0,
        5.0,
        f"assumed: M2-opioid analgesia comparable to the injury's sensitisation ({_CELIK}); to be calibrated",
        "log-gain reduction of sensitised input per unit M2 excess",
        0.3,
        C,
    ),
)
STATES = (
    StateVar("il4", "IL4", "1", 1.0, "IL-4 (with IL-1ra, IL-5), relative to healthy"),
    StateVar("macrophage_m2", "macrophage_M2", "1", 1.0, "M2 macrophages, relative"),
    StateVar("il10", "IL10", "1", 1.0, "IL-10, relative"),
    StateVar("macrophage_m1", "macrophage_M1", "1", 1.0, "M1 macrophages, relative"),
    StateVar("proinflammatory", "IL1b", "1", 1.0, "IL-1β/IL-2/IL-6/TNF-α, relative"),
)


def injury_level(ctx: Context) -> np.ndarray:
    """Saturated total injury drive (peripheral regions plus central), in [0, 1)."""
    u = ctx.u
    regional = xp.asarray(u.injury)
    total = (regional.sum(axis=-1) if regional.ndim > 1 else regional) + xp.asarray(u.injury_central)
    return xp.asarray(saturating(xp.broadcast_to(total, (u.n,)), ctx.p["injury_half"]))


def dynamics(ctx: Context) -> None:
    """Cytokine and macrophage targets."""
    s, p = ctx.s, ctx.p
    injury = ctx.signal("injury_level", injury_level(ctx))
    half = p["load_half"]
    low = saturating(s["load_low"], half)
    all_ = saturating(s["load_all"], half)
    il4_free = 1.0 / (1.0 + ctx.u.drug_level("il4_antagonist"))
    il10_free = 1.0 / (1.0 + ctx.u.drug_level("il10_antagonist"))
    tc, tm = p["tau_cytokine"], p["tau_macrophage"]

    il4 = xp.maximum(1.0 - ctx.g("SP15b") * p["k_injury_il4"] * injury + ctx.g("SP15") * p["k_load_il4"] * low, 0.0)
    ctx.relax("il4", ctx.node("IL4") * il4, tc)
    il4_signal = ctx.signal("il4_signal", s["il4"] * il4_free)
    m2 = 1.0 + ctx.g("SP10") * p["k_load_m2"] * all_ * xp.power(il4_signal, ctx.g("SP10b") * 2.0)
    ctx.relax("macrophage_m2", ctx.node("macrophage_M2") * m2, tm)
    ctx.relax("il10", ctx.node("IL10") * (1.0 + ctx.g("SP11") * (s["macrophage_m2"] - 1.0)), tc)
    ctx.signal("il10_signal", s["il10"] * il10_free)
    # injury-recruited macrophages, fewer with training (SP13), of which the share repolarised to M2 by the
    # exercise-driven IL-4/M2 milieu is no longer M1 (SP13c; macrophage plasticity, doi:10.1172/JCI59643)
    recruited = xp.maximum(
        ctx.g("SP13b") * p["k_injury_m1"] * injury - ctx.g("SP13") * p["k_load_m1"] * all_ * injury, 0.0
    )
    repolarised = 1.0 + ctx.g("SP13c") * p["k_m2_repolarisation"] * xp.maximum(s["macrophage_m2"] - 1.0, 0.0)
    ctx.relax("macrophage_m1", ctx.node("macrophage_M1") * (1.0 + recruited / repolarised), tm)
    pro = (
        1.0
        + ctx.g("SP8") * p["k_injury_proinflammatory"] * injury
        + ctx.g("SP8b") * p["k_m1_proinflammatory"] * (s["macrophage_m1"] - 1.0)
    )
    # IL-10 suppresses pro-inflammatory cytokine production (doi:10.1146/annurev.immunol.19.1.683)
    suppression = 1.0 + ctx.g("SP11b") * p["k_il10_proinflammatory"] * xp.maximum(ctx.sig["il10_signal"] - 1.0, 0.0)
    ctx.relax("proinflammatory", ctx.node("IL1b") * xp.maximum(pro, 0.0) / suppression, tc)
    blocker = ctx.g("PH1b") * (ctx.u.drug_level("naloxone") + ctx.u.drug_level("naltrexone"))
    ctx.signal(
        "m2_opioid",
        ctx.node("M2_opioid")
        * ctx.g("SP20")
        * p["k_m2_opioid"]
        * xp.maximum(s["macrophage_m2"] - 1.0, 0.0)
        / (1.0 + blocker),
    )
