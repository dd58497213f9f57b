r"""The twin's parameters: maximum a posteriori with the population as prior, uncertainty by Laplace.

In the prior's standardised space (:mod:`eihlab.twin.params`, :math:`z \sim N(0, I)`) the log-posterior of
the person's cell means y (:mod:`eihlab.twin.likelihood`) is

.. math::

    \ln p(z \mid y) = \ln N\big(y;\, \mu(z), \Sigma(z)\big) - \tfrac12 z^\top z + \text{const}.

**MAP.** With the covariance held at a reference point :math:`\Sigma_0 = L L^\top`, maximising it is the
nonlinear least-squares problem

.. math::

    \hat z = \arg\min_z \tfrac12 \big\lVert L^{-1}(y - \mu(z)) \big\rVert^2 + \tfrac12 \lVert z \rVert^2,

solved by :func:`scipy.optimize.least_squares` (trust-region reflective, :math:`|z_j| \le 5`) with the
Jacobian :math:`J = \partial\mu/\partial z` by forward differences, every candidate of a difference simulated
in one vectorised batch. The reference starts at the prior median and is then moved to :math:`\hat z` for a
second round (:data:`MAX_ROUNDS`; the covariance depends on z because the day-to-day spread of EIH grows with
the person's EIH). What remains of the difference between this mode and the mode of the full posterior is
taken care of by the importance correction below, which uses :math:`\Sigma(z)` at every draw.

**Laplace.** The posterior is approximated by :math:`N(\hat z, H^{-1})` with the Gauss–Newton Hessian

.. math::

    H = J^\top \Sigma(\hat z)^{-1} J + I

(central differences at :math:`\hat z`).

**Importance correction.** The model has kinks (no conditioning pain below the cold pain threshold, bounds
that clip parameters), where a Gaussian can miss the posterior's shape. The Laplace posterior is therefore
used as the proposal of an adaptive importance sampler: :data:`IS_ROUNDS` rounds of :data:`IS_DRAWS` draws
from a mixture q of multivariate t distributions (:data:`IS_DOF` degrees of freedom): half the mass on
:math:`t(m, S)`, and for each parameter j a share :math:`1/(2d)` on the same with :math:`z_j` drawn around its
prior, :math:`t(0, 1)`, independently of the others (a defence against kinks and bounds, where the posterior
reaches beyond the Laplace approximation). It starts at :math:`(m, S) = (\hat z, H^{-1})`, and m, S move
to the weighted mean and (half-way to the) weighted covariance of each round; the last round's draws carry
the weights

.. math::

    w_i \propto \frac{N(y; \mu(z_i), \Sigma(z_i))\,N(z_i; 0, I)}{q(z_i)},

truncated at :math:`\sqrt{M}\,\bar w` (Ionides 2008), all of a round's M draws simulated in one batch.

A parameter's posterior mean, SD and 95 % interval (weighted 2.5 and 97.5 % quantiles of :math:`\theta(z)`)
come from the weighted draws, its *information* :math:`1 - \mathrm{var}(z_j \mid y)` (clipped to [0, 1]) is
the share of the prior variance the data removed (0: the data say nothing, the posterior is the prior). If
the effective sample size :math:`(\sum w)^2 / \sum w^2` stays below :data:`MIN_ESS`, the plain Laplace
posterior is reported instead (with a note).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular
from scipy.optimize import least_squares
from scipy.special import gammaln

from .data import PersonData
from .likelihood import CpmStimulus, Dose, Likelihood
from .params import TwinPrior

__all__ = ["MAX_ROUNDS", "ParamEstimate", "TwinFit", "fit_twin"]

MAX_ROUNDS = 2
"""Rounds of MAP: with the covariance at the prior median, then at the first estimate."""
Z_BOUND = 5.0
"""Search box in z (5 prior SDs)."""
FD_STEP = 0.02
"""Forward-difference step in z during the search."""
HESSIAN_STEP = 0.05
"""Central-difference step in z for the Laplace Hessian."""
IS_DRAWS = 400
"""Draws per round of the importance sampler."""
IS_ROUNDS = 3
"""Rounds of the adaptive importance sampler."""
IS_DOF = 5.0
"""Degrees of freedom of the proposal's t components (heavier tails than the posterior's)."""
MIN_ESS = 50.0
"""Smallest effective sample size for which the importance-weighted posterior is reported."""
_Q = 1.959963984540054


@dataclass(frozen=True)
class ParamEstimate:
    """One fitted parameter on its natural scale.

    Attributes
    ----------
    name, unit, description, source
        As in :class:`eihlab.twin.params.TwinParam`.
    prior_median, prior_ci_low, prior_ci_high
        The population's median and 95 % range.
    map
        The MAP value :math:`\\theta(\\hat z)`.
    mean, sd
        Posterior mean and SD (Laplace).
    ci_low, ci_high
        95 % credible interval.
    z_map, z_sd
        The same in prior SDs.
    information
        :math:`1 - \\mathrm{var}(z \\mid y)`: 0 when the data say nothing about the parameter.
    """

    name: str
    unit: str
    prior_median: float
    prior_ci_low: float
    prior_ci_high: float
    map: float
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    z_map: float
    z_sd: float
    information: float
    description: str
    source: str


@dataclass(frozen=True)
class TwinFit:
    """A fitted twin.

    Attributes
    ----------
    person, prior, dose, stimulus
        What was fitted, to what, and the protocol assumed.
    z_map, z_cov
        Posterior mode and Laplace covariance in z.
    z_draws, weights
        Draws of z and their normalised importance weights (the posterior); equal weights on draws from the
        Laplace posterior when the importance sampler fell back.
    ess
        Effective sample size of the weights.
    estimates
        One :class:`ParamEstimate` per fitted parameter.
    residuals
        The person's cells with ``twin`` (expected value), ``sd`` (measurement SD) and ``z_residual`` on the
        cell's natural scale (kPa, °C).
    log_posterior, log_likelihood, log_prior
        At the MAP (log-posterior up to the evidence).
    converged
        Whether the last MAP round met its tolerance.
    n_simulations, seconds
        Cost of the fit (vectorised batch simulations, wall time).
    notes
        Assumptions and gaps.
    """

    person: PersonData
    prior: TwinPrior
    dose: Dose
    stimulus: CpmStimulus
    z_map: np.ndarray
    z_cov: np.ndarray
    z_draws: np.ndarray
    weights: np.ndarray
    ess: float
    estimates: list[ParamEstimate]
    residuals: pd.DataFrame
    log_posterior: float
    log_likelihood: float
    log_prior: float
    converged: bool
    n_simulations: int
    seconds: float
    notes: list[str] = field(default_factory=list)

    def sample_z(self, n: int, seed: int = 0) -> np.ndarray:
        """n draws of z from the posterior (weighted draws resampled systematically), shape ``(n, dim)``."""
        rng = np.random.default_rng(seed)
        edges = np.cumsum(self.weights)
        edges[-1] = 1.0
        picks = np.searchsorted(edges, (rng.random() + np.arange(n)) / n)
        return np.asarray(self.z_draws[rng.permutation(picks)])

    def estimate(self, name: str) -> ParamEstimate:
        """The estimate of one parameter."""
        for e in self.estimates:
            if e.name == name:
                return e
        raise KeyError(name)


class _Batch:
    """Mean and forward-difference Jacobian at a point, from one batch simulation (cached for the last point)."""

    def __init__(self, lik: Likelihood, chol: np.ndarray) -> None:
        self.lik = lik
        self.chol = chol
        self.key: bytes | None = None
        self.mean = np.empty(0)
        self.jac = np.empty((0, 0))

    def at(self, z: np.ndarray) -> None:
        key = np.asarray(z, dtype=float).tobytes()
        if key == self.key:
            return
        d = z.size
        pts = np.vstack([z, z + FD_STEP * np.eye(d)])
        mom = self.lik.moments(pts)
        self.mean = mom.mean[0]
        self.jac = (mom.mean[1:] - mom.mean[0]).T / FD_STEP
        self.key = key

    def residual(self, z: np.ndarray) -> np.ndarray:
        self.at(z)
        return np.concatenate([solve_triangular(self.chol, self.lik.y - self.mean, lower=True), z])

    def jacobian(self, z: np.ndarray) -> np.ndarray:
        self.at(z)
        return np.vstack([-solve_triangular(self.chol, self.jac, lower=True), np.eye(z.size)])


def _quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Weighted quantile (inverse of the weighted empirical CDF, midpoint rule)."""
    order = np.argsort(x)
    cdf = np.cumsum(w[order]) - 0.5 * w[order]
    return float(np.interp(q, cdf, x[order]))


