"""Effect sizes and confidence intervals for within-subject (paired) designs.

Everything here works on plain NumPy arrays; the table-level functions in :mod:`eihlab.stats._summary`
call the array helpers once per group.

References
----------
.. [1] Cohen J. *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed. Erlbaum, 1988
   (standardised mean difference; :math:`d_z` for paired data, section 2.3.5).
.. [2] Steiger JH, Fouladi RT. Noncentrality interval estimation and the evaluation of statistical
   models. In: Harlow LL, Mulaik SA, Steiger JH (eds), *What If There Were No Significance Tests?*
   Erlbaum, 1997, pp. 221-257 (the "pivoting" or confidence-interval-inversion method).
.. [3] Cumming G, Finch S. A primer on the understanding, use, and calculation of confidence intervals
   that are based on central and noncentral distributions. *Educ Psychol Meas* 61 (2001) 532-574.
.. [4] Lakens D. Calculating and reporting effect sizes to facilitate cumulative science: a practical
   primer for t-tests and ANOVAs. *Front Psychol* 4 (2013) 863.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize
from scipy import stats as sps

from eihlab.errors import InputError

__all__ = ["EffectSize", "mean_ci", "within_subject_d"]


@dataclass(frozen=True)
class EffectSize:
    """A standardised effect size with its confidence interval.

    Attributes
    ----------
    d
        Point estimate (here Cohen's :math:`d_z`).
    ci_low, ci_high
        Lower and upper confidence limits (``1 - alpha`` two-sided).
    n
        Number of (finite) observations the estimate is based on.
    """

    d: float
    ci_low: float
    ci_high: float
    n: int


def _check_alpha(alpha: float) -> float:
    """Return ``alpha`` as a float, or raise :class:`~eihlab.errors.InputError` unless ``0 < alpha < 1``."""
    a = float(alpha)
    if not 0.0 < a < 1.0:
        raise InputError(field="alpha", value=alpha, allowed="a number in the open interval (0, 1)")
    return a


def _finite(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Flatten ``values`` to a float array and drop NaN / infinite entries."""
    arr = np.asarray(values, dtype=float).ravel()
    return arr[np.isfinite(arr)]


def mean_ci(values: npt.ArrayLike, alpha: float = 0.05) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of a sample.

    .. math::

        \\bar x \\pm t_{1-\\alpha/2,\\,n-1}\\, \\frac{s}{\\sqrt n},
        \\qquad s = \\sqrt{\\tfrac{1}{n-1}\\textstyle\\sum_i (x_i-\\bar x)^2}

    Parameters
    ----------
    values
        The sample; NaN and infinite entries are ignored.
    alpha
        Two-sided error rate; ``0.05`` gives a 95 % interval.

    Returns
    -------
    tuple of float
        ``(mean, ci_low, ci_high)``. With no finite value all three are NaN; with a single value the mean
        is that value and the limits are NaN (the interval is undefined).
    """
    a = _check_alpha(alpha)
    x = _finite(values)
    n = x.size
    if n == 0:
        return (math.nan, math.nan, math.nan)
    m = float(x.mean())
    if n < 2:
        return (m, math.nan, math.nan)
    half = float(sps.t.ppf(1.0 - a / 2.0, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return (m, m - half, m + half)


def _solve_nc(t_obs: float, df: float, p: float) -> float:
    """Noncentrality :math:`\\lambda` with ``nct.cdf(t_obs, df, lambda) == p``.

    The noncentral-t cdf at a fixed point is strictly decreasing in :math:`\\lambda`, so the root is
    unique; it is bracketed around ``t_obs`` (widened geometrically) and found with Brent's method.
    Returns NaN if no bracket is found (only for pathological inputs).
    """

    def f(nc: float) -> float:
        return float(sps.nct.cdf(t_obs, df, nc)) - p

    # Approximate sd of T under the noncentral t is sqrt(1 + t^2 / (2 df)); start a few sds wide.
    width = 4.0 * math.sqrt(1.0 + t_obs * t_obs / (2.0 * df)) + 1.0
    lo, hi = t_obs - width, t_obs + width
    for _ in range(60):
        f_lo, f_hi = f(lo), f(hi)
        if math.isnan(f_lo) or math.isnan(f_hi):
            return math.nan
        if f_lo >= 0.0 and f_hi <= 0.0:
            if f_lo == 0.0:
                return lo
            if f_hi == 0.0:
                return hi
            return float(optimize.brentq(f, lo, hi, xtol=1e-10, rtol=1e-12, maxiter=200))
        if f_lo < 0.0:
            lo -= width
        if f_hi > 0.0:
            hi += width
        width *= 2.0
    return math.nan


def _dz_ci(d: float, n: int, alpha: float) -> tuple[float, float]:
    """Noncentral-t confidence interval of :math:`d_z` given the estimate and the sample size.

    With :math:`t = d_z \\sqrt n` and :math:`\\nu = n - 1`, find :math:`\\lambda_L, \\lambda_U` such that
    :math:`F_{\\nu,\\lambda_L}(t) = 1 - \\alpha/2` and :math:`F_{\\nu,\\lambda_U}(t) = \\alpha/2`, where
    :math:`F_{\\nu,\\lambda}` is the noncentral-t cdf; the limits are :math:`\\lambda / \\sqrt n`
    (Steiger & Fouladi 1997; Cumming & Finch 2001). NaN if ``d`` is not finite, ``n < 2``, or the
    noncentral-t cdf is not computable (extreme t at tiny n).
    """
    if n < 2 or not math.isfinite(d):
        return (math.nan, math.nan)
    root_n = math.sqrt(n)
    t_obs = d * root_n
    df = float(n - 1)
    try:
        nc_low = _solve_nc(t_obs, df, 1.0 - alpha / 2.0)
        nc_high = _solve_nc(t_obs, df, alpha / 2.0)
    except ValueError:
        # scipy's noncentral-t cdf returns NaN far in the tails at tiny df (e.g. n = 2, |t| > 10):
        # the interval is then not computable and is reported as NaN rather than guessed
        return (math.nan, math.nan)
    return (nc_low / root_n, nc_high / root_n)


def _dz_arrays(
    mean: npt.ArrayLike, sd: npt.ArrayLike, n: npt.ArrayLike, alpha: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Vectorised :math:`d_z = \\bar\\Delta / s_\\Delta` and its noncentral-t CI, one entry per group.

    ``d_z`` is NaN where ``n < 2`` or ``sd`` is zero, NaN or infinite. The CI needs one root-finding per
    group (a Python loop); identical ``(d, n)`` pairs are solved once.
    """
    m = np.asarray(mean, dtype=float)
    s = np.asarray(sd, dtype=float)
    k = np.asarray(n, dtype=float)
    ok = (k >= 2) & np.isfinite(m) & np.isfinite(s) & (s > 0)
    d = np.full(m.shape, np.nan)
    np.divide(m, s, out=d, where=ok)
    lo = np.full(m.shape, np.nan)
    hi = np.full(m.shape, np.nan)
    cache: dict[tuple[float, int], tuple[float, float]] = {}
    for i in np.flatnonzero(ok):
        key = (float(d.flat[i]), int(k.flat[i]))
        if key not in cache:
            cache[key] = _dz_ci(key[0], key[1], alpha)
        lo.flat[i], hi.flat[i] = cache[key]
    return d, lo, hi


def within_subject_d(change: npt.ArrayLike, alpha: float = 0.05) -> EffectSize:
    """Cohen's :math:`d_z` for a within-subject change, with a noncentral-t confidence interval.

    .. math::

        d_z = \\frac{\\bar\\Delta}{s_\\Delta}, \\qquad
        s_\\Delta = \\sqrt{\\tfrac{1}{n-1}\\textstyle\\sum_i (\\Delta_i - \\bar\\Delta)^2}

    (Cohen 1988, Lakens 2013 eq. 6). Because :math:`t = d_z\\sqrt n` follows a noncentral t distribution
    with :math:`\\nu = n-1` degrees of freedom and noncentrality :math:`\\delta\\sqrt n`, the interval is
    obtained by inverting its cdf (Steiger & Fouladi 1997; Cumming & Finch 2001): find
    :math:`\\lambda_L` with :math:`F_{\\nu,\\lambda_L}(t) = 1-\\alpha/2` and :math:`\\lambda_U` with
    :math:`F_{\\nu,\\lambda_U}(t) = \\alpha/2` (:func:`scipy.stats.nct` and :func:`scipy.optimize.brentq`),
    and report :math:`[\\lambda_L/\\sqrt n,\\ \\lambda_U/\\sqrt n]`.

    Parameters
    ----------
    change
        Per-subject changes :math:`\\Delta_i` (e.g. post - pre, or a paired difference of changes). NaN
        and infinite entries are ignored.
    alpha
        Two-sided error rate; ``0.05`` gives a 95 % interval.

    Returns
    -------
    EffectSize
        ``d``, ``ci_low``, ``ci_high`` and ``n`` (the number of finite changes). With ``n < 2`` or a
        zero standard deviation (all changes equal) :math:`d_z` is undefined and ``d``, ``ci_low`` and
        ``ci_high`` are NaN.

    Examples
    --------
    >>> es = within_subject_d([1.0, 2.0, 3.0])
    >>> round(es.d, 3), es.n
    (2.0, 3)
    """
    a = _check_alpha(alpha)
    x = _finite(change)
    n = int(x.size)
    if n < 2:
        return EffectSize(math.nan, math.nan, math.nan, n)
    d, lo, hi = _dz_arrays(x.mean(), x.std(ddof=1), n, a)
    return EffectSize(float(d), float(lo), float(hi), n)
