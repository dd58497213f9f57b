"""Reading QST data: both layouts, column mapping, unit conversion and row-by-row validation.

Two layouts are accepted (``qst_conventions.md`` §0.1 and §8, one row per trial):

* the **QST layout**: ``subject, session, condition, timepoint, site, modality, trial, value, unit`` plus the
  optional ``site_role, side, device, probe_cm2, ramp_rate, cutoff, censored, rater, cpm_phase, pulse,
  sequence, step``;
* the layout ``eihlab run`` writes to ``observations.csv``: ``subject, arm, time_min, measure, site, trial,
  value, unit, censored``; ``arm`` becomes the condition (and the session: each arm is a visit),
  ``time_min`` the timepoint and ``measure`` the modality. A model read-out (unit ``rel.``) keeps its
  quantity name as modality and, having no site, the site ``none``.

Every row is checked; the first problem raises :class:`~eihlab.errors.InputError` naming the row (its line
in the file, the header being row 1, as a spreadsheet shows it), the column, the value and what is allowed.
With ``lenient=True`` every bad row is set aside with its reasons instead (:attr:`Prepared.rejected`) and
the analysis goes on without it; nothing is dropped silently. A row is also rejected when a row it depends
on is: a post-exercise trial whose baseline was rejected, for instance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from eihlab.errors import InputError

from .modalities import MODALITIES, Modality, direction_of_kind, find_modality
from .units import CANONICAL, Unit, convert, find_unit, units_of
from .vonfrey import CHAPLAN_STEP, chaplan_threshold, dixon_k, handle_to_g

__all__ = [
    "QST_OPTIONAL",
    "QST_REQUIRED",
    "RUN_COLUMNS",
    "TRIAL_COLUMNS",
    "Prepared",
    "choose_baseline",
    "order_timepoints",
    "prepare",
    "read_table",
]

QST_REQUIRED: tuple[str, ...] = (
    "subject",
    "session",
    "condition",
    "timepoint",
    "site",
    "modality",
    "trial",
    "value",
    "unit",
)
"""Columns of the QST layout that must be present."""

QST_OPTIONAL: tuple[str, ...] = (
    "site_role",
    "side",
    "device",
    "probe_cm2",
    "ramp_rate",
    "cutoff",
    "censored",
    "rater",
    "cpm_phase",
    "pulse",
    "sequence",
    "step",
)
"""Optional columns of the QST layout (device fields, CPM phase, temporal-summation pulse, von Frey)."""

RUN_COLUMNS: tuple[str, ...] = ("subject", "arm", "time_min", "measure", "site", "trial", "value", "unit", "censored")
"""The columns of ``eihlab run``'s ``observations.csv`` (``eihlab.experiment.runner.OBS_COLUMNS``)."""

TRIAL_COLUMNS: tuple[str, ...] = (
    "row",
    "subject",
    "session",
    "condition",
    "timepoint",
    "site",
    "site_role",
    "modality",
    "kind",
    "direction",
    "trial",
    "value",
    "unit",
    "censored",
    "cutoff",
    "cpm_phase",
)
"""Columns of the cleaned trial table (values in canonical units)."""

_ALIASES = {
    "participant": "subject",
    "participant_id": "subject",
    "subject_id": "subject",
    "session_id": "session",
    "time_point": "timepoint",
    "trial_idx": "trial",
    "probe_area_cm2": "probe_cm2",
    "probe_area": "probe_cm2",
}

_PHASES = {
    "before": "before",
    "baseline": "before",
    "pre": "before",
    "during": "during",
    "parallel": "during",
    "after": "after",
    "sequential": "after",
    "post": "after",
}
_PHASE_ALLOWED = "empty, before (baseline test), during (parallel) or after (sequential)"
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}
_BASELINE_NAMES = ("pre", "baseline", "pre_exercise", "before")
_HANDLE = "handle"


