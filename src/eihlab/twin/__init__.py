"""A virtual twin: a person's individual parameters fitted to their QST data, and their predicted EIH.

``eihlab fit DATA.csv --subject ID --out DIR`` (and :func:`fit_person` + :func:`predict` from Python) reads
QST data (either layout of :mod:`eihlab.analysis.load`), takes one person's baseline thresholds, CPM and, if
present, EIH, and fits the few parameters that make this person different from the population of their
condition (:mod:`~eihlab.twin.params`) within that population's between-person distribution:

* :mod:`~eihlab.twin.data`: the person's trial means and their place on the model's clock;
* :mod:`~eihlab.twin.engine`: noise-free simulation of a batch of candidate twins (one virtual subject each);
* :mod:`~eihlab.twin.likelihood`: the person's protocol on the model and a Gaussian measurement model whose
  variances come from the model's own session and trial noise;
* :mod:`~eihlab.twin.fit`: MAP with the population as prior, Laplace approximation refined by importance
  sampling;
* :mod:`~eihlab.twin.predict`: the twin's EIH for other doses, with credible intervals;
* :mod:`~eihlab.twin.report`: ``twin.json``, ``predictions.csv`` and two figures;
* :mod:`~eihlab.twin.recovery`: virtual persons with known parameters, for parameter-recovery checks.

Assumptions worth stating: every parameter that is not fitted sits at the condition's median; the data do not
say which exercise was done, so the dose comes from the caller (default :data:`DEFAULT_DOSE`); the CPM
conditioning stimulus likewise (:class:`~eihlab.twin.likelihood.CpmStimulus`); the model's noise levels are
taken as the person's.
"""

from __future__ import annotations

import pandas as pd

from eihlab.population.conditions import get_condition

from .data import PersonData, person_data
from .fit import ParamEstimate, TwinFit, fit_twin
from .likelihood import DEFAULT_DOSE, CpmStimulus, Dose
from .params import TwinPrior, build_prior
from .predict import PREDICTION_COLUMNS, default_doses, predict
from .report import twin_json, write_twin

__all__ = [
    "DEFAULT_DOSE",
    "PREDICTION_COLUMNS",
    "CpmStimulus",
    "Dose",
    "ParamEstimate",
    "PersonData",
    "TwinFit",
    "TwinPrior",
    "build_prior",
    "default_doses",
    "fit_person",
    "fit_twin",
    "person_data",
    "predict",
    "twin_json",
    "write_twin",
]


def fit_person(
    data: pd.DataFrame,
    subject: str,
    *,
    condition: str = "healthy",
    female: bool | None = None,
    age_y: float | None = None,
    dose: Dose | None = None,
    stimulus: CpmStimulus | None = None,
    rest_condition: str | None = "rest",
    side: str = "right",
    seed: int = 0,
) -> TwinFit:
    """Fit the twin of one person of a QST table.

    Parameters
    ----------
    data
        The table (:func:`eihlab.analysis.load.read_table`), either layout.
    subject
        The person.
    condition
        A human condition of :data:`eihlab.population.conditions.CONDITIONS` (the prior's medians).
    female
        The person's sex (``None``: unknown, the priors are widened).
    age_y
        Age in years.
    dose
        The exercise of the exercise condition(s) (default :data:`DEFAULT_DOSE`, noted as assumed).
    stimulus
        The CPM conditioning stimulus (default cold water at 10 °C on the left arm for 60 s).
    rest_condition
        The quiet-rest condition; every other condition is an exercise session.
    side
        Side assumed for sites written without one.
    seed
        Seed of the importance sampler.

    Returns
    -------
    TwinFit
    """
    cond = get_condition(condition, "human", "--condition")
    person = person_data(data, subject, rest_condition=rest_condition, side=side)
    notes = person.notes
    if person.exercise_conditions and dose is None:
        notes.append(f"exercise not given: {DEFAULT_DOSE.label} assumed for {', '.join(person.exercise_conditions)}")
    if stimulus is None and person.has(cpm=True):
        notes.append(f"CPM conditioning not given: {CpmStimulus().label} assumed")
    if female is None:
        notes.append("sex not given: the PPT and HPT priors cover both sexes")
    prior = build_prior(
        cond,
        ppt_sites=person.ppt_sites,
        hpt=person.has("HPT"),
        cpm=person.has(cpm=True),
        exercise=bool(person.exercise_conditions),
        female=female,
        age_y=age_y,
    )
    return fit_twin(person, prior, dose or DEFAULT_DOSE, stimulus or CpmStimulus(), seed=seed)
