"""The suite report: one section per bundled experiment with its design, its changes and its figures."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from eihlab.experiment.runner import Result
from eihlab.experiment.schema import Experiment


def _changes(summary: pd.DataFrame) -> pd.DataFrame:
    post = summary[summary["change_mean"].notna() & (summary["d_z"].notna())]
    cols = [
        "arm",
        "measure",
        "site",
        "time_min",
        "n",
        "mean",
        "change_mean",
        "change_ci_low",
        "change_ci_high",
        "pct_change_mean",
        "d_z",
    ]
    return post[cols].round(3)


def write_suite_report(rows: list[tuple[Experiment, Result, float]], out: Path) -> Path:
    """Write ``report.md`` and ``report.html`` indexing every experiment's results; returns the HTML path."""
    md = [
        "# eihlab suite report",
        "",
        "Simulated changes from baseline (mean, 95 % CI, within-subject d_z) for every bundled experiment.",
        "These are model predictions; whether each reproduces the review's finding is judged by the evidence",
        "suite (issue 3), not here.",
        "",
    ]
    parts = [
        "<html><head><meta charset='utf-8'><title>eihlab suite report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse;"
        "font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:100%}</style></head><body>",
        "<h1>eihlab suite report</h1>",
        f"<p>{len(rows)} experiments. Changes from baseline: mean with 95 % CI and within-subject d_z.</p>",
    ]
    for exp, result, seconds in rows:
        table = _changes(result.summary)
        md += [
            f"## {exp.name}",
            "",
            f"*{exp.reference or 'demo'}* — {exp.cohort.species}, {exp.cohort.condition}, "
            f"{exp.size_text()} ({exp.design}); {seconds:.1f} s",
            "",
            exp.description.strip(),
            "",
            table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False),
            "",
        ]
        parts += [
            f"<h2 id='{exp.name}'>{html.escape(exp.name)}</h2>",
            f"<p><i>{html.escape(exp.reference or 'demo')}</i> — {exp.cohort.species}, "
            f"{html.escape(exp.cohort.condition)}, {html.escape(exp.size_text())} ({exp.design}); {seconds:.1f} s</p>",
            f"<p>{html.escape(exp.description)}</p>",
            table.to_html(index=False),
        ]
        for fig in sorted((out / exp.name / "figures").glob("*.png")):
            rel = fig.relative_to(out).as_posix()
            parts.append(f"<img src='{rel}' alt='{html.escape(fig.stem)}'>")
            md.append(f"![{fig.stem}]({rel})")
        md.append("")
    parts.append("</body></html>")
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True