@dataclass
class Prepared:
    """The outcome of :func:`prepare`.

    Attributes
    ----------
    trials
        Clean trials, one row each (columns :data:`TRIAL_COLUMNS`, values in canonical units; von Frey
        sequences turned into thresholds, temporal-summation trains into one score per train).
    rejected
        Rows set aside under ``lenient`` (``row``, ``reason`` and the original columns); empty otherwise.
    layout
        ``"qst"`` or ``"run"``.
    baseline
        The baseline timepoint.
    timepoints
        Every timepoint in display order (baseline first).
    notes
        Remarks for the user (assumptions made).
    """

    trials: pd.DataFrame
    rejected: pd.DataFrame
    layout: str
    baseline: str
    timepoints: list[str]
    notes: list[str] = field(default_factory=list)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (or a ``.tsv``) file as text, every cell a string (empty cells are ``""``).

    Raises
    ------
    eihlab.errors.InputError
        If the file is missing, empty, not UTF-8 or not a table.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("DATA", str(path), "an existing CSV file")
    sep = "\t" if p.suffix.lower() in {".tsv", ".tab"} else ","
    try:
        return pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError("DATA", str(path), "a CSV file with a header row and data rows") from None
    except pd.errors.ParserError as err:
        first = str(err).strip().splitlines()[-1] if str(err).strip() else "malformed"
        raise InputError("DATA", f"malformed CSV ({first})", "a comma-separated table with a header row") from None
    except UnicodeDecodeError:
        raise InputError("DATA", str(path), "a UTF-8 text file") from None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value).strip()


def _as_text(raw: pd.DataFrame) -> pd.DataFrame:
    """Every cell as a stripped string, columns lower-cased with aliases resolved."""
    if not isinstance(raw, pd.DataFrame):
        raise InputError("data", type(raw).__name__, "a pandas DataFrame or a CSV file")
    names = [_ALIASES.get(str(c).strip().lower(), str(c).strip().lower()) for c in raw.columns]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError("columns", dup, "each column once")
    out = pd.DataFrame(
        {name: [_text(v) for v in raw[col].tolist()] for name, col in zip(names, raw.columns, strict=True)},
        index=pd.RangeIndex(len(raw)),
    )
    return out.astype(object)


