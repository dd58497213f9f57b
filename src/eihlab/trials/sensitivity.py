r"""Global sensitivity analysis (SALib) of an experiment's outcome over the parameter tables' bounds.

Generic core
------------
:func:`analyse` takes a SALib problem (names and bounds), a vectorised ``evaluate(X) -> Y`` and a method:

* ``sobol``: Saltelli's cross-sampling of a scrambled Sobol' sequence (:func:`SALib.sample.sobol.sample`,
  ``N (D + 2)`` rows, no second-order terms) and :func:`SALib.analyze.sobol.analyze`: first-order ``S1`` and
  total ``ST`` indices with bootstrap 95 % half-widths ``S1_conf``, ``ST_conf``. ``N`` must be a power of 2;
* ``morris``: ``N`` Morris trajectories on a 4-level grid (:func:`SALib.sample.morris.sample`, ``N (D + 1)``
  rows) and :func:`SALib.analyze.morris.analyze`: ``mu_star`` (mean absolute elementary effect, in output units
  per unit of the parameter's whole range) with ``mu_star_conf``, ``mu`` and ``sigma``.

The test suite runs SALib's Ishigami function through :func:`analyse` and checks the analytic indices.

The model as a function of its parameters
-----------------------------------------
Each sample row is one virtual subject: the *reference subject* of the experiment's cohort (every parameter
at its median, i.e. the default, the condition's value or the experiment's override; typical physiology of
the cohort's mid age and majority sex) with the analysed parameters set to the row's values. All rows are
simulated together as one vectorised cohort through the engine (in blocks of
:data:`eihlab.engine.simulate.CHUNK` rows), in the analysed arm: the exercise arm of the first comparison
(else the first arm with an exercise event, else the first arm).

The output of a row is its within-subject change of ``MEASURE@SITE`` in that arm,

.. math::

    Y = \bar x(t_{\text{post}}) - \bar x(t_0),

the trial mean at the post time minus the trial mean at the arm's baseline :math:`t_0` (latest probe at
:math:`t \le 0`, else the first probe; as :func:`eihlab.stats.subject_changes`). :math:`t_{\text{post}}` is
``time`` or, by default, the probe time with the largest absolute change of the reference subject.

Measurement noise is switched off: the noise parameters (:data:`NOISE_PARAMETERS`: trial and session noise
of thresholds and ratings, and the day-to-day spread of exertion) are set to 0 and are not analysed unless
named in ``params``. The remaining random numbers of the engine (the additive session offsets of thermal
thresholds, which cancel in a within-session change anyway) are common to all rows, because every row has
the same subject id; so *Y* is a deterministic function of the parameters.

By default every model parameter with a range (``lower < upper``) is analysed except the noise parameters
and those the experiment fixes (cohort or arm ``parameters``). Parameters are varied uniformly between the
table's ``lower`` and ``upper`` bounds; parameters with no effect on the outcome get indices near 0.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eihlab.errors import InputError, SimulationError
from eihlab.experiment.runner import validate_experiment
from eihlab.experiment.schema import Experiment
from eihlab.model import registry
from eihlab.model.body import N_REGIONS, region_indices
from eihlab.population.cohort import _DEFAULT_AGE, CohortDraw, sample_cohort
from eihlab.protocol.physiology import PLAUSIBLE_RANGES
from eihlab.trials._common import (
    Outcome,
    arm_condition,
    arm_index,
    arm_probe_times,
    baseline_time,
    has_exercise,
    measure_label,
    outcome_values,
    resolve_outcome,
    simulate_draw,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_N",
    "METHODS",
    "NOISE_PARAMETERS",
    "RANK_BY",
    "SensitivityResult",
    "SubjectModel",
    "analyse",
    "make_problem",
    "plot_indices",
    "run_sensitivity",
    "write_indices",
]

METHODS: tuple[str, ...] = ("sobol", "morris")
COLUMNS: dict[str, tuple[str, ...]] = {
    "sobol": ("parameter", "S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("parameter", "mu_star", "mu_star_conf", "mu", "sigma"),
}
"""Columns of the index table of each method."""
RANK_BY: dict[str, str] = {"sobol": "ST", "morris": "mu_star"}
"""The index parameters are ranked by."""
DEFAULT_N: dict[str, int] = {"sobol": 64, "morris": 20}
"""Default base sample size (Sobol') or number of trajectories (Morris)."""
NOISE_PARAMETERS: tuple[str, ...] = (
    "trial_noise_cv",
    "session_noise_cv",
    "thermal_trial_noise_c",
    "rating_noise",
    "session_exertion_cv",
)
"""Measurement and day-to-day noise parameters, set to 0 (noise off) in the sensitivity analysis."""
MAX_ROWS = 2_000_000
"""Largest number of sample rows (model evaluations) :func:`run_sensitivity` simulates."""


def make_problem(names: Sequence[str], bounds: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """A SALib problem dictionary from parameter names and ``(lower, upper)`` bounds."""
    if len(names) != len(bounds) or not names:
        raise InputError("params", list(names), "at least one parameter, each with (lower, upper) bounds")
    for name, (lo, hi) in zip(names, bounds, strict=True):
        if not float(lo) < float(hi):
            raise InputError(f"params.{name}", (lo, hi), "bounds with lower < upper")
    return {"num_vars": len(names), "names": list(names), "bounds": [[float(lo), float(hi)] for lo, hi in bounds]}


def _sample_rows(method: str, d: int, n: int) -> int:
    return n * (d + 2) if method == "sobol" else n * (d + 1)


def _check_method(method: str, n: int) -> None:
    if method not in METHODS:
        raise InputError("method", method, METHODS)
    if method == "sobol" and (n < 2 or n & (n - 1)):
        raise InputError("n", n, "a power of 2 >= 2 for the Sobol' method (e.g. 64, 128, 256)")
    if method == "morris" and n < 2:
        raise InputError("n", n, "at least 2 Morris trajectories")


def analyse(
    problem: dict[str, Any],
    evaluate: Callable[[np.ndarray], np.ndarray],
    method: str = "sobol",
    n: int = 64,
    seed: int = 0,
) -> pd.DataFrame:
    """Sample a problem, evaluate the model on all rows at once and compute the sensitivity indices.

    Parameters
    ----------
    problem
        SALib problem: ``num_vars``, ``names``, ``bounds`` (see :func:`make_problem`).
    evaluate
        Vectorised model: an ``(rows, num_vars)`` array of parameter values to an array of ``rows`` outputs.
        It is called exactly once.
    method
        ``"sobol"`` or ``"morris"``.
    n
        Sobol': base sample size ``N`` (a power of 2; ``N (D + 2)`` evaluations). Morris: number of
        trajectories (``N (D + 1)`` evaluations).
    seed
        Seed of the sampler and of the bootstrap confidence intervals.

    Returns
    -------
    pandas.DataFrame
        One row per parameter in the problem's order, with the columns :data:`COLUMNS` of the method.

    Raises
    ------
    eihlab.errors.InputError
        For an unknown method, a bad ``n``, or an output that does not vary.
    eihlab.errors.SimulationError
        If ``evaluate`` returns the wrong number of outputs or non-finite values.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    _check_method(method, n)
    if method == "sobol":
        x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        x = morris_sample.sample(problem, n, num_levels=4, seed=seed)
    y = np.asarray(evaluate(x), dtype=float).reshape(-1)
    if y.size != x.shape[0]:
        raise SimulationError(f"the model returned {y.size} outputs for {x.shape[0]} sample rows")
    bad = int(np.count_nonzero(~np.isfinite(y)))
    if bad:
        raise SimulationError(f"the model output is not finite for {bad} of {y.size} sample rows")
    if np.ptp(y) <= 1e-12 * max(1.0, float(np.abs(y).max())):
        raise InputError("output", f"constant ({y[0]:g})", "an output that varies with the parameters analysed")
    names = list(problem["names"])
    # SALib's Sobol' analysis seeds its bootstrap only when the seed is truthy
    if method == "sobol":
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, num_resamples=100, seed=seed + 1)
    else:
        si = morris_analyze.analyze(problem, x, y, num_resamples=100, num_levels=4, seed=seed + 1)
    table = pd.DataFrame({"parameter": names})
    for col in COLUMNS[method][1:]:
        table[col] = np.asarray(np.ma.filled(np.ma.asarray(si[col], dtype=float), np.nan), dtype=float)
    return table


@dataclass(frozen=True)
class SubjectModel:
    """One experiment arm as a vectorised function of parameter values: ``model(X) -> Y`` (one row = a subject).

    Attributes
    ----------
    exp
        The (validated) experiment.
    arm
        Index of the analysed arm in ``exp.arms``.
    names
        The parameters the columns of ``X`` set.
    outcome, baseline_min, time_min
        ``Y`` is the change of ``outcome`` from ``baseline_min`` to ``time_min`` (trial means).
    seed
        Seed of the engine's (common) random numbers.
    progress
        ``progress(done, total)`` in sample rows simulated.
    """

    exp: Experiment
    arm: int
    names: tuple[str, ...]
    outcome: Outcome
    baseline_min: float
    time_min: float
    seed: int
    progress: Callable[[int, int], None] | None = None

    def reference(self) -> CohortDraw:
        """The reference subject (one row): every parameter at its median, noise off, typical physiology."""
        exp, arm = self.exp, self.exp.arms[self.arm]
        cohort = exp.cohort
        age = cohort.age_y if cohort.age_y is not None else _DEFAULT_AGE[cohort.species]
        mid_age = float(age) if isinstance(age, int | float) else 0.5 * (float(age[0]) + float(age[1]))
        noise_off = {name: 0.0 for name in NOISE_PARAMETERS}
        return sample_cohort(
            cohort.species,
            arm_condition(exp, arm),
            np.zeros(1, dtype=np.int64),
            self.seed,
            age_y=mid_age,
            female_fraction=1.0 if cohort.female_fraction >= 0.5 else 0.0,
            variability=0.0,
            overrides={**noise_off, **cohort.parameters, **arm.parameters},
        )

    def draw(self, x: np.ndarray) -> CohortDraw:
        """A cohort of ``len(x)`` copies of the reference subject with the named parameters set from ``x``."""
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != len(self.names):
            raise InputError("X", x.shape, f"an array of shape (rows, {len(self.names)})")
        rows = x.shape[0]
        ref = self.reference()
        params = {k: np.repeat(v, rows, axis=0) for k, v in ref.params.items()}
        for j, name in enumerate(self.names):
            params[name] = x[:, j].copy()
        if "affected_sensitisation" in self.names:
            mask = np.zeros(N_REGIONS)
            for region in arm_condition(self.exp, self.exp.arms[self.arm]).affected_regions:
                mask[list(region_indices(region))] = 1.0
            params["psens_condition"] = params["affected_sensitisation"][:, None] * mask[None, :]
        phys = ref.physiology
        repeated: dict[str, Any] = {
            f.name: np.repeat(getattr(phys, f.name), rows) for f in dataclasses.fields(phys) if f.name != "species"
        }
        lo, hi = PLAUSIBLE_RANGES[self.exp.cohort.species]["cp_fraction"]
        repeated["cp_fraction"] = np.clip(params["cp_fraction"], lo, hi)
        return CohortDraw(np.zeros(rows, dtype=np.int64), params, dataclasses.replace(phys, **repeated))

    def changes(self, x: np.ndarray, times: Sequence[float]) -> np.ndarray:
        """Changes from baseline at each of ``times`` (shape ``(rows, len(times))``)."""
        draw = self.draw(x)
        rows = draw.n
        done = 0

        def advance(k: int) -> None:
            nonlocal done
            done += k
            if self.progress is not None:
                self.progress(done, rows)

        # Rows at the bounds can hit 0/0 in proxies the outcome does not use (e.g. a connectivity read-out with
        # both of its weights at 0); the outcome itself is checked for finiteness by :func:`analyse`.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            obs = simulate_draw(self.exp, self.arm, draw, seed=self.seed, progress=advance)
        base = outcome_values(obs, self.outcome, self.baseline_min, rows)
        return np.column_stack([outcome_values(obs, self.outcome, t, rows) - base for t in times])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``Y`` for every row of ``x``."""
        return self.changes(x, [self.time_min])[:, 0]


@dataclass(frozen=True)
class SensitivityResult:
    """Indices (sorted by :data:`RANK_BY`) and what they are the indices of."""

    experiment: str
    arm: str
    outcome: Outcome
    unit: str
    baseline_min: float
    time_min: float
    method: str
    n: int
    evaluations: int
    reference_change: float
    indices: pd.DataFrame


def _analysed_arm(exp: Experiment) -> int:
    if exp.compare:
        return arm_index(exp, exp.compare[0].exercise)
    for i, arm in enumerate(exp.arms):
        if has_exercise(arm):
            return i
    return 0


def _parameters(exp: Experiment, arm: int, params: Sequence[str] | None) -> list[str]:
    if params is None:
        fixed = set(NOISE_PARAMETERS) | set(exp.cohort.parameters) | set(exp.arms[arm].parameters)
        return [p.name for p in registry.PARAMETERS if p.name not in fixed and p.lower < p.upper]
    names: list[str] = []
    for raw in params:
        name = raw.strip()
        if name not in registry.PARAM_BY_NAME:
            raise InputError("params", name, "parameter names (see `eihlab model describe`), comma-separated")
        spec = registry.PARAM_BY_NAME[name]
        if not spec.lower < spec.upper:
            raise InputError("params", name, "parameters with a range (lower < upper)")
        if name not in names:
            names.append(name)
    if not names:
        raise InputError("params", list(params), "at least one parameter name")
    return names


def run_sensitivity(
    exp: Experiment,
    *,
    output: str | None = None,
    method: str = "sobol",
    n: int | None = None,
    params: Sequence[str] | None = None,
    time: float | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """Global sensitivity analysis of an experiment's outcome (see the module docstring).

    Parameters
    ----------
    exp
        The experiment.
    output
        ``MEASURE@SITE`` probed by the analysed arm; default its first probed measure.
    method
        ``"sobol"`` or ``"morris"``.
    n
        Base sample size (Sobol', a power of 2) or number of trajectories (Morris); default :data:`DEFAULT_N`.
    params
        Parameter names to vary; default every parameter with a range except the noise parameters and those
        the experiment fixes.
    time
        Post probe time (min); default the time with the largest absolute change of the reference subject.
    seed
        Seed of the sampler, the bootstrap and the engine's random numbers (default the cohort seed).
    progress
        ``progress(done, total)`` in sample rows simulated.

    Returns
    -------
    SensitivityResult
    """
    method = str(method).lower()
    n = DEFAULT_N.get(method, 0) if n is None else int(n)
    _check_method(method, n)
    validate_experiment(exp)
    index = _analysed_arm(exp)
    arm = exp.arms[index]
    outcome = resolve_outcome(output, [arm])
    names = _parameters(exp, index, params)
    rows = _sample_rows(method, len(names), n)
    if rows > MAX_ROWS:
        raise InputError("n", n, f"a sample of at most {MAX_ROWS:,} rows ({len(names)} parameters: {rows:,} rows)")
    times = arm_probe_times(arm, outcome)
    t0 = baseline_time(times)
    post = [t for t in times if t != t0]
    if not post:
        raise InputError("time", time, f"a probe of {outcome.label} after the baseline at {t0:g} min")
    base_seed = exp.cohort.seed if seed is None else int(seed)
    model = SubjectModel(exp, index, tuple(names), outcome, t0, post[0], base_seed)
    ref_x = np.array([[float(model.reference().params[name][0]) for name in names]])
    ref_changes = model.changes(ref_x, post)[0]
    if time is None:
        chosen = post[int(np.argmax(np.abs(ref_changes)))]
    else:
        matches = [t for t in post if math.isclose(t, float(time), abs_tol=1e-9)]
        if not matches:
            raise InputError("time", time, [f"{t:g}" for t in post])
        chosen = matches[0]
    model = dataclasses.replace(model, time_min=chosen, progress=progress)
    problem = make_problem(names, [(registry.PARAM_BY_NAME[p].lower, registry.PARAM_BY_NAME[p].upper) for p in names])
    table = analyse(problem, model, method, n, base_seed)
    table = table.sort_values(RANK_BY[method], ascending=False, kind="mergesort").reset_index(drop=True)
    unit = _unit(exp, index, outcome)
    return SensitivityResult(
        experiment=exp.name,
        arm=arm.name,
        outcome=outcome,
        unit=unit,
        baseline_min=t0,
        time_min=chosen,
        method=method,
        n=n,
        evaluations=rows,
        reference_change=float(ref_changes[post.index(chosen)]),
        indices=table,
    )


def _unit(exp: Experiment, index: int, outcome: Outcome) -> str:
    from eihlab.protocol.events import ProbeEvent
    from eihlab.protocol.qst import unit_of

    for ev in exp.arms[index].events:
        if isinstance(ev, ProbeEvent):
            for m in ev.measures:
                if (measure_label(m), m.site or "") == (outcome.measure, outcome.site):
                    return unit_of(m)
    return ""


def plot_indices(result: SensitivityResult, path: Path, top: int = 20) -> Path:
    """Horizontal bar plot of the ``top`` parameters (``ST`` and ``S1``, or ``mu_star``) with 95 % half-widths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result.indices.head(top).iloc[::-1]
    y = np.arange(len(t))
    fig, ax = plt.subplots(figsize=(7.0, 0.28 * len(t) + 1.6))
    err = {"elinewidth": 0.8, "ecolor": "0.35", "capsize": 2}
    try:
        if result.method == "sobol":
            ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="ST (total)", color="tab:blue", error_kw=err)
            ax.barh(
                y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="S1 (first order)", color="tab:orange", error_kw=err
            )
            ax.set_xlabel("Sobol' index")
            ax.legend(fontsize=8, loc="lower right")
        else:
            ax.barh(y, t["mu_star"], 0.6, xerr=t["mu_star_conf"], color="tab:blue", error_kw=err)
            ax.set_xlabel(f"Morris mu* ({result.unit} per parameter range)")
        ax.set_yticks(y, list(t["parameter"]), fontsize=8)
        ax.set_title(
            f"{result.experiment} ({result.arm}): change of {result.outcome.label}\n"
            f"{result.baseline_min:g} -> {result.time_min:g} min, {result.method}, {result.evaluations} runs",
            fontsize=9,
        )
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    return path


def write_indices(result: SensitivityResult, out: Path) -> list[Path]:
    """Write ``indices.csv`` (all parameters, ranked) and ``indices.png`` (top 20) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "indices.csv"
    result.indices.to_csv(csv, index=False)
    return [csv, plot_indices(result, out / "indices.png")]
