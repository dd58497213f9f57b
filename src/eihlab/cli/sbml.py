"""``eihlab model sbml``: the model's ODE system as SBML, for one subject under one exercise."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eihlab.cli._common import fail
from eihlab.errors import EihlabError

__all__ = ["sbml_cmd"]


def sbml_cmd(
    out: Annotated[Path, typer.Argument(help="SBML file to write (Level 3 Version 2).", show_default=False)],
    exercise: Annotated[
        str | None,
        typer.Option("--exercise", help="Exercise type whose structure the export keeps [default: none, rest]."),
    ] = None,
    intensity: Annotated[
        tuple[float, str],
        typer.Option("--intensity", help="Intensity as VALUE UNIT (relative units: %HRR, %VO2max, %MVC, %1RM...)."),
    ] = (70.0, "%HRR"),
    region: Annotated[str | None, typer.Option("--region", help="Exercised body region [default: the type's].")] = None,
) -> None:
    """Write the model for one healthy adult as SBML: states with rate rules, signals as assignment rules.

    The exercise's structure (its family, the regions at work) is fixed; its timing is not: set
    ``u_exercising`` (0/1) and ``u_intensity`` (the relative intensity, written as the parameter's initial
    value for the chosen dose) in the simulator.
    """
    import numpy as np

    from eihlab.experiment.runner import parse_experiment
    from eihlab.model import sbml
    from eihlab.model.inputs import Inputs
    from eihlab.population.cohort import sample_cohort
    from eihlab.population.conditions import get_condition
    from eihlab.protocol.schedule import build_schedule

    try:
        if out.suffix.lower() not in (".xml", ".sbml"):
            raise EihlabError(f"OUT = {str(out)!r}: the SBML file must end in .xml or .sbml")
        inputs = Inputs.rest(1)
        if exercise is not None:
            event: dict[str, object] = {
                "kind": "exercise",
                "type": exercise,
                "intensity": {"value": intensity[0], "unit": intensity[1]},
                "duration": 30,
            }
            if region is not None:
                event["region"] = region
            exp = parse_experiment(
                {
                    "schema_version": 1,
                    "name": "sbml_export",
                    "cohort": {"species": "human", "condition": "healthy", "n": 1, "seed": 0},
                    "arms": [{"name": "export", "events": [event]}],
                }
            )
            draw = sample_cohort("human", get_condition("healthy", "human"), np.arange(1), 0)
            schedule = build_schedule(list(exp.arms[0].events), draw.physiology, field="--exercise")
            inputs = schedule.inputs_at(schedule.bouts[0].t0)
        eq = sbml.equations(inputs)
        if exercise is not None:
            eq.parameters["u_intensity"] = float(inputs.intensity[0])
        text = sbml.to_sbml(eq)
    except (EihlabError, ValueError) as err:
        fail(err)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text)
    tmp.replace(out)
    typer.echo(
        f"wrote {out} ({len(eq.rates)} state variables, {len(eq.signals)} signals, {len(eq.parameters)} parameters)"
    )
