"""Pieces shared by the ``eihlab`` commands: the one-line error exit and the QST-data argument."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

QstData = Annotated[
    Path,
    typer.Argument(
        help="QST data CSV, one row per trial: the QST layout (subject, session, condition, timepoint, site, "
        "modality, trial, value, unit, ...) or the observations.csv of `eihlab run`.",
        show_default=False,
    ),
]
"""The DATA argument of ``eihlab analyze`` and ``eihlab fit``."""


def fail(err: Exception) -> NoReturn:
    """Print ``error: <message>`` on one line to stderr and exit with status 2."""
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(2)
