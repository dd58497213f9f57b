"""The ``eihlab`` command line."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from eihlab.cli._common import fail
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
T = TypeVar("T")


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


_WORKERS_HELP = "Local worker processes (0 = all cores); results do not depend on it."
_SCHED_HELP = "Dask scheduler address (tcp://HOST:PORT): run the shards on that cluster."
_RESUME_HELP = "Reuse the finished shards of an interrupted run with the same settings."


@app.command()
def run(
    experiment: Annotated[str, typer.Argument(help="Path to an experiment YAML, or a bundled name.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    n: Annotated[int | None, typer.Option("--n", min=1, help="Override the cohort size.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Override the cohort seed.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
    workers: Annotated[int, typer.Option("--workers", min=0, help=_WORKERS_HELP)] = 1,
    scheduler: Annotated[str | None, typer.Option("--scheduler", envvar="EIHLAB_SCHEDULER", help=_SCHED_HELP)] = None,
    resume: Annotated[bool, typer.Option("--resume", help=_RESUME_HELP)] = False,
) -> None:
    """Simulate an experiment and write observations.csv, summary.csv, figures/ and experiment.yaml."""
    from eihlab.engine.shards import shard_progress
    from eihlab.engine.store import ShardStore, default_shard_dir
    from eihlab.experiment.io import write_result
    from eihlab.experiment.runner import load_experiment, run_experiment

    shards = default_shard_dir(out)
    try:
        exp = load_experiment(experiment)
        start = time.perf_counter()
        with shard_progress(console, quiet=quiet) as bar:
            result = run_experiment(
                exp,
                n=n,
                seed=seed,
                workers=workers,
                scheduler=scheduler or None,
                shard_dir=shards,
                resume=resume,
                on_shard=bar.shards(f"simulating {exp.name}"),
            )
        write_result(result, out)
        ShardStore.discard(shards)
    except (EihlabError, OSError) as err:
        fail(err)
    except KeyboardInterrupt:
        _interrupted(shards)
    if not quiet:
        console.print(
            f"{exp.name}: {result.observations.subject.nunique()} subjects, "
            f"{len(result.observations)} observations in {time.perf_counter() - start:.1f} s → {out}"
        )


AT_STUDY_N = " at the studies' own n where recorded"
FindingsOption = Annotated[list[Path] | None, typer.Option("--findings", help="Entry file or folder (repeatable).")]
OnlyOption = Annotated[list[str] | None, typer.Option("--only", help="Run only these ids (repeatable).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
EvidenceWorkersOption = Annotated[int, typer.Option("--workers", min=0, help="Processes (0 = all cores).")]
QuietOption = Annotated[bool, typer.Option("--quiet")]


def _with_progress(label: str, total: int, quiet: bool, work: Callable[[Callable[[object], None] | None], T]) -> T:
    """Run ``work(progress)`` with a transient progress bar of ``total`` steps, or silently (``progress=None``)."""
    if quiet:
        return work(None)
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        return work(lambda _step: bar.advance(task))


@evidence_app.command("run")
def evidence_run(
    findings: FindingsOption = None,
    only: OnlyOption = None,
    as_json: JsonOption = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write report.html and evidence.json here.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any entry fails.")] = False,
    workers: EvidenceWorkersOption = 1,
    study_n: Annotated[
        bool,
        typer.Option("--study-n", help="Run each entry at its study's own sample size where the entry records it."),
    ] = False,
    cohort_n: Annotated[
        int | None,
        typer.Option(
            "--n",
            help="Run every entry at this cohort size (per arm; in total in a crossover): at a large n, "
            "the model's population answer.",
        ),
    ] = None,
    population_n: Annotated[
        int | None,
        typer.Option(
            "--population",
            help="Also run every entry at this cohort size and set each verdict beside the population's "
            "(holds, carried by the draw, cohort too small, small or absent in the population).",
        ),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Run the evidence entries and print id, reference, expectation, simulated value with CI and pass/fail."""
    from eihlab.evidence import as_json as to_json
    from eihlab.evidence import load_entries, run_entries
    from eihlab.evidence.report import write_report
    from eihlab.evidence.runner import cohort_size

    try:
        entries = load_entries(findings, only)
        if population_n is not None:
            cohort_size(population_n, "--population")  # a bad size fails before any simulation
        workers = workers or (os.cpu_count() or 1)
        results = _with_progress(
            "evidence",
            len(entries),
            quiet or as_json,
            lambda progress: run_entries(entries, progress=progress, workers=workers, study_n=study_n, n=cohort_n),
        )
        population = None
        if population_n is not None:
            population = _with_progress(
                f"population (n = {population_n})",
                len(entries),
                quiet or as_json,
                lambda progress: run_entries(entries, progress=progress, workers=workers, n=population_n),
            )
        report = write_report(results, out, population) if out is not None else None
    except EihlabError as err:
        fail(err)
    if as_json:
        typer.echo(json.dumps(to_json(results, population), indent=1, default=float))
    else:
        split = to_json(results, population)
        table = Table(
            title=f"evidence{AT_STUDY_N if study_n else ''}{f' at n = {cohort_n}' if cohort_n else ''}: "
            f"{split['passed']} of {split['total']} pass (calibrated to: "
            f"{split['fitted']['passed']}/{split['fitted']['total']}; held out: "
            f"{split['held_out']['passed']}/{split['held_out']['total']}; failures: "
            f"{split['failures']['wrong']} wrong, {split['failures']['unresolved']} right direction but unresolved)"
        )
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
        if population is not None:
            pop = split["population"]
            console.print(
                f"in the population (every cohort at n = {pop['n']}): {pop['passed']} of {split['total']} pass; "
                + "; ".join(f"{verdict}: {count}" for verdict, count in pop["verdicts"].items())
            )
            for row in split["results"]:
                if row["population"]["verdict"] != "holds":
                    console.print(f"  {row['population']['verdict']}: {row['id']}")
        if report is not None:
            console.print(f"report → {report}")
    if strict and not all(r.passed for r in results):
        raise typer.Exit(1)


