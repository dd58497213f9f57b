"""Time-course figures of a :func:`~eihlab.stats.summarise` table.

matplotlib is imported lazily (inside :func:`plot_time_courses`) with the non-interactive Agg backend, so
importing :mod:`eihlab.stats` stays cheap and works without a display.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from eihlab.errors import InputError

__all__ = ["plot_time_courses"]

#: Columns :func:`plot_time_courses` needs (``unit`` is optional).
FIGURE_COLUMNS: tuple[str, ...] = ("arm", "measure", "site", "time_min", "mean", "ci_low", "ci_high")

_MIN_PER_DAY = 1440.0
_DAYS_THRESHOLD_MIN = 3 * _MIN_PER_DAY  # spans longer than 3 days are plotted in days


def _safe_name(label: object) -> str:
    """File-system-safe stem: runs of anything but ASCII letters, digits, ``.``, ``_``, ``-`` become ``_``."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(label)).strip("._")
    return stem or "measure"


def plot_time_courses(summary: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Plot mean +/- CI time courses, one PNG per measure, one panel per site, one line per arm.

    Each line is the group mean (``mean``) against ``time_min`` with its confidence interval
    (``ci_low`` .. ``ci_high``, 95 % for the default :func:`~eihlab.stats.summarise`) as a shaded band; a
    dotted vertical line marks the exercise bout (time 0). If the times of a measure span more than 3 days
    the x axis is in days (``time_min / 1440``) and labelled accordingly, otherwise in minutes.

    Parameters
    ----------
    summary
        A table as returned by :func:`~eihlab.stats.summarise`; needs ``arm, measure, site, time_min,
        mean, ci_low, ci_high`` and uses ``unit`` for the y label when present.
    out_dir
        Folder to write into; created if needed.

    Returns
    -------
    list of pathlib.Path
        The files written, ``<measure>.png`` with the measure name sanitised to ``[A-Za-z0-9._-]`` (a
        numeric suffix is added if two measures sanitise to the same name), in sorted measure order.

    Raises
    ------
    eihlab.errors.InputError
        If a required column is missing.
    """
    missing = [c for c in FIGURE_COLUMNS if c not in summary.columns]
    if missing:
        raise InputError(field="summary", value=missing, allowed=list(FIGURE_COLUMNS))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    arms = sorted(summary["arm"].unique(), key=str)
    colours = plt.get_cmap("tab10")
    written: list[Path] = []
    used: set[str] = set()

    for measure in sorted(summary["measure"].unique(), key=str):
        data = summary.loc[summary["measure"] == measure]
        times = data["time_min"].to_numpy(dtype=float)
        in_days = bool(times.size) and float(np.nanmax(times) - np.nanmin(times)) > _DAYS_THRESHOLD_MIN
        scale = _MIN_PER_DAY if in_days else 1.0
        x_label = "time relative to exercise (days)" if in_days else "time relative to exercise (min)"
        units = sorted({str(u) for u in data["unit"].dropna().unique()}) if "unit" in data.columns else []
        y_label = f"{measure} ({', '.join(units)})" if units else str(measure)

        sites = sorted(data["site"].unique(), key=str)
        ncols = min(len(sites), 3)
        nrows = math.ceil(len(sites) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 3.8 * nrows), squeeze=False)
        try:
            flat = list(axes.ravel())
            for ax, site in zip(flat, sites, strict=False):
                panel = data.loc[data["site"] == site]
                for k, arm in enumerate(arms):
                    line = panel.loc[panel["arm"] == arm].sort_values("time_min")
                    if line.empty:
                        continue
                    x = line["time_min"].to_numpy(dtype=float) / scale
                    colour = colours(k % 10)
                    ax.plot(x, line["mean"].to_numpy(dtype=float), marker="o", color=colour, label=str(arm))
                    lo = line["ci_low"].to_numpy(dtype=float)
                    hi = line["ci_high"].to_numpy(dtype=float)
                    ok = np.isfinite(lo) & np.isfinite(hi)
                    if ok.any():
                        ax.fill_between(x[ok], lo[ok], hi[ok], color=colour, alpha=0.2, linewidth=0)
                ax.axvline(0.0, color="grey", linestyle=":", linewidth=1)
                ax.set_title(str(site))
                ax.set_xlabel(x_label)
                ax.set_ylabel(y_label)
                ax.grid(alpha=0.3)
            for ax in flat[len(sites) :]:
                ax.set_visible(False)
            handles, labels = flat[0].get_legend_handles_labels()
            if handles:
                flat[0].legend(handles, labels, title="arm (mean ± CI)", fontsize="small")
            fig.suptitle(f"{measure}: time course")
            fig.tight_layout()

            stem = _safe_name(measure)
            candidate, i = stem, 2
            while candidate in used:
                candidate, i = f"{stem}_{i}", i + 1
            used.add(candidate)
            path = out / f"{candidate}.png"
            fig.savefig(path, dpi=120)
            written.append(path)
        finally:
            plt.close(fig)
    return written
