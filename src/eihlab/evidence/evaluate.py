r"""Judging expectations on a simulated cohort with CI-aware rules.

Per-subject values are trial means; a change is taken from the arm's baseline (the latest probe at or
before time 0), as in :func:`eihlab.stats.subject_changes`.

* A contrast :math:`\sum_i c_i X_i` is estimated per subject when its terms share subjects (one-sample t
  interval of the per-subject combination), otherwise by Welch–Satterthwaite across arms.
* A correlation is Pearson's r over subjects with a Fisher-z interval.
* An effect size is the mean change over the SD of the change (:math:`d_z`, ``standardiser: change``) or over
  the average SD of the pre and post values (:math:`d_{av}`, ``standardiser: baseline``; the raw-score metric
  of Morris & DeShon 2002, doi:10.1037/1082-989X.7.1.105, used by pre-post meta-analyses).
* A ``subgroup`` first restricts the cohort to the subjects its term selects (:func:`select_subjects`).
* ``increase``/``positive`` pass when the lower 95 % limit is above 0, ``decrease``/``negative`` when the
  upper limit is below 0; ``not_increase`` passes unless the lower limit is above 0 (no significant rise),
  ``not_decrease`` unless the upper limit is below 0; ``within`` when the point estimate lies in [low, high].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from eihlab.errors import InputError
from eihlab.evidence.schema import Expectation, Subgroup, Term

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95 % interval."""

    value: float
    low: float
    high: float
    n: int

    def text(self) -> str:
        """``value [low, high]`` with three significant digits."""
        if not math.isfinite(self.low):
            return f"{self.value:.3g}"
        return f"{self.value:.3g} [{self.low:.3g}, {self.high:.3g}]"


class Cohort:
    """Per-subject values of a simulated (or real) experiment, indexed for term look-ups."""

    def __init__(self, observations: pd.DataFrame, design: str) -> None:
        cell = observations.groupby(["arm", "measure", "site", "time_min", "subject"], sort=True)["value"].mean()
        self.cell = cell
        self.design = design
        self.times: dict[tuple[str, str, str], np.ndarray] = {}
        for key, group in cell.groupby(level=["arm", "measure", "site"]):
            arm, measure, site = (str(k) for k in key)  # type: ignore[union-attr]
            self.times[(arm, measure, site)] = np.sort(group.index.get_level_values("time_min").unique().to_numpy())

    def _time(self, term: Term, site: str) -> float:
        key = (term.arm, term.measure, site)
        if key not in self.times:
            raise InputError(
                "expectation term",
                f"{term.arm}/{term.measure}/{site}",
                "an arm, measure and site the experiment probes",
            )
        ts = self.times[key]
        if term.time == "first_post":
            later = ts[ts > 0]
            return float(later[0] if later.size else ts[-1])
        if term.time == "last":
            return float(ts[-1])
        j = int(np.argmin(np.abs(ts - term.time)))
        if abs(ts[j] - term.time) > max(1.0, 0.01 * abs(term.time)):
            raise InputError(
                "expectation term.time", term.time, f"a probed time of {term.arm}/{term.measure}/{site}: {list(ts)}"
            )
        return float(ts[j])

    def restricted(self, subjects: pd.Index) -> Cohort:
        """The same cohort with only ``subjects`` (their probes keep their times)."""
        sub = object.__new__(Cohort)
        sub.cell = self.cell[self.cell.index.get_level_values("subject").isin(subjects)]
        sub.design, sub.times = self.design, self.times
        return sub

    def _values(self, term: Term, site: str, time: float) -> pd.Series:
        return self.cell.loc[(term.arm, term.measure, site, time)]

    def baseline(self, term: Term) -> pd.Series:
        """Per-subject baseline values of a single-site term (its arm's latest probe at or before 0)."""
        if isinstance(term.site, list):
            raise InputError("effect_size.site", term.site, "one site for a baseline-standardised d")
        ts = self.times[(term.arm, term.measure, term.site)]
        before = ts[ts <= 0]
        return self._values(term, term.site, float(before[-1] if before.size else ts[0]))

    def series(self, term: Term) -> pd.Series:
        """The term's per-subject series (without its coefficient)."""
        sites = term.site if isinstance(term.site, list) else [term.site]
        parts = []
        for site in sites:
            t = self._time(term, site)
            value = self._values(term, site, t)
            if term.statistic == "value":
                parts.append(value)
                continue
            ts = self.times[(term.arm, term.measure, site)]
            before = ts[ts <= 0]
            base = self._values(term, site, float(before[-1] if before.size else ts[0]))
            change = value - base
            parts.append(
                100.0 * change / base.where(base != 0) if term.statistic == "pct_change" or len(sites) > 1 else change
            )
        return pd.concat(parts, axis=1).mean(axis=1) if len(parts) > 1 else parts[0]