@evidence_app.command("replicate")
def evidence_replicate(
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Fresh cohorts per entry (seeds s+1..s+K).")] = 5,
    findings: FindingsOption = None,
    only: OnlyOption = None,
    as_json: JsonOption = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write replication.csv, .json and .png here.")] = None,
    workers: EvidenceWorkersOption = 1,
    quiet: QuietOption = False,
) -> None:
    """How often each entry passes on fresh cohorts of its size: pass rate over K seeds, with a Wilson 95 % CI."""
    from eihlab.evidence import load_entries
    from eihlab.evidence.replicate import replicate, summary, write_replication

    try:
        entries = load_entries(findings, only)
        workers = workers or (os.cpu_count() or 1)
        reps, totals = _with_progress(
            f"{len(entries)} entries × {seeds + 1} cohorts",
            seeds + 1,
            quiet or as_json,
            lambda progress: replicate(entries, seeds, workers=workers, progress=progress),
        )
        if out is not None:
            write_replication(reps, totals, out)
    except EihlabError as err:
        fail(err)
    data = summary(reps, totals)
    if as_json:
        typer.echo(json.dumps(data, indent=1))
        return
    table = Table(
        title=f"replication over {seeds} fresh cohorts per entry: {data['bundled_passed']} of {data['total']} pass "
        f"at the bundled seeds; expected on a fresh draw {data['expected_passed']:.1f} "
        f"(per replication: {min(totals)}-{max(totals)})"
    )
    for col in ("id", "bundled", "passes", "rate (95 % CI)"):
        table.add_column(col, overflow="fold")
    for r in sorted(reps, key=lambda r: (r.rate, r.entry.id)):
        low, high = r.interval()
        table.add_row(
            r.entry.id,
            "pass" if r.bundled_passed else "fail",
            f"{r.passes}/{r.runs}",
            f"{r.rate:.2f} ({low:.2f}-{high:.2f})",
        )
    Console().print(table)
    if out is not None:
        console.print(f"replication → {out}")