def _layout(df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    cols = set(df.columns)
    if set(QST_REQUIRED) <= cols:
        return df, "qst"
    if set(RUN_COLUMNS) <= cols:
        out = df.rename(columns={"arm": "condition", "time_min": "timepoint", "measure": "modality"})
        out["session"] = out["condition"]
        return out, "run"
    missing = [c for c in QST_REQUIRED if c not in cols]
    raise InputError(
        "columns",
        f"missing {', '.join(missing)}",
        "the QST layout ("
        + ", ".join(QST_REQUIRED)
        + ") or `eihlab run` observations ("
        + ", ".join(RUN_COLUMNS)
        + ")",
    )


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _timepoint(text: str) -> str:
    x = _number(text)
    return f"{x:g}" if math.isfinite(x) else text


def _natural(label: str) -> tuple[int, float, str]:
    x = _number(label)
    return (0, x, "") if math.isfinite(x) else (1, 0.0, label)


class _Checks:
    """Per-row problems found so far (vectorised masks, messages built only for the flagged rows)."""

    def __init__(self, lines: np.ndarray, lenient: bool) -> None:
        self.lines = lines
        self.lenient = lenient
        self.ok = np.ones(len(lines), dtype=bool)
        self.reasons: dict[int, list[str]] = {}
        self.errors: dict[int, InputError] = {}

    def flag(
        self,
        mask: np.ndarray,
        column: str,
        values: Iterable[object] | Callable[[int], object],
        allowed: str | list[str] | Callable[[int], str | list[str]],
    ) -> None:
        """Record a problem for every row of ``mask`` that is still OK."""
        bad = np.flatnonzero(np.asarray(mask, dtype=bool) & self.ok)
        vals = None if callable(values) else list(values)
        for pos in bad:
            value = values(int(pos)) if callable(values) else vals[pos]  # type: ignore[index]
            what = allowed(int(pos)) if callable(allowed) else allowed
            err = InputError(f"row {int(self.lines[pos])}, {column}", value, what)
            self.errors.setdefault(int(pos), err)
            self.reasons.setdefault(int(pos), []).append(str(err))
        self.ok[bad] = False

    def stage(self) -> None:
        """End a stage: in strict mode raise the problem of the first bad row, if any."""
        if self.errors and not self.lenient:
            raise self.errors[min(self.errors)]


def choose_baseline(timepoints: Iterable[str], requested: str | None = None) -> str:
    """The baseline timepoint: ``requested``, else ``pre``/``baseline``, else the latest numeric time <= 0.

    Raises
    ------
    eihlab.errors.InputError
        If ``requested`` is not a timepoint of the data, or no baseline can be inferred.
    """
    tps = list(dict.fromkeys(timepoints))
    if requested is not None:
        req = _timepoint(str(requested).strip())
        if req not in tps:
            raise InputError("baseline_timepoint", requested, sorted(tps, key=_natural))
        return req
    lower = {t.lower(): t for t in tps}
    for name in _BASELINE_NAMES:
        if name in lower:
            return lower[name]
    nums = [_number(t) for t in tps]
    if tps and all(math.isfinite(x) for x in nums):
        pre = [x for x in nums if x <= 0.0]
        if pre:
            return f"{max(pre):g}"
    raise InputError(
        "baseline_timepoint",
        None,
        "a timepoint named pre or baseline, a numeric time <= 0, or --baseline-timepoint (one of "
        + ", ".join(sorted(tps, key=_natural))
        + ")",
    )


def order_timepoints(timepoints: Iterable[str], baseline: str) -> list[str]:
    """Display order: numeric times ascending if all are numeric, else the baseline then first appearance."""
    tps = list(dict.fromkeys(timepoints))
    if tps and all(math.isfinite(_number(t)) for t in tps):
        return sorted(tps, key=_number)
    return ([baseline] if baseline in tps else []) + [t for t in tps if t != baseline]


def prepare(
    data: pd.DataFrame,
    *,
    baseline_timepoint: str | None = None,
    lenient: bool = False,
) -> Prepared:
    """Validate and clean a QST table (either layout) into one row per trial in canonical units.

    Checks, in this order (each names the row, the column, the value and what is allowed):

    1. labels present (subject, session, condition, timepoint, site, modality, unit);
    2. a known modality (:data:`~eihlab.analysis.modalities.MODALITIES` or an alias) and a unit of its kind;
    3. ``value`` and ``trial`` (a whole number >= 1) numeric; ``probe_cm2`` > 0, ``cutoff``, ``step`` > 0,
       ``pulse`` >= 1 numeric where given; ``censored`` true/false; ``cpm_phase`` before/during/after;
    4. a probe area for a force unit (N, kgf, lbf); a valid X/O ``sequence`` for ``von_frey_seq``;
       ``pulse`` only on TSP rows, ``sequence`` only on von Frey sequences;
    5. after conversion: no negative threshold, ratings within their scale, no trial beyond the stated
       ``cutoff`` (a trial *at* the cut-off is kept and marked censored);
    6. one ``site_role`` per site; no repeated trial number within a subject / session / condition /
       timepoint / site / modality (/ CPM phase / pulse); temporal-summation trains of >= 2 pulses;
    7. every CPM block (rows with a ``cpm_phase``) has a ``before`` test and a ``during`` or ``after`` test;
    8. every subject / session / condition / site / modality measured after baseline has a baseline.

    Parameters
    ----------
    data
        The table as read (see :func:`read_table`) or built in Python; any cell type is accepted.
    baseline_timepoint
        The baseline timepoint; inferred by :func:`choose_baseline` when ``None``.
    lenient
        Set bad rows aside instead of raising.

    Returns
    -------
    Prepared

    Raises
    ------
    eihlab.errors.InputError
        On the first bad row (strict mode), a missing column, or a baseline that cannot be determined.
    """
    df, layout = _layout(_as_text(data))
    original = df.copy()
    n = len(df)
    lines = np.arange(n) + 2
    ck = _Checks(lines, lenient)
    notes: list[str] = []

    def col(name: str) -> np.ndarray:
        return df[name].to_numpy(dtype=object) if name in df.columns else np.full(n, "", dtype=object)

    if "side" in df.columns:
        side = col("side")
        df["site"] = [f"{s}_{d}" if d else s for s, d in zip(col("site"), side, strict=True)]
    df["timepoint"] = [_timepoint(t) for t in col("timepoint")]

    # 1. labels. A model read-out of `eihlab run` (unit "rel.") is named by its quantity and has no site:
    # it keeps its name as modality label and the site "none".
    readout = np.array(
        [
            (find_modality(m) is None and u == "rel.") or m == "readout"
            for m, u in zip(col("modality"), col("unit"), strict=True)
        ]
    )
    df["site"] = np.where(readout & (col("site") == ""), "none", col("site"))
    for name in ("subject", "session", "condition", "timepoint", "site", "modality", "unit"):
        values = col(name)
        ck.flag(values == "", name, values, "a non-empty value")

    # 2. modality and unit
    mod_text = col("modality")
    mods: dict[str, Modality | None] = {t: find_modality(t) for t in set(mod_text.tolist())}
    modality = np.array([mods[t] for t in mod_text], dtype=object)
    modality[readout] = MODALITIES["readout"]
    ck.flag(np.array([m is None for m in modality]), "modality", mod_text, sorted(MODALITIES))
    unit_text = col("unit")
    unit_cache: dict[tuple[str, str], Unit | str | None] = {}
    units = np.empty(n, dtype=object)
    for i in np.flatnonzero(ck.ok):
        m = modality[i]
        key = (m.name, unit_text[i])
        if key not in unit_cache:
            found: Unit | str | None = find_unit(unit_text[i], m.kinds)
            if found is None and m.name in {"von_frey", "von_frey_seq"} and unit_text[i].lower() == _HANDLE:
                found = _HANDLE
            unit_cache[key] = found
        units[i] = unit_cache[key]

    def unit_allowed(pos: int) -> list[str]:
        m = modality[pos]
        names = [u for kind in m.kinds for u in units_of(kind)]
        return names + ([_HANDLE] if m.name in {"von_frey", "von_frey_seq"} else [])

    ck.flag(np.array([u is None for u in units]), "unit", unit_text, unit_allowed)

    # 3. numbers and flags
    value_text = col("value")
    value = np.array([_number(v) for v in value_text])
    ck.flag(~np.isfinite(value), "value", value_text, "a number")
    trial_text = col("trial")
    trial = np.array([_number(v) for v in trial_text])
    ck.flag(
        ~(np.isfinite(trial) & (trial >= 1) & (trial == np.round(trial))), "trial", trial_text, "a whole number >= 1"
    )

    def optional(name: str, test: Callable[[np.ndarray], np.ndarray], allowed: str) -> np.ndarray:
        text = col(name)
        x = np.array([_number(v) if v != "" else math.nan for v in text])
        given = text != ""
        with np.errstate(invalid="ignore"):
            ck.flag(given & ~(np.isfinite(x) & test(x)), name, text, allowed)
        return x

    area = optional("probe_cm2", lambda x: x > 0, "a probe area in cm² > 0")
    cutoff_raw = optional("cutoff", lambda x: np.ones_like(x, dtype=bool), "a number (in the row's unit)")
    step = optional("step", lambda x: x > 0, "a positive log10 step between filaments")
    pulse = optional("pulse", lambda x: (x >= 1) & (x == np.round(x)), "a whole number >= 1")
    optional("ramp_rate", lambda x: x >= 0, "a number >= 0")
    cens_text = col("censored")
    cens_low = np.array([c.lower() for c in cens_text], dtype=object)
    ck.flag(np.array([c not in _TRUE | _FALSE for c in cens_low]), "censored", cens_text, "true or false")
    censored = np.array([c in _TRUE for c in cens_low])
    phase_text = col("cpm_phase")
    phase = np.array([_PHASES.get(p.lower(), "?") if p else "" for p in phase_text], dtype=object)
    ck.flag(phase == "?", "cpm_phase", phase_text, _PHASE_ALLOWED)

    # 4. cross-column requirements
    mod_name = np.array([m.name if m is not None else "" for m in modality], dtype=object)
    mod_label = np.where(readout, mod_text, mod_name)
    per_area = np.array([isinstance(u, Unit) and u.per_area for u in units])
    ck.flag(
        per_area & ~(area > 0),
        "probe_cm2",
        lambda p: col("probe_cm2")[p],
        lambda p: f"a probe area in cm² (> 0) to convert {unit_text[p]} to kPa",
    )
    seq_text = col("sequence")
    is_seq = mod_name == "von_frey_seq"
    ck.flag(is_seq & (seq_text == ""), "sequence", seq_text, "an X/O up-down sequence for von_frey_seq")
    ck.flag(~is_seq & (seq_text != ""), "sequence", seq_text, "empty (a sequence belongs to von_frey_seq rows)")
    for i in np.flatnonzero(is_seq & ck.ok):
        try:
            dixon_k(seq_text[i])
        except InputError as err:
            ck.flag(np.arange(n) == i, "sequence", seq_text, err.allowed)
    has_pulse = np.isfinite(pulse)
    ck.flag(has_pulse & (mod_name != "TSP"), "pulse", col("pulse"), "empty (pulse numbers belong to TSP rows)")
    ck.flag(
        (phase != "") & np.isin(mod_name, ["CPM", "readout"]),
        "cpm_phase",
        phase_text,
        "empty for a recorded CPM effect or a read-out",
    )
    ck.stage()

    # 5. conversion and range checks
    value_c = np.full(n, math.nan)
    cutoff_c = np.full(n, math.nan)
    kind = np.full(n, "", dtype=object)
    unit_c = np.full(n, "", dtype=object)
    for i in np.flatnonzero(ck.ok):
        u = units[i]
        m = modality[i]
        difference = m.difference or (m.name == "TSP" and not has_pulse[i])
        if u == _HANDLE:
            value_c[i] = handle_to_g(value[i])
            cutoff_c[i] = handle_to_g(cutoff_raw[i]) if math.isfinite(cutoff_raw[i]) else math.nan
            kind[i] = "force"
        else:
            value_c[i] = convert([value[i]], u, area[i], difference=difference)[0]
            if math.isfinite(cutoff_raw[i]):
                cutoff_c[i] = convert([cutoff_raw[i]], u, area[i])[0]
            kind[i] = u.kind
        unit_c[i] = CANONICAL[kind[i]]
    lower = np.array([m.lower if m is not None and m.lower is not None else -np.inf for m in modality])
    upper = np.array([m.upper if m is not None and m.upper is not None else np.inf for m in modality])
    lower[(mod_name == "TSP") & has_pulse] = 0.0
    with np.errstate(invalid="ignore"):
        below = value_c < lower - 1e-9
        above = value_c > upper + 1e-9

    def range_allowed(pos: int) -> str:
        m = modality[pos]
        if m.kinds == ("rating",) and not (m.name == "TSP" and not has_pulse[pos]):
            return f"a rating within its scale ({unit_text[pos]})"
        if m.name == "TSP":
            return "a temporal-summation score within ±the rating scale"
        return f"a non-negative {m.name} ({m.description}; a threshold below 0 is impossible)"

    ck.flag(below | above, "value", value_text, range_allowed)
    ramp = np.array([m.ramp if m is not None else 1 for m in modality])
    tol = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(cutoff_c)))
    has_cut = np.isfinite(cutoff_c) & ~is_seq
    with np.errstate(invalid="ignore"):
        beyond = has_cut & (ramp * (value_c - cutoff_c) > tol)
        at_cut = has_cut & (np.abs(value_c - cutoff_c) <= tol)
    ck.flag(
        beyond,
        "value",
        value_text,
        lambda p: (
            f"a value {'at or below' if ramp[p] > 0 else 'at or above'} the stated cut-off "
            f"({col('cutoff')[p]} {unit_text[p]}); a trial at the cut-off is kept as censored"
        ),
    )
    censored = censored | at_cut
    for i in np.flatnonzero(is_seq & ck.ok):
        s = step[i] if math.isfinite(step[i]) else CHAPLAN_STEP
        value_c[i], censored[i] = chaplan_threshold(seq_text[i], value_c[i], s)
        mod_label[i] = "von_frey"
    ck.stage()

    work = pd.DataFrame(
        {
            "pos": np.arange(n),
            "row": lines,
            "subject": col("subject"),
            "session": col("session"),
            "condition": col("condition"),
            "timepoint": col("timepoint"),
            "site": col("site"),
            "site_role": col("site_role"),
            "modality": mod_label,
            "direction": [
                (direction_of_kind(k) if m.name == "CPM" else m.direction) if m is not None else 0
                for m, k in zip(modality, kind, strict=True)
            ],
            "kind": kind,
            "trial": np.nan_to_num(trial).astype(int),
            "pulse": pulse,
            "value": value_c,
            "unit": unit_c,
            "censored": censored,
            "cutoff": cutoff_c,
            "cpm_phase": phase,
        }
    )
    baseline = _structure(work, ck, baseline_timepoint)

    good = work.loc[ck.ok[work["pos"].to_numpy()]].copy()
    trials = _collapse_trains(good)
    eih = trials.loc[(trials["cpm_phase"] == "") & (trials["modality"] != "CPM"), "timepoint"]
    timepoints = order_timepoints([*eih.tolist(), *trials["timepoint"].tolist()], baseline)
    trials = trials.loc[:, list(TRIAL_COLUMNS)].reset_index(drop=True)
    trials = trials.astype({"row": int, "trial": int, "direction": int, "value": float, "cutoff": float})
    trials["censored"] = trials["censored"].astype(bool)

    bad = sorted(ck.reasons)
    rejected = original.iloc[bad].copy() if bad else original.iloc[0:0].copy()
    rejected.insert(0, "reason", ["; ".join(ck.reasons[p]) for p in bad])
    rejected.insert(0, "row", [int(lines[p]) for p in bad])
    if layout == "run":
        rejected = rejected.drop(columns=["session"])
        rejected = rejected.rename(columns={"condition": "arm", "timepoint": "time_min", "modality": "measure"})
    return Prepared(trials, rejected.reset_index(drop=True), layout, baseline, timepoints, notes)


