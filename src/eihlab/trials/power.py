r"""Virtual trials: the power of an experiment's primary comparison as a function of the sample size.

Method
------
The primary comparison is ``exp.compare[0]`` (an exercise arm against a control arm); the primary outcome is
one measure at one site (default: the first one the exercise arm probes) at one post-baseline time (default:
the time with the largest standardised effect, see below). Each subject's change is the trial mean at that
time minus the trial mean at the arm's baseline (the latest probe at :math:`t \le 0`, as in
:func:`eihlab.stats.subject_changes`).

* crossover: the per-subject net change :math:`\Delta_{\text{exercise}} - \Delta_{\text{control}}` is tested
  against 0 with a two-sided paired (one-sample) t-test;
* parallel: the changes of the two groups are compared with a two-sided Welch t-test.

Power at *n* per arm is the fraction of *R* replicate trials whose p-value is below ``alpha``, with a Wilson
95 % interval (:func:`scipy.stats.binomtest`).

One large simulation, partitioned
---------------------------------
Rather than simulating every (n, replicate) trial anew, one pool of :math:`n_{\max} R` subjects per arm is
simulated once (exactly the cohort ``run_experiment(exp, n=n_max * R, seed=seed)`` would draw), and for each
*n* a random permutation of the pool is cut into *R* **disjoint** groups of *n*. Subjects are independent
draws, so disjoint groups of one large simulation are distributed exactly like separately simulated trials,
and the replicates at one *n* are independent (the binomial interval holds). The same pool serves every *n*
(common random numbers), which makes the curve smoother than independent simulations would, and the cost
is one simulation of :math:`2 n_{\max} R` subject-arms instead of :math:`2 R \sum n`.

When the time point is chosen by the largest effect, it is chosen on the whole pool (thousands of subjects),
so the choice is practically deterministic and adds no noticeable optimism to the power estimates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from eihlab.errors import InputError
from eihlab.experiment.runner import validate_experiment
from eihlab.experiment.schema import Experiment
from eihlab.population.cohort import sample_cohort
from eihlab.stats import subject_changes
from eihlab.trials._common import (
    Outcome,
    arm_condition,
    arm_index,
    arm_probe_times,
    baseline_time,
    resolve_outcome,
    simulate_draw,
)

__all__ = ["POWER_COLUMNS", "PowerResult", "estimate_power", "parse_range", "plot_power", "write_power"]

POWER_COLUMNS: tuple[str, ...] = ("n_per_arm", "power", "ci_low", "ci_high", "mean_effect")
MAX_POOL = 1_000_000
"""Largest pool (``max(n) * replicates`` subjects per arm) a power analysis simulates."""

_RANGE = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*:\s*(\d+)\s*$")
_RANGE_HELP = "START:STOP:STEP with integers 2 <= START <= STOP, STEP >= 1 and STOP = START + k*STEP (e.g. 10:200:10)"


def parse_range(text: str, field: str = "n_per_arm") -> list[int]:
    """Parse ``START:STOP:STEP`` (both ends included) or a single integer into a list of sample sizes.

    Parameters
    ----------
    text
        ``"10:200:10"`` gives 10, 20, ..., 200; ``"50"`` gives [50].
    field
        Field name used in error messages.

    Returns
    -------
    list of int

    Raises
    ------
    eihlab.errors.InputError
        If the text is not of that form, ``START < 2`` (a t-test needs two subjects per arm), ``STOP < START``,
        ``STEP < 1`` or STOP is not on the grid.

    Examples
    --------
    >>> parse_range("10:50:20")
    [10, 30, 50]
    """
    s = str(text).strip()
    if s.isdigit():
        start = stop = int(s)
        step = 1
    else:
        match = _RANGE.match(s)
        if match is None:
            raise InputError(field, text, _RANGE_HELP)
        start, stop, step = (int(g) for g in match.groups())
    if start < 2 or stop < start or step < 1 or (stop - start) % step:
        raise InputError(field, text, _RANGE_HELP)
    return list(range(start, stop + 1, step))


@dataclass(frozen=True)
class PowerResult:
    """A power curve and what it is the power of.

    Attributes
    ----------
    table
        One row per sample size, columns :data:`POWER_COLUMNS`.
    min_n
        Smallest sample size per arm whose power reaches ``target`` (``None`` if none in the range does).
    effect, effect_size
        Mean effect (net change for a crossover, difference of mean changes for a parallel design) and its
        standardised size (:math:`d_z` resp. Cohen's *d* with the average variance) in the whole pool.
    """

    experiment: str
    design: str
    exercise: str
    control: str
    outcome: Outcome
    unit: str
    time_min: float
    test: str
    alpha: float
    target: float
    replicates: int
    effect: float
    effect_size: float
    table: pd.DataFrame
    min_n: int | None


def _p_paired(x: np.ndarray) -> np.ndarray:
    """Two-sided one-sample t-test of each row of ``x`` against 0 (vectorised ``ttest_1samp``)."""
    n = x.shape[1]
    mean = x.mean(axis=1)
    se = x.std(axis=1, ddof=1) / math.sqrt(n)
    t = np.divide(mean, se, out=np.where(mean == 0.0, 0.0, np.inf), where=se > 0)
    return np.asarray(2.0 * sps.t.sf(np.abs(t), n - 1))


def _p_welch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two-sided Welch t-test between the rows of ``a`` and ``b`` (vectorised ``ttest_ind(equal_var=False)``)."""
    na, nb = a.shape[1], b.shape[1]
    va = a.var(axis=1, ddof=1) / na
    vb = b.var(axis=1, ddof=1) / nb
    diff = a.mean(axis=1) - b.mean(axis=1)
    se = np.sqrt(va + vb)
    ok = se > 0
    t = np.divide(diff, se, out=np.where(diff == 0.0, 0.0, np.inf), where=ok)
    denom = va**2 / (na - 1) + vb**2 / (nb - 1)
    df = np.divide((va + vb) ** 2, denom, out=np.full(diff.shape, float(na + nb - 2)), where=ok & (denom > 0))
    return np.asarray(2.0 * sps.t.sf(np.abs(t), df))


def _standardised(design: str, ex: pd.Series, ctl: pd.Series) -> tuple[float, float]:
    """(mean effect, standardised effect) of one time point on the whole pool (changes indexed by subject)."""
    if design == "crossover":
        net = (ex - ctl).dropna().to_numpy(dtype=float)
        mean, sd = float(net.mean()), float(net.std(ddof=1))
    else:
        a, b = ex.dropna().to_numpy(dtype=float), ctl.dropna().to_numpy(dtype=float)
        mean = float(a.mean() - b.mean())
        sd = math.sqrt(0.5 * (float(a.var(ddof=1)) + float(b.var(ddof=1))))
    return mean, (mean / sd if sd > 0 else math.nan)


def estimate_power(
    exp: Experiment,
    n_per_arm: Sequence[int],
    *,
    replicates: int = 200,
    output: str | None = None,
    time: float | None = None,
    alpha: float = 0.05,
    target: float = 0.8,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PowerResult:
    """Estimate the power of the experiment's primary comparison for each sample size per arm.

    Parameters
    ----------
    exp
        The experiment; ``exp.compare[0]`` is the primary comparison.
    n_per_arm
        Sample sizes per arm (each ≥ 2), e.g. from :func:`parse_range`.
    replicates
        Virtual trials per sample size (≥ 2).
    output
        ``MEASURE@SITE`` probed in both arms; default the exercise arm's first probed measure.
    time
        Probe time (min) of the outcome; default the post-baseline time with the largest standardised effect.
    alpha
        Two-sided significance level.
    target
        Power whose smallest sample size is reported as ``min_n``.
    seed
        Seed of the simulated pool (default the experiment's cohort seed) and of its partitions.
    progress
        ``progress(done, total)`` in subject-arms simulated.

    Returns
    -------
    PowerResult

    Raises
    ------
    eihlab.errors.InputError
        For an experiment without a comparison, an outcome or time not probed in both arms, bad sizes,
        replicates, alpha or target, or a pool larger than :data:`MAX_POOL`.
    """
    sizes = sorted({int(n) for n in n_per_arm})
    if not sizes or sizes[0] < 2:
        raise InputError("n_per_arm", list(n_per_arm), "sample sizes of at least 2 per arm")
    if replicates < 2:
        raise InputError("replicates", replicates, "an integer >= 2")
    if not 0.0 < alpha < 1.0:
        raise InputError("alpha", alpha, "a number in (0, 1)")
    if not 0.0 < target <= 1.0:
        raise InputError("target", target, "a number in (0, 1]")
    if not exp.compare:
        raise InputError("compare", [], "at least one {exercise, control} comparison (the first is tested)")
    pool = sizes[-1] * replicates
    if pool > MAX_POOL:
        raise InputError("n_per_arm x replicates", pool, f"at most {MAX_POOL:,} subjects per arm")
    validate_experiment(exp)
    comparison = exp.compare[0]
    indices = [arm_index(exp, comparison.exercise), arm_index(exp, comparison.control)]
    arms = [exp.arms[i] for i in indices]
    outcome = resolve_outcome(output, arms)
    base_seed = exp.cohort.seed if seed is None else int(seed)
    cohort = exp.cohort

    total = 2 * pool
    done = 0

    def advance(k: int) -> None:
        nonlocal done
        done += k
        if progress is not None:
            progress(done, total)

    changes = []
    for index, arm in zip(indices, arms, strict=True):
        offset = index * pool if exp.design == "parallel" else 0
        draw = sample_cohort(
            cohort.species,
            arm_condition(exp, arm),
            np.arange(offset, offset + pool),
            base_seed,
            age_y=cohort.age_y,
            female_fraction=cohort.female_fraction,
            variability=cohort.variability,
            overrides={**cohort.parameters, **arm.parameters},
        )
        obs = simulate_draw(exp, index, draw, seed=base_seed, progress=advance)
        obs = obs[(obs["measure"] == outcome.measure) & (obs["site"] == outcome.site)].assign(arm=arm.name)
        sc = subject_changes(obs)
        changes.append(sc.pivot(index="subject", columns="time_min", values="change"))
    unit = str(obs["unit"].iloc[0]) if len(obs) else ""

    ex_tab, ctl_tab = changes
    candidates = sorted(
        {float(t) for t in ex_tab.columns}
        & {float(t) for t in ctl_tab.columns}
        - {baseline_time(arm_probe_times(arms[0], outcome)), baseline_time(arm_probe_times(arms[1], outcome))}
    )
    if not candidates:
        raise InputError("time", time, f"a post-baseline probe time of {outcome.label} common to both arms")
    if time is None:
        sizes_by_time = {t: _standardised(exp.design, ex_tab[t], ctl_tab[t]) for t in candidates}
        finite = [t for t in candidates if math.isfinite(sizes_by_time[t][1])]
        chosen = max(finite, key=lambda t: abs(sizes_by_time[t][1])) if finite else candidates[0]
    else:
        matches = [t for t in candidates if math.isclose(t, float(time), abs_tol=1e-9)]
        if not matches:
            raise InputError("time", time, [f"{t:g}" for t in candidates])
        chosen = matches[0]

    if exp.design == "crossover":
        paired = (ex_tab[chosen] - ctl_tab[chosen]).dropna().to_numpy()
        pools = [paired]
        test = "paired t-test on the net change (exercise - control)"
    else:
        pools = [ex_tab[chosen].dropna().to_numpy(), ctl_tab[chosen].dropna().to_numpy()]
        test = "Welch t-test on the change from baseline"
    if min(p.size for p in pools) < pool:
        raise InputError("observations", f"{min(p.size for p in pools)} complete subjects", f"{pool} (no missing)")
    effect, effect_size = _standardised(exp.design, ex_tab[chosen], ctl_tab[chosen])

    rows = []
    for n in sizes:
        rng = np.random.default_rng([base_seed, 0x7E1A1, n])
        groups = [p[rng.permutation(p.size)[: replicates * n]].reshape(replicates, n) for p in pools]
        if len(groups) == 1:
            pvalues = _p_paired(groups[0])
            mean_effect = float(groups[0].mean())
        else:
            pvalues = _p_welch(groups[0], groups[1])
            mean_effect = float(groups[0].mean() - groups[1].mean())
        hits = int(np.count_nonzero(pvalues < alpha))
        ci = sps.binomtest(hits, replicates).proportion_ci(confidence_level=0.95, method="wilson")
        rows.append((n, hits / replicates, float(ci.low), float(ci.high), mean_effect))
    table = pd.DataFrame(rows, columns=list(POWER_COLUMNS))
    reached = table.loc[table["power"] >= target, "n_per_arm"]
    return PowerResult(
        experiment=exp.name,
        design=exp.design,
        exercise=comparison.exercise,
        control=comparison.control,
        outcome=outcome,
        unit=unit,
        time_min=float(chosen),
        test=test,
        alpha=alpha,
        target=target,
        replicates=replicates,
        effect=effect,
        effect_size=effect_size,
        table=table,
        min_n=int(reached.iloc[0]) if len(reached) else None,
    )


def plot_power(result: PowerResult, path: Path) -> Path:
    """Plot the power curve with its 95 % band, the target power and ``alpha``; returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result.table
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    try:
        ax.fill_between(t["n_per_arm"], t["ci_low"], t["ci_high"], alpha=0.25, label="95 % CI (Wilson)")
        ax.plot(t["n_per_arm"], t["power"], marker="o", ms=3, label="power")
        ax.axhline(result.target, color="grey", ls="--", lw=1, label=f"target {result.target:g}")
        ax.axhline(result.alpha, color="grey", ls=":", lw=1, label=f"alpha {result.alpha:g}")
        if result.min_n is not None:
            ax.axvline(result.min_n, color="tab:red", lw=1, label=f"n = {result.min_n}")
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel("n per arm")
        ax.set_ylabel("power")
        ax.set_title(
            f"{result.experiment}: {result.exercise} vs {result.control}\n"
            f"{result.outcome.label} at {result.time_min:g} min, {result.replicates} replicates",
            fontsize=9,
        )
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    return path


def write_power(result: PowerResult, out: Path) -> list[Path]:
    """Write ``power.csv`` and ``power.png`` into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "power.csv"
    result.table.to_csv(csv, index=False)
    return [csv, plot_power(result, out / "power.png")]
