"""``eihlab calibrate``: fit parameter defaults to evidence entries and record them with provenance."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from eihlab.cli._common import fail
from eihlab.errors import EihlabError

DEFAULT_JOURNAL = Path("results/calibration/journal.jsonl")


def _split_names(values: list[str] | None) -> list[str]:
    return [n.strip() for v in values or [] for n in v.split(",") if n.strip()]


def calibrate_cmd(
    params: Annotated[
        list[str], typer.Option("--params", help="Parameters to fit (repeat or comma-separate).", show_default=False)
    ],
    targets: Annotated[
        list[str] | None,
        typer.Option("--targets", help="Training entry ids (prefix*); default: every calibration entry (T1-T4)."),
    ] = None,
    max_evaluations: Annotated[int, typer.Option("--max-evaluations", min=1, help="Loss evaluations at most.")] = 60,
    journal: Annotated[Path, typer.Option("--journal", help="Evaluation journal (JSON lines).")] = DEFAULT_JOURNAL,
    resume: Annotated[bool, typer.Option("--resume", help="Replay the journal of an interrupted run.")] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes per loss evaluation.")] = 1,
    cohorts: Annotated[
        int,
        typer.Option(
            "--cohorts",
            min=1,
            help="Judge each target on this many cohorts (its seed and the next ones) and fit their mean loss.",
        ),
    ] = 1,
    write: Annotated[bool, typer.Option("--write/--dry-run", help="Write the fit to the calibration file.")] = True,
    holdout: Annotated[bool, typer.Option("--holdout/--no-holdout", help="Report hold-out pass rates.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
) -> None:
    """Fit parameter defaults to evidence entries (bounded Powell on the loss of unmet expectations).

    Prints the fit before and after, per training entry, and the pass rate on the hold-out entries (every
    entry not used for fitting) at the fitted values; writes the fitted values with their targets to the
    model's calibration file (``src/eihlab/model/calibrated.yaml``) unless ``--dry-run``.
    """
    from eihlab.evidence.calibrate import calibrate, resolve_params, training_entries, write_calibration
    from eihlab.evidence.runner import load_entries, run_entries
    from eihlab.model import registry

    err = Console(stderr=True, quiet=quiet)
    try:
        chosen = resolve_params(_split_names(params))
        train = training_entries(_split_names(targets))

        def progress(calls: int, loss: float, best: float) -> None:
            err.print(f"  evaluation {calls:3d}: loss {loss:9.4f}   best {best:9.4f}")

        on = f" on {cohorts} cohorts each" if cohorts > 1 else ""
        err.print(
            f"fitting {len(chosen)} parameters to {len(train)} entries{on} (at most {max_evaluations} evaluations)"
        )
        fit = calibrate(
            chosen,
            train,
            max_evaluations=max_evaluations,
            journal=journal,
            resume=resume,
            workers=workers,
            progress=progress,
            cohorts=cohorts,
        )
    except EihlabError as e:
        fail(e)

    out = Console()
    table = Table(
        title=f"parameters (loss {fit.loss_before:.4g} → {fit.loss_after:.4g}, {fit.evaluations} evaluations)"
    )
    for col in ("parameter", "unit", "bounds", "before", "after"):
        table.add_column(col)
    for p in chosen:
        table.add_row(
            p.name, p.unit, f"[{p.lower:g}, {p.upper:g}]", f"{fit.before[p.name]:.4g}", f"{fit.after[p.name]:.4g}"
        )
    out.print(table)
    table = Table(title="training entries")
    for col in ("entry", "loss before", "loss after", "passed before", "passed after"):
        table.add_column(col)

    def passed(record: dict[str, object]) -> str:
        return f"{record['passes']}/{cohorts}" if cohorts > 1 else str(record["passed"])

    for eid in fit.targets:
        b, a = fit.entries_before[eid], fit.entries_after[eid]
        table.add_row(eid, f"{b['loss']:.4g}", f"{a['loss']:.4g}", passed(b), passed(a))
    out.print(table)
    n_train = sum(fit.entries_after[e]["passed"] for e in fit.targets)
    every = f" on all {cohorts} cohorts" if cohorts > 1 else ""
    out.print(f"training: {n_train}/{len(fit.targets)} entries pass{every} after the fit")
    if holdout:
        rest = [e for e in load_entries() if e.id not in set(fit.targets)]
        with registry.trial_defaults(fit.after):
            results = run_entries(rest, progress=lambda i: err.print(f"  hold-out {i}"))
        out.print(f"hold-out: {sum(r.passed for r in results)}/{len(results)} entries pass at the fitted values")
    if write:
        command = shlex.join(
            ["eihlab", "calibrate", "--params", ",".join(fit.names), "--targets", ",".join(fit.targets)]
            + ["--max-evaluations", str(max_evaluations)]
            + (["--cohorts", str(cohorts)] if cohorts > 1 else [])
        )
        write_calibration(fit, command)
        out.print(f"wrote {registry.CALIBRATION_FILE}")