@app.command()
def suite(
    out: Annotated[
        Path, typer.Option("--out", help="Output folder for all bundled experiments and the report.")
    ] = Path("results"),
    quiet: Annotated[bool, typer.Option("--quiet")] = False,
    workers: Annotated[int, typer.Option("--workers", min=0, help=_WORKERS_HELP)] = 1,
    scheduler: Annotated[str | None, typer.Option("--scheduler", envvar="EIHLAB_SCHEDULER", help=_SCHED_HELP)] = None,
    resume: Annotated[bool, typer.Option("--resume", help=_RESUME_HELP)] = False,
) -> None:
    """Run every bundled experiment and write an index report (the README's main job)."""
    from eihlab.engine.executors import make_executor
    from eihlab.engine.shards import shard_progress
    from eihlab.engine.store import ShardStore
    from eihlab.experiment.io import write_result
    from eihlab.experiment.report import write_suite_report
    from eihlab.experiment.runner import bundled_names, load_experiment, run_experiment

    names = bundled_names()
    rows = []
    shards = out / ".shards"
    try:
        with make_executor(workers, scheduler or None) as executor, shard_progress(console, quiet=quiet) as bar:
            step = bar.counter("experiments", len(names))
            for name in names:
                exp = load_experiment(name)
                start = time.perf_counter()
                on_shard = bar.shards(name)
                result = run_experiment(
                    exp, executor=executor, shard_dir=shards / name, resume=resume, on_shard=on_shard
                )
                write_result(result, out / name)
                rows.append((exp, result, time.perf_counter() - start))
                step()
        report = write_suite_report(rows, out)
        ShardStore.discard(shards)
    except EihlabError as err:
        fail(err)
    except KeyboardInterrupt:
        _interrupted(shards)
    if not quiet:
        console.print(f"{len(rows)} experiments → {report}")


def _interrupted(shards: Path) -> None:
    typer.echo(f"interrupted: finished shards are kept in {shards}; run again with --resume to continue", err=True)
    raise typer.Exit(130)


from eihlab.cli.calibrate import calibrate_cmd  # noqa: E402
from eihlab.cli.trials import sensitivity, trial  # noqa: E402

app.command("calibrate")(calibrate_cmd)
app.command("trial")(trial)
app.command("sensitivity")(sensitivity)

from eihlab.cli.analyze import analyze as analyze_cmd  # noqa: E402

app.command("analyze")(analyze_cmd)

from eihlab.cli.fit import fit_cmd  # noqa: E402

app.command("fit")(fit_cmd)

from eihlab.cli.prescribe import prescribe_cmd  # noqa: E402
from eihlab.cli.sbml import sbml_cmd  # noqa: E402

model_app.command("sbml")(sbml_cmd)

app.command("prescribe")(prescribe_cmd)


def _is_usage_error(exc: BaseException) -> bool:
    """Whether ``exc`` is click's ``UsageError`` (typer may vendor its own click, so match by class name)."""
    return any(cls.__name__ == "UsageError" for cls in type(exc).__mro__)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``eihlab`` command and ``python -m eihlab``.

    A usage error (an unknown option, a missing or extra argument) is reported on one line, ``error: <what>
    (see '<command> --help')``, with exit status 2, instead of click's framed usage block; the help that a
    command group prints when given no command is shown as usual.
    """
    try:
        code = app(args=argv, prog_name="eihlab", standalone_mode=False)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        raise SystemExit(1) from None
    except Exception as exc:
        if not _is_usage_error(exc):
            raise
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            typer.echo(ctx.get_help())
            raise SystemExit(0) from None
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        typer.echo(f"error: {exc.format_message()}{where}", err=True)  # type: ignore[attr-defined]
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    raise SystemExit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
