"""Fatigue capacity: how long a relative intensity can be sustained, and how fast W′ comes back.

Pure, vectorised functions; every argument broadcasts with numpy rules.

Sources
-------
* Frey-Law LA, Avin KG (2010). Endurance time is joint-specific: a modelling and meta-analysis
  investigation. *Ergonomics* 53:109–129. doi:10.1080/00140130903389068 (PMC2891087) — power model
  ET = b0·f^b1, f the fraction of MVC, ET in seconds (Table 2). This is the modern replacement for
  Rohmert's (1960) intensity–endurance curve.
* Monod H, Scherrer J (1965). The work capacity of a synergic muscular group. *Ergonomics* 8:329–338 —
  the critical-power hyperbola, P = W′/t + CP.
* Skiba PF, Chidnok W, Vanhatalo A, Jones AM (2012). Modeling the expenditure and reconstitution of work
  capacity above critical power. *Med Sci Sports Exerc* 44:1526–1532. doi:10.1249/MSS.0b013e3182517a80 —
  τ_W′ = 546·e^(−0.01·D_CP) + 316 s.
* ACSM leg-cycling metabolic equation (ACSM GETP 10th ed., Table 6.3; Bushman 2020,
  doi:10.1249/FIT.0000000000000562) for :func:`power_at_vo2max_w`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from eihlab.errors import InputError
from eihlab.protocol.physiology import (
    ACSM_LEG_CYCLING_INTERCEPT,
    ACSM_LEG_CYCLING_ML_PER_W,
    FloatArray,
    SubjectPhysiology,
)

#: Frey-Law & Avin (2010) Table 2 power-model coefficients (b0 in seconds, b1 dimensionless) for
#: ET = b0·f^b1 with f the fraction of MVC in (0, 1]; R² in the comments. Transcribed from the full text
#: (PMC2891087) as quoted by a third party; the shoulder entry cross-checks with 14.86·0.5^−1.83 ≈ 52.8 s.
FREY_LAW_AVIN_POWER_MODELS: dict[str, tuple[float, float]] = {
    "pooled": (21.92, -1.98),  # R² 0.814 (the "generalised" curve, all joints)
    "ankle": (34.71, -2.06),  # R² 0.884
    "trunk": (22.69, -2.27),  # R² 0.885
    "elbow": (17.98, -2.21),  # R² 0.915
    "grip": (33.55, -1.61),  # R² 0.748 (hand/grip)
    "knee": (19.38, -1.88),  # R² 0.789
    "shoulder": (14.86, -1.83),  # R² 0.897
}

#: Skiba et al. (2012) W′ reconstitution time-constant coefficients: τ = A·exp(−k·D_CP) + C (seconds).
SKIBA_TAU_A_S: float = 546.0
SKIBA_TAU_K_PER_W: float = 0.01
SKIBA_TAU_C_S: float = 316.0


def isometric_endurance_time_min(frac_mvc: ArrayLike, joint: str = "pooled") -> FloatArray:
    """Maximal endurance time of a sustained isometric contraction (Frey-Law & Avin 2010).

    .. math:: ET = b_0\\, f^{\\,b_1}\\quad [\\mathrm{s}],\\qquad f = \\text{fraction of MVC}

    Pooled ("generalised") coefficients: :math:`b_0 = 21.92` s, :math:`b_1 = -1.98` (R² = 0.81);
    joint-specific ones in :data:`FREY_LAW_AVIN_POWER_MODELS`.

    Parameters
    ----------
    frac_mvc
        Fraction of maximal voluntary contraction (0.25 for 25 % MVC); scalar or array.
    joint
        ``"pooled"`` (default) or one of ``"ankle"``, ``"trunk"``, ``"elbow"``, ``"grip"``, ``"knee"``,
        ``"shoulder"``.

    Returns
    -------
    numpy.ndarray
        Endurance time in minutes, same shape as ``frac_mvc``.

    Notes
    -----
    doi:10.1080/00140130903389068. Clipping: ``f`` is clipped to [0, 1]; ``f <= 0`` gives ``inf`` (no
    fatigue limit, ET → ∞ as f → 0), ``f >= 1`` gives the 100 % MVC value ``b0`` (22 s pooled; a
    maximal contraction cannot be held longer than a few tens of seconds). NaN propagates. The fit rests
    mostly on data above 25 % MVC (the paper's own remark); below ~10 % MVC the power law is an
    extrapolation and gives long but finite times (≈ 2 h at 5 % MVC pooled).

    Examples
    --------
    25 % MVC held to failure (pooled) ≈ 5.7 min:

    >>> round(float(isometric_endurance_time_min(0.25)), 1)
    5.7
    """
    if joint not in FREY_LAW_AVIN_POWER_MODELS:
        raise InputError("joint", joint, FREY_LAW_AVIN_POWER_MODELS)
    b0, b1 = FREY_LAW_AVIN_POWER_MODELS[joint]
    f = np.asarray(frac_mvc, dtype=float)
    fc = np.clip(f, 0.0, 1.0)
    positive = fc > 0.0
    safe = np.where(positive, fc, 1.0)
    et_s = np.where(positive, b0 * np.power(safe, b1), np.inf)
    et_s = np.where(np.isnan(f), np.nan, et_s)
    return np.asarray(et_s / 60.0, dtype=float)


def aerobic_time_to_exhaustion_min(
    frac_vo2max: ArrayLike,
    cp_fraction: ArrayLike,
    w_prime_kj: ArrayLike,
    power_at_vo2max_w: ArrayLike,
) -> FloatArray:
    """Time to exhaustion at a constant aerobic intensity from the critical-power model.

    .. math::

        P = f\\,P_{\\dot V O_2max},\\quad CP = c\\,P_{\\dot V O_2max},\\qquad
        t_{lim} = \\frac{W'}{P - CP}\\ \\text{for } P > CP,\\quad t_{lim} = \\infty\\ \\text{otherwise}

    Parameters
    ----------
    frac_vo2max
        Intensity as a fraction of VO2max (values > 1 allowed: supramaximal demand).
    cp_fraction
        Critical power as a fraction of the power at VO2max.
    w_prime_kj
        W′, kJ.
    power_at_vo2max_w
        Power at VO2max, W (:func:`power_at_vo2max_w`).

    Returns
    -------
    numpy.ndarray
        Time to exhaustion in minutes (``inf`` at or below CP). Broadcast shape of the inputs.

    Notes
    -----
    Monod & Scherrer (1965); Skiba et al. (2012), doi:10.1249/MSS.0b013e3182517a80, state it as
    P = W′/t + CP. The power demand is taken as proportional to the fraction of VO2max
    (P = f·P_VO2max), i.e. the ACSM intercept for unloaded pedalling is ignored in this mapping;
    assumed: good enough above CP, where the model is used. The hyperbola is valid for efforts of about
    2–15 min; outside that it is an extrapolation.
    """
    f = np.asarray(frac_vo2max, dtype=float)
    cp = np.asarray(cp_fraction, dtype=float)
    wp_j = np.asarray(w_prime_kj, dtype=float) * 1000.0
    p_max = np.asarray(power_at_vo2max_w, dtype=float)
    excess_w = (f - cp) * p_max
    above = excess_w > 0.0
    t_s = np.where(above, wp_j / np.where(above, excess_w, 1.0), np.inf)
    t_s = np.where(np.isnan(excess_w) | np.isnan(wp_j), np.nan, t_s)
    return np.asarray(t_s / 60.0, dtype=float)


def w_prime_recovery_tau_s(d_cp_w: ArrayLike) -> FloatArray:
    """Time constant of W′ reconstitution below critical power (Skiba et al. 2012).

    .. math:: \\tau_{W'} = 546\\, e^{-0.01\\, D_{CP}} + 316\\quad [\\mathrm{s}]

    Parameters
    ----------
    d_cp_w
        D_CP = CP − P_recovery, the difference between critical power and the recovery power output, W
        (≥ 0 for recovery below CP).

    Returns
    -------
    numpy.ndarray
        τ in seconds: 862 s for recovery at CP (D_CP = 0), approaching 316 s for deep recovery.

    Notes
    -----
    doi:10.1249/MSS.0b013e3182517a80. Fitted on cycling with D_CP in watts for well-trained adults; elite
    cyclists recover faster than predicted (Bartram et al. 2018, doi:10.1123/ijspp.2017-0034). The
    expression is evaluated as written for any D_CP; it is meaningful only for D_CP ≥ 0.
    """
    d = np.asarray(d_cp_w, dtype=float)
    return np.asarray(SKIBA_TAU_A_S * np.exp(-SKIBA_TAU_K_PER_W * d) + SKIBA_TAU_C_S, dtype=float)


def power_at_vo2max_w(phys: SubjectPhysiology) -> FloatArray:
    """Leg-cycling power at which the ACSM equation reaches each subject's VO2max.

    .. math:: P_{\\dot V O_2max} = \\frac{(\\dot V O_{2max} - 7)\\, M}{10.8}\\quad [\\mathrm{W}]

    inverting VO2 = 7 + 10.8·W/M (mL·kg⁻¹·min⁻¹; ACSM GETP 10th ed. Table 6.3).

    Parameters
    ----------
    phys
        Subject physiology.

    Returns
    -------
    numpy.ndarray
        Power in watts, one entry per subject.

    Notes
    -----
    For rats and mice there is no cycling; the same slope is applied to the oxygen uptake above the
    species' resting value, P = (VO2max − VO2rest)·M/10.8, as an aerobic-power *equivalent* that keeps
    the critical-power bookkeeping (CP, W′) dimensionally consistent. assumed: rodent W′ values are set
    on the same scale (see :meth:`SubjectPhysiology.typical`).
    """
    intercept = ACSM_LEG_CYCLING_INTERCEPT if phys.species == "human" else phys.vo2_rest_ml_kg_min
    return np.asarray((phys.vo2max_ml_kg_min - intercept) * phys.body_mass_kg / ACSM_LEG_CYCLING_ML_PER_W, dtype=float)
