"""Per-subject changes from baseline and group summaries of tidy QST observations.

The input is a tidy table with one row per trial::

    subject  arm       time_min  measure  site        value  unit
    1        exercise  -5.0      PPT      quadriceps  412.0  kPa
    1        exercise  -5.0      PPT      quadriceps  398.0  kPa
    1        exercise   5.0      PPT      quadriceps  455.0  kPa
    ...

The pipeline is

1. :func:`subject_changes`: average the trials of each subject x arm x measure x site x time, pick each
   subject's baseline and express every time point as a change from it;
2. :func:`summarise`: describe those per-subject values for each arm x measure x site x time (mean, SD,
   t-based CIs and the within-subject effect size :math:`d_z`);
3. :func:`net_change`: for a crossover (every subject does an exercise and a control arm), describe the
   within-subject difference of changes, the usual "net EIH" estimate
   :math:`\\Delta_{\\text{exercise}} - \\Delta_{\\text{control}}` (e.g. Vaegter et al. 2014, *Pain* 155:158;
   Rice et al. 2019, *J Pain* 20:1249).

Everything is vectorised with :meth:`pandas.DataFrame.groupby`; only the noncentral-t interval of
:math:`d_z` needs one root-finding per output row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as sps

from eihlab.errors import InputError

from ._effects import _check_alpha, _dz_arrays

__all__ = ["REQUIRED_COLUMNS", "net_change", "subject_changes", "summarise"]

#: Columns :func:`subject_changes`, :func:`summarise` and :func:`net_change` need in ``observations``.
REQUIRED_COLUMNS: tuple[str, ...] = ("subject", "arm", "time_min", "measure", "site", "value", "unit")

_CELL = ["subject", "arm", "measure", "site"]  # one baseline per cell
_GROUP = ["arm", "measure", "site", "time_min"]  # one summary row per group

SUBJECT_COLUMNS: tuple[str, ...] = (
    "subject",
    "arm",
    "measure",
    "site",
    "time_min",
    "unit",
    "baseline",
    "value",
    "change",
    "pct_change",
)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "arm",
    "measure",
    "site",
    "time_min",
    "unit",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "change_mean",
    "change_sd",
    "change_ci_low",
    "change_ci_high",
    "pct_change_mean",
    "pct_change_ci_low",
    "pct_change_ci_high",
    "d_z",
    "d_z_ci_low",
    "d_z_ci_high",
)
NET_COLUMNS: tuple[str, ...] = (
    "measure",
    "site",
    "time_min",
    "unit",
    "n",
    "net_mean",
    "net_sd",
    "net_ci_low",
    "net_ci_high",
    "d_z",
    "d_z_ci_low",
    "d_z_ci_high",
)


_LABEL_COLUMNS = ("subject", "arm", "measure", "site", "unit")


def _validated(observations: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Check and clean ``observations``.

    Returns a copy with only the required columns, the label columns (``subject, arm, measure, site,
    unit``) converted to categoricals -- grouping on integer codes is several times faster than on
    strings -- and the original dtypes of those columns, for :func:`_decoded`.

    Raises :class:`~eihlab.errors.InputError` for missing columns, non-numeric ``time_min`` / ``value``,
    missing labels, or a measure x site recorded in more than one unit. Rows whose ``value`` or
    ``time_min`` is NaN are dropped (a missed trial).
    """
    if not isinstance(observations, pd.DataFrame):
        raise InputError(field="observations", value=type(observations).__name__, allowed="a pandas DataFrame")
    missing = [c for c in REQUIRED_COLUMNS if c not in observations.columns]
    if missing:
        raise InputError(field="observations", value=missing, allowed=list(REQUIRED_COLUMNS))
    df = observations.loc[:, list(REQUIRED_COLUMNS)].copy()
    for col in ("time_min", "value"):
        try:
            df[col] = pd.to_numeric(df[col], errors="raise").astype(float)
        except (TypeError, ValueError) as exc:
            raise InputError(
                field=f"observations.{col}", value=str(exc), allowed="numbers (NaN marks a missed trial)"
            ) from exc
    dtypes: dict[str, Any] = {}
    for col in _LABEL_COLUMNS:
        dtypes[col] = df[col].dtype
        if not isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype("category")
        if bool(df[col].isna().any()):
            raise InputError(field=f"observations.{col}", value="missing (NaN) labels", allowed="no missing labels")
    df = df.loc[df["value"].notna() & df["time_min"].notna()]
    n_units = df.groupby(["measure", "site"], observed=True, sort=True)["unit"].nunique()
    mixed = n_units[n_units > 1]
    if len(mixed):
        bad = [f"{m}@{s}" for m, s in mixed.index]
        raise InputError(field="observations.unit", value=bad, allowed="a single unit per measure and site")
    return df, dtypes


def _decoded(table: pd.DataFrame, dtypes: dict[str, Any]) -> pd.DataFrame:
    """Give the label columns of ``table`` back their original (pre-categorical) dtypes."""
    for col, dtype in dtypes.items():
        if col in table.columns and not isinstance(dtype, pd.CategoricalDtype):
            table[col] = table[col].astype(dtype)
    return table


