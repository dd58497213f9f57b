"""Per-subject exercise-induced hypoalgesia: trial means, change from baseline, net EIH, %MPE, responders.

For every subject × session × condition × site × modality (qst_conventions §1.3):

.. math::

    \\bar x_t = \\tfrac1m \\sum_{j=1}^{m} x_{t,j}, \\qquad
    \\Delta_t = \\bar x_t - \\bar x_\\text{pre}, \\qquad
    \\%\\Delta_t = 100\\,\\frac{\\bar x_t - \\bar x_\\text{pre}}{\\bar x_\\text{pre}}

(trials at a cut-off enter the mean at the cut-off value, a lower bound, and are counted in
``n_censored``). Net EIH against the quiet-rest condition of the same subject, site, modality and time is
:math:`\\Delta_\\text{exercise} - \\Delta_\\text{rest}` (Vaegter et al. 2014), with the rest change averaged over
the subject's rest sessions. For withdrawal latencies with a cut-off :math:`c` (Hargreaves, tail flick) the
percentage of the maximum possible effect is :math:`\\%MPE = 100\\,(x_t - x_\\text{pre})/(c - x_\\text{pre})`
(Harris & Pierson 1964).

Responder rules (qst_conventions §0.5, §1.4), with :math:`s = \\pm 1` the modality's direction (+1 when an
increase is hypoalgesia, -1 for ratings) and SEM the standard error of measurement from the data's own
test-retest or rest data:

========  ==========================================================
``gt0``   :math:`s\\,\\Delta > 0`
``sem1``  :math:`s\\,\\Delta > SEM`
``sem2``  :math:`s\\,\\Delta > 2\\,SEM` (Kemp et al. 2020, "true" change)
``mdc95`` :math:`s\\,\\Delta > MDC_{95} = 1.96\\sqrt2\\,SEM`
``pct20`` :math:`s\\,\\%\\Delta \\ge 20` (Taylor/Lawn 2025)
========  ==========================================================

Responder labels of individuals are poorly reproducible (κ 0.01-0.46 for EIH; qst_conventions §1.5); show
them with the distribution of changes, never alone.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from eihlab.errors import InputError

from .modalities import MODALITIES
from .reliability import mdc95

__all__ = [
    "RULES",
    "SUBJECT_COLUMNS",
    "cell_means",
    "classify",
    "net_eih",
    "pct_change",
    "pct_mpe",
    "responder_criterion",
    "subject_changes",
]

RULES: dict[str, str] = {
    "gt0": "change > 0",
    "sem1": "change > 1 SEM",
    "sem2": "change > 2 SEM",
    "mdc95": "change > MDC95 (1.96·√2·SEM)",
    "pct20": "% change >= 20",
}
"""The responder rules and what they require (changes signed so that hypoalgesia is positive)."""

SUBJECT_COLUMNS: tuple[str, ...] = (
    "subject",
    "condition",
    "site",
    "timepoint",
    "modality",
    "baseline",
    "value",
    "change",
    "pct_change",
    "responder",
    "session",
    "site_role",
    "unit",
    "n_trials",
    "n_censored",
    "net_change",
    "net_pct_change",
    "pct_mpe",
    "sem",
    "criterion",
)
"""Columns of ``subjects.csv``: the issue's ten first, then context and the responder criterion used."""

_CELL = ["subject", "session", "condition", "site", "modality"]
_MEAN_KEYS = ["subject", "session", "condition", "timepoint", "site", "site_role", "modality", "unit", "direction"]


