"""Exercise intensity: from the unit a user states to each subject's fraction of maximal capacity.

An intensity is stored as the anchor actually used (qst_conventions item 10 and §5) and converted per
subject through :class:`~eihlab.protocol.physiology.SubjectPhysiology`:

* cardiorespiratory families (``aerobic``, ``anaerobic``, ``mind_body``) → fraction of VO2max
  (1.0 = VO2max; values above 1 mean a supramaximal demand, e.g. a Wingate load in watts);
* ``isometric`` → fraction of MVC;
* ``dynamic_resistance`` → fraction of (concentric) 1RM, at most 1;
* ``eccentric`` → fraction of concentric 1RM, up to :data:`ECCENTRIC_MAX_FRACTION_1RM` (eccentric strength
  is ~40 % higher than concentric: ECC:CON ratio 1.41, 95 % CrI 1.38–1.44; Nuzzo et al. 2023, *Sports
  Med* 53:1125–1136, doi:10.1007/s40279-023-01851-y);
* ``passive`` → no intensity (zeros).

Conversion chain for cardiorespiratory units (r = VO2rest/VO2max of the subject):

* %VO2max → f = v/100.
* %VO2R → f = r + (1 − r)·v/100, with VO2rest = 3.5 mL·kg⁻¹·min⁻¹ in humans (1 MET) and the species
  values of :data:`~eihlab.protocol.physiology.VO2_REST_ML_KG_MIN` in rodents.
* %HRR ≈ %VO2R (Swain & Leutholtz 1997, *Med Sci Sports Exerc* 29:410–414,
  doi:10.1097/00005768-199703000-00018; intercept −0.1, slope 1.00; adopted by ACSM).
* bpm → %HRR by the inverse Karvonen formula, then as %HRR.
* %HRmax → %VO2max by the Swain et al. (1994) regression %HRmax = 0.6463·%VO2max + 37.182 (humans; *Med
  Sci Sports Exerc* 26:112–116, doi:10.1249/00005768-199401000-00019; the coefficients reproduce the
  paper's reported 63/76/89/92 %HRmax at 40/60/80/85 %VO2max). Rodents: through %HRR (assumed).
* W → ACSM leg cycling VO2 = 7 + 10.8·W/M (arm cycling, ``mode="arm_cycling"``: VO2 = 3.5 + 18·W/M);
  ACSM GETP 10th ed. Table 6.3 (Bushman 2020, doi:10.1249/FIT.0000000000000562). Humans only.
* km/h → ACSM level walking VO2 = 3.5 + 0.1·S or running VO2 = 3.5 + 0.2·S, S in m·min⁻¹; walking below
  7 km/h unless ``mode`` says otherwise. Humans only.
* m/min (rodent treadmill/wheel) → fraction of the subject's maximal aerobic speed v/v(VO2max), read as
  %VO2R (speed rises linearly with VO2 above rest, as for human running) and converted to %VO2max as above;
  v(VO2max) comes from the species locomotor-cost line (:data:`RODENT_LOCOMOTION_COST`). The cost line
  itself is not used for submaximal speeds: its large intercept would put 10 m/min at ~0.7 VO2max in rats,
  whereas the rodent studies the review cites call 10 m/min "low intensity" (assumed; rodent intensity is
  usually prescribed as % of the speed at VO2max, Høydal et al. 2007, doi:10.1097/HJR.0b013e3282efaf50).
  Rat: 10 m/min ≈ 0.41, 16 m/min ≈ 0.53, 30 m/min ≈ 0.82 of VO2max. Rodents only.
* RPE 6–20 / CR10 → %HRR by linear interpolation on the ACSM category table (§5.2), then as %HRR.
* METs → VO2 = 3.5·METs. Humans only.

Every invalid unit, family, mode or value raises :class:`eihlab.errors.InputError` naming the field
(``"intensity"``), the value and what is allowed.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike

from eihlab.errors import InputError
from eihlab.protocol.physiology import (
    ACSM_LEG_CYCLING_INTERCEPT,
    ACSM_LEG_CYCLING_ML_PER_W,
    G_N_PER_KG,
    MET_ML_KG_MIN,
    FloatArray,
    SubjectPhysiology,
    fraction_hrr_from_hr,
    karvonen_hr,
)

IntensityUnit = Literal[
    "%HRR",
    "%HRmax",
    "%VO2max",
    "%VO2R",
    "W",
    "km/h",
    "m/min",
    "%MVC",
    "%1RM",
    "kg",
    "RPE",
    "CR10",
    "METs",
    "bpm",
]
ExerciseFamily = Literal["aerobic", "anaerobic", "isometric", "dynamic_resistance", "eccentric", "mind_body", "passive"]

INTENSITY_UNITS: tuple[IntensityUnit, ...] = get_args(IntensityUnit)
EXERCISE_FAMILIES: tuple[ExerciseFamily, ...] = get_args(ExerciseFamily)

_CARDIO_UNITS: tuple[IntensityUnit, ...] = (
    "%HRR",
    "%HRmax",
    "%VO2max",
    "%VO2R",
    "W",
    "km/h",
    "m/min",
    "RPE",
    "CR10",
    "METs",
    "bpm",
)
_CARDIO_FAMILIES: frozenset[str] = frozenset({"aerobic", "anaerobic", "mind_body"})

#: Units accepted for each exercise family.
ALLOWED_UNITS: dict[ExerciseFamily, tuple[IntensityUnit, ...]] = {
    "aerobic": _CARDIO_UNITS,
    "anaerobic": _CARDIO_UNITS,
    "mind_body": _CARDIO_UNITS,
    "isometric": ("%MVC", "kg", "RPE", "CR10"),
    "dynamic_resistance": ("%1RM", "%MVC", "kg", "RPE", "CR10"),
    "eccentric": ("%1RM", "%MVC", "kg", "RPE", "CR10"),
    "passive": (),
}

#: Units that make sense for each species. Rodents cannot rate exertion, do not pedal and are not
#: prescribed in km/h or METs; humans are not prescribed rodent treadmill speeds.
SPECIES_UNITS: dict[str, frozenset[IntensityUnit]] = {
    "human": frozenset(u for u in INTENSITY_UNITS if u != "m/min"),
    "rat": frozenset({"%HRR", "%HRmax", "%VO2max", "%VO2R", "m/min", "bpm", "%MVC", "%1RM", "kg"}),
    "mouse": frozenset({"%HRR", "%HRmax", "%VO2max", "%VO2R", "m/min", "bpm", "%MVC", "%1RM", "kg"}),
}

#: Eccentric loads may exceed the concentric 1RM: ECC:CON strength ratio 1.41 (Nuzzo et al. 2023,
#: doi:10.1007/s40279-023-01851-y), rounded down.
ECCENTRIC_MAX_FRACTION_1RM: float = 1.4

#: Swain et al. (1994) %HRmax = SLOPE·%VO2max + INTERCEPT (young adults, cycle/treadmill).
SWAIN_1994_SLOPE: float = 0.6463
SWAIN_1994_INTERCEPT: float = 37.182

#: ACSM (2018, GETP 10th ed.) %HRR category lower bounds (qst_conventions §5.2).
ACSM_HRR_CATEGORIES: tuple[tuple[float, str], ...] = (
    (0.90, "near-maximal"),
    (0.60, "vigorous"),
    (0.40, "moderate"),
    (0.30, "light"),
    (0.0, "very light"),
)

#: Borg RPE (6–20) → %HRR knots: the lower edge of each ACSM category (§5.2: very light < 9, light 9–11,
#: moderate 12–13, vigorous 14–17, near-maximal ≥ 18) paired with the category's lower %HRR bound
#: (30, 40, 60, 90); RPE 6 ("no exertion") is rest and RPE 20 is maximal. Linear in between.
RPE_HRR_KNOTS: tuple[tuple[float, ...], tuple[float, ...]] = (
    (6.0, 9.0, 12.0, 14.0, 18.0, 20.0),
    (0.0, 30.0, 40.0, 60.0, 90.0, 100.0),
)

#: Borg CR10 (0–10) → %HRR knots. assumed: CR10 2 "weak/light" = lower edge of light, 3 "moderate" =
#: lower edge of moderate (one guideline maps moderate to CR10 3–4 and RPE 11–13, §5.3), 5 "strong/hard"
#: = lower edge of vigorous, 9 = lower edge of near-maximal, 10 = maximal. No source gives these knots.
CR10_HRR_KNOTS: tuple[tuple[float, ...], tuple[float, ...]] = (
    (0.0, 2.0, 3.0, 5.0, 9.0, 10.0),
    (0.0, 30.0, 40.0, 60.0, 90.0, 100.0),
)

#: Rodent locomotor oxygen cost, VO2 = a + b·v (mL·kg⁻¹·min⁻¹, v in m·min⁻¹), fitted through two reported
#: points each; VO2 rises linearly with speed in both species, with an intercept above rest (the
#: locomotion-onset step). Rat: Shepherd & Gollnick (1976), *Pflügers Arch* 362:219–222,
#: doi:10.1007/BF00581173 — 64.4 at 16 m/min and 95.1 (VO2max) at 53.6 m/min on an activity wheel; with
#: the typical rat VO2max of 83 (Gleeson & Baldwin 1981) this puts VO2max at ≈ 39 m/min, matching their
#: 10–41 m/min treadmill range (assumed: the wheel line applies to treadmill running). Mouse: Schefer &
#: Talan (1996), *Exp Gerontol* 31:387–392 — adult male C57BL/6J, 98.5 at 3 m/min and 181.0 (VO2max) at
#: 25 m/min on a level treadmill.
RODENT_LOCOMOTION_COST: dict[str, tuple[float, float]] = {
    "rat": (64.4 - 16.0 * (95.1 - 64.4) / (53.6 - 16.0), (95.1 - 64.4) / (53.6 - 16.0)),
    "mouse": (
        5908.06 / 60.0 - 3.0 * (10861.99 - 5908.06) / 60.0 / 22.0,
        (10861.99 - 5908.06) / 60.0 / 22.0,
    ),
}

_MODES: dict[str, tuple[str, ...]] = {
    "W": ("leg_cycling", "arm_cycling"),
    "km/h": ("walk", "run"),
}
_WALK_RUN_THRESHOLD_KMH: float = 7.0
_MAX_VALUE: dict[str, float] = {"W": 2500.0, "km/h": 45.0, "m/min": 150.0, "METs": 25.0}


# ---------------------------------------------------------------------------------------------- helpers
def _show(value: object, unit: str) -> str:
    if value is None:
        return unit
    if isinstance(value, Real) and not isinstance(value, bool):
        return f"{float(value):g} {unit}"
    return f"{value!r} {unit}"


def _range_error(value: float, unit: str, allowed: str) -> InputError:
    return InputError("intensity", f"{value:g} {unit}", allowed)


def _check_range(value: float, unit: str, lo: float, hi: float, *, what: str = "") -> None:
    if not (lo <= value <= hi):
        extra = f" ({what})" if what else ""
        raise _range_error(value, unit, f"a number in [{lo:g}, {hi:g}] {unit}{extra}")


def _from_vo2r(frac_vo2r: ArrayLike, phys: SubjectPhysiology) -> FloatArray:
    """%VO2R (as a fraction) → fraction of VO2max: f = r + (1 − r)·f_R, r = VO2rest/VO2max."""
    r = phys.rest_fraction_vo2max
    return np.asarray(r + (1.0 - r) * np.asarray(frac_vo2r, dtype=float), dtype=float)


def fraction_vo2r_from_vo2max(frac_vo2max: ArrayLike, phys: SubjectPhysiology) -> FloatArray:
    """Fraction of VO2 reserve for a fraction of VO2max: f_R = (f − r)/(1 − r), r = VO2rest/VO2max.

    Not clipped. By Swain & Leutholtz (1997) this is also the fraction of heart-rate reserve.
    """
    r = phys.rest_fraction_vo2max
    return np.asarray((np.asarray(frac_vo2max, dtype=float) - r) / (1.0 - r), dtype=float)


def speed_at_vo2max_m_min(phys: SubjectPhysiology) -> FloatArray:
    """Level running/treadmill speed at which each subject reaches VO2max, m·min⁻¹.

    Humans: ACSM running equation, S = (VO2max − 3.5)/0.2. Rodents: the species line of
    :data:`RODENT_LOCOMOTION_COST`, v = (VO2max − a)/b.
    """
    if phys.species == "human":
        return np.asarray((phys.vo2max_ml_kg_min - MET_ML_KG_MIN) / 0.2, dtype=float)
    a, b = RODENT_LOCOMOTION_COST[phys.species]
    return np.asarray((phys.vo2max_ml_kg_min - a) / b, dtype=float)


# ------------------------------------------------------------------------------------------ conversions
def relative_intensity(
    value: float | None,
    unit: IntensityUnit | None,
    family: ExerciseFamily,
    phys: SubjectPhysiology,
    *,
    mode: str | None = None,
) -> FloatArray:
    """Convert a stated intensity into each subject's fraction of the family's maximal capacity.

    Parameters
    ----------
    value
        The number as stated (``70`` for 70 % HRR, ``150`` for 150 W, ``13`` for RPE 13). ``None`` or
        ``0`` for passive exercise.
    unit
        One of :data:`INTENSITY_UNITS`, and allowed for the family (:data:`ALLOWED_UNITS`) and species
        (:data:`SPECIES_UNITS`). Ignored for passive exercise.
    family
        One of :data:`EXERCISE_FAMILIES`.
    phys
        The subjects.
    mode
        Only for ``"W"`` (``"leg_cycling"``, default, or ``"arm_cycling"``) and ``"km/h"`` (``"walk"`` or
        ``"run"``; default: walking below 7 km/h, running from 7 km/h).

    Returns
    -------
    numpy.ndarray
        One value per subject: fraction of VO2max (cardiorespiratory families), of MVC (isometric), or of
        concentric 1RM (dynamic resistance, eccentric); zeros for passive exercise.

    Raises
    ------
    eihlab.errors.InputError
        For an unknown family, unit or mode; a unit not allowed for the family or species; or a value out
        of range (negative, a percentage above 100 where impossible, RPE outside 6–20, CR10 outside 0–10,
        a heart rate above a subject's HRmax, a load above a subject's maximum, …).

    Notes
    -----
    Equations and sources are listed in the module docstring. Values are not clipped at 1 for absolute
    aerobic units (W, km/h, m/min, METs): a demand above VO2max is returned as f > 1 (supramaximal).
    Regression-based conversions (%HRmax) are clipped to the subject's resting fraction below and 1 above.

    Examples
    --------
    >>> from eihlab.protocol.physiology import SubjectPhysiology
    >>> phys = SubjectPhysiology.typical(3)
    >>> relative_intensity(60, "%VO2max", "aerobic", phys)
    array([0.6, 0.6, 0.6])
    """
    if not isinstance(family, str) or family not in EXERCISE_FAMILIES:
        raise InputError("family", family, EXERCISE_FAMILIES)
    n = phys.n

    if family == "passive":
        if value is None or (isinstance(value, Real) and not isinstance(value, bool) and value == 0):
            return np.zeros(n)
        raise InputError("intensity", value, "no intensity (None or 0) for passive exercise")

    if unit is None or not isinstance(unit, str) or unit not in INTENSITY_UNITS:
        raise InputError("intensity", unit, INTENSITY_UNITS)
    allowed = ALLOWED_UNITS[family]
    if unit not in allowed:
        raise InputError("intensity", _show(value, unit), f"for {family} exercise, one of: {', '.join(allowed)}")
    if unit not in SPECIES_UNITS[phys.species]:
        ok = [u for u in allowed if u in SPECIES_UNITS[phys.species]]
        raise InputError(
            "intensity",
            _show(value, unit),
            f"for {family} exercise in a {phys.species}, one of: {', '.join(ok)}",
        )
    if value is None or isinstance(value, bool) or not isinstance(value, Real):
        raise InputError("intensity", value, f"a number in {unit}")
    v = float(value)
    if not math.isfinite(v):
        raise InputError("intensity", value, f"a finite number in {unit}")
    if v < 0.0:
        raise _range_error(v, unit, f"a non-negative number in {unit}")

    modes = _MODES.get(unit, ())
    if mode is not None and mode not in modes:
        raise InputError("intensity.mode", mode, modes if modes else f"no mode for {unit}")

    if family in _CARDIO_FAMILIES:
        return _cardio(v, unit, phys, mode)
    if family == "isometric":
        return _isometric(v, unit, phys)
    ceiling = ECCENTRIC_MAX_FRACTION_1RM if family == "eccentric" else 1.0
    return _resistance(v, unit, phys, ceiling)


def _cardio(v: float, unit: str, phys: SubjectPhysiology, mode: str | None) -> FloatArray:
    n = phys.n
    vo2max = phys.vo2max_ml_kg_min
    if unit == "%VO2max":
        _check_range(v, unit, 0.0, 100.0)
        return np.full(n, v / 100.0)
    if unit in ("%VO2R", "%HRR"):
        _check_range(v, unit, 0.0, 100.0)
        return _from_vo2r(v / 100.0, phys)
    if unit == "%HRmax":
        _check_range(v, unit, 0.0, 100.0)
        if phys.species == "human":
            f = (v - SWAIN_1994_INTERCEPT) / SWAIN_1994_SLOPE / 100.0
            return np.asarray(np.clip(f, phys.rest_fraction_vo2max, 1.0), dtype=float)
        hrr = np.clip(fraction_hrr_from_hr(v / 100.0 * phys.hr_max_bpm, phys.hr_rest_bpm, phys.hr_max_bpm), 0, 1)
        return _from_vo2r(hrr, phys)
    if unit == "bpm":
        lowest = float(phys.hr_max_bpm.min())
        if not (0.0 < v <= lowest):
            raise _range_error(v, unit, f"a heart rate in (0, {lowest:g}] bpm (the lowest HRmax among the subjects)")
        hrr = np.clip(fraction_hrr_from_hr(v, phys.hr_rest_bpm, phys.hr_max_bpm), 0.0, 1.0)
        return _from_vo2r(hrr, phys)
    if unit == "W":
        _check_range(v, unit, 0.0, _MAX_VALUE["W"])
        per_kg = v / phys.body_mass_kg
        if mode == "arm_cycling":
            vo2 = MET_ML_KG_MIN + 18.0 * per_kg
        else:
            vo2 = ACSM_LEG_CYCLING_INTERCEPT + ACSM_LEG_CYCLING_ML_PER_W * per_kg
        return np.asarray(vo2 / vo2max, dtype=float)
    if unit == "km/h":
        _check_range(v, unit, 0.0, _MAX_VALUE["km/h"])
        speed_m_min = v * 1000.0 / 60.0
        running = mode == "run" or (mode is None and v >= _WALK_RUN_THRESHOLD_KMH)
        vo2_run_walk = MET_ML_KG_MIN + (0.2 if running else 0.1) * speed_m_min
        return np.asarray(vo2_run_walk / vo2max, dtype=float)
    if unit == "m/min":
        _check_range(v, unit, 0.0, _MAX_VALUE["m/min"])
        if v == 0.0:
            return np.asarray(phys.rest_fraction_vo2max, dtype=float)
        # speed as a fraction of maximal aerobic speed is read as %VO2R (as for human running speed)
        return _from_vo2r(v / speed_at_vo2max_m_min(phys), phys)
    if unit == "RPE":
        _check_range(v, unit, 6.0, 20.0, what="Borg 6–20 scale")
        return _from_vo2r(float(np.interp(v, *RPE_HRR_KNOTS)) / 100.0, phys)
    if unit == "CR10":
        _check_range(v, unit, 0.0, 10.0, what="Borg CR10 scale")
        return _from_vo2r(float(np.interp(v, *CR10_HRR_KNOTS)) / 100.0, phys)
    if unit == "METs":
        _check_range(v, unit, 1.0, _MAX_VALUE["METs"])
        return np.asarray(MET_ML_KG_MIN * v / vo2max, dtype=float)
    raise AssertionError(f"unhandled cardiorespiratory unit {unit}")  # pragma: no cover


def _rating_fraction(v: float, unit: str) -> float:
    """RPE/CR10 → fraction of maximal effort for strength tasks.

    assumed: linear, RPE 6 / CR10 0 = no effort, RPE 20 / CR10 10 = maximal effort.
    """
    if unit == "RPE":
        _check_range(v, unit, 6.0, 20.0, what="Borg 6–20 scale")
        return (v - 6.0) / 14.0
    _check_range(v, unit, 0.0, 10.0, what="Borg CR10 scale")
    return v / 10.0


def _isometric(v: float, unit: str, phys: SubjectPhysiology) -> FloatArray:
    n = phys.n
    if unit == "%MVC":
        _check_range(v, unit, 0.0, 100.0)
        return np.full(n, v / 100.0)
    if unit == "kg":
        frac = v * G_N_PER_KG / phys.mvc_n
        if (frac > 1.0).any():
            weakest = float(phys.mvc_n.min()) / G_N_PER_KG
            raise _range_error(v, unit, f"a load in [0, {weakest:.3g}] kg (the weakest subject's MVC, mvc_n / g)")
        return np.asarray(frac, dtype=float)
    return np.full(n, _rating_fraction(v, unit))


def _resistance(v: float, unit: str, phys: SubjectPhysiology, ceiling: float) -> FloatArray:
    n = phys.n
    if unit in ("%1RM", "%MVC"):
        # assumed for %MVC: a dynamic load at x % of isometric MVC is treated as x % of 1RM.
        _check_range(v, unit, 0.0, 100.0 * ceiling)
        return np.full(n, v / 100.0)
    if unit == "kg":
        frac = v / phys.one_rm_kg
        if (frac > ceiling).any():
            top = float(phys.one_rm_kg.min()) * ceiling
            raise _range_error(v, unit, f"a load in [0, {top:.3g}] kg ({ceiling:g} × the weakest subject's 1RM)")
        return np.asarray(frac, dtype=float)
    # assumed: a maximal rating corresponds to the family's maximal load (1RM, or 1.4 × 1RM eccentric).
    return np.full(n, ceiling * _rating_fraction(v, unit))


# ------------------------------------------------------------------------------------------- reporting
def intensity_to_heart_rate(frac_vo2max: ArrayLike, phys: SubjectPhysiology) -> FloatArray:
    """Expected steady-state heart rate for a fraction of VO2max (inverse of the %HRR chain).

    .. math::

        f_R = \\frac{f - r}{1 - r},\\qquad HR = HR_{rest} + \\mathrm{clip}(f_R, 0, 1)\\,(HR_{max} - HR_{rest})

    with r = VO2rest/VO2max and %HRR ≈ %VO2R (Swain & Leutholtz 1997).

    Parameters
    ----------
    frac_vo2max
        Fraction of VO2max, scalar or one value per subject.
    phys
        The subjects.

    Returns
    -------
    numpy.ndarray
        Heart rate in bpm, one per subject, between HRrest and HRmax.
    """
    hrr = np.clip(fraction_vo2r_from_vo2max(frac_vo2max, phys), 0.0, 1.0)
    return karvonen_hr(hrr, phys.hr_rest_bpm, phys.hr_max_bpm)


def acsm_category(frac_hrr: float) -> str:
    """ACSM (2018, GETP 10th ed.) intensity category for a fraction of heart-rate reserve.

    Cut-offs (qst_conventions §5.2): very light < 0.30, light 0.30–0.39, moderate 0.40–0.59, vigorous
    0.60–0.89, near-maximal ≥ 0.90 (the same bounds apply to %VO2R).

    Parameters
    ----------
    frac_hrr
        Fraction of heart-rate reserve (0.7 for 70 % HRR); values above 1 are near-maximal.

    Returns
    -------
    str
        ``"very light"``, ``"light"``, ``"moderate"``, ``"vigorous"`` or ``"near-maximal"``.

    Examples
    --------
    >>> acsm_category(0.5)
    'moderate'
    """
    if isinstance(frac_hrr, bool) or not isinstance(frac_hrr, Real) or not math.isfinite(frac_hrr):
        raise InputError("intensity", frac_hrr, "a finite fraction of heart-rate reserve ≥ 0")
    f = float(frac_hrr)
    if f < 0.0:
        raise InputError("intensity", frac_hrr, "a finite fraction of heart-rate reserve ≥ 0")
    for lower, name in ACSM_HRR_CATEGORIES:
        if f >= lower:
            return name
    raise AssertionError("unreachable")  # pragma: no cover
