"""Temporal summation of pain (wind-up) from the ratings of a train of pulses.

The score of one train is the rating of its last pulse minus the rating of its first pulse (heat wind-up:
5th minus 1st pulse at 0.4 Hz, Staud et al. 2014; mechanical: 10th minus 1st pinprick), on the 0-100 scale
the ratings were converted to. A positive score is summation (facilitation); hypoalgesia lowers it, so the
``TSP`` modality has direction -1. Scores already computed by the lab (or by ``eihlab run``) are read as they
are when the rows carry no ``pulse`` column.

References
----------
.. [1] Staud R, Weyl EE, Riley JL, Fillingim RB. Slow temporal summation of pain for assessment of central
   pain sensitivity and clinical pain of fibromyalgia patients. *PLoS One* 9 (2014) e89086.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["temporal_summation", "temporal_summation_trains"]

_TRAIN = ["subject", "session", "condition", "timepoint", "site", "modality", "cpm_phase", "trial"]


def temporal_summation(ratings: npt.ArrayLike, pulses: npt.ArrayLike) -> float:
    """Rating at the last pulse minus rating at the first pulse of one train.

    Examples
    --------
    >>> temporal_summation([20.0, 35.0, 50.0], [1, 3, 5])
    30.0
    """
    r = np.asarray(ratings, dtype=float)
    p = np.asarray(pulses, dtype=float)
    return float(r[np.argmax(p)] - r[np.argmin(p)])


def temporal_summation_trains(rows: pd.DataFrame) -> pd.DataFrame:
    """Collapse the pulse rows of a trial table to one score per train (see :func:`temporal_summation`).

    ``rows`` has the columns of the working trial table (``pos, row, subject, session, condition, timepoint,
    site, site_role, modality, kind, trial, pulse, value, unit, censored, cutoff, cpm_phase``); the result
    has the same columns, one row per train, carrying the line number of the train's first row.
    """
    ordered = rows.sort_values([*_TRAIN, "pulse"], kind="mergesort")
    grouped = ordered.groupby(_TRAIN, sort=False)
    first = grouped.head(1).set_index(_TRAIN)
    last = grouped.tail(1).set_index(_TRAIN)
    out = first.copy()
    out["value"] = last["value"].to_numpy() - first["value"].to_numpy()
    out["row"] = grouped["row"].min().reindex(first.index).to_numpy()
    out["pos"] = grouped["pos"].min().reindex(first.index).to_numpy()
    out["pulse"] = np.nan
    out["censored"] = False
    out["cutoff"] = np.nan
    return out.reset_index().loc[:, list(rows.columns)]
