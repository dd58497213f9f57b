"""The validation report: a self-contained HTML page (figures embedded), failures first, one section per level."""

from __future__ import annotations

import base64
import html
import shutil
from pathlib import Path

from eihlab._atomic import atomic_folder
from eihlab.evidence.runner import (
    EntryResult,
    ExpectationResult,
    as_json,
    fitted_ids,
    known_failures,
    population_verdict,
)
from eihlab.evidence.schema import LEVELS, Expectation
from eihlab.stats import plot_time_courses

_STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:auto;color:#222}table{border-collapse:collapse;"
    "font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}.pass{color:#17692d}"
    ".fail{color:#b3261e;font-weight:bold}img{max-width:48%;margin:4px}details{margin:6px 0}"
)


def _met_cells(x: ExpectationResult) -> str:
    met = "pass" if x.passed else "fail"
    return f"<td>{x.estimate.text()}</td><td class='{met}'>{'yes' if x.passed else 'no'}</td>"


def _bounds(exp: Expectation) -> str:
    return "" if exp.low is None and exp.high is None else f" [{exp.low}, {exp.high}]"


def _entry_html(
    r: EntryResult, fig_dir: Path, fitted: bool = False, reason: str = "", population: EntryResult | None = None
) -> str:
    e = r.entry
    status = "<span class='pass'>PASS</span>" if r.passed else "<span class='fail'>FAIL</span>"
    if fitted:
        status += " <i>(calibration target: fitted, not predicted)</i>"
    design = ""
    if r.result is not None:
        exp = r.result.experiment
        design = (
            f"<p><b>Design</b>: {exp.cohort.species}, {html.escape(exp.cohort.condition)}, "
            f"{html.escape(exp.size_text())}, {exp.design}; "
            f"arms: {', '.join(a.name for a in exp.arms)}. {html.escape(exp.description)}</p>"
        )
        if e.study_n is not None:
            design += f"<p><b>The study's n</b>: {e.study_n.n} ({html.escape(e.study_n.source)})</p>"
    # the large run's cells (blank where it did not run: an error leaves no expectations)
    large = [_met_cells(x) for x in population.expectations] if population is not None else []
    large += ["<td></td><td></td>" if population is not None else ""] * (len(r.expectations) - len(large))
    rows = "".join(
        f"<tr><td>{html.escape(x.expectation.text)}{'' if x.expectation.primary else ' <i>(secondary)</i>'}</td>"
        f"<td>{x.expectation.expect}{_bounds(x.expectation)}</td>{_met_cells(x)}{cells}</tr>"
        for x, cells in zip(r.expectations, large, strict=True)
    )
    head = "<tr><th>expectation (the review's claim)</th><th>rule</th><th>simulated (95 % CI)</th><th>met</th>"
    if population is not None:
        pop_n = population.result.experiment.cohort.n if population.result is not None else "?"
        head += f"<th>at n = {pop_n} (95 % CI)</th><th>met</th>"
        status += f" <i>(at a large n: {population_verdict(r, population)})</i>"
    figs = ""
    if r.result is not None:
        for png in plot_time_courses(r.result.summary, fig_dir / e.id):
            data = base64.b64encode(png.read_bytes()).decode()
            figs += f"<img alt='{html.escape(png.stem)}' src='data:image/png;base64,{data}'>"
    msg = f"<p class='fail'>{html.escape(r.message)}</p>" if r.message else ""
    note = f"<p><b>Ambiguity</b>: {html.escape(e.ambiguity)}</p>" if e.ambiguity else ""
    if reason and not r.passed:
        note += f"<p><b>Why the model fails</b>: {html.escape(reason)}</p>"
    return (
        f"<details {'open' if not r.passed else ''}><summary><b>{html.escape(e.id)}</b> — "
        f"{html.escape(e.ref)} — {status}</summary>{design}{note}{msg}"
        f"<table>{head}</tr>{rows}</table>{figs}</details>"
    )