def pct_change(change: npt.ArrayLike, baseline: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """:math:`100\\,\\Delta / x_\\text{pre}`, NaN where the baseline is 0.

    Examples
    --------
    >>> pct_change([50.0], [400.0]).tolist()
    [12.5]
    """
    c = np.asarray(change, dtype=float)
    b = np.asarray(baseline, dtype=float)
    out = np.full(np.broadcast(c, b).shape, np.nan)
    np.divide(100.0 * c, b, out=out, where=b != 0.0)
    return out


def pct_mpe(post: npt.ArrayLike, pre: npt.ArrayLike, cutoff: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Percentage of the maximum possible effect, :math:`100 (x_t - x_\\text{pre})/(c - x_\\text{pre})`.

    NaN where the baseline already sits at the cut-off.

    Examples
    --------
    >>> pct_mpe([15.0], [10.0], [20.0]).tolist()
    [50.0]
    """
    x = np.asarray(post, dtype=float)
    p = np.asarray(pre, dtype=float)
    c = np.asarray(cutoff, dtype=float)
    room = c - p
    out = np.full(np.broadcast(x, p, c).shape, np.nan)
    np.divide(100.0 * (x - p), room, out=out, where=room != 0.0)
    return out


def cell_means(trials: pd.DataFrame) -> pd.DataFrame:
    """Trial means of the EIH rows (no CPM phase, no recorded CPM) per subject × session × condition ×
    timepoint × site × modality, with ``n_trials``, ``n_censored`` and the largest stated ``cutoff``."""
    eih = trials.loc[(trials["cpm_phase"] == "") & (trials["modality"] != "CPM")]
    g = eih.groupby(_MEAN_KEYS, sort=False, dropna=False)
    out = g.agg(
        value=("value", "mean"),
        n_trials=("value", "size"),
        n_censored=("censored", "sum"),
        cutoff=("cutoff", "max"),
    ).reset_index()
    return out.astype({"n_trials": int, "n_censored": int})


def subject_changes(means: pd.DataFrame, baseline: str) -> tuple[pd.DataFrame, list[str]]:
    """Change and % change from the baseline timepoint, and %MPE for latencies, one row per post timepoint.

    Parameters
    ----------
    means
        Output of :func:`cell_means`.
    baseline
        The baseline timepoint.

    Returns
    -------
    tuple of (pandas.DataFrame, list of str)
        The per-subject table (``baseline``, ``value``, ``change``, ``pct_change``, ``pct_mpe``, ...) and
        notes (default cut-offs assumed for %MPE).
    """
    base = means.loc[means["timepoint"] == baseline, [*_CELL, "value", "cutoff"]]
    base = base.rename(columns={"value": "baseline", "cutoff": "base_cutoff"})
    post = means.loc[means["timepoint"] != baseline]
    out = post.merge(base, on=_CELL, how="inner", validate="many_to_one")
    out["change"] = out["value"] - out["baseline"]
    out["pct_change"] = pct_change(out["change"], out["baseline"])
    notes: list[str] = []
    mpe = np.full(len(out), np.nan)
    for name in out["modality"].unique():
        mod = MODALITIES.get(str(name))
        if mod is None or not mod.latency:
            continue
        rows = (out["modality"] == name).to_numpy()
        cut = np.fmax(out.loc[rows, "cutoff"].to_numpy(float), out.loc[rows, "base_cutoff"].to_numpy(float))
        missing = ~np.isfinite(cut)
        if missing.any() and mod.default_cutoff is not None:
            cut[missing] = mod.default_cutoff
            notes.append(f"%MPE of {name}: no cutoff stated for some trials; assumed {mod.default_cutoff:g} s")
        mpe[rows] = pct_mpe(out.loc[rows, "value"], out.loc[rows, "baseline"], cut)
    out["pct_mpe"] = mpe
    return out.drop(columns=["cutoff", "base_cutoff"]), notes


def net_eih(changes: pd.DataFrame, rest_condition: str) -> pd.DataFrame:
    """Add ``net_change`` = Δ(condition) − Δ(rest) and ``net_pct_change`` (NaN for rest rows and unmatched
    subjects); the rest change is the mean over the subject's rest sessions."""
    keys = ["subject", "site", "modality", "timepoint"]
    rest = changes.loc[changes["condition"] == rest_condition]
    rest = rest.groupby(keys, sort=False)[["change", "pct_change"]].mean()
    rest = rest.rename(columns={"change": "_rest", "pct_change": "_rest_pct"}).reset_index()
    out = changes.merge(rest, on=keys, how="left", validate="many_to_one")
    not_rest = (out["condition"] != rest_condition).to_numpy()
    out["net_change"] = np.where(not_rest, out["change"] - out["_rest"], np.nan)
    out["net_pct_change"] = np.where(not_rest, out["pct_change"] - out["_rest_pct"], np.nan)
    return out.drop(columns=["_rest", "_rest_pct"])


def responder_criterion(rule: str, sem: float) -> float:
    """The bound a signed change must exceed under ``rule`` (% for ``pct20``; NaN if the SEM is unknown).

    Examples
    --------
    >>> responder_criterion("sem2", 10.0)
    20.0
    >>> round(responder_criterion("mdc95", 10.0), 3)
    27.718
    """
    if rule not in RULES:
        raise InputError("responder_rule", rule, list(RULES))
    if rule == "gt0":
        return 0.0
    if rule == "pct20":
        return 20.0
    factor = {"sem1": 1.0, "sem2": 2.0}
    return factor[rule] * sem if rule in factor else mdc95(sem)


def classify(
    change: npt.ArrayLike,
    pct: npt.ArrayLike,
    direction: npt.ArrayLike,
    rule: str,
    sem: npt.ArrayLike,
) -> tuple[npt.NDArray[np.float64], pd.Series]:
    """Responder labels under ``rule``.

    Parameters
    ----------
    change, pct
        Absolute and % changes.
    direction
        +1 where an increase is hypoalgesia, -1 where a decrease is.
    rule
        One of :data:`RULES`.
    sem
        SEM per row (used by ``sem1``, ``sem2``, ``mdc95``).

    Returns
    -------
    tuple
        The criterion per row and a nullable boolean Series (``<NA>`` where the change or the SEM the rule
        needs is missing).
    """
    c = np.asarray(change, dtype=float)
    p = np.asarray(pct, dtype=float)
    d = np.asarray(direction, dtype=float)
    s = np.broadcast_to(np.asarray(sem, dtype=float), c.shape)
    crit = np.array([responder_criterion(rule, float(x)) for x in s]) if c.size else np.zeros(0)
    if rule == "pct20":
        score, known = d * p, np.isfinite(p)
        label = score >= crit - 1e-12
    else:
        score, known = d * c, np.isfinite(c) & np.isfinite(crit)
        label = score > crit
    out = pd.Series(pd.array(np.where(known, label, False), dtype="boolean"))
    out[~known] = pd.NA
    return crit, out
