"""``eihlab trial`` (power curves) and ``eihlab sensitivity`` (global sensitivity analysis).

The command functions are registered on the main app in :mod:`eihlab.cli.main`. Heavy imports happen inside
the commands so that ``eihlab --help`` stays fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from eihlab.cli._common import fail
from eihlab.errors import EihlabError

console = Console(stderr=True)


@contextmanager
def _progress(description: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr as a ``progress(done, total)`` callback (``None`` when quiet).

    The bar starts with the first update, so that an input error found before any simulation prints nothing
    but its own line.
    """
    if quiet:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task: list[TaskID] = []

    def update(done: int, total: int) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task(description, total=total))
        bar.update(task[0], completed=done, total=total)

    try:
        yield update
    finally:
        if task:
            bar.stop()


def trial(
    experiment: Annotated[str, typer.Argument(help="Path to an experiment YAML, or a bundled name.")],
    n_per_arm: Annotated[
        str, typer.Option("--n-per-arm", help="Sample sizes per arm, START:STOP:STEP (both ends included).")
    ] = "10:100:10",
    replicates: Annotated[int, typer.Option("--replicates", min=2, help="Virtual trials per sample size.")] = 200,
    output: Annotated[
        str | None, typer.Option("--output", help="MEASURE@SITE (default: the exercise arm's first measure).")
    ] = None,
    at: Annotated[
        float | None, typer.Option("--time", help="Probe time in min (default: the one with the largest effect).")
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Two-sided significance level.")] = 0.05,
    target: Annotated[float, typer.Option("--target", help="Target power for the minimal n.")] = 0.8,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Override the cohort seed.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder [default: results/trial/NAME].")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
) -> None:
    """Estimate the power of the first comparison over a range of sample sizes; write power.csv and power.png."""
    from eihlab.experiment.runner import load_experiment
    from eihlab.trials.power import estimate_power, parse_range, write_power

    try:
        exp = load_experiment(experiment)
        sizes = parse_range(n_per_arm)
        start = time.perf_counter()
        with _progress("simulating the pool", quiet) as progress:
            result = estimate_power(
                exp,
                sizes,
                replicates=replicates,
                output=output,
                time=at,
                alpha=alpha,
                target=target,
                seed=seed,
                progress=progress,
            )
        folder = out if out is not None else Path("results") / "trial" / exp.name
        write_power(result, folder)
    except (EihlabError, OSError) as err:
        fail(err)
    elapsed = time.perf_counter() - start
    if result.min_n is None:
        verdict = f"power {result.target:g} not reached up to n = {int(result.table['n_per_arm'].max())} per arm"
    else:
        verdict = f"smallest n per arm with power >= {result.target:g}: {result.min_n}"
    typer.echo(verdict)
    if not quiet:
        console.print(
            f"{result.experiment}: {result.exercise} vs {result.control}, {result.outcome.label} at "
            f"{result.time_min:g} min, {result.test}; effect {result.effect:.3g} {result.unit} "
            f"(standardised {result.effect_size:.2f}); {result.replicates} replicates, {elapsed:.1f} s → {folder}"
        )


def sensitivity(
    experiment: Annotated[str, typer.Argument(help="Path to an experiment YAML, or a bundled name.")],
    output: Annotated[
        str | None, typer.Option("--output", help="MEASURE@SITE (default: the analysed arm's first measure).")
    ] = None,
    method: Annotated[str, typer.Option("--method", help="sobol or morris.")] = "sobol",
    n: Annotated[
        int | None,
        typer.Option("--n", help="Sobol' base sample (power of 2) [default 64] or Morris trajectories [default 20]."),
    ] = None,
    params: Annotated[
        str | None, typer.Option("--params", help="Comma-separated parameters (default: all with a range).")
    ] = None,
    at: Annotated[
        float | None, typer.Option("--time", help="Post probe time in min (default: the largest change).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Override the cohort seed.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder [default: results/sensitivity/NAME-METHOD].")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
) -> None:
    """Global sensitivity analysis (SALib) of an outcome over the parameter bounds; write indices.csv and .png."""
    from eihlab.experiment.runner import load_experiment
    from eihlab.trials.sensitivity import RANK_BY, run_sensitivity, write_indices

    try:
        exp = load_experiment(experiment)
        names = None if params is None else [p for p in params.split(",") if p.strip()]
        start = time.perf_counter()
        with _progress("simulating sample rows", quiet) as progress:
            result = run_sensitivity(
                exp, output=output, method=method, n=n, params=names, time=at, seed=seed, progress=progress
            )
        folder = out if out is not None else Path("results") / "sensitivity" / f"{exp.name}-{result.method}"
        write_indices(result, folder)
    except (EihlabError, OSError) as err:
        fail(err)
    elapsed = time.perf_counter() - start
    table = Table(
        title=(
            f"{result.experiment} ({result.arm}): change of {result.outcome.label} "
            f"{result.baseline_min:g} → {result.time_min:g} min, {result.method}, top 10 by {RANK_BY[result.method]}"
        )
    )
    columns = [c for c in result.indices.columns]
    for col in columns:
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for _, row in result.indices.head(10).iterrows():
        table.add_row(*(str(row[c]) if c == "parameter" else f"{row[c]:.3g}" for c in columns))
    Console().print(table)
    if not quiet:
        console.print(
            f"{result.evaluations} model runs in {elapsed:.1f} s; reference change {result.reference_change:.3g} "
            f"{result.unit} → {folder}"
        )