def _t_interval(
    mean: npt.ArrayLike, sd: npt.ArrayLike, n: npt.ArrayLike, alpha: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Vectorised Student-t interval :math:`\\bar x \\pm t_{1-\\alpha/2,n-1}\\,s/\\sqrt n` (NaN if n < 2)."""
    m = np.asarray(mean, dtype=float)
    s = np.asarray(sd, dtype=float)
    k = np.asarray(n, dtype=float)
    df = np.where(k >= 2, k - 1.0, np.nan)
    half = np.full(m.shape, np.nan)
    ok = np.isfinite(df)
    half[ok] = sps.t.ppf(1.0 - alpha / 2.0, df[ok]) * s[ok] / np.sqrt(k[ok])
    return m - half, m + half


def subject_changes(observations: pd.DataFrame) -> pd.DataFrame:
    """Per-subject trial means, baselines and changes from baseline.

    1. Trials are averaged per subject x arm x measure x site x ``time_min`` (arithmetic mean; NaN
       values are dropped first).
    2. The baseline of each subject x arm x measure x site is the trial mean at the latest
       ``time_min <= 0`` (the last pre-exercise assessment); if that cell has no such time, the earliest
       time is used instead.
    3. :math:`\\text{change} = x_t - x_{\\text{baseline}}` and
       :math:`\\text{pct\\_change} = 100\\,\\text{change} / x_{\\text{baseline}}` (NaN where the baseline is
       0).

    Parameters
    ----------
    observations
        Tidy table, one row per trial, with columns ``subject`` (int or str), ``arm``, ``time_min``
        (minutes relative to the exercise bout, negative before it), ``measure``, ``site``, ``value`` and
        ``unit``. Other columns are ignored.

    Returns
    -------
    pandas.DataFrame
        Columns ``subject, arm, measure, site, time_min, unit, baseline, value, change, pct_change``, one
        row per subject x arm x measure x site x time, sorted by those keys.

    Raises
    ------
    eihlab.errors.InputError
        If a required column is missing (the message names the missing columns), ``time_min`` or
        ``value`` is not numeric, a label is missing, or a measure x site comes in several units.
    """
    table, dtypes = _subject_changes_coded(observations)
    return _decoded(table, dtypes)


def _subject_changes_coded(observations: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`subject_changes` with categorical label columns, plus their original dtypes."""
    df, dtypes = _validated(observations)
    keys = [*_CELL, "time_min"]
    means = df.groupby(keys, observed=True, sort=True).agg(value=("value", "mean"), unit=("unit", "first"))
    means = means.reset_index()

    # Baseline: sort each cell so that the wanted row comes first -- pre-exercise rows (time <= 0) before
    # post rows, latest pre row first, then earliest post row -- and keep the first row per cell.
    t = means["time_min"].to_numpy()
    order = means.assign(_post=t > 0.0, _rank=np.where(t <= 0.0, -t, t))
    order = order.sort_values([*_CELL, "_post", "_rank"], kind="mergesort")
    base = order.drop_duplicates(_CELL, keep="first").loc[:, [*_CELL, "value"]]
    base = base.rename(columns={"value": "baseline"})

    out = means.merge(base, on=_CELL, how="left", validate="many_to_one", sort=False)
    out["change"] = out["value"] - out["baseline"]
    baseline = out["baseline"].to_numpy(dtype=float)
    pct = np.full(len(out), np.nan)
    np.divide(100.0 * out["change"].to_numpy(dtype=float), baseline, out=pct, where=baseline != 0.0)
    out["pct_change"] = pct
    return out.loc[:, list(SUBJECT_COLUMNS)].reset_index(drop=True), dtypes


def summarise(observations: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Describe every arm x measure x site x time point of a tidy observation table.

    Built on :func:`subject_changes` (trial averaging, baseline = latest ``time_min <= 0``). For each
    arm x measure x site x ``time_min`` with :math:`n` subjects:

    * ``mean``, ``sd`` (:math:`n-1` denominator) of the per-subject values and the t interval
      :math:`\\bar x \\pm t_{1-\\alpha/2,\\,n-1}\\, s/\\sqrt n`;
    * the same for the change from baseline (``change_*``) and for the percentage change
      (``pct_change_*``; subjects with a zero baseline are left out of the latter);
    * Cohen's :math:`d_z = \\overline{\\Delta}/s_\\Delta` of the change with a noncentral-t interval
      (see :func:`eihlab.stats.within_subject_d`).

    At the baseline time every change is exactly 0: the change columns are 0 and ``d_z`` (0/0) is NaN.
    All intervals (and ``sd``) are NaN when :math:`n < 2`.

    Parameters
    ----------
    observations
        Tidy table, one row per trial; see :func:`subject_changes`.
    alpha
        Two-sided error rate of every interval; ``0.05`` gives 95 % intervals.

    Returns
    -------
    pandas.DataFrame
        One row per arm x measure x site x ``time_min`` sorted by those keys, with exactly the columns
        ``arm, measure, site, time_min, unit, n, mean, sd, ci_low, ci_high, change_mean, change_sd,
        change_ci_low, change_ci_high, pct_change_mean, pct_change_ci_low, pct_change_ci_high, d_z,
        d_z_ci_low, d_z_ci_high``.

    Raises
    ------
    eihlab.errors.InputError
        As :func:`subject_changes`, or if ``alpha`` is not in (0, 1).
    """
    a = _check_alpha(alpha)
    sc, dtypes = _subject_changes_coded(observations)
    g = sc.groupby(_GROUP, observed=True, sort=True).agg(
        unit=("unit", "first"),
        n=("value", "count"),
        mean=("value", "mean"),
        sd=("value", "std"),
        change_mean=("change", "mean"),
        change_sd=("change", "std"),
        pct_n=("pct_change", "count"),
        pct_change_mean=("pct_change", "mean"),
        pct_change_sd=("pct_change", "std"),
    )
    out = g.reset_index()
    n = out["n"].to_numpy()
    out["ci_low"], out["ci_high"] = _t_interval(out["mean"], out["sd"], n, a)
    out["change_ci_low"], out["change_ci_high"] = _t_interval(out["change_mean"], out["change_sd"], n, a)
    out["pct_change_ci_low"], out["pct_change_ci_high"] = _t_interval(
        out["pct_change_mean"], out["pct_change_sd"], out["pct_n"], a
    )
    out["d_z"], out["d_z_ci_low"], out["d_z_ci_high"] = _dz_arrays(out["change_mean"], out["change_sd"], n, a)
    out["n"] = out["n"].astype(int)
    return _decoded(out.loc[:, list(SUMMARY_COLUMNS)].reset_index(drop=True), dtypes)


def net_change(observations: pd.DataFrame, exercise_arm: str, control_arm: str, *, alpha: float = 0.05) -> pd.DataFrame:
    """Net exercise-induced hypoalgesia in a crossover: the within-subject difference of changes.

    For every subject who has the measure x site x ``time_min`` in *both* arms,

    .. math::

        \\text{net}_i = \\Delta_{i,\\text{exercise}} - \\Delta_{i,\\text{control}},

    with :math:`\\Delta` the change from each arm's own baseline (:func:`subject_changes`). The net effect
    is described like a paired difference: mean, SD, t interval
    :math:`\\overline{\\text{net}} \\pm t_{1-\\alpha/2,\\,n-1}\\, s/\\sqrt n` and Cohen's
    :math:`d_z = \\overline{\\text{net}} / s_{\\text{net}}` with a noncentral-t interval. This is the
    standard "exercise minus quiet rest" contrast of crossover EIH studies (e.g. Vaegter et al. 2014,
    *Pain* 155:158-167).

    Parameters
    ----------
    observations
        Tidy table, one row per trial; see :func:`subject_changes`.
    exercise_arm, control_arm
        Names of the two arms (values of the ``arm`` column); they must differ and both be present.
    alpha
        Two-sided error rate of every interval.

    Returns
    -------
    pandas.DataFrame
        One row per measure x site x ``time_min`` present in both arms, sorted by those keys, with columns
        ``measure, site, time_min, unit, n, net_mean, net_sd, net_ci_low, net_ci_high, d_z, d_z_ci_low,
        d_z_ci_high``. ``n`` counts the paired subjects. At a time that is the baseline of both arms the
        net change is 0 and ``d_z`` is NaN.

    Raises
    ------
    eihlab.errors.InputError
        As :func:`subject_changes`; if an arm is not in the data or both names are the same; if ``alpha``
        is not in (0, 1).
    """
    a = _check_alpha(alpha)
    sc, dtypes = _subject_changes_coded(observations)
    present = set(sc["arm"].unique())
    arms = sorted(str(x) for x in present)
    for field, arm in (("exercise_arm", exercise_arm), ("control_arm", control_arm)):
        if arm not in present:
            raise InputError(field=field, value=arm, allowed=arms)
    if exercise_arm == control_arm:
        raise InputError(field="control_arm", value=control_arm, allowed="an arm other than exercise_arm")
    keys = ["subject", "measure", "site", "time_min"]
    cols = [*keys, "unit", "change"]
    ex = sc.loc[sc["arm"] == exercise_arm, cols]
    ctl = sc.loc[sc["arm"] == control_arm, cols]
    pairs = ex.merge(ctl, on=keys, how="inner", suffixes=("_ex", "_ctl"), validate="one_to_one")
    pairs["net"] = pairs["change_ex"] - pairs["change_ctl"]
    g = pairs.groupby(["measure", "site", "time_min"], observed=True, sort=True).agg(
        unit=("unit_ex", "first"),
        n=("net", "count"),
        net_mean=("net", "mean"),
        net_sd=("net", "std"),
    )
    out = g.reset_index()
    n = out["n"].to_numpy()
    out["net_ci_low"], out["net_ci_high"] = _t_interval(out["net_mean"], out["net_sd"], n, a)
    out["d_z"], out["d_z_ci_low"], out["d_z_ci_high"] = _dz_arrays(out["net_mean"], out["net_sd"], n, a)
    out["n"] = out["n"].astype(int)
    return _decoded(out.loc[:, list(NET_COLUMNS)].reset_index(drop=True), dtypes)
