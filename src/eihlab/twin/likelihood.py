r"""The person's protocol on the model, and a Gaussian measurement model for their trial means.

**Protocol.** Every condition of the person becomes an arm: the rest condition only its probes, any other
condition the exercise :class:`Dose` (from the command line when the data do not say) at time 0 and its
probes. Each probe is taken at the cell's model time (:func:`eihlab.twin.data.timepoint_minutes`); a CPM
block adds a ``CPM`` measure (parallel for ``during``, sequential for ``after``) with the conditioning
stimulus :class:`CpmStimulus`.

**Observations.** Each cell c (session × condition × time × site × test × CPM phase, mean of :math:`k_c`
trials) is compared on the scale where the model's noise is additive: :math:`y_c = \ln \bar x_c` for PPT
(plain, before, during, after), :math:`y_c = \bar x_c` for HPT and for a recorded CPM effect.

**Expected values and covariance.** For parameters z the model gives :math:`f_c(z, s)` for session normals s
(mechanical, heat and cold threshold offsets and the day's exertion; :mod:`eihlab.twin.engine`). These are
integrated out with a sparse Gauss–Hermite rule: nodes :math:`s = 0` and :math:`s = \pm\sqrt3\,e_j` for each
effect j, weights 2/3 and 1/6 along each axis, so that

.. math::

    \mu_c(z) = f_c(z, 0) + \sum_j \tfrac16\big(f_c(z, \sqrt3 e_j) + f_c(z, -\sqrt3 e_j) - 2 f_c(z, 0)\big),

    \Sigma_{cc'}(z) = \delta_{cc'}\,\tau_c^2
        + [\text{same session}]\sum_j \sum_{g \in \{-,0,+\}} w_g\,(f_{c,j,g} - \mu_{c,j})(f_{c',j,g} - \mu_{c',j}),

where :math:`\mu_{c,j}` is the three-point mean along effect j. The trial-noise variance :math:`\tau_c^2`
follows the probes of :mod:`eihlab.protocol.qst`: :math:`cv_t^2 / k_c` for log PPT (``trial_noise_cv``),
:math:`\sigma_{th}^2 / k_c` for HPT (``thermal_trial_noise_c``), and for a recorded CPM effect, which is the
difference of two trials, :math:`cv_t^2 (\mu_b^2 + \mu_d^2) / k_c` (PPT test) or :math:`2 \sigma_{th}^2 / k_c`
(HPT test). Sessions are independent; all cells of a session share its offsets and its exertion, which is
why a within-session change (EIH, CPM) is known far better than a threshold.

The log-likelihood is :math:`\ln N(y; \mu(z), \Sigma(z))`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from eihlab.errors import InputError
from eihlab.model import system
from eihlab.model.body import REGION_GROUPS
from eihlab.model.inputs import Inputs
from eihlab.model.registry import PARAM_BY_NAME
from eihlab.protocol.events import Conditioning, Event, ExerciseEvent, Intensity, Measure, ProbeEvent
from eihlab.protocol.exercise import EXERCISE_TYPES
from eihlab.protocol.intensity import ALLOWED_UNITS, INTENSITY_UNITS, ExerciseFamily
from eihlab.protocol.qst import CONDITIONING_SITE

from .data import PersonData, timepoint_minutes
from .engine import SESSION_DRAWS, simulate_arms
from .params import TwinPrior

__all__ = ["DEFAULT_DOSE", "EFFECTS", "CpmStimulus", "Design", "Dose", "Likelihood", "Moments"]

EFFECTS: tuple[int, ...] = (0, 1, 2, 4)
"""Session normals integrated out: mechanical, heat and cold threshold offsets, and the day's exertion."""
EFFECT_NAMES: tuple[str, ...] = ("mechanical session offset", "heat session offset", "cold session offset", "exertion")
_ROOT3 = math.sqrt(3.0)


def session_nodes(effects: Sequence[int] = EFFECTS) -> np.ndarray:
    """The sparse Gauss–Hermite nodes, shape ``(1 + 2 * len(effects), 5)``: 0, then ±√3 along each effect."""
    nodes = np.zeros((1 + 2 * len(effects), SESSION_DRAWS))
    for i, e in enumerate(effects):
        nodes[1 + 2 * i, e] = _ROOT3
        nodes[2 + 2 * i, e] = -_ROOT3
    return nodes


