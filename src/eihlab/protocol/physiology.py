"""Per-subject physiology that turns an exercise prescription into a relative dose.

A prescription ("cycle at 150 W", "hold 30 % MVC", "run the rats at 20 m/min") means different things for
different people and animals. :class:`SubjectPhysiology` carries, for each of *n* simulated subjects, the
quantities that the conversions in :mod:`eihlab.protocol.intensity` and the fatigue capacities in
:mod:`eihlab.protocol.capacity` need: heart rates, aerobic capacity, critical power, W′, and two strength
scales.

Sources
-------
* Tanaka H, Monahan KD, Seals DR (2001). Age-predicted maximal heart rate revisited. *J Am Coll Cardiol*
  37:153–156. doi:10.1016/S0735-1097(00)01054-8 — HRmax = 208 − 0.7·age.
* Karvonen formula, target HR = HRrest + f·(HRmax − HRrest) (qst_conventions §5.3).
* 1 MET = 3.5 mL O₂·kg⁻¹·min⁻¹ (ACSM; qst_conventions §5.3).
* Kaminsky LA, Arena R, Myers J (2015). Reference standards for cardiorespiratory fitness measured with
  cardiopulmonary exercise testing (FRIEND). *Mayo Clin Proc* 90:1515–1523. doi:10.1016/j.mayocp.2015.07.026
  — 50th-percentile treadmill VO2max 48.0 (men) and 37.6 (women) mL·kg⁻¹·min⁻¹ at 20–29 y, 24.4 and 18.3 at
  70–79 y.
* Dodds RM et al. (2014). Grip strength across the life course: normative data from twelve British studies.
  *PLoS One* 9:e113637. doi:10.1371/journal.pone.0113637 — peak median grip 51 kg (men, 29–39 y) and 31 kg
  (women, 26–42 y); maintained to midlife, declining afterwards.
* Gleeson TT, Baldwin KM (1981). Cardiovascular response to treadmill exercise in untrained rats. *J Appl
  Physiol* 50:1206–1211. doi:10.1152/jappl.1981.50.6.1206 — rat VO2max 83 mL·kg⁻¹·min⁻¹, five-fold the
  resting value; HR = 3.02·VO2 + 340; HRmax 595 bpm.
* Schefer V, Talan MI (1996). Oxygen consumption in adult and aged C57BL/6J mice during acute treadmill
  exercise of different intensity. *Exp Gerontol* 31:387–392 (DOI not retrieved) — adult (12-month) male
  mice: resting VO2 3065 mL·kg⁻¹·h⁻¹ (51.1 mL·kg⁻¹·min⁻¹), VO2max 10862 mL·kg⁻¹·h⁻¹ (181 mL·kg⁻¹·min⁻¹).

Everything else in :meth:`SubjectPhysiology.typical` is marked ``assumed`` where it is set.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from eihlab.errors import InputError

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

Species = Literal["human", "rat", "mouse"]
SPECIES: tuple[str, ...] = get_args(Species)

#: Standard gravity, m·s⁻², used to express a force in kilograms-force.
G_N_PER_KG: float = 9.80665

#: One metabolic equivalent, mL O₂·kg⁻¹·min⁻¹ (ACSM; qst_conventions §5.3).
MET_ML_KG_MIN: float = 3.5

#: Resting VO2 per species, mL O₂·kg⁻¹·min⁻¹. Human: 1 MET (ACSM). Rat: VO2max/5 from Gleeson & Baldwin
#: (1981) (83/5 = 16.6). Mouse: adult C57BL/6J resting VO2 of Schefer & Talan (1996), 3065 mL·kg⁻¹·h⁻¹.
VO2_REST_ML_KG_MIN: dict[str, float] = {"human": MET_ML_KG_MIN, "rat": 16.6, "mouse": 3064.67 / 60.0}

#: ACSM leg-cycling equation, VO2 = 7 + 1.8·(work rate, kg·m·min⁻¹)/mass = 7 + 10.8·W/mass
#: (1 W = 6.12 kg·m·min⁻¹, rounded to 6 in the ACSM form). ACSM GETP 10th ed. Table 6.3; Bushman 2020,
#: ACSM Health Fit J, doi:10.1249/FIT.0000000000000562. The intercept is 3.5 (rest) + 3.5 (unloaded
#: pedalling); the slope is mL O₂·min⁻¹ per watt.
ACSM_LEG_CYCLING_INTERCEPT: float = 7.0
ACSM_LEG_CYCLING_ML_PER_W: float = 10.8

_ARRAY_FIELDS: tuple[str, ...] = (
    "age_y",
    "body_mass_kg",
    "hr_rest_bpm",
    "hr_max_bpm",
    "vo2max_ml_kg_min",
    "cp_fraction",
    "w_prime_kj",
    "mvc_n",
    "one_rm_kg",
)

# Plausibility ranges (inclusive) for validation. They are deliberately wide: they catch unit mistakes
# (bpm vs Hz, g vs kg, L/min vs mL/kg/min) rather than judge a subject as unusual.
_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "human": {
        "age_y": (10.0, 110.0),
        "body_mass_kg": (20.0, 300.0),
        "hr_rest_bpm": (25.0, 130.0),
        "hr_max_bpm": (100.0, 230.0),
        "vo2max_ml_kg_min": (8.0, 95.0),
        "cp_fraction": (0.3, 1.0),
        "w_prime_kj": (1.0, 60.0),
        "mvc_n": (20.0, 1500.0),
        "one_rm_kg": (2.0, 400.0),
    },
    "rat": {
        "age_y": (0.05, 4.0),
        "body_mass_kg": (0.05, 1.2),
        "hr_rest_bpm": (200.0, 550.0),
        "hr_max_bpm": (350.0, 750.0),
        "vo2max_ml_kg_min": (30.0, 150.0),
        "cp_fraction": (0.3, 1.0),
        "w_prime_kj": (1e-4, 5.0),
        "mvc_n": (0.5, 50.0),
        "one_rm_kg": (0.05, 5.0),
    },
    "mouse": {
        "age_y": (0.05, 4.0),
        "body_mass_kg": (0.008, 0.1),
        "hr_rest_bpm": (300.0, 850.0),
        "hr_max_bpm": (500.0, 950.0),
        "vo2max_ml_kg_min": (60.0, 300.0),
        "cp_fraction": (0.3, 1.0),
        "w_prime_kj": (1e-6, 0.5),
        "mvc_n": (0.1, 10.0),
        "one_rm_kg": (0.005, 0.5),
    },
}


PLAUSIBLE_RANGES = _RANGES
"""Per-species plausibility ranges of each physiology field (what :class:`SubjectPhysiology` accepts)."""


def hr_max_tanaka(age_y: ArrayLike) -> FloatArray:
    """Age-predicted maximal heart rate (Tanaka et al. 2001).

    .. math:: HR_{max} = 208 - 0.7\\,\\mathrm{age}

    Parameters
    ----------
    age_y
        Age in years (scalar or array).

    Returns
    -------
    numpy.ndarray
        HRmax in beats per minute, same shape as ``age_y``.

    Notes
    -----
    Tanaka H, Monahan KD, Seals DR. *J Am Coll Cardiol* 2001;37:153–156, doi:10.1016/S0735-1097(00)01054-8.
    Preferred over 220 − age, which can be off by 10–12 bpm (qst_conventions §5.3). Human only.
    """
    return np.asarray(208.0 - 0.7 * np.asarray(age_y, dtype=float), dtype=float)


def karvonen_hr(fraction_hrr: ArrayLike, hr_rest: ArrayLike, hr_max: ArrayLike) -> FloatArray:
    """Target heart rate for a fraction of heart-rate reserve (Karvonen).

    .. math:: HR = HR_{rest} + f\\,(HR_{max} - HR_{rest})

    Parameters
    ----------
    fraction_hrr
        Fraction of heart-rate reserve, 0–1 (0.7 for "70 % HRR").
    hr_rest, hr_max
        Resting and maximal heart rate, bpm. All three broadcast against each other.

    Returns
    -------
    numpy.ndarray
        Target heart rate, bpm.

    Examples
    --------
    Age 30, HRrest 60: HRmax = 208 − 21 = 187, so 70 % HRR is 60 + 0.7·127 = 148.9 bpm.

    >>> round(float(karvonen_hr(0.7, 60.0, hr_max_tanaka(30.0))), 1)
    148.9
    """
    f = np.asarray(fraction_hrr, dtype=float)
    rest = np.asarray(hr_rest, dtype=float)
    top = np.asarray(hr_max, dtype=float)
    return np.asarray(rest + f * (top - rest), dtype=float)


def fraction_hrr_from_hr(hr: ArrayLike, hr_rest: ArrayLike, hr_max: ArrayLike) -> FloatArray:
    """Inverse Karvonen: the fraction of heart-rate reserve that a heart rate represents.

    .. math:: f_{HRR} = (HR - HR_{rest}) / (HR_{max} - HR_{rest})

    Not clipped; callers decide what a heart rate below rest or above maximum means.
    """
    hr_a = np.asarray(hr, dtype=float)
    rest = np.asarray(hr_rest, dtype=float)
    top = np.asarray(hr_max, dtype=float)
    return np.asarray((hr_a - rest) / (top - rest), dtype=float)


def friend_vo2max_p50(age_y: ArrayLike, female: ArrayLike) -> FloatArray:
    """Median treadmill VO2max for an age and sex (FRIEND registry, Kaminsky et al. 2015).

    Linear interpolation between the two 50th-percentile values reported in the abstract, placed at the
    decade mid-points 25 y and 75 y: men 48.0 → 24.4, women 37.6 → 18.3 mL·kg⁻¹·min⁻¹; held constant
    outside 25–75 y.

    Notes
    -----
    doi:10.1016/j.mayocp.2015.07.026. assumed: a straight line between the end decades (the registry
    reports about 10 % decline per decade, i.e. close to linear over this range); the intermediate decade
    values were not read.
    """
    age = np.asarray(age_y, dtype=float)
    fem = np.asarray(female, dtype=bool)
    men = np.interp(age, [25.0, 75.0], [48.0, 24.4])
    women = np.interp(age, [25.0, 75.0], [37.6, 18.3])
    return np.asarray(np.where(fem, women, men), dtype=float)


@dataclass(frozen=True, eq=False)
class SubjectPhysiology:
    """Physiological characteristics of *n* simulated subjects, one array entry per subject.

    All array fields are 1-D float arrays of the same length *n* (``female`` is a bool array); they are
    stored read-only. ``species`` is a single string shared by all subjects.

    Attributes
    ----------
    species
        ``"human"``, ``"rat"`` or ``"mouse"``.
    age_y
        Age, years (rodents: fractions of a year, 12 weeks ≈ 0.23).
    female
        Sex, ``True`` for female.
    body_mass_kg
        Body mass, kg.
    hr_rest_bpm, hr_max_bpm
        Resting and maximal heart rate, bpm; ``hr_rest_bpm < hr_max_bpm`` for every subject.
    vo2max_ml_kg_min
        Maximal oxygen uptake, mL O₂·kg⁻¹·min⁻¹.
    cp_fraction
        Critical power as a fraction of the power at VO2max (see
        :func:`eihlab.protocol.capacity.power_at_vo2max_w`), in [0.3, 1].
    w_prime_kj
        W′, the finite work capacity above critical power, kJ.
    mvc_n
        Maximal voluntary isometric contraction force on a handgrip-like scale, newtons. It is a
        **per-person strength scale**: an absolute isometric load in kg is converted to a fraction of this
        force (``kg·g / mvc_n``). It is not a claim about the strength of the particular muscle exercised.
    one_rm_kg
        One-repetition maximum on a knee-extension-like scale, kg; the per-person scale for dynamic
        resistance and eccentric loads given in kg.

    Raises
    ------
    eihlab.errors.InputError
        If the species is unknown, the arrays differ in length, are not 1-D, are empty, contain non-finite
        values, fall outside the species' plausibility range, or ``hr_rest_bpm >= hr_max_bpm``.
    """

    species: str
    age_y: FloatArray
    female: BoolArray
    body_mass_kg: FloatArray
    hr_rest_bpm: FloatArray
    hr_max_bpm: FloatArray
    vo2max_ml_kg_min: FloatArray
    cp_fraction: FloatArray
    w_prime_kj: FloatArray
    mvc_n: FloatArray
    one_rm_kg: FloatArray

    def __post_init__(self) -> None:
        if not isinstance(self.species, str) or self.species not in SPECIES:
            raise InputError("physiology.species", self.species, SPECIES)
        ranges = _RANGES[self.species]
        n: int | None = None
        for name in ("female", *_ARRAY_FIELDS):
            raw: Any = getattr(self, name)
            arr = self._coerce(name, raw)
            if arr.ndim != 1:
                raise InputError(f"physiology.{name}", raw, "a 1-D array with one entry per subject")
            if n is None:
                n = arr.shape[0]
                if n == 0:
                    raise InputError(f"physiology.{name}", raw, "at least one subject")
            elif arr.shape[0] != n:
                raise InputError(
                    f"physiology.{name}",
                    f"length {arr.shape[0]}",
                    f"length {n}, the same as the other physiology arrays",
                )
            if name != "female":
                lo, hi = ranges[name]
                bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise InputError(
                        f"physiology.{name}[{i}]",
                        float(arr[i]),
                        f"a finite number in [{lo:g}, {hi:g}] for a {self.species}",
                    )
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        bad_hr = self.hr_rest_bpm >= self.hr_max_bpm
        if bad_hr.any():
            i = int(np.flatnonzero(bad_hr)[0])
            raise InputError(
                f"physiology.hr_rest_bpm[{i}]",
                float(self.hr_rest_bpm[i]),
                f"a resting heart rate below the subject's HRmax ({float(self.hr_max_bpm[i]):g} bpm)",
            )

    @staticmethod
    def _coerce(name: str, raw: Any) -> np.ndarray:
        try:
            if name == "female":
                arr = np.array(raw, copy=True)
                if arr.dtype != np.bool_:
                    if arr.dtype.kind not in "iuf" or not np.isin(arr, (0, 1)).all():
                        raise InputError(f"physiology.{name}", raw, "booleans (True for female)")
                    arr = arr.astype(bool)
                return arr
            return np.array(raw, dtype=float, copy=True)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"physiology.{name}", raw, "an array of numbers, one per subject") from None

    # ------------------------------------------------------------------ derived quantities
    @property
    def n(self) -> int:
        """Number of simulated subjects."""
        return int(self.age_y.shape[0])

    @property
    def vo2_rest_ml_kg_min(self) -> float:
        """Species resting VO2, mL·kg⁻¹·min⁻¹ (see :data:`VO2_REST_ML_KG_MIN`)."""
        return VO2_REST_ML_KG_MIN[self.species]

    @property
    def hr_reserve_bpm(self) -> FloatArray:
        """Heart-rate reserve HRmax − HRrest, bpm."""
        return np.asarray(self.hr_max_bpm - self.hr_rest_bpm, dtype=float)

    @property
    def rest_fraction_vo2max(self) -> FloatArray:
        """Resting VO2 as a fraction of each subject's VO2max, VO2rest / VO2max."""
        return np.asarray(self.vo2_rest_ml_kg_min / self.vo2max_ml_kg_min, dtype=float)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (arrays are the stored read-only arrays)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # ------------------------------------------------------------------ population-typical values
    @classmethod
    def typical(
        cls,
        n: int,
        species: str = "human",
        age_y: ArrayLike | None = None,
        female: ArrayLike = False,
    ) -> SubjectPhysiology:
        """Population-typical physiology for *n* identical (or age/sex-varying) subjects.

        Parameters
        ----------
        n
            Number of subjects (≥ 1).
        species
            ``"human"``, ``"rat"`` or ``"mouse"``.
        age_y
            Age in years, scalar or length-*n* array. Default: 40 y for humans, 0.25 y (≈ 13 weeks, young
            adult) for rodents.
        female
            Sex, scalar or length-*n* bool array.

        Returns
        -------
        SubjectPhysiology

        Notes
        -----
        Human values

        * HRmax: Tanaka (2001), :func:`hr_max_tanaka`.
        * HRrest: 65 bpm men, 70 bpm women. assumed: mid-range adult resting heart rate.
        * VO2max: FRIEND 50th percentile, :func:`friend_vo2max_p50` (Kaminsky 2015).
        * Body mass: 80 kg men, 65 kg women. assumed: round adult means.
        * cp_fraction 0.75. assumed: CP lies well below the power at VO2max (Jones & Vanhatalo 2017,
          doi:10.1007/s40279-017-0688-0, describe CP as the boundary of the severe domain); 0.75 of the
          ACSM-derived power at VO2max is a round mid-range value, not a fitted one.
        * W′: 15 kJ men, 10 kJ women. assumed: mid-range of values commonly reported for untrained adults.
        * mvc_n: grip 51 kg (men) / 31 kg (women) × g (Dodds 2014 peak medians), scaled by
          ``clip(1 − 0.01·(age − 45), 0.5, 1)``. assumed: ~1 %/year decline after midlife.
        * one_rm_kg: 0.8 × body mass (men) / 0.6 × body mass (women) with the same age factor.
          assumed: untrained knee-extension 1RM of this order; no source read.

        Rat values (male Sprague–Dawley/Wistar-like)

        * VO2max 83 mL·kg⁻¹·min⁻¹ and HRmax 595 bpm (Gleeson & Baldwin 1981); Wang et al. (2020,
          doi:10.1038/s41598-020-68455-8) report 84.7 mL·kg⁻¹·min⁻¹ in 8-week Wistar rats.
        * HRrest 390 bpm: the Gleeson & Baldwin regression HR = 3.02·VO2 + 340 evaluated at resting
          VO2 = 16.6 (their VO2max/5).
        * Body mass 0.35 kg male / 0.25 kg female. assumed: young adult laboratory rats.
        * cp_fraction 0.75, W′ = 60 s × power at VO2max. assumed: human-like ratios (no rodent data read).
        * mvc_n 10 N (forelimb grip ≈ 1 kg-force), one_rm_kg 0.6 kg (ladder-climbing load ≈ 1.7 × body
          mass). assumed.

        Mouse values (male C57BL/6J-like)

        * VO2max 181 mL·kg⁻¹·min⁻¹ (Schefer & Talan 1996, adult males, 10862 mL·kg⁻¹·h⁻¹).
        * HRrest 580 bpm, HRmax 780 bpm. assumed: telemetry ranges of conscious mice (roughly 500–700
          bpm at rest). Mouse heart rate jumps at the onset of locomotion rather than rising linearly with
          speed, so heart-rate-based intensity units are weak anchors in mice.
        * Body mass 0.028 kg male / 0.022 kg female. assumed.
        * cp_fraction 0.75, W′ = 60 s × power at VO2max. assumed.
        * mvc_n 1.5 N (forelimb grip ≈ 150 g-force), one_rm_kg 0.045 kg. assumed.
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise InputError("n", n, "an integer ≥ 1")
        if not isinstance(species, str) or species not in SPECIES:
            raise InputError("species", species, SPECIES)
        n = int(n)
        if age_y is None:
            age_y = 40.0 if species == "human" else 0.25
        age = _broadcast("age_y", age_y, n, float)
        fem = _broadcast("female", female, n, bool)
        ones = np.ones(n)

        if species == "human":
            mass = np.where(fem, 65.0, 80.0)
            hr_max = hr_max_tanaka(age)
            hr_rest = np.where(fem, 70.0, 65.0)
            vo2max = friend_vo2max_p50(age, fem)
            w_prime = np.where(fem, 10.0, 15.0)
            age_factor = np.clip(1.0 - 0.01 * (age - 45.0), 0.5, 1.0)
            mvc = np.where(fem, 31.0, 51.0) * G_N_PER_KG * age_factor
            one_rm = np.where(fem, 0.6, 0.8) * mass * age_factor
            cp = 0.75 * ones
        elif species == "rat":
            mass = np.where(fem, 0.25, 0.35)
            hr_max = 595.0 * ones
            hr_rest = (3.02 * VO2_REST_ML_KG_MIN["rat"] + 340.0) * ones
            vo2max = 83.0 * ones
            cp = 0.75 * ones
            w_prime = _rodent_w_prime_kj(vo2max, mass, "rat")
            mvc = 10.0 * ones
            one_rm = 0.6 * ones
        else:
            mass = np.where(fem, 0.022, 0.028)
            hr_max = 780.0 * ones
            hr_rest = 580.0 * ones
            vo2max = (10861.99 / 60.0) * ones
            cp = 0.75 * ones
            w_prime = _rodent_w_prime_kj(vo2max, mass, "mouse")
            mvc = 1.5 * ones
            one_rm = 0.045 * ones

        return cls(
            species=species,
            age_y=age,
            female=fem,
            body_mass_kg=np.asarray(mass, dtype=float),
            hr_rest_bpm=np.asarray(hr_rest, dtype=float),
            hr_max_bpm=np.asarray(hr_max, dtype=float),
            vo2max_ml_kg_min=np.asarray(vo2max, dtype=float),
            cp_fraction=np.asarray(cp, dtype=float),
            w_prime_kj=np.asarray(w_prime, dtype=float),
            mvc_n=np.asarray(mvc, dtype=float),
            one_rm_kg=np.asarray(one_rm, dtype=float),
        )


def _rodent_w_prime_kj(vo2max: FloatArray, mass: FloatArray, species: str) -> FloatArray:
    """W′ = 60 s × aerobic-power equivalent at VO2max (assumed: human-like W′/P ratio)."""
    power_w = (vo2max - VO2_REST_ML_KG_MIN[species]) * mass / ACSM_LEG_CYCLING_ML_PER_W
    return np.asarray(60.0 * power_w / 1000.0, dtype=float)


def _broadcast(name: str, value: ArrayLike, n: int, dtype: type) -> np.ndarray:
    arr: np.ndarray = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full(n, arr.item(), dtype=dtype)
    if arr.shape != (n,):
        raise InputError(name, value, f"a scalar or an array of length {n}")
    return arr.copy()
