r"""Searching the dose space under safety constraints.

For every candidate (type × region, :mod:`eihlab.prescribe.candidates`) the search

1. simulates a coarse grid — :data:`GRID_POINTS` intensities across the type's range at each volume — with all
   intensities of a volume in one vectorised run (:func:`eihlab.prescribe.simulate.simulate_dose`);
2. refines the intensity of the best feasible grid point by bounded scalar optimisation
   (:func:`scipy.optimize.minimize_scalar`, Brent's method on the bracket between its grid neighbours) of the
   penalised objective :math:`-J + P\cdot v`, with :math:`v` the summed constraint violations;
3. rounds the intensity to a whole unit and steps it down until the rounded dose is feasible.

**Objective** :math:`J`: the predicted acute EIH, the weighted mean over the virtual patients of the % change
in PPT :data:`~eihlab.prescribe.simulate.POST_MIN` minutes after the session, averaged over the painful sites
and the remote site with equal weight (painful sites first averaged among themselves).

**Constraints** (weighted fractions of the virtual patients):

* *flare risk* ≤ ``max_flare_risk``: a flare is a fall of PPT at any painful site by more than
  :data:`MDC_PCT` % right after the session or the next day (hyperalgesia beyond the minimal detectable
  change);
* *non-painful intensity on affected regions*: for candidates that load a painful region (``affected`` and
  ``whole body``), at most :data:`MAX_PAINFUL` of the virtual patients may be driven beyond their pain range
  — the model's averaged nociceptive barrage exceeding their NR1 phosphorylation threshold, the point at
  which RVM facilitation is recruited (the review's "beyond the patient's pain range", §4.6);
* *no exhaustion*: at most :data:`MAX_EXHAUSTED` of the virtual patients may reach :data:`FATIGUE_LIMIT` of
  their work capacity (sets are never taken to failure; above critical power the aerobic capacity drains
  within minutes, which this excludes too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar

from eihlab.engine.simulate import Perturbation
from eihlab.prescribe.candidates import Candidate
from eihlab.prescribe.cohort import PatientCohort, weighted_quantile
from eihlab.prescribe.simulate import NEXT_DAY_MIN, POST_MIN, Outcome, simulate_dose, simulate_programme

MDC_PCT = 10.0
"""Minimal detectable change of PPT, %: calibration_targets T3 gives an MDC95 of 29–51 kPa at sites of
400–700 kPa, i.e. about 7–10 %; the upper end is used so that only a clear fall counts as a flare."""
MAX_PAINFUL = 0.1
"""Largest fraction of virtual patients driven beyond their pain range by a dose on a painful region."""
FATIGUE_LIMIT = 0.8
"""Fraction of work capacity that counts as (near-)exhaustion (assumed: ≥ 20 % in reserve, i.e. sets ended
with repetitions in reserve as non-failure training prescribes)."""
MAX_EXHAUSTED = 0.1
"""Largest fraction of virtual patients allowed to reach :data:`FATIGUE_LIMIT`."""
GRID_POINTS = 6
"""Intensities per volume in the coarse grid."""
PENALTY = 200.0
"""Objective points (% PPT change) per unit of constraint violation in the refinement."""
CI = (0.05, 0.95)
"""Quantiles of the reported predictive interval (90 % of the virtual patients)."""


@dataclass(frozen=True)
class Evaluation:
    """One dose's predictions for the patient cohort."""

    candidate: Candidate
    volume: float
    value: float
    eih: dict[str, np.ndarray]
    next_day: dict[str, np.ndarray]
    flare: float
    painful: float
    exhausted: float
    objective: float
    violation: float
    reasons: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        """All constraints met."""
        return not self.reasons


@dataclass
class Search:
    """The search of one candidate: the chosen dose (``best``, None when nothing is feasible) and the grid."""

    candidate: Candidate
    best: Evaluation | None
    grid: list[Evaluation]
    evaluations: int
    reason: str = ""


