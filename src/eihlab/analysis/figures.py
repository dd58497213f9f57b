"""Figures of an analysis: per-subject spaghetti plots, responder bars and CPM effects (matplotlib, Agg).

matplotlib is imported inside the functions with the non-interactive Agg backend, so importing
:mod:`eihlab.analysis` stays cheap and works without a display.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_cpm", "plot_responders", "plot_spaghetti", "write_figures"]


def _safe(label: object) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(label)).strip("._")
    return stem or "x"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_spaghetti(
    subjects: pd.DataFrame,
    timepoints: list[str],
    baseline: str,
    out_dir: Path,
    conditions: list[str] | None = None,
) -> list[Path]:
    """One PNG per modality × site: a panel per condition, a thin line per subject-session through the
    baseline and every later timepoint, and the group mean in black."""
    plt = _pyplot()
    written: list[Path] = []
    if subjects.empty:
        return written
    order = {t: i for i, t in enumerate(timepoints)}
    present = list(dict.fromkeys(subjects["condition"]))
    conditions = [c for c in (conditions or []) if c in present] + [c for c in present if c not in (conditions or [])]
    for (modality, site), data in subjects.groupby(["modality", "site"], sort=False):
        unit = str(data["unit"].iloc[0])
        fig, axes = plt.subplots(1, len(conditions), figsize=(4.2 * len(conditions), 3.6), squeeze=False, sharey=True)
        try:
            for ax, condition in zip(axes[0], conditions, strict=True):
                part = data.loc[data["condition"] == condition]
                means: dict[str, list[float]] = {}
                for _, line in part.groupby(["subject", "session"], sort=False):
                    tps = [baseline, *line["timepoint"].tolist()]
                    ys = [float(line["baseline"].iloc[0]), *line["value"].astype(float).tolist()]
                    xs = [order.get(t, 0) for t in tps]
                    ax.plot(xs, ys, color="tab:blue", alpha=0.35, linewidth=1, marker="o", markersize=2)
                    for t, y in zip(tps, ys, strict=True):
                        means.setdefault(t, []).append(y)
                if means:
                    mt = sorted(means, key=lambda t: order.get(t, 0))
                    ax.plot(
                        [order.get(t, 0) for t in mt],
                        [float(np.mean(means[t])) for t in mt],
                        color="black",
                        linewidth=2.2,
                        marker="s",
                        label="mean",
                    )
                ax.set_xticks(range(len(timepoints)), timepoints, rotation=30)
                ax.set_title(str(condition))
                ax.set_xlabel("timepoint")
                ax.grid(alpha=0.3)
            axes[0][0].set_ylabel(f"{modality} ({unit})")
            fig.suptitle(f"{modality} at {site}: every subject")
            fig.tight_layout()
            path = out_dir / f"spaghetti_{_safe(modality)}_{_safe(site)}.png"
            fig.savefig(path, dpi=100)
            written.append(path)
        finally:
            plt.close(fig)
    return written


def plot_responders(group: pd.DataFrame, rule: str, out_dir: Path) -> list[Path]:
    """One PNG per modality: the share of responders per condition at each site × timepoint."""
    plt = _pyplot()
    rows = group.loc[group["n_classified"].fillna(0).astype(float) > 0]
    rows = rows.loc[~rows["statistic"].astype(str).str.startswith("cpm_")]
    written: list[Path] = []
    for modality, data in rows.groupby("modality", sort=False):
        labels = list(dict.fromkeys(f"{s}\n{t}" for s, t in zip(data["site"], data["timepoint"], strict=True)))
        conditions = list(dict.fromkeys(data["condition"]))
        width = 0.8 / max(len(conditions), 1)
        fig, ax = plt.subplots(figsize=(max(4.0, 1.3 * len(labels) + 1.5), 3.6))
        try:
            for j, condition in enumerate(conditions):
                part = data.loc[data["condition"] == condition]
                where = {
                    f"{s}\n{t}": r
                    for s, t, r in zip(part["site"], part["timepoint"], part["responder_rate"], strict=True)
                }
                counts = {
                    f"{s}\n{t}": f"{int(k)}/{int(c)}"
                    for s, t, k, c in zip(
                        part["site"], part["timepoint"], part["n_responders"], part["n_classified"], strict=True
                    )
                }
                heights = [100.0 * float(where.get(lab, math.nan)) for lab in labels]
                x = np.arange(len(labels)) + j * width
                ax.bar(x, heights, width=width, label=str(condition))
                for xi, h, lab in zip(x, heights, labels, strict=True):
                    if lab in counts and math.isfinite(h):
                        ax.text(xi, h + 1.5, counts[lab], ha="center", va="bottom", fontsize="x-small")
            ax.set_xticks(np.arange(len(labels)) + width * (len(conditions) - 1) / 2, labels, fontsize="small")
            ax.set_ylim(0, 100)
            ax.set_ylabel("responders (%)")
            ax.set_title(f"{modality}: responders, rule {rule}")
            ax.legend(fontsize="small")
            ax.grid(alpha=0.3, axis="y")
            fig.tight_layout()
            path = out_dir / f"responders_{_safe(modality)}.png"
            fig.savefig(path, dpi=100)
            written.append(path)
        finally:
            plt.close(fig)
    return written


def plot_cpm(cpm: pd.DataFrame, out_dir: Path) -> list[Path]:
    """One PNG: each subject's CPM effect signed so that inhibition is positive, per block and paradigm."""
    if cpm.empty:
        return []
    plt = _pyplot()
    blocks = list(cpm.groupby(["condition", "timepoint", "site", "modality", "paradigm"], sort=False))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.5 * len(blocks) + 1.5), 3.8))
    try:
        labels = []
        for i, ((condition, timepoint, site, modality, paradigm), part) in enumerate(blocks):
            y = part["inhibition"].to_numpy(float)
            ax.scatter(np.full(y.size, i) + np.linspace(-0.15, 0.15, y.size), y, s=14, alpha=0.6, color="tab:blue")
            if np.isfinite(y).any():
                ax.hlines(float(np.nanmean(y)), i - 0.3, i + 0.3, color="black", linewidth=2)
            labels.append(f"{condition} {timepoint}\n{site} {modality}\n{paradigm}")
        ax.axhline(0.0, color="grey", linestyle=":")
        ax.set_xticks(range(len(labels)), labels, fontsize="small")
        ax.set_ylabel("CPM, inhibition positive (test unit)")
        ax.set_title("CPM per subject")
        ax.grid(alpha=0.3, axis="y")
        fig.tight_layout()
        path = out_dir / "cpm.png"
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return [path]


def write_figures(
    subjects: pd.DataFrame,
    group: pd.DataFrame,
    cpm: pd.DataFrame,
    *,
    timepoints: list[str],
    baseline: str,
    rule: str,
    out_dir: Path,
) -> list[Path]:
    """Write every figure into ``out_dir`` (created) and return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [
        *plot_spaghetti(subjects, timepoints, baseline, out, list(dict.fromkeys(group["condition"].astype(str)))),
        *plot_responders(group, rule, out),
        *plot_cpm(cpm, out),
    ]
