"""Writing an analysis: CSV tables, figures and ``rejected.csv``, atomically; the JSON form of the tables."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eihlab._atomic import atomic_folder

if TYPE_CHECKING:
    from . import AnalysisResult

__all__ = ["TABLES", "as_json", "write_analysis"]

TABLES = ("subjects", "cpm", "reliability", "group")
"""The tables of an analysis, in the order of the files and of the JSON keys."""


def _plain(value: object) -> object:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        f = float(value)
        return f if math.isfinite(f) else None
    return value


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table as plain-Python dicts (NaN and ``<NA>`` become ``None``)."""
    cols = list(table.columns)
    return [{c: _plain(v) for c, v in zip(cols, row, strict=True)} for row in table.itertuples(index=False, name=None)]


def as_json(result: AnalysisResult) -> dict[str, list[dict[str, Any]]]:
    """``{"subjects": [...], "cpm": [...], "reliability": [...], "group": [...]}``."""
    return {name: records(getattr(result, name)) for name in TABLES}


def write_analysis(result: AnalysisResult, out: Path, *, figures: bool = True) -> list[Path]:
    """Write ``subjects.csv``, ``cpm.csv``, ``reliability.csv``, ``group.csv``, ``figures/*.png`` and, when
    rows were set aside, ``rejected.csv`` into ``out``.

    Everything is written into a temporary sibling folder first and moved into place at the end (an existing
    ``out`` is replaced), so a failure never leaves a half-written folder.
    """
    from .figures import write_figures

    out = Path(out)
    with atomic_folder(out) as tmp:
        for name in TABLES:
            getattr(result, name).to_csv(tmp / f"{name}.csv", index=False, float_format="%.6g")
        if len(result.rejected):
            result.rejected.to_csv(tmp / "rejected.csv", index=False)
        (tmp / "figures").mkdir()
        if figures:
            write_figures(
                result.subjects,
                result.group,
                result.cpm,
                timepoints=list(result.timepoints),
                baseline=str(result.settings["baseline_timepoint"]),
                rule=str(result.settings["responder_rule"]),
                out_dir=tmp / "figures",
            )
    return sorted(out.rglob("*"))
