"""The ``eihlab`` command line."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from eihlab.errors import EihlabError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="eihlab: a virtual laboratory for exercise-induced hypoalgesia."
)
model_app = typer.Typer(no_args_is_help=True, help="Inspect the model.")
experiments_app = typer.Typer(no_args_is_help=True, help="The bundled experiments.")
app.add_typer(model_app, name="model")
app.add_typer(experiments_app, name="experiments")
evidence_app = typer.Typer(no_args_is_help=True, help="Findings of the review as experiments with expectations.")
app.add_typer(evidence_app, name="evidence")
console = Console(stderr=True)


def _fail(err: Exception) -> None:
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(2)


@model_app.command("describe")
def describe(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the model's nodes, edges and parameters (with units, bounds and sources)."""
    from eihlab.model.registry import describe as model_describe

    data = model_describe()
    if as_json:
        typer.echo(json.dumps(data, indent=1))
        return
    out = Console()
    for key, cols in (
        ("nodes", ("name", "level", "kind", "description")),
        ("edges", ("id", "source", "target", "sign", "modality", "timescale", "refs")),
        ("parameters", ("name", "component", "default", "unit", "lower", "upper", "source")),
    ):
        table = Table(title=f"{key} ({len(data[key])})", show_lines=False)
        for c in cols:
            table.add_column(c, overflow="fold")
        for row in data[key]:
            table.add_row(*(", ".join(v) if isinstance(v, list) else str(v) for v in (row[c] for c in cols)))
        out.print(table)


@experiments_app.command("list")
def list_experiments() -> None:
    """List the bundled experiments (usable by name with `eihlab run`)."""
    from eihlab.experiment.runner import bundled_names, load_experiment

    for name in bundled_names():
        exp = load_experiment(name)
        typer.echo(f"{name}\t{exp.cohort.species}\t{exp.reference or '-'}")


@app.command()
def run(
    experiment: Annotated[str, typer.Argument(help="Path to an experiment YAML, or a bundled name.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    n: Annotated[int | None, typer.Option("--n", min=1, help="Override the cohort size.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Override the cohort seed.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
) -> None:
    """Simulate an experiment and write observations.csv, summary.csv, figures/ and experiment.yaml."""
    from eihlab.experiment.io import write_result
    from eihlab.experiment.runner import load_experiment, run_experiment

    try:
        exp = load_experiment(experiment)
        start = time.perf_counter()
        if quiet:
            result = run_experiment(exp, n=n, seed=seed)
        else:
            with console.status("simulating") as status:
                result = run_experiment(
                    exp, n=n, seed=seed, progress=lambda arm: status.update(f"simulating arm {arm}")
                )
        write_result(result, out)
    except (EihlabError, OSError) as err:
        _fail(err)
    if not quiet:
        console.print(
            f"{exp.name}: {result.observations.subject.nunique()} subjects, "
            f"{len(result.observations)} observations in {time.perf_counter() - start:.1f} s → {out}"
        )


@evidence_app.command("run")
def evidence_run(
    findings: Annotated[
        list[Path] | None, typer.Option("--findings", help="Entry file or folder (repeatable).")
    ] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Run only these ids (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write report.html and evidence.json here.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any entry fails.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet")] = False,
) -> None:
    """Run the evidence entries and print id, reference, expectation, simulated value with CI and pass/fail."""
    from eihlab.evidence import as_json as to_json
    from eihlab.evidence import load_entries, run_entries
    from eihlab.evidence.report import write_report

    try:
        entries = load_entries(findings, only)
        if quiet or as_json:
            results = run_entries(entries)
        else:
            from rich.progress import Progress

            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("evidence", total=len(entries))
                results = run_entries(entries, progress=lambda _id: bar.advance(task))
        report = write_report(results, out) if out is not None else None
    except EihlabError as err:
        _fail(err)
    if as_json:
        typer.echo(json.dumps(to_json(results), indent=1, default=float))
    else:
        table = Table(title=f"evidence: {sum(r.passed for r in results)} of {len(results)} pass")
        for col in ("id", "reference", "expectation", "simulated (95 % CI)", "pass"):
            table.add_column(col, overflow="fold")
        for r in results:
            first = True
            for x in r.expectations or []:
                table.add_row(
                    r.entry.id if first else "",
                    r.entry.ref if first else "",
                    x.expectation.text,
                    x.estimate.text(),
                    ("yes" if x.passed else "no") + ("" if x.expectation.primary else " (2nd)"),
                )
                first = False
            if r.message:
                table.add_row(r.entry.id, r.entry.ref, r.message, "", "error")
        Console().print(table)
        if report is not None:
            console.print(f"report → {report}")
    if strict and not all(r.passed for r in results):
        raise typer.Exit(1)


@app.command()
def suite(
    out: Annotated[
        Path, typer.Option("--out", help="Output folder for all bundled experiments and the report.")
    ] = Path("results"),
    quiet: Annotated[bool, typer.Option("--quiet")] = False,
) -> None:
    """Run every bundled experiment and write an index report (the README's main job)."""
    from eihlab.experiment.io import write_result
    from eihlab.experiment.report import write_suite_report
    from eihlab.experiment.runner import bundled_names, load_experiment, run_experiment

    names = bundled_names()
    rows = []
    try:
        from rich.progress import track

        for name in track(names, description="experiments", disable=quiet, console=console):
            exp = load_experiment(name)
            start = time.perf_counter()
            result = run_experiment(exp)
            write_result(result, out / name)
            rows.append((exp, result, time.perf_counter() - start))
        report = write_suite_report(rows, out)
    except EihlabError as err:
        _fail(err)
    if not quiet:
        console.print(f"{len(rows)} experiments → {report}")


def main() -> None:  # pragma: no cover
    """Entry point for ``python -m eihlab``."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