def _structure(work: pd.DataFrame, ck: _Checks, requested: str | None) -> str:
    """Checks across rows (stages 6-8); returns the baseline timepoint."""
    ok = ck.ok
    n = len(ck.lines)

    def live() -> pd.DataFrame:
        return work.loc[ok[work["pos"].to_numpy()]]

    def flag_positions(
        positions: Iterable[int], column: str, values: dict[int, object], allowed: dict[int, str]
    ) -> None:
        pos = list(positions)
        if not pos:
            return
        mask = np.zeros(n, dtype=bool)
        mask[pos] = True
        ck.flag(mask, column, lambda p: values[p], lambda p: allowed[p])

    # 6a. one site role per site
    w = live()
    roles = w.loc[w["site_role"] != "", ["pos", "site", "site_role"]]
    first = roles.drop_duplicates("site").set_index("site")["site_role"]
    clash = roles.loc[roles["site_role"].to_numpy() != first.reindex(roles["site"]).to_numpy()]
    flag_positions(
        clash["pos"],
        "site_role",
        dict(zip(clash["pos"], clash["site_role"], strict=True)),
        {
            p: f"one site_role per site ({s!r} is {first[s]!r} in an earlier row)"
            for p, s in zip(clash["pos"], clash["site"], strict=True)
        },
    )
    # 6b. repeated trials
    w = live()
    key = ["subject", "session", "condition", "timepoint", "site", "modality", "cpm_phase", "trial", "pulse"]
    dup = w.loc[w.fillna({"pulse": -1.0}).duplicated(key, keep="first")]
    flag_positions(
        dup["pos"],
        "trial",
        dict(zip(dup["pos"], dup["trial"], strict=True)),
        {
            p: "a trial number not used before for this subject, session, condition, timepoint, site and modality"
            for p in dup["pos"]
        },
    )
    # 6c. temporal-summation trains
    w = live()
    tsp = w.loc[w["modality"] == "TSP"]
    if len(tsp):
        cell = ["subject", "session", "condition", "timepoint", "site", "cpm_phase"]
        with_pulse = tsp["pulse"].notna()
        mixed_cells = tsp.loc[with_pulse, cell].drop_duplicates()
        mixed = tsp.loc[~with_pulse].merge(mixed_cells, on=cell, how="inner")
        flag_positions(
            mixed["pos"],
            "pulse",
            {p: "" for p in mixed["pos"]},
            {p: "a pulse number (other trains of this block have pulses)" for p in mixed["pos"]},
        )
        trains = live()
        trains = trains.loc[(trains["modality"] == "TSP") & trains["pulse"].notna()]
        size = trains.groupby([*cell, "trial"])["pulse"].transform("count")
        short = trains.loc[size < 2]
        flag_positions(
            short["pos"],
            "pulse",
            dict(zip(short["pos"], short["pulse"], strict=True)),
            {p: "a train of at least 2 pulses (first and last rating)" for p in short["pos"]},
        )
    ck.stage()

    # 7. baseline timepoint
    w = live()
    eih = w.loc[(w["cpm_phase"] == "") & (w["modality"] != "CPM")]
    if len(eih) or requested is not None:
        baseline = choose_baseline(eih["timepoint"].tolist() or work["timepoint"].tolist(), requested)
    else:
        baseline = ""

    # 8a. CPM blocks
    cpm = w.loc[w["cpm_phase"] != ""]
    if len(cpm):
        cell = ["subject", "session", "condition", "timepoint", "site", "modality"]
        flags = cpm.assign(
            _before=cpm["cpm_phase"] == "before", _conditioned=cpm["cpm_phase"].isin(["during", "after"])
        )
        present = flags.groupby(cell)[["_before", "_conditioned"]].any()
        incomplete = present.loc[~(present["_before"] & present["_conditioned"])]
        if len(incomplete):
            bad = cpm.merge(incomplete.reset_index()[cell], on=cell, how="inner")
            text = {
                p: f"a complete CPM block: a 'before' test and a 'during' or 'after' test for subject {s}, "
                f"session {ss}, condition {c}, timepoint {t}, site {site}, modality {m}"
                for p, s, ss, c, t, site, m in zip(
                    bad["pos"],
                    bad["subject"],
                    bad["session"],
                    bad["condition"],
                    bad["timepoint"],
                    bad["site"],
                    bad["modality"],
                    strict=True,
                )
            }
            flag_positions(bad["pos"], "cpm_phase", dict(zip(bad["pos"], bad["cpm_phase"], strict=True)), text)

    # 8b. baselines
    if len(eih):
        cell = ["subject", "session", "condition", "site", "modality"]
        has_base = eih.assign(b=eih["timepoint"] == baseline).groupby(cell)["b"].any()
        missing = has_base[~has_base]
        if len(missing):
            bad = eih.merge(missing.reset_index()[cell], on=cell, how="inner").sort_values("pos")
            text = {
                p: f"a baseline ({baseline!r}) measurement for subject {s}, session {ss}, condition {c}, "
                f"site {site}, modality {m} (none in the data)"
                for p, s, ss, c, site, m in zip(
                    bad["pos"],
                    bad["subject"],
                    bad["session"],
                    bad["condition"],
                    bad["site"],
                    bad["modality"],
                    strict=True,
                )
            }
            flag_positions(bad["pos"], "timepoint", dict(zip(bad["pos"], bad["timepoint"], strict=True)), text)
    ck.stage()
    return baseline


def _collapse_trains(trials: pd.DataFrame) -> pd.DataFrame:
    """Temporal summation per train: rating of the last pulse minus the first (Staud 2014 wind-up)."""
    from .summation import temporal_summation_trains

    is_train = (trials["modality"] == "TSP") & trials["pulse"].notna()
    if not is_train.any():
        return trials.drop(columns=["pos", "pulse"])
    scores = temporal_summation_trains(trials.loc[is_train])
    rest = trials.loc[~is_train]
    out = pd.concat([rest, scores], ignore_index=True).sort_values("row", kind="mergesort")
    return out.drop(columns=["pos", "pulse"])
