"""Analysis of real QST data: EIH, net EIH, CPM, temporal summation, responders, reliability, rodent assays.

``eihlab analyze DATA.csv --out DIR`` (and :func:`analyze` from Python) reads QST data in the tidy
one-row-per-trial layout of ``qst_conventions.md`` or the ``observations.csv`` that ``eihlab run`` writes,
and returns four tables:

* ``subjects``: per subject × session × condition × site × post-baseline timepoint × modality: baseline and
  post trial means in canonical units, change and % change (EIH), net EIH against the rest condition, %MPE
  for latencies, and the responder label under the chosen rule (:mod:`eihlab.analysis.eih`);
* ``cpm``: parallel and sequential CPM per block with the sign convention spelled out
  (:mod:`eihlab.analysis.cpm`);
* ``reliability``: ICC(2,1) and ICC(3,1) with CIs, SEM and MDC95 for everything measured more than once
  (:mod:`eihlab.analysis.reliability`);
* ``group``: group means with t intervals and within-subject :math:`d_z` with CIs, and responder rates
  (:mod:`eihlab.analysis.group`).

Modules: :mod:`~eihlab.analysis.load` (reading, layouts, validation, lenient rejection),
:mod:`~eihlab.analysis.units`, :mod:`~eihlab.analysis.modalities`, :mod:`~eihlab.analysis.vonfrey` (Dixon's
table, Chaplan's formula), :mod:`~eihlab.analysis.summation` (temporal summation),
:mod:`~eihlab.analysis.figures` and :mod:`~eihlab.analysis.io` (atomic writing, JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from eihlab.errors import InputError

from .cpm import CPM_COLUMNS, cpm_table
from .eih import RULES, SUBJECT_COLUMNS, cell_means, classify, net_eih, subject_changes
from .group import GROUP_COLUMNS, group_summary
from .io import as_json, write_analysis
from .load import Prepared, prepare, read_table
from .reliability import RELIABILITY_COLUMNS, icc, reliability_table, responder_sem

__all__ = [
    "CPM_COLUMNS",
    "GROUP_COLUMNS",
    "RELIABILITY_COLUMNS",
    "RULES",
    "SUBJECT_COLUMNS",
    "AnalysisResult",
    "analyze",
    "analyze_file",
    "as_json",
    "icc",
    "prepare",
    "read_table",
    "write_analysis",
]


@dataclass(frozen=True)
class AnalysisResult:
    """The tables of one analysis.

    Attributes
    ----------
    subjects, cpm, reliability, group
        The four output tables (columns :data:`SUBJECT_COLUMNS`, :data:`CPM_COLUMNS`,
        :data:`RELIABILITY_COLUMNS`, :data:`GROUP_COLUMNS`).
    rejected
        Rows set aside under ``lenient`` (``row``, ``reason``, original columns); empty otherwise.
    trials
        The cleaned trials the analysis used (canonical units).
    notes
        Assumptions and gaps worth telling the user (no SEM for a rule, no rest condition, default cut-offs).
    settings
        ``layout``, ``baseline_timepoint``, ``rest_condition``, ``responder_rule``, ``alpha``.
    timepoints
        The timepoints in display order.
    """

    subjects: pd.DataFrame
    cpm: pd.DataFrame
    reliability: pd.DataFrame
    group: pd.DataFrame
    rejected: pd.DataFrame
    trials: pd.DataFrame
    notes: tuple[str, ...] = ()
    settings: dict[str, object] = field(default_factory=dict)
    timepoints: tuple[str, ...] = ()


def _natural(label: object) -> tuple[int, float, str]:
    text = str(label)
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


_SORT_KEYS = ("subject", "session", "condition", "site", "modality", "timepoint", "paradigm", "statistic")


def _sorted(table: pd.DataFrame, orders: dict[str, list[str]], keys_in: tuple[str, ...] = _SORT_KEYS) -> pd.DataFrame:
    """Sort by subject and session naturally, the other labels by first appearance / timepoint order."""
    if table.empty:
        return table.reset_index(drop=True)
    keys = []
    frame = table.copy()
    for c in keys_in:
        if c not in frame.columns:
            continue
        name = f"_k_{c}"
        if c in ("subject", "session"):
            frame[name] = [_natural(v) for v in frame[c]]
        else:
            rank = {v: i for i, v in enumerate(orders.get(c, []))}
            frame[name] = [rank.get(v, len(rank)) for v in frame[c]]
        keys.append(name)
    frame = frame.sort_values(keys, kind="mergesort")
    return frame.drop(columns=keys).reset_index(drop=True)


def _check_settings(rule: str, alpha: float) -> None:
    if rule not in RULES:
        raise InputError("responder_rule", rule, list(RULES))
    if not 0.0 < float(alpha) < 1.0:
        raise InputError("alpha", alpha, "a number in the open interval (0, 1)")


def analyze(
    data: pd.DataFrame,
    *,
    rest_condition: str | None = "rest",
    baseline_timepoint: str | None = None,
    responder_rule: str = "sem2",
    lenient: bool = False,
    alpha: float = 0.05,
) -> AnalysisResult:
    """Analyse a QST table (one row per trial; either layout, see :mod:`eihlab.analysis.load`).

    Parameters
    ----------
    data
        The table (as read by :func:`read_table`, or built in Python).
    rest_condition
        Name of the quiet-rest control condition, for net EIH and the rest-based SEM. A name that is not in
        the data only adds a note; ``None`` skips both.
    baseline_timepoint
        The baseline timepoint (default: ``pre`` or ``baseline``, else the latest numeric time <= 0).
    responder_rule
        ``gt0``, ``sem1``, ``sem2``, ``mdc95`` or ``pct20`` (:data:`RULES`).
    lenient
        Set bad rows aside (``result.rejected``) instead of raising on the first.
    alpha
        Two-sided error rate of every interval.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    eihlab.errors.InputError
        For a bad setting or (unless ``lenient``) the first bad row, naming the row, column, value and what
        is allowed.
    """
    _check_settings(responder_rule, alpha)
    prep: Prepared = prepare(data, baseline_timepoint=baseline_timepoint, lenient=lenient)
    trials = prep.trials
    notes = list(prep.notes)
    baseline = prep.baseline
    conditions = list(dict.fromkeys(trials["condition"]))
    rest = rest_condition if rest_condition in conditions else None
    if rest_condition is not None and rest is None:
        notes.append(f"no {rest_condition!r} condition in the data: net EIH and the rest-based SEM are not computed")

    means = cell_means(trials)
    changes, mpe_notes = subject_changes(means, baseline)
    notes += mpe_notes
    changes = net_eih(changes, rest) if rest is not None else changes.assign(net_change=np.nan, net_pct_change=np.nan)
    cpm = cpm_table(trials)
    reliability = reliability_table(
        means, changes, cpm, baseline=baseline, timepoints=prep.timepoints, rest_condition=rest, alpha=alpha
    )
    sems = responder_sem(reliability)
    needs_sem = responder_rule in {"sem1", "sem2", "mdc95"}

    def label(table: pd.DataFrame, change: str, pct: str) -> pd.DataFrame:
        if table.empty:
            return table.assign(
                sem=pd.Series(dtype=float), criterion=pd.Series(dtype=float), responder=pd.Series(dtype="boolean")
            )
        sem = np.array(
            [sems.get((str(s), str(m)), np.nan) for s, m in zip(table["site"], table["modality"], strict=True)]
        )
        crit, resp = classify(table[change], table[pct], table["direction"], responder_rule, sem)
        out = table.assign(sem=sem, criterion=crit)
        out["responder"] = resp.array
        if needs_sem:
            for site, modality in sorted(
                {(s, m) for s, m, v in zip(out["site"], out["modality"], sem, strict=True) if not np.isfinite(v)}
            ):
                notes.append(
                    f"no SEM for {modality} at {site} (no retest session and no rest condition): responders under "
                    f"rule {responder_rule} left blank"
                )
        return out

    subjects = label(changes, "change", "pct_change")
    cpm = label(cpm, "cpm", "cpm_pct")
    orders = {
        "condition": conditions,
        "site": list(dict.fromkeys(trials["site"])),
        "modality": list(dict.fromkeys(trials["modality"])),
        "timepoint": prep.timepoints,
        "paradigm": ["parallel", "sequential", "recorded"],
        "statistic": [
            "change",
            "pct_change",
            "net_change",
            "net_pct_change",
            "pct_mpe",
            "cpm_parallel",
            "cpm_sequential",
            "cpm_recorded",
        ],
    }
    subjects = _sorted(subjects, orders)
    cpm = _sorted(cpm, orders)
    group = group_summary(subjects, cpm, responder_rule, alpha)
    if len(group):
        group["family"] = np.where(group["statistic"].astype(str).str.startswith("cpm_"), "cpm", "eih")
        group = _sorted(group, {**orders, "family": ["eih", "cpm"]}, ("family", *_SORT_KEYS)).drop(columns="family")
    rel_orders = {**orders, "source": ["between_sessions", "rest_within_session"], "condition": ["all", *conditions]}
    rel_orders["quantity"] = ["value", "change", "cpm_parallel", "cpm_sequential", "cpm_recorded"]
    reliability = _sorted(reliability, rel_orders, ("source", "condition", "site", "modality", "timepoint", "quantity"))
    return AnalysisResult(
        subjects=subjects.loc[:, list(SUBJECT_COLUMNS)],
        cpm=cpm.loc[:, list(CPM_COLUMNS)] if len(cpm) else pd.DataFrame(columns=list(CPM_COLUMNS)),
        reliability=reliability,
        group=group,
        rejected=prep.rejected,
        trials=trials,
        notes=tuple(dict.fromkeys(notes)),
        settings={
            "layout": prep.layout,
            "baseline_timepoint": baseline,
            "rest_condition": rest_condition,
            "responder_rule": responder_rule,
            "alpha": alpha,
        },
        timepoints=tuple(prep.timepoints),
    )


def analyze_file(path: str | Path, **options: object) -> AnalysisResult:
    """Read a CSV with :func:`read_table` and :func:`analyze` it (keyword options as for :func:`analyze`)."""
    return analyze(read_table(path), **options)  # type: ignore[arg-type]
