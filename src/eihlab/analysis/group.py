"""Group summaries of per-subject changes and CPM effects, with within-subject effect sizes.

For each condition × timepoint × site × modality and statistic, the per-subject values (averaged first over
a subject's sessions of that condition, so every subject counts once) are described by their mean, SD, the
Student-t interval :math:`\\bar x \\pm t_{1-\\alpha/2,n-1} s/\\sqrt n` and Cohen's :math:`d_z = \\bar x / s` with
its noncentral-t interval (:func:`eihlab.stats.mean_ci`, :func:`eihlab.stats.within_subject_d`). Because
every statistic is itself a within-subject difference (post - pre, exercise - rest, conditioned - baseline),
:math:`d_z` is the within-subject effect size of the issue. Responder counts are over subject-sessions.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from eihlab.stats import mean_ci, within_subject_d

__all__ = ["GROUP_COLUMNS", "group_summary"]

GROUP_COLUMNS: tuple[str, ...] = (
    "condition",
    "timepoint",
    "site",
    "modality",
    "unit",
    "statistic",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "d_z",
    "d_z_ci_low",
    "d_z_ci_high",
    "n_classified",
    "n_responders",
    "responder_rate",
)
"""Columns of ``group.csv``."""

_KEYS = ["condition", "timepoint", "site", "modality", "unit"]


def _describe(values: np.ndarray, alpha: float) -> dict[str, float]:
    x = values[np.isfinite(values)]
    mean, lo, hi = mean_ci(x, alpha) if x.size else (math.nan, math.nan, math.nan)
    es = within_subject_d(x, alpha)
    return {
        "n": int(x.size),
        "mean": mean,
        "sd": float(x.std(ddof=1)) if x.size > 1 else math.nan,
        "ci_low": lo,
        "ci_high": hi,
        "d_z": es.d,
        "d_z_ci_low": es.ci_low,
        "d_z_ci_high": es.ci_high,
    }


def _summaries(
    table: pd.DataFrame, stats: dict[str, str], responder_stat: str | None, alpha: float
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    if table.empty:
        return rows
    per_subject = table.groupby([*_KEYS, "subject"], sort=False)[list(stats)].mean().reset_index()
    grouped = table.groupby(_KEYS, sort=False)
    for key, grp in per_subject.groupby(_KEYS, sort=False):
        resp = grouped.get_group(key)["responder"]
        n_cls = int(resp.notna().sum())
        n_resp = int(resp.fillna(False).astype(bool).sum())
        for column, statistic in stats.items():
            values = grp[column].to_numpy(float)
            if not np.isfinite(values).any():
                continue
            row: dict[str, object] = dict(zip(_KEYS, key, strict=True))
            row["statistic"] = statistic
            row.update(_describe(values, alpha))
            is_resp = statistic == responder_stat
            row["n_classified"] = n_cls if is_resp else math.nan
            row["n_responders"] = n_resp if is_resp else math.nan
            row["responder_rate"] = (n_resp / n_cls if n_cls else math.nan) if is_resp else math.nan
            rows.append(row)
    return rows


def group_summary(subjects: pd.DataFrame, cpm: pd.DataFrame, rule: str, alpha: float = 0.05) -> pd.DataFrame:
    """Group rows for the EIH statistics (``change``, ``pct_change``, ``net_change``, ``net_pct_change``,
    ``pct_mpe``) and the CPM effects (``cpm_parallel``, ``cpm_sequential``, ``cpm_recorded``).

    Responder counts go on the row of the statistic the rule judges (``pct_change`` for ``pct20``, else
    ``change``; the CPM effect for CPM rows).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GROUP_COLUMNS`.
    """
    stats = {
        "change": "change",
        "pct_change": "pct_change",
        "net_change": "net_change",
        "net_pct_change": "net_pct_change",
        "pct_mpe": "pct_mpe",
    }
    resp_stat = "pct_change" if rule == "pct20" else "change"
    rows = _summaries(subjects, stats, resp_stat, alpha)
    for paradigm, part in cpm.groupby("paradigm", sort=False) if len(cpm) else []:
        name = f"cpm_{paradigm}"
        rows += _summaries(part, {"cpm": name}, name, alpha)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in GROUP_COLUMNS})
    out = pd.DataFrame(rows).loc[:, list(GROUP_COLUMNS)]
    return out.astype({"n": int})