@dataclass(frozen=True)
class Dose:
    """An exercise dose: type, intensity, duration and (optionally) the exercised region.

    Attributes
    ----------
    exercise
        An exercise type of :data:`eihlab.protocol.exercise.EXERCISE_TYPES`.
    value, unit
        Intensity (``None`` for passive movement).
    duration_min
        Duration in minutes.
    body_region
        Exercised region (default: the type's).
    """

    exercise: str
    value: float | None
    unit: str | None
    duration_min: float
    body_region: str | None = None

    def __post_init__(self) -> None:
        if self.exercise not in EXERCISE_TYPES:
            raise InputError("--exercise", self.exercise, EXERCISE_TYPES)
        family = cast(ExerciseFamily, EXERCISE_TYPES[self.exercise].family)
        if family == "passive":
            if self.value is not None:
                raise InputError("--intensity", self.value, "no intensity for passive movement")
        elif self.value is None or self.unit is None:
            raise InputError("--intensity", None, f"an intensity for {self.exercise} (VALUE UNIT)")
        elif self.unit not in INTENSITY_UNITS or self.unit not in ALLOWED_UNITS[family]:
            raise InputError(
                "--intensity", self.unit, f"for {family} exercise, one of: {', '.join(ALLOWED_UNITS[family])}"
            )
        elif not (math.isfinite(self.value) and self.value >= 0.0):
            raise InputError("--intensity", self.value, "a non-negative number")
        if not (math.isfinite(self.duration_min) and 0.0 < self.duration_min <= 240.0):
            raise InputError("--duration", self.duration_min, "minutes in (0, 240]")
        if self.body_region is not None and self.body_region not in REGION_GROUPS:
            raise InputError("--region", self.body_region, REGION_GROUPS)

    @property
    def label(self) -> str:
        """E.g. ``cycling 70 %HRR 20 min``."""
        intensity = "" if self.value is None else f" {self.value:g} {self.unit}"
        region = f" ({self.body_region})" if self.body_region else ""
        return f"{self.exercise}{intensity} {self.duration_min:g} min{region}"

    def event(self) -> ExerciseEvent:
        """The exercise event, starting at time 0."""
        intensity = None if self.value is None else Intensity(value=self.value, unit=str(self.unit))
        return ExerciseEvent(
            type=self.exercise, intensity=intensity, duration=self.duration_min, body_region=self.body_region
        )


DEFAULT_DOSE = Dose("cycling", 70.0, "%HRR", 20.0)
"""The exercise assumed for an exercise condition when none is given (a common EIH protocol)."""


@dataclass(frozen=True)
class CpmStimulus:
    """The conditioning stimulus of the person's CPM test (cold water on a region; not recorded in the data)."""

    water_c: float = Conditioning().water_c
    body_region: str = Conditioning().body_region
    duration_s: float = Conditioning().duration_s

    def __post_init__(self) -> None:
        if not (math.isfinite(self.water_c) and 0.0 <= self.water_c <= 25.0):
            raise InputError("--cpm-water", self.water_c, "a water temperature in [0, 25] °C")
        if self.body_region not in CONDITIONING_SITE:
            raise InputError("--cpm-region", self.body_region, CONDITIONING_SITE)

    def conditioning(self) -> Conditioning:
        """As the probe schema's conditioning."""
        return Conditioning(body_region=self.body_region, water_c=self.water_c, duration_s=self.duration_s)

    @property
    def label(self) -> str:
        """E.g. ``cold water 10 °C, 60 s, upper_limb_left``."""
        return f"cold water {self.water_c:g} °C, {self.duration_s:g} s, {self.body_region}"


_PARADIGM = {"during": "parallel", "after": "sequential", "recorded": "parallel"}


@dataclass(frozen=True)
class Design:
    """The person's protocol on the model and, per cell, where its expected value comes from.

    Attributes
    ----------
    arms
        Events of each arm (one arm per condition).
    plain
        Per cell: ``(arm, time, measure index)`` of the plain test (for a recorded CPM effect: its baseline).
    cpm
        Per cell: ``(arm, time, measure index)`` of the CPM measure, or ``None``.
    log
        Per cell: compared on the log scale (PPT) or linear (HPT, recorded CPM).
    minutes
        Per cell: the model time.
    """

    arms: tuple[tuple[Event, ...], ...]
    plain: tuple[tuple[int, float, int], ...]
    cpm: tuple[tuple[int, float, int] | None, ...]
    log: np.ndarray
    minutes: np.ndarray


