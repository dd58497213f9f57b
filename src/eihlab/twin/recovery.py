"""Parameter recovery: virtual persons with known parameters, measured with the model's own noise, refitted.

:func:`simulate_persons` draws nothing itself: it takes the persons' z (their fitted parameters in prior SDs;
every other parameter at the condition's median), runs the protocol through the *engine*
(:func:`eihlab.engine.simulate.simulate_chunk`, with its session offsets, the day's exertion and trial noise)
and writes the trials as rows of the tidy QST layout, so that the fit reads them through the same path as
real data. :func:`recovery_study` draws persons from the prior, fits each and says whether each true value lies
inside its stated 95 % interval.

The default protocol is a crossover of two visits: a rest visit with a parallel CPM block (PPT at the
trapezius, recorded as ``eihlab run`` records CPM) and an exercise visit (cycling at 70 % HRR for 20 min),
with PPT at the quadriceps and trapezius 5 min before and 1 min after, and optionally HPT at the forearm.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from eihlab.engine.simulate import Perturbation, simulate_chunk
from eihlab.protocol.events import Event, Measure, ProbeEvent
from eihlab.protocol.qst import unit_of
from eihlab.protocol.schedule import build_schedule

from .data import person_data
from .fit import fit_twin
from .likelihood import DEFAULT_DOSE, CpmStimulus, Dose
from .params import TwinPrior

__all__ = ["DEFAULT_DOSE", "protocol_arms", "recovery_study", "simulate_persons"]


def protocol_arms(
    dose: Dose,
    stimulus: CpmStimulus,
    *,
    ppt_sites: Sequence[str] = ("quadriceps_right", "trapezius_right"),
    cpm_site: str | None = "trapezius_right",
    hpt_site: str | None = None,
    trials: int = 2,
) -> list[tuple[str, list[Event]]]:
    """The recovery protocol: ``[("rest", events), ("exercise", events)]`` (see the module docstring)."""
    tests = [Measure(measure="PPT", site=s, trials=trials) for s in ppt_sites]
    if hpt_site is not None:
        tests.append(Measure(measure="HPT", site=hpt_site, trials=trials))
    post = dose.duration_min + 1.0
    rest: list[Event] = []
    if cpm_site is not None:
        cpm = Measure(measure="CPM", site=cpm_site, test="PPT", conditioning=stimulus.conditioning(), trials=trials)
        rest.append(ProbeEvent(times=[-5.0], measures=[cpm]))
    rest.append(ProbeEvent(times=[-5.0, post], measures=tests))
    exercise: list[Event] = [dose.event(), ProbeEvent(times=[-5.0, post], measures=tests)]
    return [("rest", rest), ("exercise", exercise)]


def simulate_persons(
    prior: TwinPrior,
    z: np.ndarray,
    arms: Sequence[tuple[str, Sequence[Event]]],
    *,
    seed: int = 0,
    prefix: str = "P",
) -> pd.DataFrame:
    """Measure virtual persons with known parameters through the engine; returns QST-layout rows.

    Parameters
    ----------
    prior
        The fitted parameters (z is in its standardised space; site scales multiply the PPT and CPM values
        measured at their site).
    z
        The persons' parameters, shape ``(persons, prior.dim)``.
    arms
        ``(condition name, events)`` per visit (:func:`protocol_arms`).
    seed
        Seed of the measurement noise.
    prefix
        Subject ids are ``prefix`` + the person's number (``P01``, ...).

    Returns
    -------
    pandas.DataFrame
        Columns ``subject, session, condition, timepoint, site, modality, trial, value, unit`` (timepoints in
        minutes from the exercise start; a CPM block as its recorded effect, modality ``CPM``).
    """
    z = np.atleast_2d(np.asarray(z, dtype=float))
    params, phys = prior.model_inputs(z)
    scales = prior.site_scales(z)
    ids = np.arange(z.shape[0])
    frames = []
    for a, (name, events) in enumerate(arms):
        schedule = build_schedule(list(events), phys)
        cols = simulate_chunk(
            schedule, ids, params, species="human", seed=seed, arm_index=a, gains=Perturbation({}, {})
        )
        obs = pd.DataFrame({k: np.concatenate(v) for k, v in cols.items()})
        obs["session"] = a + 1
        obs["condition"] = name
        frames.append(obs)
    obs = pd.concat(frames, ignore_index=True)
    subject = obs["subject"].to_numpy(int)
    value = obs["value"].to_numpy(float).copy()
    for site, scale in scales.items():
        at = ((obs["site"] == site) & obs["measure"].isin(["PPT", "CPM"])).to_numpy()
        value[at] = value[at] * scale[subject[at]]
    width = max(2, len(str(z.shape[0])))
    units = {"PPT": "kPa", "HPT": "degC", "CPM": unit_of(Measure(measure="CPM", site="x"))}
    return pd.DataFrame(
        {
            "subject": [f"{prefix}{s + 1:0{width}d}" for s in subject],
            "session": obs["session"].to_numpy(int),
            "condition": obs["condition"].to_numpy(str),
            "timepoint": [f"{t:g}" for t in obs["time_min"]],
            "site": obs["site"].to_numpy(str),
            "modality": obs["measure"].to_numpy(str),
            "trial": obs["trial"].to_numpy(int),
            "value": value,
            "unit": [units[m] for m in obs["measure"]],
        }
    )


def recovery_study(
    prior: TwinPrior,
    n: int,
    *,
    dose: Dose = DEFAULT_DOSE,
    stimulus: CpmStimulus | None = None,
    arms: Sequence[tuple[str, Sequence[Event]]] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Draw n persons from the prior, measure them (:func:`simulate_persons`), fit each, compare.

    Returns
    -------
    pandas.DataFrame
        One row per person and parameter: ``subject, parameter, true, map, ci_low, ci_high, covered, z_true,
        z_map, z_sd, information, seconds`` (``covered``: the true value lies in the 95 % interval).
    """
    stimulus = stimulus or CpmStimulus()
    arms = arms if arms is not None else protocol_arms(dose, stimulus)
    z_true = np.random.default_rng([seed, 1]).standard_normal((n, prior.dim))
    data = simulate_persons(prior, z_true, arms, seed=seed)
    rows = []
    for i, subject in enumerate(dict.fromkeys(data["subject"])):
        start = time.perf_counter()
        person = person_data(data, str(subject))
        fit = fit_twin(person, prior, dose, stimulus, seed=seed)
        seconds = time.perf_counter() - start
        truth = prior.theta(z_true[i])[0]
        for j, est in enumerate(fit.estimates):
            tol = 1e-9 * max(1.0, abs(truth[j]))
            rows.append(
                {
                    "subject": subject,
                    "parameter": est.name,
                    "true": float(truth[j]),
                    "map": est.map,
                    "ci_low": est.ci_low,
                    "ci_high": est.ci_high,
                    "covered": bool(est.ci_low - tol <= truth[j] <= est.ci_high + tol),
                    "z_true": float(z_true[i, j]),
                    "z_map": est.z_map,
                    "z_sd": est.z_sd,
                    "information": est.information,
                    "ess": fit.ess,
                    "seconds": seconds,
                }
            )
    return pd.DataFrame(rows)