def _marginal(lik: Likelihood, z_map: np.ndarray, draws: np.ndarray, w: np.ndarray) -> list[ParamEstimate]:
    out = []
    for j, p in enumerate(lik.prior.params):
        theta = p.value(draws[:, j])
        mean = float(w @ theta)
        zj = float(w @ draws[:, j])
        z_var = float(w @ (draws[:, j] - zj) ** 2)
        out.append(
            ParamEstimate(
                name=p.name,
                unit=p.unit,
                prior_median=float(p.value(np.array(0.0))),
                prior_ci_low=float(p.value(np.array(-_Q))),
                prior_ci_high=float(p.value(np.array(_Q))),
                map=float(p.value(np.array(z_map[j]))),
                mean=mean,
                sd=float(math.sqrt(max(float(w @ (theta - mean) ** 2), 0.0))),
                ci_low=_quantile(theta, w, 0.025),
                ci_high=_quantile(theta, w, 0.975),
                z_map=float(z_map[j]),
                z_sd=math.sqrt(max(z_var, 0.0)),
                information=float(np.clip(1.0 - z_var, 0.0, 1.0)),
                description=p.description,
                source=p.source,
            )
        )
    return out


def _log_t(x: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Log-density of the multivariate t with :data:`IS_DOF` degrees of freedom at the rows of x."""
    d, nu = mean.size, IS_DOF
    chol = np.linalg.cholesky(scale)
    r = solve_triangular(chol, (x - mean).T, lower=True)
    q = (r**2).sum(axis=0)
    const = gammaln((nu + d) / 2.0) - gammaln(nu / 2.0) - 0.5 * d * math.log(nu * math.pi)
    return np.asarray(const - np.log(np.diag(chol)).sum() - 0.5 * (nu + d) * np.log1p(q / nu))


def _draw_t(rng: np.random.Generator, mean: np.ndarray, scale: np.ndarray, k: int) -> np.ndarray:
    g = rng.multivariate_normal(np.zeros(mean.size), scale, size=k, method="eigh")
    return np.asarray(mean + g / np.sqrt(rng.chisquare(IS_DOF, size=k) / IS_DOF)[:, None])


def _components(mean: np.ndarray, scale: np.ndarray) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """The proposal's mixture: the t around the current estimate (half the mass) and, per parameter, the same
    with that parameter drawn around its prior instead (independent of the others): a defence against kinks and
    bounds, where the posterior reaches far beyond the Laplace approximation."""
    d = mean.size
    comps = [(0.5, mean, scale)]
    for j in range(d):
        m = mean.copy()
        m[j] = 0.0
        c = scale.copy()
        c[j, :] = 0.0
        c[:, j] = 0.0
        c[j, j] = 1.0
        comps.append((0.5 / d, m, c))
    return comps


def _importance(lik: Likelihood, z_map: np.ndarray, cov: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Adaptive importance sampling from the Laplace posterior (see the module docstring)."""
    rng = np.random.default_rng([seed, 7])
    d = z_map.size
    mean, scale = z_map, cov
    draws, w, ess = np.empty((0, d)), np.empty(0), 0.0
    for _ in range(IS_ROUNDS):
        comps = _components(mean, scale)
        counts = rng.multinomial(IS_DRAWS, [c[0] for c in comps])
        draws = np.vstack([_draw_t(rng, m, c, k) for (_, m, c), k in zip(comps, counts, strict=True)])
        log_q = np.logaddexp.reduce([_log_t(draws, m, c) + math.log(p) for p, m, c in comps], axis=0)
        mom = lik.moments(draws)
        log_p = np.array([lik.log_likelihood(mom, i) for i in range(len(draws))]) - 0.5 * (draws**2).sum(axis=1)
        w = np.exp(log_p - log_q - np.max(log_p - log_q))
        w = np.minimum(w, math.sqrt(w.size) * w.mean())  # truncated importance sampling (Ionides 2008)
        w /= w.sum()
        ess = float(1.0 / (w**2).sum())
        mean = w @ draws
        centred = draws - mean
        scale = 0.5 * ((centred * w[:, None]).T @ centred) + 0.5 * scale
    return draws, w, ess


def fit_twin(
    person: PersonData,
    prior: TwinPrior,
    dose: Dose,
    stimulus: CpmStimulus | None = None,
    *,
    likelihood: Likelihood | None = None,
    seed: int = 0,
) -> TwinFit:
    """Fit a twin to one person's data (MAP in z, Laplace approximation refined by importance sampling; see the
    module docstring).

    Parameters
    ----------
    person
        The person's cells (:func:`eihlab.twin.data.person_data`).
    prior
        The fitted parameters and their prior (:func:`eihlab.twin.params.build_prior`).
    dose
        The exercise of the person's exercise condition(s).
    stimulus
        The CPM conditioning stimulus (default: the model's default, cold water 10 °C on the left arm).
    likelihood
        A prepared likelihood (built from the other arguments when ``None``).
    seed
        Seed of the importance sampler.

    Returns
    -------
    TwinFit
    """
    start = time.perf_counter()
    stimulus = stimulus or CpmStimulus()
    lik = likelihood or Likelihood(person, prior, dose, stimulus)
    d = prior.dim
    z = np.zeros(d)
    converged = False
    for _ in range(MAX_ROUNDS):
        sigma = lik.covariance(lik.moments(z))
        batch = _Batch(lik, np.linalg.cholesky(sigma))
        res = least_squares(
            batch.residual,
            z,
            jac=batch.jacobian,
            bounds=(-Z_BOUND, Z_BOUND),
            method="trf",
            x_scale=1.0,
            xtol=1e-3,
            ftol=1e-6,
            gtol=1e-6,
            max_nfev=50,
        )
        step = float(np.max(np.abs(res.x - z))) if d else 0.0
        z = np.asarray(res.x, dtype=float)
        converged = bool(res.status > 0)
        if step < 0.05:
            break

    pts = np.vstack([z, z + HESSIAN_STEP * np.eye(d), z - HESSIAN_STEP * np.eye(d)])
    mom = lik.moments(pts)
    jac = (mom.mean[1 : d + 1] - mom.mean[d + 1 :]).T / (2.0 * HESSIAN_STEP)
    sigma = lik.covariance(mom, 0)
    chol = np.linalg.cholesky(sigma)
    white = solve_triangular(chol, jac, lower=True)
    hessian = white.T @ white + np.eye(d)
    cov = np.linalg.inv(hessian)
    cov = 0.5 * (cov + cov.T)
    log_lik = lik.log_likelihood(mom, 0, sigma)
    log_prior = float(-0.5 * z @ z - 0.5 * d * math.log(2.0 * math.pi))

    notes = list(person.notes)
    draws, weights, ess = _importance(lik, z, cov, seed)
    if ess < MIN_ESS:
        notes.append(
            f"the importance sampler's effective sample size was {ess:.0f} (< {MIN_ESS:g}): the Laplace posterior "
            "is reported"
        )
        draws = np.random.default_rng([seed, 8]).multivariate_normal(z, cov, size=IS_DRAWS, method="cholesky")
        weights = np.full(IS_DRAWS, 1.0 / IS_DRAWS)

    cells = person.cells.copy()
    sd_obs = np.sqrt(np.diag(sigma))
    mu = mom.mean[0]
    log = lik.design.log
    cells["twin"] = np.where(log, np.exp(mu), mu)
    cells["sd"] = np.where(log, np.exp(mu) * sd_obs, sd_obs)
    cells["z_residual"] = (lik.y - mu) / sd_obs
    cells["minutes"] = lik.design.minutes
    if not converged:
        notes.append("the MAP search stopped at its evaluation limit; treat the estimates with care")
    return TwinFit(
        person=person,
        prior=prior,
        dose=dose,
        stimulus=stimulus,
        z_map=z,
        z_cov=cov,
        z_draws=draws,
        weights=weights,
        ess=ess,
        estimates=_marginal(lik, z, draws, weights),
        residuals=cells,
        log_posterior=log_lik + log_prior,
        log_likelihood=log_lik,
        log_prior=log_prior,
        converged=converged,
        n_simulations=lik.n_simulations,
        seconds=time.perf_counter() - start,
        notes=notes,
    )