def build_design(
    cells: pd.DataFrame,
    conditions: Sequence[str],
    rest_condition: str | None,
    baseline: str,
    dose: Dose,
    stimulus: CpmStimulus,
) -> Design:
    """Lay the cells out as arms of probes (see the module docstring)."""
    arm_of = {c: i for i, c in enumerate(conditions)}
    probes: list[dict[float, list[Measure]]] = [{} for _ in conditions]

    def index(arm: int, t: float, m: Measure) -> tuple[int, float, int]:
        measures = probes[arm].setdefault(t, [])
        if m not in measures:
            measures.append(m)
        return arm, t, measures.index(m)

    plain: list[tuple[int, float, int]] = []
    cpm: list[tuple[int, float, int] | None] = []
    minutes = []
    for row in cells.itertuples(index=False):
        arm = arm_of[str(row.condition)]
        t = timepoint_minutes(str(row.timepoint), baseline, dose.duration_min)
        minutes.append(t)
        test = str(row.test)
        phase = str(row.phase)
        plain.append(index(arm, t, Measure(measure=test, site=str(row.site), trials=1)))
        if phase in _PARADIGM:
            m = Measure(
                measure="CPM",
                site=str(row.site),
                test=test,  # type: ignore[arg-type]
                paradigm=_PARADIGM[phase],  # type: ignore[arg-type]
                conditioning=stimulus.conditioning(),
                trials=1,
            )
            cpm.append(index(arm, t, m))
        else:
            cpm.append(None)
    arms: list[tuple[Event, ...]] = []
    for cond, by_time in zip(conditions, probes, strict=True):
        events: list[Event] = [] if cond == rest_condition else [dose.event()]
        events += [ProbeEvent(times=[t], measures=ms) for t, ms in sorted(by_time.items())]
        arms.append(tuple(events))
    log = np.array([t == "PPT" and p != "recorded" for t, p in zip(cells["test"], cells["phase"], strict=True)])
    return Design(tuple(arms), tuple(plain), tuple(cpm), log, np.asarray(minutes, dtype=float))


@dataclass(frozen=True)
class Moments:
    """Expected cell values of a batch of candidates and what their covariance needs.

    Attributes
    ----------
    mean
        :math:`\\mu(z)`, shape ``(k, cells)``.
    spread
        Deviations :math:`f_{c,j,g} - \\mu_{c,j}` along each effect j (those of :attr:`Likelihood.effects`) and
        node g, shape ``(k, effects, 3, cells)``.
    raw
        Expected natural-scale values (before log; for a CPM cell the conditioned value), shape ``(k, cells)``.
    baseline
        Expected natural-scale value of the cell's plain test (for a CPM cell its baseline), shape ``(k, cells)``.
    """

    mean: np.ndarray
    spread: np.ndarray
    raw: np.ndarray
    baseline: np.ndarray


_GH_WEIGHTS = np.array([1.0 / 6.0, 2.0 / 3.0, 1.0 / 6.0])


