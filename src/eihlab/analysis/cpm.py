"""Conditioned pain modulation from the test stimulus before, during and after the conditioning stimulus.

A CPM block is the set of trials of one subject × session × condition × timepoint × site × test modality
that carry a ``cpm_phase``: ``before`` (test stimulus alone), ``during`` (test stimulus repeated during the
conditioning stimulus: the *parallel* paradigm) and ``after`` (repeated after it ends: *sequential*). With
trial means :math:`\\bar x`:

.. math::

    CPM_\\text{parallel} = \\bar x_\\text{during} - \\bar x_\\text{before}, \\quad
    CPM_\\text{sequential} = \\bar x_\\text{after} - \\bar x_\\text{before}, \\quad
    \\%CPM = 100\\,\\frac{CPM}{\\bar x_\\text{before}}.

Sign convention (qst_conventions §2.3, Yarnitsky et al. 2015): ``cpm`` is always *conditioned minus
baseline*; for thresholds (PPT, HPT, latencies) a positive value is inhibition, for pain ratings a negative
value is. The column ``convention`` says which applies to the row, and ``inhibition`` = direction × cpm is
positive for inhibition whatever the test stimulus. A CPM effect already computed (``modality`` CPM, as
``eihlab run`` records it, during minus before) is reported as paradigm ``recorded``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .eih import pct_change
from .modalities import cpm_test_of

__all__ = ["CPM_COLUMNS", "cpm_table", "convention"]

CPM_COLUMNS: tuple[str, ...] = (
    "subject",
    "session",
    "condition",
    "timepoint",
    "site",
    "modality",
    "unit",
    "paradigm",
    "baseline",
    "conditioned",
    "cpm",
    "cpm_pct",
    "inhibition",
    "convention",
    "responder",
    "sem",
    "criterion",
)
"""Columns of ``cpm.csv``."""

_BLOCK = ["subject", "session", "condition", "timepoint", "site", "modality", "unit", "direction"]
_PARADIGMS = {"during": "parallel", "after": "sequential"}


def convention(direction: int) -> str:
    """The sign convention of a CPM row, in words."""
    if direction > 0:
        return "cpm = conditioned - baseline; > 0 is inhibition (threshold or latency test)"
    return "cpm = conditioned - baseline; < 0 is inhibition (rating test)"


def cpm_table(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per CPM block and paradigm (responder columns are filled in by the caller).

    Parameters
    ----------
    trials
        The cleaned trial table (:data:`eihlab.analysis.load.TRIAL_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CPM_COLUMNS` (``responder``, ``sem`` and ``criterion`` empty).
    """
    frames = []
    blocks = trials.loc[trials["cpm_phase"] != ""]
    if len(blocks):
        means = blocks.groupby([*_BLOCK, "cpm_phase"], sort=False)["value"].mean().unstack("cpm_phase")
        for phase, paradigm in _PARADIGMS.items():
            if phase not in means.columns:
                continue
            rows = means.loc[means[phase].notna() & means["before"].notna()]
            if rows.empty:
                continue
            part = pd.DataFrame(
                {
                    "paradigm": paradigm,
                    "baseline": rows["before"].to_numpy(float),
                    "conditioned": rows[phase].to_numpy(float),
                },
                index=rows.index,
            ).reset_index()
            frames.append(part)
    recorded = trials.loc[trials["modality"] == "CPM"]
    if len(recorded):
        rec = recorded.assign(modality=[cpm_test_of(k) for k in recorded["kind"]])
        rec = rec.groupby(_BLOCK, sort=False)["value"].mean().rename("cpm").reset_index()
        rec["paradigm"] = "recorded"
        rec["baseline"] = np.nan
        rec["conditioned"] = np.nan
        frames.append(rec)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CPM_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    computed = out["paradigm"] != "recorded"
    cpm = out["cpm"].to_numpy(float) if "cpm" in out.columns else np.full(len(out), np.nan)
    cpm = np.where(computed, out["conditioned"].to_numpy(float) - out["baseline"].to_numpy(float), cpm)
    out["cpm"] = cpm
    out["cpm_pct"] = np.where(computed, pct_change(cpm, out["baseline"]), np.nan)
    out["inhibition"] = out["direction"].to_numpy(float) * cpm
    out["convention"] = [convention(int(d)) for d in out["direction"]]
    out["responder"] = pd.array([pd.NA] * len(out), dtype="boolean")
    out["sem"] = np.nan
    out["criterion"] = np.nan
    return out