def _t_interval(x: np.ndarray) -> Estimate:
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Estimate(mean, mean - half, mean + half, n)


def contrast(cohort: Cohort, terms: list[Term]) -> Estimate:
    """Estimate a linear combination of terms (paired where the terms share subjects, else Welch)."""
    by_arm: dict[str, pd.Series] = {}
    for term in terms:
        s = term.coef * cohort.series(term)
        by_arm[term.arm] = s if term.arm not in by_arm else by_arm[term.arm].add(s, fill_value=np.nan)
    arms = list(by_arm.values())
    same_subjects = all(set(a.index) == set(arms[0].index) for a in arms)
    if len(arms) == 1 or (cohort.design == "crossover" and same_subjects):
        total = sum(a.reindex(arms[0].index) for a in arms)
        return _t_interval(np.asarray(total, dtype=float))
    means = [float(a.mean()) for a in arms]
    var_n = [float(a.var(ddof=1)) / a.count() for a in arms]
    se = math.sqrt(sum(var_n))
    value = sum(means)
    if se == 0.0:  # no between-subject variance (a deterministic read-out): the difference is exact
        return Estimate(value, value, value, int(sum(a.count() for a in arms)))
    df = sum(var_n) ** 2 / sum(v**2 / (a.count() - 1) for v, a in zip(var_n, arms, strict=True) if a.count() > 1)
    half = float(stats.t.ppf(0.975, df)) * se
    return Estimate(value, value - half, value + half, int(sum(a.count() for a in arms)))


def correlation(cohort: Cohort, x: Term, y: Term) -> Estimate:
    """Pearson r across subjects with a Fisher-z 95 % interval."""
    a, b = cohort.series(x).align(cohort.series(y), join="inner")
    ok = np.isfinite(a.to_numpy()) & np.isfinite(b.to_numpy())
    n = int(ok.sum())
    if n < 4 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return Estimate(math.nan, math.nan, math.nan, n)
    r = float(np.corrcoef(a[ok], b[ok])[0, 1])
    z, half = math.atanh(max(min(r, 0.999999), -0.999999)), Z95 / math.sqrt(n - 3)
    return Estimate(r, math.tanh(z - half), math.tanh(z + half), n)


def select_subjects(cohort: Cohort, subgroup: Subgroup) -> pd.Index:
    """Subjects whose subgroup term lies above/below its value, or the top/bottom fraction ranked by it.

    A fraction keeps ``f n`` subjects rounded half up (at least one) of the ``n`` with a finite value, ties broken by
    subject order.
    """
    values = cohort.series(subgroup.term).dropna()
    if subgroup.above is not None:
        return values.index[values > subgroup.above]
    if subgroup.below is not None:
        return values.index[values < subgroup.below]
    top = subgroup.top_fraction is not None
    fraction = subgroup.top_fraction if top else subgroup.bottom_fraction
    assert fraction is not None
    keep = max(1, math.floor(fraction * values.size + 0.5))
    rank = values.rank(method="first", ascending=not top)
    return values.index[rank <= keep]


def _terms(exp: Expectation) -> list[Term]:
    if exp.contrast is not None:
        return list(exp.contrast)
    if exp.correlation is not None:
        return list(exp.correlation)
    if exp.ratio is not None:
        return [*exp.ratio[0], *exp.ratio[1]]
    assert exp.effect_size is not None
    return [exp.effect_size]


def _subgroup_cohort(cohort: Cohort, exp: Expectation) -> Cohort:
    assert exp.subgroup is not None
    subjects = select_subjects(cohort, exp.subgroup)
    own_arm = exp.subgroup.term.arm
    for term in _terms(exp):
        if term.arm != own_arm and cohort.design != "crossover":
            raise InputError(
                "expectation subgroup",
                f"{own_arm} (terms of arm {term.arm})",
                "terms of the subgroup's own arm, or of any arm in a crossover (parallel arms have other subjects)",
            )
    return cohort.restricted(subjects)