@dataclass
class Optimiser:
    """Evaluates and searches doses for one patient cohort.

    Parameters
    ----------
    cohort
        The weighted virtual patients.
    painful_sites
        Sites where the patient hurts (for a pain-free person: the test sites).
    remote_site
        A site away from the painful ones.
    max_flare_risk
        Largest acceptable flare risk.
    grid_points
        Intensities per volume in the coarse grid.
    refine
        Refine the best grid point with Brent's method (off: a coarse search, e.g. for quick checks).
    """

    cohort: PatientCohort
    painful_sites: tuple[str, ...]
    remote_site: str
    max_flare_risk: float = 0.2
    grid_points: int = GRID_POINTS
    refine: bool = True
    evaluations: int = 0
    _cache: dict[tuple[str, float, float, str], Evaluation] = field(default_factory=dict)

    @property
    def sites(self) -> list[str]:
        """Every PPT site simulated."""
        return list(dict.fromkeys([*self.painful_sites, self.remote_site]))

    def evaluate(
        self,
        cand: Candidate,
        volume: float,
        values: Sequence[float],
        gains: Perturbation | None = None,
        gains_key: str = "",
    ) -> list[Evaluation]:
        """Predictions for several intensities of one candidate at one volume (one vectorised run)."""
        keys = [(cand.key, float(volume), round(float(v), 4), gains_key) for v in values]
        todo = [float(v) for v, k in zip(values, keys, strict=True) if k not in self._cache]
        if todo:
            c = self.cohort
            initial = c.rest if gains is None else c.rest_under(gains, gains_key)
            out = simulate_dose(
                c.draw, cand.dose(volume), todo, cand.unit, self.sites, seed=c.seed, initial=initial, gains=gains
            )
            self.evaluations += len(todo)
            for i, v in enumerate(todo):
                self._cache[(cand.key, float(volume), round(v, 4), gains_key)] = self._judge(cand, volume, v, out, i)
        return [self._cache[k] for k in keys]

    def _judge(self, cand: Candidate, volume: float, value: float, out: Outcome, i: int) -> Evaluation:
        w = self.cohort.weights
        eih = {s: out.ppt[(s, POST_MIN)][i] for s in self.sites}
        later = {s: out.ppt[(s, NEXT_DAY_MIN)][i] for s in self.sites}
        worst = np.min(np.stack([np.minimum(eih[s], later[s]) for s in self.painful_sites]), axis=0)
        flare = float(np.sum(w * (worst < -MDC_PCT)))
        painful = float(np.sum(w * (out.barrage[i] > 1.0)))
        exhausted = float(np.sum(w * (out.fatigue[i] >= FATIGUE_LIMIT)))
        local = np.mean([np.sum(w * eih[s]) for s in self.painful_sites])
        objective = float(0.5 * local + 0.5 * np.sum(w * eih[self.remote_site]))
        reasons = []
        violation = 0.0
        if flare > self.max_flare_risk:
            reasons.append(f"flare risk {flare:.0%} > {self.max_flare_risk:.0%}")
            violation += flare - self.max_flare_risk
        if cand.role != "non-affected" and painful > MAX_PAINFUL:
            reasons.append(f"painful for {painful:.0%} of virtual patients on a painful region")
            violation += painful - MAX_PAINFUL
        if exhausted > MAX_EXHAUSTED:
            reasons.append(f"{exhausted:.0%} reach exhaustion")
            violation += exhausted - MAX_EXHAUSTED
        return Evaluation(
            cand,
            float(volume),
            float(value),
            eih,
            later,
            flare,
            painful,
            exhausted,
            objective,
            violation,
            tuple(reasons),
        )

    def search(self, cand: Candidate) -> Search:
        """Coarse grid, then bounded refinement of the intensity (see the module docstring)."""
        start = self.evaluations
        grid_values = list(np.linspace(cand.lo, cand.hi, self.grid_points))
        grid: list[Evaluation] = []
        for volume in cand.volumes:
            grid.extend(self.evaluate(cand, volume, grid_values))
        feasible = [e for e in grid if e.feasible]
        if not feasible:
            gentlest = min(grid, key=lambda e: (e.violation, e.value, e.volume))
            return Search(cand, None, grid, self.evaluations - start, "; ".join(gentlest.reasons))
        best = max(feasible, key=lambda e: e.objective)
        if not self.refine:
            return Search(cand, self._round(cand, best), grid, self.evaluations - start)
        step = grid_values[1] - grid_values[0]
        lo, hi = max(cand.lo, best.value - step), min(cand.hi, best.value + step)

        def penalised(x: float) -> float:
            e = self.evaluate(cand, best.volume, [float(x)])[0]
            return -e.objective + PENALTY * e.violation

        res = minimize_scalar(penalised, bounds=(lo, hi), method="bounded", options={"xatol": 1.0, "maxiter": 8})
        refined = self.evaluate(cand, best.volume, [float(res.x)])[0]
        if refined.feasible and refined.objective > best.objective:
            best = refined
        chosen = self._round(cand, best)
        return Search(cand, chosen, grid, self.evaluations - start)

    def _round(self, cand: Candidate, best: Evaluation) -> Evaluation:
        value = float(np.floor(best.value))
        for _ in range(5):
            e = self.evaluate(cand, best.volume, [value])[0]
            if e.feasible:
                return e
            value -= 1.0
            if value < cand.lo:
                break
        return best

    def interval(self, values: np.ndarray) -> tuple[float, float, float]:
        """Weighted mean and the :data:`CI` predictive interval of a per-patient quantity."""
        w = self.cohort.weights
        lo, hi = weighted_quantile(values, w, CI)
        return float(np.sum(w * values)), lo, hi


