"""What an option relies on: knock the model's mechanisms out one at a time and see how much EIH is left.

For each option the predicted EIH (the optimiser's objective, :mod:`eihlab.prescribe.optimise`) is simulated
again with one model edge set to zero — the virtual patients' resting state recomputed under the knock-out —
for each edge of :data:`KNOCKOUTS`. An option *relies on* a mechanism when knocking it out lowers the
predicted EIH by at least :data:`RELIES_PP` percentage points and by at least :data:`RELIES_FRACTION` of the
option's EIH. Edge ids are those of ``eihlab model describe``.
"""

from __future__ import annotations

from dataclasses import dataclass

from eihlab.engine.simulate import Perturbation
from eihlab.prescribe.optimise import Evaluation, Optimiser

KNOCKOUTS: dict[str, str] = {
    "SP3": "spinal gate (large-fibre input from the moving muscle inhibits transmission)",
    "SC4": "descending opioid inhibition (PAG opioids → RVM OFF cells, naloxone-sensitive)",
    "SC8c": "endocannabinoid CB1 inhibition (PAG CB1 → RVM OFF cells)",
    "EX6": "movement suppresses MD-driven descending facilitation",
    "SC1": "descending inhibition as a whole (RVM OFF cells → dorsal horn)",
}
"""The mechanisms tested, by model edge id."""
RELIES_PP = 1.0
"""Smallest drop of predicted EIH (percentage points) that counts as reliance."""
RELIES_FRACTION = 0.15
"""Smallest drop, as a fraction of the option's predicted EIH, that counts as reliance."""


@dataclass(frozen=True)
class Reliance:
    """The effect of one knock-out on one option's predicted EIH."""

    edge: str
    mechanism: str
    eih_without: float
    drop: float
    relied_on: bool


def reliance(opt: Optimiser, option: Evaluation) -> list[Reliance]:
    """Knock out each mechanism of :data:`KNOCKOUTS` in turn; sorted by the drop in predicted EIH."""
    out = []
    base = option.objective
    for edge, words in KNOCKOUTS.items():
        gains = Perturbation({edge: 0.0}, {})
        ko = opt.evaluate(option.candidate, option.volume, [option.value], gains=gains, gains_key=edge)[0]
        drop = base - ko.objective
        relied = drop >= RELIES_PP and drop >= RELIES_FRACTION * abs(base)
        out.append(Reliance(edge, words, ko.objective, drop, relied))
    return sorted(out, key=lambda r: -r.drop)


__all__ = ["KNOCKOUTS", "Reliance", "reliance"]
