"""``eihlab prescribe``: screening and a ranked exercise prescription for one patient (a research tool)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from eihlab.cli._common import fail
from eihlab.errors import EihlabError, InputError

__all__ = ["prescribe_cmd"]


def prescribe_cmd(
    patient: Annotated[
        Path,
        typer.Argument(
            help="Patient YAML: age_y, sex, condition, painful_sites, pain_intensity, activity_level, hr_rest, "
            "hr_max, planned_surgery, measured {ppt, cpm, eih} and/or data (a QST CSV).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder: prescription.md, prescription.html, prescription.json, figures/."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the prescription as JSON on stdout.")] = False,
    max_flare_risk: Annotated[
        float,
        typer.Option("--max-flare-risk", help="Largest acceptable predicted flare risk of an option (0-1)."),
    ] = 0.2,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the virtual patients.")] = 0,
    n: Annotated[int, typer.Option("--n", min=10, help="Virtual patients standing for the patient.")] = 200,
    top: Annotated[int, typer.Option("--top", min=1, help="Options listed with their 12-week programme.")] = 5,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
) -> None:
    """Screen CPM/EIH and search exercise doses for one patient. A research tool, not a medical device."""
    from rich.console import Console

    from eihlab.prescribe import load_patient, prescribe
    from eihlab.prescribe.report import to_json_text, write_report

    console = Console(stderr=True)
    try:
        if out is None and not as_json:
            raise InputError("--out", None, "an output folder (or --json to print the prescription)")
        if out is not None and any(p.exists() and not p.is_dir() for p in (out, *out.parents)):
            raise InputError("--out", str(out), "a folder path (a file is in the way)")
        if not 0.0 < max_flare_risk <= 1.0:
            raise InputError("--max-flare-risk", max_flare_risk, "a fraction in (0, 1]")
        person, base = load_patient(patient)
        if quiet:
            rx = prescribe(person, base=base, n=n, seed=seed, max_flare_risk=max_flare_risk, top=top)
        else:
            with console.status("prescribe", spinner="dots") as status:
                rx = prescribe(
                    person,
                    base=base,
                    n=n,
                    seed=seed,
                    max_flare_risk=max_flare_risk,
                    top=top,
                    progress=lambda msg: status.update(msg),
                )
        if out is not None:
            write_report(rx, out)
    except (EihlabError, OSError) as err:
        fail(err)
    if as_json:
        sys.stdout.write(to_json_text(rx) + "\n")
    if not quiet:
        best = rx.options[0] if rx.options else None
        head = f"top option: {best.candidate.label} ({best.candidate.role})" if best else "no option met the limits"
        where = f" → {out}" if out is not None else ""
        console.print(f"{rx.patient.name}: {head}; {rx.optimiser.evaluations} doses in {rx.seconds:.1f} s{where}")
        console.print("research tool, not a medical device", style="bold red")