@dataclass(frozen=True)
class Phase:
    """One 4-week phase of the progression."""

    weeks: tuple[int, int]
    value: float
    volume: float
    sessions_per_week: int
    note: str = ""


@dataclass(frozen=True)
class Programme:
    """A 12-week progression and its predicted change of resting PPT (``{(site, week): per-patient %}``)."""

    phases: tuple[Phase, ...]
    change: dict[tuple[str, int], np.ndarray]


def progression(opt: Optimiser, start: Evaluation) -> tuple[Phase, ...]:
    """Weeks 1–4 at the chosen dose; 5–8 one more session a week and a volume step; 9–12 an intensity step.

    Each step is taken only if the stepped dose is itself feasible (acute flare risk, non-painful on affected
    regions, no exhaustion) for the patient cohort at rest; otherwise the dose is held and the phase says so.
    """
    cand = start.candidate
    s1, s2, s3 = cand.sessions()
    phases = [Phase((1, 4), start.value, start.volume, s1)]
    volume, note = start.volume, ""
    nxt = cand.next_volume(volume)
    if nxt != volume:
        if opt.evaluate(cand, nxt, [start.value])[0].feasible:
            volume = nxt
        else:
            note = "volume held: the longer session exceeded a safety limit"
    phases.append(Phase((5, 8), start.value, volume, s2, note))
    value, note = start.value, ""
    stepped = min(start.value + cand.intensity_step, cand.hi)
    if stepped != value:
        if opt.evaluate(cand, volume, [stepped])[0].feasible:
            value = stepped
        else:
            note = "intensity held: the next step exceeded a safety limit"
    phases.append(Phase((9, 12), value, volume, s3, note))
    return tuple(phases)


def simulate_progression(opt: Optimiser, cand: Candidate, phases: Sequence[Phase]) -> Programme:
    """Simulate the phases as one 12-week programme for the patient cohort."""
    c = opt.cohort
    doses = [(cand.dose(p.volume, sessions_per_week=p.sessions_per_week), p.value, cand.unit) for p in phases]
    change = simulate_programme(c.draw, doses, opt.sites, seed=c.seed, initial=c.rest)
    return Programme(tuple(phases), change)


def search_all(
    opt: Optimiser, candidates: Sequence[Candidate], progress: Callable[[str], None] | None = None
) -> list[Search]:
    """Search every candidate; feasible ones ranked by objective first, then the infeasible ones."""
    results = []
    for cand in candidates:
        if progress is not None:
            progress(cand.label)
        results.append(opt.search(cand))
    ranked = sorted((r for r in results if r.best is not None), key=lambda r: -r.best.objective)  # type: ignore[union-attr]
    return ranked + [r for r in results if r.best is None]


__all__ = [
    "FATIGUE_LIMIT",
    "MDC_PCT",
    "Evaluation",
    "Optimiser",
    "Phase",
    "Programme",
    "Search",
    "progression",
    "search_all",
    "simulate_progression",
]