def estimate(cohort: Cohort, exp: Expectation, summary: pd.DataFrame | None = None) -> Estimate:
    """The quantity an expectation is about (on its subgroup's subjects where it has one)."""
    if exp.subgroup is not None:
        cohort = _subgroup_cohort(cohort, exp)
    if exp.contrast is not None:
        return contrast(cohort, exp.contrast)
    if exp.correlation is not None:
        return correlation(cohort, *exp.correlation)
    if exp.ratio is not None:
        num, den = contrast(cohort, exp.ratio[0]), contrast(cohort, exp.ratio[1])
        value = num.value / den.value if den.value else math.nan
        return Estimate(value, math.nan, math.nan, num.n)
    assert exp.effect_size is not None
    change = cohort.series(exp.effect_size)
    if exp.standardiser == "baseline":
        base = cohort.baseline(exp.effect_size).reindex(change.index)
        sd = math.sqrt((float(base.var(ddof=1)) + float((base + change).var(ddof=1))) / 2.0)
    else:
        sd = float(change.std(ddof=1))
    return Estimate(float(change.mean()) / sd if sd > 0 else math.nan, math.nan, math.nan, int(change.count()))


def judge(exp: Expectation, est: Estimate) -> bool:
    """Whether an estimate meets the expectation (see the module docstring)."""
    v, lo, hi = est.value, est.low, est.high
    if not math.isfinite(v):
        return False
    lo = v if not math.isfinite(lo) else lo
    hi = v if not math.isfinite(hi) else hi
    match exp.expect:
        case "increase" | "positive":
            return lo > 0
        case "decrease" | "negative":
            return hi < 0
        case "not_increase":
            return not lo > 0
        case "not_decrease":
            return not hi < 0
        case _:
            low = -math.inf if exp.low is None else exp.low
            high = math.inf if exp.high is None else exp.high
            return low <= v <= high


def right_direction(exp: Expectation, est: Estimate) -> bool | None:
    """Whether the point estimate lies on the claimed side of 0 (``None`` for ``within`` and "no effect" rules).

    Separates an effect the model reproduces but that a cohort of the entry's size does not resolve (right
    direction, CI includes 0) from one it gets wrong.
    """
    if not math.isfinite(est.value):
        return False
    match exp.expect:
        case "increase" | "positive":
            return est.value > 0
        case "decrease" | "negative":
            return est.value < 0
        case _:
            return None


def shortfall(exp: Expectation, est: Estimate, margin: float = 0.0) -> float:
    r"""How far an estimate is from meeting its expectation (0 when :func:`judge` passes); the calibration loss.

    A continuous counterpart of :func:`judge`, in units of the expectation's own scale:

    * CI rules (``increase``, ``decrease``, ``positive``, ``negative``, ``not_*``): the distance by which the
      decisive 95 % limit misses 0, divided by the half-width of the interval (so 1 means "one CI half-width
      short"); an estimate without an interval uses ``max(|value|, 1e-9)`` as its scale;
    * ``within``: the distance of the point estimate outside ``[low, high]``, divided by ``high - low`` (or by
      ``|bound|`` for one-sided bounds). A ``margin`` (a fraction of that scale) narrows the range on both
      sides, so that a calibration aims inside the tolerance rather than at its edge.

    A non-finite estimate scores 10 (worse than any plausible miss).
    """
    v, lo, hi = est.value, est.low, est.high
    if not math.isfinite(v):
        return 10.0
    half = (hi - lo) / 2.0 if math.isfinite(lo) and math.isfinite(hi) and hi > lo else max(abs(v), 1e-9)
    lo = v if not math.isfinite(lo) else lo
    hi = v if not math.isfinite(hi) else hi
    eps = 1e-9  # a limit exactly at 0 fails judge(), so it must score above 0 here
    match exp.expect:
        case "increase" | "positive":
            return 0.0 if lo > 0 else (eps - lo) / half
        case "decrease" | "negative":
            return 0.0 if hi < 0 else (eps + hi) / half
        case "not_increase":
            return lo / half if lo > 0 else 0.0
        case "not_decrease":
            return -hi / half if hi < 0 else 0.0
        case _:
            low = -math.inf if exp.low is None else exp.low
            high = math.inf if exp.high is None else exp.high
            width = high - low if math.isfinite(high - low) else max(abs(low if math.isfinite(low) else high), 1e-9)
            return max(0.0, low + margin * width - v, v - high + margin * width) / width
