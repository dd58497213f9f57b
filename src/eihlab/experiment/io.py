"""Writing a run's files atomically: observations, summary, contrasts, figures and the resolved experiment."""

from __future__ import annotations

from pathlib import Path

import yaml

from eihlab._atomic import atomic_folder
from eihlab.experiment.runner import Result
from eihlab.stats import plot_time_courses


def write_result(result: Result, out: Path) -> list[Path]:
    """Write ``observations.csv``, ``summary.csv``, ``contrasts.csv``, ``figures/*.png`` and ``experiment.yaml``.

    Everything is written into a temporary sibling folder first and moved into place at the end, so an
    interrupted run never leaves a half-written ``out``.
    """
    out = Path(out)
    with atomic_folder(out) as tmp:
        result.observations.to_csv(tmp / "observations.csv", index=False, float_format="%.6g")
        result.summary.to_csv(tmp / "summary.csv", index=False, float_format="%.6g")
        if not result.contrasts.empty:
            result.contrasts.to_csv(tmp / "contrasts.csv", index=False, float_format="%.6g")
        resolved = result.experiment.model_dump(mode="json", exclude_none=True)
        (tmp / "experiment.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False), encoding="utf-8")
        plot_time_courses(result.summary, tmp / "figures")
    return sorted(out.rglob("*"))
