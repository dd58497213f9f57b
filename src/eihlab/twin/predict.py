r"""The twin's predicted response to other exercise doses, with the posterior's uncertainty.

For each dose the twin is tested 5 min before the bout and 1 min after its end at every site and test the
person was measured with (PPT, HPT). With :math:`x^{(i)}_\text{pre}, x^{(i)}_\text{post}` the expected values
of posterior draw i (:data:`PREDICTION_DRAWS` draws of z, resampled from the weighted posterior of
:func:`eihlab.twin.fit.fit_twin`, simulated as one vectorised cohort) the change is

.. math::

    \Delta^{(i)} = 100\,\Big(\frac{x^{(i)}_\text{post}}{x^{(i)}_\text{pre}} - 1\Big) \;\%,

averaged over the day's exertion by the three-point Gauss–Hermite rule. ``predicted_change_pct`` is the
posterior mean of :math:`\Delta`, ``ci_low``/``ci_high`` its 95 % credible interval (uncertainty about the
person), and ``pi_low``/``pi_high`` a 95 % interval for one session's true change (the same draws at a random
day's exertion; measurement error not included).

The default grid (:func:`default_doses`): cycling at 50, 60 and 70 % HRR for 20 min, isometric knee extension
at 25 and 50 % MVC for 3 min, isometric elbow flexion at 25 % MVC for 3 min (arm work, remote from the legs),
whole-body aerobic exercise (swimming) at 60 % HRR for 20 min, and for a condition with a localised painful
region an isometric contraction of that region at 25 % MVC for 3 min (unless the grid has it already: the knee
extension works the right leg, the painful region in knee osteoarthritis); the person's own dose comes first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from eihlab.population.conditions import Condition
from eihlab.protocol.events import Event, Measure, ProbeEvent
from eihlab.protocol.exercise import EXERCISE_TYPES

from .data import BASELINE_MIN, POST_DELAY_MIN
from .engine import SESSION_DRAWS, simulate_arms
from .fit import TwinFit
from .likelihood import Dose

__all__ = ["PREDICTION_COLUMNS", "PREDICTION_DRAWS", "default_doses", "predict"]

PREDICTION_DRAWS = 200
"""Posterior draws propagated to the predictions."""
PREDICTION_COLUMNS: tuple[str, ...] = (
    "dose",
    "exercise",
    "intensity",
    "intensity_unit",
    "duration_min",
    "body_region",
    "site",
    "measure",
    "unit",
    "minutes_after",
    "baseline",
    "predicted_change",
    "predicted_change_pct",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "measured_dose",
)
"""Columns of ``predictions.csv``."""

_ISOMETRIC_FOR_REGION = {
    "lower_limb": "isometric_knee_extension",
    "upper_limb": "isometric_elbow_flexion",
    "neck_shoulder": "isometric_elbow_flexion",
    "trunk": "isometric_back_extension",
}
_UNITS = {"PPT": "kPa", "HPT": "degC"}
_ROOT3 = math.sqrt(3.0)
_GH = np.array([1.0 / 6.0, 2.0 / 3.0, 1.0 / 6.0])


def default_doses(condition: Condition) -> list[Dose]:
    """The dose grid (see the module docstring)."""
    doses = [
        Dose("cycling", 50.0, "%HRR", 20.0),
        Dose("cycling", 60.0, "%HRR", 20.0),
        Dose("cycling", 70.0, "%HRR", 20.0),
        Dose("isometric_knee_extension", 25.0, "%MVC", 3.0),
        Dose("isometric_knee_extension", 50.0, "%MVC", 3.0),
        Dose("isometric_elbow_flexion", 25.0, "%MVC", 3.0),
        Dose("swimming", 60.0, "%HRR", 20.0),
    ]

    def key(d: Dose) -> tuple[str, float | None, float, str]:
        return d.exercise, d.value, d.duration_min, d.body_region or EXERCISE_TYPES[d.exercise].region

    for region in condition.affected_regions:
        stem = next((k for k in _ISOMETRIC_FOR_REGION if region.startswith(k)), None)
        if stem is None:
            continue
        painful = Dose(_ISOMETRIC_FOR_REGION[stem], 25.0, "%MVC", 3.0, body_region=region)
        if key(painful) not in {key(d) for d in doses}:
            doses.append(painful)
    return doses


def _tests(fit: TwinFit) -> list[tuple[str, str]]:
    cells = fit.person.cells
    return list(dict.fromkeys(zip(cells["test"].astype(str), cells["site"].astype(str), strict=True)))


def predict(
    fit: TwinFit,
    doses: Sequence[Dose] | None = None,
    *,
    n_draws: int = PREDICTION_DRAWS,
    seed: int = 0,
) -> pd.DataFrame:
    """The twin's EIH for each dose at each measured site and test (see the module docstring).

    Parameters
    ----------
    fit
        A fitted twin.
    doses
        Doses to predict (default :func:`default_doses` of the person's condition); the person's own dose is
        added first when the data contain exercise.
    n_draws
        Posterior draws.
    seed
        Seed of the draws and of the random day's exertion.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PREDICTION_COLUMNS`, one row per dose × site × test.
    """
    grid = list(doses) if doses is not None else default_doses(fit.prior.condition)
    own = fit.dose if fit.person.exercise_conditions else None
    if own is not None:
        grid = [own] + [d for d in grid if d.label != own.label]
    tests = _tests(fit)
    measures = [Measure(measure=t, site=s, trials=1) for t, s in tests]
    arms: list[list[Event]] = []
    for dose in grid:
        after = dose.duration_min + POST_DELAY_MIN
        arms.append([dose.event(), ProbeEvent(times=[BASELINE_MIN, after], measures=measures)])
    z = fit.sample_z(n_draws, seed)
    rng = np.random.default_rng([seed, 11])
    nodes = np.zeros((4, SESSION_DRAWS))
    nodes[:, 4] = [-_ROOT3, 0.0, _ROOT3, 0.0]
    session = np.tile(nodes, (n_draws, 1))
    session[3::4, 4] = rng.standard_normal(n_draws)
    zz = np.repeat(z, 4, axis=0)
    params, phys = fit.prior.model_inputs(zz)
    out = simulate_arms(arms, params, phys, session=session)
    scales = fit.prior.site_scales(zz)
    rows = []
    for dose, values in zip(grid, out, strict=True):
        post_t = dose.duration_min + POST_DELAY_MIN
        for j, (test, site) in enumerate(tests):
            scale: np.ndarray | float = scales.get(site, 1.0) if test == "PPT" else 1.0
            pre = (values[(BASELINE_MIN, j)] * scale).reshape(n_draws, 4)
            post = (values[(post_t, j)] * scale).reshape(n_draws, 4)
            pct = 100.0 * (post / pre - 1.0)
            expected = pct[:, :3] @ _GH
            change = (post - pre)[:, :3] @ _GH
            rows.append(
                {
                    "dose": dose.label,
                    "exercise": dose.exercise,
                    "intensity": dose.value,
                    "intensity_unit": dose.unit,
                    "duration_min": dose.duration_min,
                    "body_region": dose.body_region or "",
                    "site": site,
                    "measure": test,
                    "unit": _UNITS[test],
                    "minutes_after": POST_DELAY_MIN,
                    "baseline": float(np.mean(pre[:, 1])),
                    "predicted_change": float(np.mean(change)),
                    "predicted_change_pct": float(np.mean(expected)),
                    "ci_low": float(np.quantile(expected, 0.025)),
                    "ci_high": float(np.quantile(expected, 0.975)),
                    "pi_low": float(np.quantile(pct[:, 3], 0.025)),
                    "pi_high": float(np.quantile(pct[:, 3], 0.975)),
                    "measured_dose": own is not None and dose.label == own.label,
                }
            )
    return pd.DataFrame(rows, columns=list(PREDICTION_COLUMNS))
