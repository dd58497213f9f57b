"""``eihlab analyze``: analyse real QST data (EIH, net EIH, CPM, responders, reliability, rodent assays)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from eihlab.cli._common import QstData, fail
from eihlab.errors import EihlabError, InputError

__all__ = ["analyze"]


def analyze(
    data: QstData,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder: subjects.csv, cpm.csv, reliability.csv, group.csv, figures/."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"subjects", "cpm", "reliability", "group"} as JSON.')
    ] = False,
    lenient: Annotated[
        bool, typer.Option("--lenient", help="Skip bad rows and list them in DIR/rejected.csv instead of stopping.")
    ] = False,
    responder_rule: Annotated[
        str,
        typer.Option(
            "--responder-rule",
            help="gt0 (change > 0), sem1, sem2 (> 1 or 2 SEM), mdc95 (> MDC95) or pct20 (>= 20 %); SEM from the "
            "data's own retest sessions or rest condition.",
        ),
    ] = "sem2",
    rest_condition: Annotated[
        str, typer.Option("--rest-condition", help="The quiet-rest control condition (net EIH, SEM).")
    ] = "rest",
    baseline_timepoint: Annotated[
        str | None,
        typer.Option(
            "--baseline-timepoint", help="Baseline timepoint [default: pre or baseline, else the latest time <= 0]."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No summary or notes on stderr.")] = False,
) -> None:
    """Analyse real QST data: EIH per subject (absolute, %, net of rest), CPM, responders, reliability."""
    from eihlab.analysis import analyze_file, write_analysis
    from eihlab.analysis import as_json as tables_json

    try:
        if out is None and not as_json:
            raise InputError("--out", None, "an output folder (or --json to print the tables)")
        result = analyze_file(
            data,
            rest_condition=rest_condition,
            baseline_timepoint=baseline_timepoint,
            responder_rule=responder_rule,
            lenient=lenient,
        )
        if out is not None:
            write_analysis(result, out)
    except (EihlabError, OSError) as err:
        fail(err)
    n_rejected = len(result.rejected)
    if n_rejected:
        where = f" (listed in {out / 'rejected.csv'})" if out is not None else ""
        typer.echo(f"{n_rejected} bad rows skipped{where}:", err=True)
        for reason in result.rejected["reason"].head(20):
            typer.echo(f"  {reason}", err=True)
        if n_rejected > 20:
            typer.echo(f"  ... and {n_rejected - 20} more", err=True)
    if not quiet:
        for note in result.notes:
            typer.echo(f"note: {note}", err=True)
        if out is not None:
            n_subjects = result.trials["subject"].nunique()
            typer.echo(f"{n_subjects} subjects, {len(result.trials)} trials analysed → {out}", err=True)
    if as_json:
        typer.echo(json.dumps(tables_json(result), indent=1))
