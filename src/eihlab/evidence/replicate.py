r"""Replication: how often each entry passes when its virtual cohort is drawn again.

An entry is judged on one virtual cohort, drawn with its seed :math:`s`. A pass (or a failure) on that cohort
may be the luck of the draw: an effect the model predicts at about the size of the 95 % CI half-width passes on
about half of the cohorts of that size. Replication draws :math:`K` fresh cohorts of the same size (seeds
:math:`s + 1, \dots, s + K`), judges the entry on each and reports the pass rate :math:`k/K` with its Wilson
95 % interval. Summed over the entries, the rates give the expected number of entries that pass on a fresh draw
of every cohort, :math:`\sum_e k_e/K`, to set beside the count at the bundled seeds.

Nothing about the model or the expectations changes between replications; only the subjects do.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipy import stats

from eihlab._atomic import atomic_folder
from eihlab.errors import InputError
from eihlab.evidence.runner import entry_experiment, run_entries
from eihlab.evidence.schema import Entry


def with_seed_offset(entry: Entry, offset: int) -> Entry:
    """The entry with its cohort seed moved by ``offset`` (the entry's own seed, else its experiment's)."""
    base = entry.seed if entry.seed is not None else entry_experiment(entry).cohort.seed
    return entry.model_copy(update={"seed": base + offset})


@dataclass(frozen=True)
class Replication:
    """One entry's pass at its bundled seed and its passes over fresh cohorts."""

    entry: Entry
    bundled_passed: bool
    passes: int
    runs: int

    @property
    def rate(self) -> float:
        """Fraction of the fresh cohorts on which the entry passes."""
        return self.passes / self.runs

    def interval(self) -> tuple[float, float]:
        """Wilson 95 % interval of the pass rate."""
        ci = stats.binomtest(self.passes, self.runs).proportion_ci(0.95, method="wilson")
        return float(ci.low), float(ci.high)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        low, high = self.interval()
        return {
            "id": self.entry.id,
            "ref": self.entry.ref,
            "bundled_passed": self.bundled_passed,
            "passes": self.passes,
            "runs": self.runs,
            "rate": self.rate,
            "rate_ci": [low, high],
        }


def replicate(
    entries: list[Entry],
    seeds: int,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Replication], list[int]]:
    """Judge every entry at its bundled seed and on ``seeds`` fresh cohorts of the same size.

    Parameters
    ----------
    entries
        The entries.
    seeds
        Number of fresh cohorts per entry (:math:`K \\ge 1`).
    workers
        Processes for each pass over the entries (see :func:`eihlab.evidence.runner.run_entries`).
    progress
        Called with the replication's number (0 = the bundled seeds) as each pass over the entries finishes.

    Returns
    -------
    The per-entry replications (input order) and the number of entries that passed in each fresh replication.
    """
    if seeds < 1:
        raise InputError("--seeds", seeds, "at least 1 fresh cohort per entry")
    bundled = run_entries(entries, workers=workers)
    if progress:
        progress(0)
    passes = [0] * len(entries)
    totals = []
    for k in range(1, seeds + 1):
        results = run_entries([with_seed_offset(e, k) for e in entries], workers=workers)
        for i, r in enumerate(results):
            passes[i] += r.passed
        totals.append(sum(r.passed for r in results))
        if progress:
            progress(k)
    reps = [Replication(e, b.passed, p, seeds) for e, b, p in zip(entries, bundled, passes, strict=True)]
    return reps, totals


def summary(reps: list[Replication], totals: list[int]) -> dict[str, Any]:
    """``{"seeds", "total", "bundled_passed", "expected_passed", "passed_per_replication", "results"}``."""
    return {
        "seeds": reps[0].runs if reps else 0,
        "total": len(reps),
        "bundled_passed": sum(r.bundled_passed for r in reps),
        "expected_passed": sum(r.rate for r in reps),
        "passed_per_replication": totals,
        "results": [r.as_dict() for r in reps],
    }


def plot_replication(reps: list[Replication], path: Path) -> None:
    """Pass rate per entry with its Wilson 95 % interval, coloured by the pass at the bundled seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = sorted(reps, key=lambda r: (r.rate, r.entry.id))
    fig, ax = plt.subplots(figsize=(8.0, 0.19 * len(ordered) + 1.5))
    try:
        for y, r in enumerate(ordered):
            low, high = r.interval()
            colour = "tab:blue" if r.bundled_passed else "tab:red"
            ax.plot([low, high], [y, y], color=colour, lw=1.0, alpha=0.6)
            ax.plot([r.rate], [y], "o", color=colour, ms=4)
        ax.set_yticks(range(len(ordered)), [r.entry.id for r in ordered], fontsize=6)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel(f"pass rate over {ordered[0].runs if ordered else 0} fresh cohorts (Wilson 95 % CI)")
        ax.set_title("blue: passes at the bundled seed; red: fails there", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)


def _csv_row(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON record with its interval split into two columns and rates to 3 decimals."""
    row = {k: v for k, v in record.items() if k != "rate_ci"}
    low, high = record["rate_ci"]
    return {**row, "rate": f"{row['rate']:.3f}", "rate_ci_low": f"{low:.3f}", "rate_ci_high": f"{high:.3f}"}


def write_replication(reps: list[Replication], totals: list[int], out: Path) -> Path:
    """Write ``replication.csv`` (one row per entry), ``replication.json`` and ``replication.png`` into ``out``.

    The folder is written atomically: an interrupted write leaves ``out`` as it was.
    """
    with atomic_folder(out) as tmp:
        plot_replication(reps, tmp / "replication.png")
        rows = [_csv_row(r.as_dict()) for r in reps]
        with (tmp / "replication.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["id"])
            writer.writeheader()
            writer.writerows(rows)
        (tmp / "replication.json").write_text(json.dumps(summary(reps, totals), indent=1), encoding="utf-8")
    return out
