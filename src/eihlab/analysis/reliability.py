"""Relative and absolute reliability: ICC(2,1), ICC(3,1) with confidence intervals, SEM and MDC95.

For an :math:`n \\times k` table (subjects × occasions: sessions, or the pre and post tests of a quiet-rest
condition) the two-way ANOVA gives the mean squares

.. math::

    MS_R = \\frac{k \\sum_i (\\bar x_{i\\cdot} - \\bar x)^2}{n-1}, \\quad
    MS_C = \\frac{n \\sum_j (\\bar x_{\\cdot j} - \\bar x)^2}{k-1}, \\quad
    MS_E = \\frac{\\sum_{ij} (x_{ij} - \\bar x)^2 - (n-1) MS_R - (k-1) MS_C}{(n-1)(k-1)}

and (Shrout & Fleiss 1979; McGraw & Wong 1996 "A,1" and "C,1")

.. math::

    ICC(2,1) = \\frac{MS_R - MS_E}{MS_R + (k-1) MS_E + k (MS_C - MS_E)/n}, \\qquad
    ICC(3,1) = \\frac{MS_R - MS_E}{MS_R + (k-1) MS_E}.

Confidence intervals (McGraw & Wong 1996, Table 7, cases 3A/2A): with :math:`F = MS_R/MS_E`,
:math:`F_L = F / F_{1-\\alpha/2}(n-1, (n-1)(k-1))` and :math:`F_U = F \\cdot F_{1-\\alpha/2}((n-1)(k-1), n-1)`,
ICC(3,1) lies in :math:`[(F_L-1)/(F_L+k-1),\\ (F_U-1)/(F_U+k-1)]`. For ICC(2,1), with
:math:`a = k\\rho/(n(1-\\rho))`, :math:`b = 1 + k\\rho(n-1)/(n(1-\\rho))` (:math:`\\rho` = ICC(2,1)) and
Satterthwaite's :math:`v = (a MS_C + b MS_E)^2 / ((a MS_C)^2/(k-1) + (b MS_E)^2/((n-1)(k-1)))`,
:math:`F_* = F_{1-\\alpha/2}(n-1, v)`, :math:`F^* = F_{1-\\alpha/2}(v, n-1)`:

.. math::

    L = \\frac{n (MS_R - F_* MS_E)}{F_* (k MS_C + (kn - k - n) MS_E) + n MS_R}, \\quad
    U = \\frac{n (F^* MS_R - MS_E)}{k MS_C + (kn - k - n) MS_E + n F^* MS_R}.

Absolute reliability (Weir 2005): :math:`SEM = SD\\sqrt{1 - ICC}` with :math:`SD` the standard deviation of
all :math:`nk` scores and the ICC(2,1) (absolute agreement), and the minimal detectable change
:math:`MDC_{95} = 1.96\\sqrt 2\\, SEM` (the 95 % limit of a difference of two measurements).

This is the calculation of pingouin's ``intraclass_corr`` (types ICC(A,1), ICC(C,1)); it is reimplemented
here rather than imported because pingouin pulls in scikit-learn, statsmodels and seaborn (about 50 s and
0.5 GB for a fresh install), and the tests check it against pingouin's and Shrout & Fleiss's numbers.

References
----------
.. [1] Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability. *Psychol Bull*
   86 (1979) 420-428.
.. [2] McGraw KO, Wong SP. Forming inferences about some intraclass correlation coefficients. *Psychol
   Methods* 1 (1996) 30-46.
.. [3] Weir JP. Quantifying test-retest reliability using the intraclass correlation coefficient and the
   SEM. *J Strength Cond Res* 19 (2005) 231-240.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as sps

from eihlab.errors import InputError

__all__ = ["ICC", "RELIABILITY_COLUMNS", "icc", "mdc95", "reliability_table", "responder_sem", "sem"]

Z95 = 1.959963984540054
"""The 97.5 % standard-normal quantile (the "1.96" of MDC95)."""


@dataclass(frozen=True)
class ICC:
    """Reliability of an :math:`n \\times k` table of complete cases.

    Attributes
    ----------
    n, k
        Subjects (complete rows) and occasions.
    icc2_1, icc2_1_ci
        Two-way random, absolute agreement, single measurement, with its ``1 - alpha`` interval.
    icc3_1, icc3_1_ci
        Two-way mixed, consistency, single measurement, with its interval.
    ms_rows, ms_cols, ms_error
        The ANOVA mean squares.
    sd
        Standard deviation (n - 1) of all :math:`nk` scores.
    sem, mdc95
        :math:`SD\\sqrt{1 - ICC(2,1)}` and :math:`1.96\\sqrt 2\\,SEM`.
    """

    n: int
    k: int
    icc2_1: float
    icc2_1_ci: tuple[float, float]
    icc3_1: float
    icc3_1_ci: tuple[float, float]
    ms_rows: float
    ms_cols: float
    ms_error: float
    sd: float
    sem: float
    mdc95: float


def sem(sd: float, icc_value: float) -> float:
    """Standard error of measurement :math:`SD\\sqrt{1 - ICC}` (NaN if the ICC is NaN or above 1)."""
    if not (math.isfinite(sd) and math.isfinite(icc_value)) or icc_value > 1.0:
        return math.nan
    return sd * math.sqrt(1.0 - icc_value)


def mdc95(sem_value: float) -> float:
    """Minimal detectable change at 95 % confidence, :math:`1.96\\sqrt 2\\,SEM`."""
    return Z95 * math.sqrt(2.0) * sem_value


def _finite(x: float) -> float:
    return float(x) if math.isfinite(x) else math.nan


def _div(a: float, b: float) -> float:
    return a / b if b != 0.0 and math.isfinite(a) and math.isfinite(b) else math.nan


def icc(table: npt.ArrayLike, alpha: float = 0.05) -> ICC:
    """ICC(2,1) and ICC(3,1) with confidence intervals, SEM and MDC95 of a subjects × occasions table.

    Parameters
    ----------
    table
        Array of shape ``(n, k)``; rows with a missing (NaN) entry are dropped first (listwise deletion,
        as pingouin does).
    alpha
        Two-sided error rate of the intervals.

    Returns
    -------
    ICC
        Values are NaN where undefined (all scores equal, or a confidence bound whose F ratio is
        infinite).

    Raises
    ------
    eihlab.errors.InputError
        If fewer than 2 complete rows or fewer than 2 columns remain.

    Examples
    --------
    Shrout & Fleiss (1979), 6 targets rated by 4 judges:

    >>> r = icc([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    >>> round(r.icc2_1, 2), round(r.icc3_1, 2)
    (0.29, 0.71)
    """
    x = np.asarray(table, dtype=float)
    if x.ndim != 2:
        raise InputError("reliability table", f"{x.ndim}-d array", "a subjects × occasions table")
    x = x[np.isfinite(x).all(axis=1)]
    n, k = x.shape
    if n < 2 or k < 2:
        raise InputError("reliability table", f"{n} complete subjects × {k} occasions", "at least 2 × 2")
    grand = float(x.mean())
    ss_rows = k * float(((x.mean(axis=1) - grand) ** 2).sum())
    ss_cols = n * float(((x.mean(axis=0) - grand) ** 2).sum())
    ss_total = float(((x - grand) ** 2).sum())
    df_r, df_c, df_e = n - 1, k - 1, (n - 1) * (k - 1)
    msr = ss_rows / df_r
    msc = ss_cols / df_c
    mse = max(ss_total - ss_rows - ss_cols, 0.0) / df_e
    icc3 = _div(msr - mse, msr + (k - 1) * mse)
    icc2 = _div(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n)

    q = 1.0 - alpha / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        f_obs = _div(msr, mse)
        f_l = f_obs / float(sps.f.ppf(q, df_r, df_e))
        f_u = f_obs * float(sps.f.ppf(q, df_e, df_r))
        ci3 = (_finite(_div(f_l - 1.0, f_l + k - 1.0)), _finite(_div(f_u - 1.0, f_u + k - 1.0)))
        ci2 = (math.nan, math.nan)
        if math.isfinite(icc2) and icc2 < 1.0:
            a = k * icc2 / (n * (1.0 - icc2))
            b = 1.0 + k * icc2 * (n - 1) / (n * (1.0 - icc2))
            v = _div((a * msc + b * mse) ** 2, (a * msc) ** 2 / df_c + (b * mse) ** 2 / df_e)
            if math.isfinite(v) and v > 0:
                f_star = float(sps.f.ppf(q, df_r, v))
                f_star_u = float(sps.f.ppf(q, v, df_r))
                c = k * msc + (k * n - k - n) * mse
                ci2 = (
                    _finite(_div(n * (msr - f_star * mse), f_star * c + n * msr)),
                    _finite(_div(n * (f_star_u * msr - mse), c + n * f_star_u * msr)),
                )
    sd = float(x.std(ddof=1))
    s = sem(sd, icc2)
    return ICC(
        n=n,
        k=k,
        icc2_1=icc2,
        icc2_1_ci=ci2,
        icc3_1=icc3,
        icc3_1_ci=ci3,
        ms_rows=msr,
        ms_cols=msc,
        ms_error=mse,
        sd=sd,
        sem=s,
        mdc95=mdc95(s),
    )


RELIABILITY_COLUMNS: tuple[str, ...] = (
    "source",
    "condition",
    "timepoint",
    "site",
    "modality",
    "unit",
    "quantity",
    "occasions",
    "n",
    "k",
    "icc2_1",
    "icc2_1_ci_low",
    "icc2_1_ci_high",
    "icc3_1",
    "icc3_1_ci_low",
    "icc3_1_ci_high",
    "sd",
    "sem",
    "mdc95",
    "used_for_responders",
)
"""Columns of ``reliability.csv``."""


def _session_key(label: object) -> tuple[int, float, str]:
    text = str(label)
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def _by_occasion(frame: pd.DataFrame, keys: list[str], value: str) -> dict[tuple, tuple[np.ndarray, str]]:
    """Subjects × session-rank tables, one per ``keys`` group (each subject's sessions in natural order)."""
    out: dict[tuple, tuple[np.ndarray, str]] = {}
    for key, grp in frame.groupby(keys, sort=False):
        per = grp.groupby(["subject", "session"], sort=False)[value].mean().reset_index()
        per["_key"] = [_session_key(s) for s in per["session"]]
        per = per.sort_values(["subject", "_key"], kind="mergesort")
        per["rank"] = per.groupby("subject").cumcount() + 1
        wide = per.pivot(index="subject", columns="rank", values=value)
        if wide.shape[1] < 2:
            continue
        labels = per.groupby("subject")["session"].agg(tuple)
        complete = wide.notna().all(axis=1)
        used = {labels[s] for s in wide.index[complete]}
        occ = "sessions " + "|".join(map(str, next(iter(used)))) if len(used) == 1 else "sessions in order"
        out[key if isinstance(key, tuple) else (key,)] = (wide.to_numpy(float), occ)
    return out


def _row(source: str, labels: dict[str, object], table: np.ndarray, occasions: str, alpha: float) -> dict | None:
    complete = np.isfinite(table).all(axis=1)
    if complete.sum() < 2:
        return None
    r = icc(table, alpha)
    return {
        "source": source,
        **labels,
        "occasions": occasions,
        "n": r.n,
        "k": r.k,
        "icc2_1": r.icc2_1,
        "icc2_1_ci_low": r.icc2_1_ci[0],
        "icc2_1_ci_high": r.icc2_1_ci[1],
        "icc3_1": r.icc3_1,
        "icc3_1_ci_low": r.icc3_1_ci[0],
        "icc3_1_ci_high": r.icc3_1_ci[1],
        "sd": r.sd,
        "sem": r.sem,
        "mdc95": r.mdc95,
        "used_for_responders": False,
    }


def reliability_table(
    means: pd.DataFrame,
    changes: pd.DataFrame,
    cpm: pd.DataFrame,
    *,
    baseline: str,
    timepoints: list[str],
    rest_condition: str | None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Reliability of every quantity the data measure more than once per subject.

    Rows (``source``):

    * ``between_sessions``, condition ``all``: the baseline value of each site × modality across a subject's
      sessions (whatever the condition; the baseline precedes the intervention) -- the test-retest
      reliability of the threshold itself;
    * ``between_sessions``, one condition: a condition done in several sessions (a retest), for the value at
      every timepoint, the change from baseline (EIH reliability) and, for CPM blocks, the CPM effect;
    * ``rest_within_session``: the quiet-rest condition's baseline against each later timepoint of the same
      (first rest) session -- a retest without intervention.

    Occasions are each subject's sessions in natural order (1st, 2nd, ...), so a randomised crossover needs
    no common session labels; only subjects measured on every occasion enter (listwise deletion). The row
    used for a site × modality's SEM in responder rules is marked ``used_for_responders``: the
    between-session baseline row if there is one, else the rest row of the first post-baseline timepoint.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RELIABILITY_COLUMNS`.
    """
    rows: list[dict] = []
    base = means.loc[means["timepoint"] == baseline]
    for (site, modality, unit), (table, occ) in _by_occasion(base, ["site", "modality", "unit"], "value").items():
        labels = {"condition": "all", "timepoint": baseline, "site": site, "modality": modality, "unit": unit}
        row = _row("between_sessions", {**labels, "quantity": "value"}, table, occ, alpha)
        if row:
            rows.append(row)
    keys = ["condition", "timepoint", "site", "modality", "unit"]
    for frame, quantity in ((means, "value"), (changes, "change")):
        for key, (table, occ) in _by_occasion(frame, keys, quantity).items():
            labels = dict(zip(keys, key, strict=True))
            row = _row("between_sessions", {**labels, "quantity": quantity}, table, occ, alpha)
            if row:
                rows.append(row)
    if len(cpm):
        ckeys = [*keys, "paradigm"]
        for key, (table, occ) in _by_occasion(cpm, ckeys, "cpm").items():
            labels = dict(zip(keys, key[:-1], strict=True))
            row = _row("between_sessions", {**labels, "quantity": f"cpm_{key[-1]}"}, table, occ, alpha)
            if row:
                rows.append(row)
    if rest_condition is not None:
        rest = means.loc[means["condition"] == rest_condition].copy()
        rest["_key"] = [_session_key(s) for s in rest["session"]]
        first = rest.sort_values(["subject", "_key"], kind="mergesort").groupby("subject")["session"].first()
        rest = rest.loc[rest["session"].to_numpy() == first.reindex(rest["subject"]).to_numpy()]
        for (site, modality, unit), grp in rest.groupby(["site", "modality", "unit"], sort=False):
            wide = grp.pivot_table(index="subject", columns="timepoint", values="value", aggfunc="mean")
            for t in timepoints:
                if t == baseline or t not in wide.columns or baseline not in wide.columns:
                    continue
                labels = {
                    "condition": rest_condition,
                    "timepoint": t,
                    "site": site,
                    "modality": modality,
                    "unit": unit,
                    "quantity": "value",
                }
                row = _row("rest_within_session", labels, wide[[baseline, t]].to_numpy(float), f"{baseline}|{t}", alpha)
                if row:
                    rows.append(row)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in RELIABILITY_COLUMNS})
    out = pd.DataFrame(rows).loc[:, list(RELIABILITY_COLUMNS)]
    for (_site, _modality), grp in out.groupby(["site", "modality"], sort=False):
        retest = grp.loc[(grp["source"] == "between_sessions") & (grp["condition"] == "all")]
        chosen = retest.index[:1]
        if not len(chosen):
            rest_rows = grp.loc[grp["source"] == "rest_within_session"]
            order = {t: i for i, t in enumerate(timepoints)}
            rest_rows = rest_rows.assign(_o=[order.get(t, 0) for t in rest_rows["timepoint"]]).sort_values("_o")
            chosen = rest_rows.index[:1]
        out.loc[chosen, "used_for_responders"] = True
    return out.reset_index(drop=True)


def responder_sem(reliability: pd.DataFrame) -> dict[tuple[str, str], float]:
    """SEM per (site, modality) from the rows marked ``used_for_responders``."""
    used = reliability.loc[reliability["used_for_responders"].astype(bool)]
    return {(str(s), str(m)): float(v) for s, m, v in zip(used["site"], used["modality"], used["sem"], strict=True)}
