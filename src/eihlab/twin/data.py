r"""One person's measurements as the twin sees them: trial means per session, condition, time, site and test.

The data are read and validated by :func:`eihlab.analysis.load.prepare` (either layout, units converted to
kPa and °C, every row checked), then one subject's trials are averaged into *cells*: one per session ×
condition × timepoint × site × test × CPM phase, with the number of trials. The twin uses

* PPT and HPT, at any timepoint (baseline and after exercise or rest),
* CPM blocks of a PPT or HPT test stimulus (``cpm_phase`` before / during / after), and
* recorded CPM effects (modality ``CPM`` as ``eihlab run`` writes them: conditioned minus baseline);

other modalities are listed in the notes and left out.

Timepoints are put on the model's clock (minutes from the start of the exercise bout) by
:func:`timepoint_minutes`: numbers are taken as minutes (the layout ``eihlab run`` writes), the baseline and
``pre``-like names are 5 min before the bout, ``during`` is the middle of the bout, ``post``/``after`` is 1 min
after its end and ``post_N`` (``post15``, ``post_15_min``, ``after 30``) is N min after its end. A rest
session follows the same clock without the bout.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from eihlab.analysis.load import prepare
from eihlab.errors import InputError
from eihlab.model.body import SITES

__all__ = ["CELL_COLUMNS", "PersonData", "person_data", "timepoint_minutes"]

CELL_COLUMNS: tuple[str, ...] = (
    "session",
    "condition",
    "timepoint",
    "data_site",
    "site",
    "modality",
    "test",
    "phase",
    "value",
    "unit",
    "n_trials",
    "n_censored",
)
"""Columns of :attr:`PersonData.cells`."""

_USED = {"PPT", "HPT"}
_TEST_OF_KIND = {"pressure": "PPT", "temperature": "HPT"}
_PRE = {"pre", "baseline", "before", "pre_exercise", "rest_pre"}
_POST = re.compile(r"^(?:post|after)(?:[\s_\-+]*(\d+(?:\.\d+)?))?(?:[\s_\-]*min)?$")
BASELINE_MIN = -5.0
"""Model time of a named baseline: 5 min before the bout (assumed: the usual pre-test a few minutes before)."""
POST_DELAY_MIN = 1.0
"""Model time of ``post`` after the end of the bout (assumed: 'immediately after' means within a minute or two)."""
TIMEPOINT_FORMS = (
    "a number of minutes from the exercise start, the baseline, pre, during, post, or post_N (N min after)"
)


def timepoint_minutes(label: str, baseline: str, duration_min: float) -> float:
    """The model time (minutes from the start of the bout) of a timepoint label.

    Parameters
    ----------
    label
        The timepoint as in the data.
    baseline
        The data's baseline timepoint.
    duration_min
        Duration of the bout (a rest session follows the same clock).

    Raises
    ------
    eihlab.errors.InputError
        For a label that is none of the accepted forms.

    Examples
    --------
    >>> timepoint_minutes("post_15", "pre", 20.0)
    35.0
    >>> timepoint_minutes("pre", "pre", 20.0)
    -5.0
    """
    text = str(label).strip()
    try:
        x = float(text)
    except ValueError:
        x = math.nan
    if math.isfinite(x):
        return x
    low = text.lower()
    if text == baseline or low in _PRE:
        return BASELINE_MIN
    if low == "during":
        return duration_min / 2.0
    m = _POST.match(low)
    if m is not None:
        delay = float(m.group(1)) if m.group(1) is not None else POST_DELAY_MIN
        return duration_min + delay
    raise InputError("timepoint", label, TIMEPOINT_FORMS)


@dataclass(frozen=True)
class PersonData:
    """The measurements of one person.

    Attributes
    ----------
    subject
        The subject id as in the data.
    cells
        Trial means, columns :data:`CELL_COLUMNS` (``site`` is the model site, ``data_site`` as written;
        ``phase`` is ``""`` for a plain test, ``before``/``during``/``after`` in a CPM block, ``recorded``
        for a recorded CPM effect).
    baseline
        The baseline timepoint.
    rest_condition
        The rest condition's name, if the person has one.
    notes
        What was left out or assumed.
    """

    subject: str
    cells: pd.DataFrame
    baseline: str
    rest_condition: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def conditions(self) -> list[str]:
        """Conditions in order of appearance."""
        return list(dict.fromkeys(self.cells["condition"]))

    @property
    def exercise_conditions(self) -> list[str]:
        """The conditions that are not rest."""
        return [c for c in self.conditions if c != self.rest_condition]

    @property
    def ppt_sites(self) -> list[str]:
        """Model sites with a PPT test (plain, CPM block or recorded)."""
        return list(dict.fromkeys(self.cells.loc[self.cells["test"] == "PPT", "site"]))

    def has(self, test: str | None = None, cpm: bool | None = None) -> bool:
        """Whether any cell has this test (and is / is not CPM)."""
        c = self.cells
        mask = np.ones(len(c), dtype=bool) if test is None else (c["test"] == test).to_numpy()
        if cpm is not None:
            is_cpm = c["phase"].isin(["during", "after", "recorded"]).to_numpy()
            mask = mask & (is_cpm if cpm else ~is_cpm)
        return bool(mask.any())


def _model_site(site: str, side: str) -> str:
    human = [s.name for s in SITES.values() if "human" in s.species]
    if site in human:
        return site
    sided = f"{site}_{side}"
    if sided in human:
        return sided
    raise InputError("site", site, human + [f"a site name without side ({side} is assumed)"])


def subjects_of(trials: pd.DataFrame) -> list[str]:
    """Subject ids in order of appearance."""
    return [str(s) for s in dict.fromkeys(trials["subject"])]


def person_data(
    data: pd.DataFrame,
    subject: str,
    *,
    rest_condition: str | None = "rest",
    side: str = "right",
) -> PersonData:
    """Validate a QST table and collect one subject's cells.

    Parameters
    ----------
    data
        A table in either layout (:func:`eihlab.analysis.load.read_table`).
    subject
        The subject to fit.
    rest_condition
        The quiet-rest condition; every other condition is taken as the exercise session.
    side
        Side assumed for sites written without one (``quadriceps`` → ``quadriceps_right``).

    Returns
    -------
    PersonData

    Raises
    ------
    eihlab.errors.InputError
        For invalid data (the first bad row), an unknown subject (listing the subjects), a site the model
        does not have, or a subject without PPT/HPT data.
    """
    if side not in ("left", "right"):
        raise InputError("--side", side, ["left", "right"])
    prep = prepare(data)
    trials = prep.trials
    available = subjects_of(trials)
    if str(subject) not in available:
        raise InputError("--subject", subject, available)
    mine = trials.loc[trials["subject"].astype(str) == str(subject)].copy()
    notes = list(prep.notes)
    recorded = (mine["modality"] == "CPM").to_numpy()
    kind_test = np.array([_TEST_OF_KIND.get(str(k), "") for k in mine["kind"]], dtype=object)
    mine["test"] = np.where(recorded, kind_test, mine["modality"].to_numpy(dtype=object))
    used = mine["test"].isin(list(_USED))
    dropped = sorted(set(mine.loc[~used, "modality"].astype(str)))
    if dropped:
        notes.append(f"not used by the twin (only PPT, HPT and their CPM): {', '.join(dropped)}")
    mine = mine.loc[used].copy()
    if mine.empty:
        raise InputError("DATA", f"subject {subject}", "PPT or HPT trials (plain, CPM blocks or recorded CPM)")
    mine["phase"] = np.where(recorded[used.to_numpy()], "recorded", mine["cpm_phase"].astype(str).to_numpy())
    mine["data_site"] = mine["site"].astype(str)
    site_map = {s: _model_site(s, side) for s in dict.fromkeys(mine["data_site"])}
    assumed = [s for s, m in site_map.items() if s != m]
    if assumed:
        notes.append(f"sites without a side taken as the {side} side: {', '.join(assumed)}")
    mine["site"] = mine["data_site"].map(site_map)
    keys = ["session", "condition", "timepoint", "data_site", "site", "modality", "test", "phase", "unit"]
    cells = (
        mine.groupby(keys, sort=False)
        .agg(value=("value", "mean"), n_trials=("value", "size"), n_censored=("censored", "sum"))
        .reset_index()
    )
    cells = cells.astype({"n_trials": int, "n_censored": int, "value": float})
    if int(cells["n_censored"].sum()):
        notes.append("trials at a device cut-off enter the mean at the cut-off (a lower bound)")
    if (mine["phase"] == "recorded").any():
        notes.append("a recorded CPM effect is taken as parallel CPM (conditioned during minus before)")
    rest = rest_condition if rest_condition in set(cells["condition"]) else None
    return PersonData(str(subject), cells.loc[:, list(CELL_COLUMNS)], prep.baseline, rest, notes)