def write_report(results: list[EntryResult], out: Path, population: list[EntryResult] | None = None) -> Path:
    """Write ``out/report.html`` and ``out/evidence.json``; returns the HTML path.

    With ``population`` (the same entries at one large cohort size) every expectation also shows its value
    there, and every entry the verdict of :func:`eihlab.evidence.runner.population_verdict`.
    """
    import json

    with atomic_folder(out) as tmp:
        summary = as_json(results, population)
        large = dict(zip([r.entry.id for r in results], population or [], strict=False))
        (tmp / "evidence.json").write_text(json.dumps(summary, indent=1, default=float), encoding="utf-8")
        fig_dir = tmp / "figures"
        fitted = fitted_ids()
        reasons = known_failures()

        def entry_html(r: EntryResult) -> str:
            return _entry_html(r, fig_dir, r.entry.id in fitted, reasons.get(r.entry.id, ""), large.get(r.entry.id))

        parts = [
            f"<html><head><meta charset='utf-8'><title>eihlab evidence report</title><style>{_STYLE}</style>"
            "</head><body><h1>eihlab evidence report</h1>",
            f"<p><b>{summary['passed']} of {summary['total']}</b> entries pass. Each entry is a finding of "
            "the review (Xu &amp; You 2022) or a calibration target, simulated without the model knowing "
            "which study it is; an expectation is met when the 95 % CI of the simulated cohort lies on "
            "the claimed side (see <code>eihlab.evidence.evaluate</code>).</p>",
            f"<p>Calibration targets the parameter defaults were fitted to: <b>{summary['fitted']['passed']} of "
            f"{summary['fitted']['total']}</b> pass; held out (predicted, not fitted): "
            f"<b>{summary['held_out']['passed']} of {summary['held_out']['total']}</b> pass.</p>",
            f"<p>Of the failures, <b>{summary['failures']['wrong']}</b> get an effect wrong (its point estimate on "
            f"the wrong side, or a range missed) and <b>{summary['failures']['unresolved']}</b> reproduce the claimed "
            "direction without resolving it at the entry's cohort size (95 % CI includes 0); "
            f"{summary['failures']['error']} did not run.</p>",
        ]
        if "population" in summary:
            pop = summary["population"]
            counts = "; ".join(f"{v}: <b>{c}</b>" for v, c in pop["verdicts"].items())
            parts.append(
                f"<p>In the population (every cohort at n = {pop['n']}): <b>{pop['passed']} of {summary['total']}"
                f"</b> pass. Against the bundled sizes: {counts}. 'Carried by the draw' passes at the bundled size "
                "but not at the large one (for a claim of no change: a residual effect the large size resolves); "
                "'cohort too small' fails at the bundled size and passes at the large one.</p>"
            )
        table = "".join(
            f"<tr><td>{level}</td><td>{sum(r.passed for r in results if r.entry.level == level)}</td>"
            f"<td>{sum(1 for r in results if r.entry.level == level)}</td></tr>"
            for level in LEVELS
        )
        parts.append(f"<table><tr><th>level</th><th>pass</th><th>entries</th></tr>{table}</table>")
        for kind, title in (
            ("error", "Entries that did not run"),
            ("wrong", "Failures: effect wrong or range missed"),
            ("unresolved", "Failures: right direction, CI includes 0 at the entry's n"),
        ):
            failures = [r for r in results if r.failure_kind == kind]
            if failures:
                parts.append(f"<h2>{title}</h2>" + "".join(entry_html(r) for r in failures))
        for level in LEVELS:
            passing = [r for r in results if r.entry.level == level and r.passed]
            if passing:
                parts.append(f"<h2>{level}</h2>" + "".join(entry_html(r) for r in passing))
        parts.append("</body></html>")
        (tmp / "report.html").write_text("\n".join(parts), encoding="utf-8")
        shutil.rmtree(fig_dir, ignore_errors=True)  # figures are embedded
    return out / "report.html"