class Likelihood:
    """The Gaussian measurement model of one person (see the module docstring).

    Parameters
    ----------
    person
        The person's cells.
    prior
        The fitted parameters and the fixed rest of the twin.
    dose
        The exercise of the person's exercise condition(s).
    stimulus
        The CPM conditioning stimulus.
    """

    def __init__(self, person: PersonData, prior: TwinPrior, dose: Dose, stimulus: CpmStimulus) -> None:
        self.person = person
        self.prior = prior
        self.dose = dose
        self.stimulus = stimulus
        cells = person.cells
        self.design = build_design(cells, person.conditions, person.rest_condition, person.baseline, dose, stimulus)
        values = cells["value"].to_numpy(float)
        if np.any(values[self.design.log] <= 0.0):
            raise InputError("value", "a PPT mean of 0", "positive PPTs (kPa)")
        self.y = np.where(self.design.log, np.log(np.where(self.design.log, values, 1.0)), values)
        self.k = cells["n_trials"].to_numpy(int)
        self.test = cells["test"].to_numpy(str)
        self.phase = cells["phase"].to_numpy(str)
        session = [f"{s}\x1f{c}" for s, c in zip(cells["session"], cells["condition"], strict=True)]
        codes = {s: i for i, s in enumerate(dict.fromkeys(session))}
        self.session = np.array([codes[s] for s in session])
        self.same_session = self.session[:, None] == self.session[None, :]
        self.site = cells["site"].to_numpy(str)
        self.effects = self._effects()
        self.nodes = session_nodes(self.effects)
        self._state_cols = self._state_columns()
        self._rest: system.State | None = None
        self.n_simulations = 0

    @property
    def n_cells(self) -> int:
        """Number of measured cells."""
        return int(self.y.size)

    def _effects(self) -> tuple[int, ...]:
        """The session effects that can move this person's cells (the others are left out of the rule)."""
        cpm = np.isin(self.phase, ["during", "after", "recorded"])
        wanted = {
            0: bool(np.any(self.test == "PPT")),
            1: bool(np.any(self.test == "HPT")),
            2: bool(cpm.any()),
            4: bool(self.person.exercise_conditions),
        }
        return tuple(e for e in EFFECTS if wanted[e])

    def _state_columns(self) -> list[int]:
        """Fitted parameters that change the resting steady state (those need it per candidate)."""
        d = self.prior.dim
        z = np.zeros((1 + 2 * d, d))
        for j in range(d):
            z[1 + 2 * j, j], z[2 + 2 * j, j] = 1.0, -1.0
        params, _ = self.prior.model_inputs(z)
        state = system.steady_state({**params, "session_exertion": np.ones(len(z))}, Inputs.rest(len(z)))
        cols = []
        for j in range(d):
            rows = [0, 1 + 2 * j, 2 + 2 * j]
            if any(not np.allclose(v[rows], v[0], rtol=1e-9, atol=1e-12) for v in state.values()):
                cols.append(j)
        return cols

    def _rest_state(self, z: np.ndarray, repeats: int) -> system.State:
        """The resting steady state of each candidate, repeated for its session nodes (computed once when no
        fitted parameter moves it)."""
        k = z.shape[0]
        if self._state_cols:
            params, _ = self.prior.model_inputs(z)
            state = system.steady_state({**params, "session_exertion": np.ones(k)}, Inputs.rest(k))
            return {name: np.repeat(v, repeats, axis=0) for name, v in state.items()}
        if self._rest is None:
            params, _ = self.prior.model_inputs(np.zeros((1, self.prior.dim)))
            self._rest = system.steady_state({**params, "session_exertion": np.ones(1)}, Inputs.rest(1))
        return {name: np.repeat(v, k * repeats, axis=0) for name, v in self._rest.items()}

    def moments(self, z: np.ndarray) -> Moments:
        """Expected cell values and their session spread for each row of z (one simulation of the batch)."""
        z = np.atleast_2d(np.asarray(z, dtype=float))
        k, g = z.shape[0], self.nodes.shape[0]
        zz = np.repeat(z, g, axis=0)
        params, phys = self.prior.model_inputs(zz)
        session = np.tile(self.nodes, (k, 1))
        rest = self._rest_state(z, g)
        out = simulate_arms(self.design.arms, params, phys, session=session, rest_state=rest)
        self.n_simulations += 1
        scales = self.prior.site_scales(zz)
        n_cells = self.n_cells
        raw = np.empty((k * g, n_cells))
        base = np.empty((k * g, n_cells))
        for c in range(n_cells):
            p_ix, c_ix = self.design.plain[c], self.design.cpm[c]
            scale = scales.get(self.site[c], 1.0) if self.test[c] == "PPT" else 1.0
            plain = out[p_ix[0]][p_ix[1:]] * scale
            effect = out[c_ix[0]][c_ix[1:]] * scale if c_ix is not None else 0.0
            base[:, c] = plain
            raw[:, c] = effect if self.phase[c] == "recorded" else plain + effect
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(self.design.log, np.log(np.maximum(raw, 1e-9)), raw).reshape(k, g, n_cells)
        f0 = f[:, 0, :]
        plus, minus = f[:, 1::2, :], f[:, 2::2, :]
        axis_mean = (plus + minus + 4.0 * f0[:, None, :]) / 6.0
        mean = f0 + (axis_mean - f0[:, None, :]).sum(axis=1)
        spread = np.stack([minus - axis_mean, f0[:, None, :] - axis_mean, plus - axis_mean], axis=2)
        raw0 = raw.reshape(k, g, n_cells)[:, 0, :]
        base0 = base.reshape(k, g, n_cells)[:, 0, :]
        return Moments(mean, spread, raw0, base0)

    def trial_variance(self, moments: Moments, row: int = 0) -> np.ndarray:
        """:math:`\\tau_c^2` of every cell for candidate ``row``."""
        cv = PARAM_BY_NAME["trial_noise_cv"].default
        th = PARAM_BY_NAME["thermal_trial_noise_c"].default
        var = np.where(self.test == "PPT", cv**2, th**2) / self.k
        recorded = self.phase == "recorded"
        ppt_rec = recorded & (self.test == "PPT")
        if ppt_rec.any():
            b = moments.baseline[row, ppt_rec]
            d = b + moments.raw[row, ppt_rec]
            var[ppt_rec] = cv**2 * (b**2 + d**2) / self.k[ppt_rec]
        var[recorded & (self.test == "HPT")] *= 2.0
        return np.asarray(var)

    def covariance(self, moments: Moments, row: int = 0) -> np.ndarray:
        """:math:`\\Sigma(z)` for candidate ``row`` (cells × cells)."""
        sp = moments.spread[row]  # (effects, 3, cells)
        session = np.einsum("g,egc,egd->cd", _GH_WEIGHTS, sp, sp)
        return np.asarray(np.diag(self.trial_variance(moments, row)) + session * self.same_session)

    def log_likelihood(self, moments: Moments, row: int = 0, cov: np.ndarray | None = None) -> float:
        """:math:`\\ln N(y; \\mu, \\Sigma)` for candidate ``row`` (Σ of that candidate unless given)."""
        sigma = self.covariance(moments, row) if cov is None else cov
        chol = np.linalg.cholesky(sigma)
        r = np.linalg.solve(chol, self.y - moments.mean[row])
        return float(-0.5 * r @ r - np.log(np.diag(chol)).sum() - 0.5 * r.size * math.log(2.0 * math.pi))
