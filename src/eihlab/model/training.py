r"""Training load: the daily exercise dose that drives slow (T3) adaptation.

Each load is a leaky integrator of exercise in hours per day (τ = 3 d): while exercising its target is
:math:`24\,w(I)` (so that one hour a day of exercise with weight 1 settles at 1 h/d), at rest 0. The weights
split the dose by what the review says each system responds to (§4.3, "intensity mapping"):

* ``load_low`` — low-intensity, regular exercise (5-HT, IL-4; [46][54]): :math:`w = e^{-((I-0.35)/0.2)^2}`.
* ``load_high`` — moderate or higher intensity (opioids; [50]): :math:`w = \mathrm{logistic}((I - 0.55)/0.07)`.
* ``load_all`` — any active exercise (macrophage phenotype, SERT, M1, fitness, MOPFC; [15][43][76]).
* ``load_voluntary`` — self-chosen running (reward circuit; [59]).
* ``load_mind_body`` — yoga, tai chi, baduanjin (insula, VTA–MOPFC; [76][77]).

Aerobic fitness (VO2max relative to the start) relaxes (τ ≈ 3 wk) to :math:`1 + k_f L_\text{high}/(L_\text{high}
+ 0.3)`. A dose stated in absolute units (W, km/h, m/min, METs, kg) is then a smaller fraction of the
trained subject's capacity: :func:`eihlab.model.system.evaluate` divides its relative intensity by fitness.
"""

from __future__ import annotations

from eihlab.model import _ops as xp
from eihlab.model._context import Context, sigmoid
from eihlab.model._elements import Edge, Node, Param, StateVar

C = "training"
NODES = (
    Node("training_load", "systemic", "state", "Recent daily exercise dose (h/d)", ("[7]", "[16]")),
    Node("aerobic_fitness", "systemic", "state", "VO2max relative to the start (training adaptation)", ("[7]",)),
)
EDGES = (
    Edge("EX5", "exercise", "training_load", +1, "daily dose", "T3", ("[7]",)),
    Edge("EX7", "training_load", "aerobic_fitness", +1, "endurance training raises VO2max", "T3", ("[7]",)),
)
PARAMETERS = (
    Param(
        "k_fitness",
        0.15,
        "1",
        0.0,
        0.4,
        "doi:10.1249/MSS.0b013e318213fefb (ACSM 2011: VO2max rises ~10-20 % over 8-12 wk of training)",
        "maximal relative VO2max gain with training",
        0.4,
        C,
    ),
    Param(
        "tau_fitness",
        30240.0,
        "min",
        10080.0,
        80640.0,
        "assumed: VO2max adapts over ~3 weeks",
        "time constant of aerobic fitness",
        0.0,
        C,
    ),
    Param(
        "tau_training_load",
        4320.0,
        "min",
        1440.0,
        14400.0,
        "assumed: adaptation signals integrate the last few days of training",
        "time constant of training load",
        0.0,
        C,
    ),
    Param(
        "load_low_center",
        0.35,
        "1",
        0.2,
        0.5,
        "[46][54]: 'low-intensity' treadmill ≈ 10 m/min (≈ 30-40 % VO2max in rodents)",
        "relative intensity of peak low-intensity weight",
        0.0,
        C,
    ),
    Param(
        "load_high_threshold",
        0.55,
        "1",
        0.4,
        0.7,
        "[50]: opioid release with moderate or higher intensity",
        "relative intensity above which opioid load accrues",
        0.1,
        C,
    ),
)
STATES = tuple(
    StateVar(name, "training_load", "h/d", 0.0, desc)
    for name, desc in (
        ("load_low", "low-intensity training load"),
        ("load_high", "moderate-to-high-intensity training load"),
        ("load_all", "any active exercise"),
        ("load_voluntary", "voluntary running"),
        ("load_mind_body", "mind-body practice"),
    )
) + (StateVar("fitness", "aerobic_fitness", "1", 1.0, "VO2max relative to the start of the experiment"),)


def dynamics(ctx: Context) -> None:
    """Leaky integration of the exercise dose (hours per day)."""
    p, u = ctx.p, ctx.u
    on = ctx.sig["active_movement"] * ctx.g("EX5")
    intensity = u.intensity
    w_low = xp.exp(-(((intensity - p["load_low_center"]) / 0.2) ** 2))
    w_high = sigmoid(intensity, p["load_high_threshold"], 0.07)
    tau = p["tau_training_load"]
    scale = 24.0 * on
    ctx.relax("load_low", scale * w_low, tau)
    ctx.relax("load_high", scale * w_high, tau)
    ctx.relax("load_all", scale, tau)
    ctx.relax("load_voluntary", scale * u.voluntary_running, tau)
    ctx.relax("load_mind_body", scale * u.is_family("mind_body"), tau)
    gain = ctx.g("EX7") * p["k_fitness"] * ctx.s["load_high"] / (ctx.s["load_high"] + 0.3)
    ctx.relax("fitness", 1.0 + gain, p["tau_fitness"])
