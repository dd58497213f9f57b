"""``eihlab fit``: a virtual twin of one person, fitted to their QST data, and its predicted EIH."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from eihlab.cli._common import QstData, fail
from eihlab.errors import EihlabError, InputError

__all__ = ["fit_cmd"]


def fit_cmd(
    data: QstData,
    subject: Annotated[str, typer.Option("--subject", help="The person to fit (a subject id of DATA).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder: twin.json, predictions.csv, fit.png, predictions.png."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print twin.json (with the predictions) to stdout.")] = False,
    condition: Annotated[
        str, typer.Option("--condition", help="The person's condition (a human condition; the prior's medians).")
    ] = "healthy",
    sex: Annotated[
        str | None, typer.Option("--sex", help="female or male [default: unknown, priors cover both].")
    ] = None,
    age: Annotated[float | None, typer.Option("--age", min=18, max=100, help="Age in years [default: 30].")] = None,
    exercise: Annotated[
        str | None,
        typer.Option("--exercise", help="Exercise type of the exercise condition [default: cycling 70 %HRR 20 min]."),
    ] = None,
    intensity: Annotated[
        tuple[float, str] | None,
        typer.Option("--intensity", help="Intensity as VALUE UNIT, e.g. 70 %HRR or 25 %MVC.", show_default=False),
    ] = None,
    duration: Annotated[float | None, typer.Option("--duration", help="Duration of the bout in minutes.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Exercised body region [default: the type's].")] = None,
    cpm_water: Annotated[
        float | None, typer.Option("--cpm-water", min=0, max=25, help="CPM conditioning water temperature, °C [10].")
    ] = None,
    cpm_region: Annotated[
        str | None, typer.Option("--cpm-region", help="Region immersed for CPM conditioning [upper_limb_left].")
    ] = None,
    rest_condition: Annotated[
        str, typer.Option("--rest-condition", help="The quiet-rest condition; any other is an exercise session.")
    ] = "rest",
    side: Annotated[str, typer.Option("--side", help="Side assumed for sites written without one.")] = "right",
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the posterior sampling.")] = 0,
) -> None:
    """Fit a virtual twin of one person (MAP with the population as prior, Laplace + importance sampling) and
    predict their EIH for other exercise doses."""
    from eihlab.analysis.load import read_table
    from eihlab.twin import DEFAULT_DOSE, CpmStimulus, Dose, fit_person, predict, twin_json, write_twin

    try:
        if out is None and not as_json:
            raise InputError("--out", None, "an output folder (or --json to print the twin)")
        if sex is not None and sex not in ("female", "male"):
            raise InputError("--sex", sex, ["female", "male"])
        dose = None
        if any(x is not None for x in (exercise, intensity, duration, region)):
            kind = exercise or DEFAULT_DOSE.exercise
            value: float | None
            unit: str | None
            if intensity is not None:
                value, unit = float(intensity[0]), str(intensity[1])
            elif exercise is None:
                value, unit = DEFAULT_DOSE.value, DEFAULT_DOSE.unit
            else:
                value, unit = None, None
            dose = Dose(kind, value, unit, duration if duration is not None else DEFAULT_DOSE.duration_min, region)
        stimulus = None
        if cpm_water is not None or cpm_region is not None:
            base = CpmStimulus()
            stimulus = CpmStimulus(
                water_c=cpm_water if cpm_water is not None else base.water_c,
                body_region=cpm_region or base.body_region,
            )
        fit = fit_person(
            read_table(data),
            subject,
            condition=condition,
            female=None if sex is None else sex == "female",
            age_y=age,
            dose=dose,
            stimulus=stimulus,
            rest_condition=rest_condition,
            side=side,
            seed=seed,
        )
        predictions = predict(fit, seed=seed)
        if out is not None:
            write_twin(fit, predictions, out)
    except (EihlabError, OSError) as err:
        fail(err)
    for note in dict.fromkeys(fit.notes):
        typer.echo(f"note: {note}", err=True)
    width = max(len(e.name) for e in fit.estimates)
    for e in fit.estimates:
        typer.echo(
            f"{e.name:<{width}}  {e.map:10.4g} {e.unit:<10} 95% [{e.ci_low:.4g}, {e.ci_high:.4g}]  prior "
            f"{e.prior_median:.4g} [{e.prior_ci_low:.4g}, {e.prior_ci_high:.4g}]  information {e.information:.2f}",
            err=True,
        )
    if out is not None:
        typer.echo(f"twin of {fit.person.subject} fitted in {fit.seconds:.1f} s → {out}", err=True)
    if as_json:
        typer.echo(json.dumps(twin_json(fit, predictions), indent=1))
