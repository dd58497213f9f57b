"""Closed-form checks of the physiology, intensity and capacity conversions (eihlab.protocol)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from eihlab.errors import InputError
from eihlab.protocol.capacity import (
    FREY_LAW_AVIN_POWER_MODELS,
    aerobic_time_to_exhaustion_min,
    isometric_endurance_time_min,
    power_at_vo2max_w,
    w_prime_recovery_tau_s,
)
from eihlab.protocol.intensity import (
    ALLOWED_UNITS,
    ECCENTRIC_MAX_FRACTION_1RM,
    EXERCISE_FAMILIES,
    INTENSITY_UNITS,
    SPECIES_UNITS,
    acsm_category,
    fraction_vo2r_from_vo2max,
    intensity_to_heart_rate,
    relative_intensity,
    speed_at_vo2max_m_min,
)
from eihlab.protocol.physiology import (
    G_N_PER_KG,
    SubjectPhysiology,
    fraction_hrr_from_hr,
    friend_vo2max_p50,
    hr_max_tanaka,
    karvonen_hr,
)


def _human(n: int = 1, **changes: object) -> SubjectPhysiology:
    phys = SubjectPhysiology.typical(n)
    return replace(phys, **changes) if changes else phys  # type: ignore[arg-type]


def _one(x: np.ndarray) -> float:
    assert x.shape == (1,)
    return float(x[0])


# ------------------------------------------------------------------------------------------- physiology
def test_tanaka_and_karvonen_closed_form() -> None:
    assert float(hr_max_tanaka(30.0)) == pytest.approx(187.0)
    assert float(karvonen_hr(0.7, 60.0, hr_max_tanaka(30.0))) == pytest.approx(148.9)
    assert float(fraction_hrr_from_hr(148.9, 60.0, 187.0)) == pytest.approx(0.7)
    np.testing.assert_allclose(hr_max_tanaka([20.0, 40.0, 60.0]), [194.0, 180.0, 166.0])


def test_typical_human_values() -> None:
    phys = SubjectPhysiology.typical(2, age_y=[30.0, 60.0], female=[False, True])
    assert phys.n == 2
    assert phys.species == "human"
    np.testing.assert_allclose(phys.hr_max_bpm, [187.0, 166.0])
    # FRIEND 50th percentile: end points of the interpolation
    assert float(friend_vo2max_p50(25.0, False)) == pytest.approx(48.0)
    assert float(friend_vo2max_p50(75.0, True)) == pytest.approx(18.3)
    assert phys.vo2max_ml_kg_min[0] > phys.vo2max_ml_kg_min[1]
    # grip scale: Dodds 2014 peak median 51 kg in men, reported in newtons
    assert phys.mvc_n[0] == pytest.approx(51.0 * G_N_PER_KG)
    assert phys.rest_fraction_vo2max == pytest.approx(3.5 / phys.vo2max_ml_kg_min)


@pytest.mark.parametrize("species", ["human", "rat", "mouse"])
def test_typical_is_valid_for_every_species(species: str) -> None:
    phys = SubjectPhysiology.typical(4, species=species, female=[True, False, True, False])
    assert phys.n == 4
    assert np.all(phys.hr_rest_bpm < phys.hr_max_bpm)
    assert np.all(power_at_vo2max_w(phys) > 0)
    # arrays are stored read-only
    with pytest.raises(ValueError):
        phys.age_y[0] = 1.0


def test_physiology_validation_names_field_value_and_range() -> None:
    phys = _human(3)
    with pytest.raises(InputError) as err:
        replace(phys, vo2max_ml_kg_min=np.array([40.0, 4000.0, 40.0]))
    assert err.value.field == "physiology.vo2max_ml_kg_min[1]"
    assert "4000" in str(err.value) and "[8, 95]" in str(err.value)

    with pytest.raises(InputError, match="length 3"):
        replace(phys, age_y=np.array([40.0, 40.0]))
    with pytest.raises(InputError, match="hr_rest_bpm"):
        replace(phys, hr_rest_bpm=np.array([60.0, 200.0, 60.0]), hr_max_bpm=np.array([180.0, 190.0, 180.0]))
    with pytest.raises(InputError, match="species"):
        replace(phys, species="dog")
    with pytest.raises(InputError, match="age_y"):
        SubjectPhysiology.typical(2, species="rat", age_y=40.0)  # 40-year-old rat
    with pytest.raises(InputError):
        SubjectPhysiology.typical(0)
    with pytest.raises(InputError):
        replace(phys, age_y=np.array([40.0, np.nan, 40.0]))


# ------------------------------------------------------------------------------------ intensity: closed form
def test_percent_vo2max_and_vo2r_and_hrr() -> None:
    phys = _human(1, vo2max_ml_kg_min=np.array([35.0]))
    assert _one(relative_intensity(60, "%VO2max", "aerobic", phys)) == pytest.approx(0.6)
    # %VO2R: 3.5 + 0.6 * (35 - 3.5) = 22.4 mL/kg/min -> 0.64 VO2max
    assert _one(relative_intensity(60, "%VO2R", "aerobic", phys)) == pytest.approx(22.4 / 35.0)
    assert _one(relative_intensity(60, "%HRR", "aerobic", phys)) == pytest.approx(22.4 / 35.0)
    assert _one(relative_intensity(0, "%HRR", "aerobic", phys)) == pytest.approx(0.1)
    assert _one(relative_intensity(100, "%HRR", "aerobic", phys)) == pytest.approx(1.0)


def test_bpm_goes_through_inverse_karvonen() -> None:
    phys = _human(
        1,
        age_y=np.array([30.0]),
        hr_rest_bpm=np.array([60.0]),
        hr_max_bpm=np.array([187.0]),
        vo2max_ml_kg_min=np.array([35.0]),
    )
    expected = (3.5 + 0.7 * (35.0 - 3.5)) / 35.0
    assert _one(relative_intensity(148.9, "bpm", "aerobic", phys)) == pytest.approx(expected)
    # and back again
    assert _one(intensity_to_heart_rate(expected, phys)) == pytest.approx(148.9)


def test_swain_1994_hrmax_regression() -> None:
    phys = _human(1)
    # Swain et al. 1994: 76 % HRmax <-> 60 % VO2max; 89 % <-> 80 %; 63 % <-> 40 %
    for hrmax_pct, vo2max_pct in [(76, 60), (89, 80), (63, 40)]:
        f = _one(relative_intensity(hrmax_pct, "%HRmax", "aerobic", phys))
        assert f == pytest.approx(vo2max_pct / 100.0, abs=0.01)
    assert _one(relative_intensity(75, "%HRmax", "aerobic", phys)) == pytest.approx((75 - 37.182) / 64.63)


def test_acsm_leg_cycling_equation() -> None:
    phys = _human(1, body_mass_kg=np.array([70.0]), vo2max_ml_kg_min=np.array([40.0]))
    # VO2 = 7 + 10.8 * 100 / 70 = 22.43 mL/kg/min
    f = _one(relative_intensity(100, "W", "aerobic", phys))
    assert f == pytest.approx((7.0 + 10.8 * 100.0 / 70.0) / 40.0)
    # the inverse: power at VO2max = (40 - 7) * 70 / 10.8
    p_max = _one(power_at_vo2max_w(phys))
    assert p_max == pytest.approx(33.0 * 70.0 / 10.8)
    assert _one(relative_intensity(p_max, "W", "anaerobic", phys)) == pytest.approx(1.0)
    # Wingate-like load: supramaximal, > 1
    assert _one(relative_intensity(3 * p_max, "W", "anaerobic", phys)) > 2.0
    # arm cycling: VO2 = 3.5 + 18 * W / M
    f_arm = _one(relative_intensity(70, "W", "aerobic", phys, mode="arm_cycling"))
    assert f_arm == pytest.approx((3.5 + 18.0) / 40.0)


def test_acsm_walking_and_running() -> None:
    phys = _human(1, vo2max_ml_kg_min=np.array([50.0]))
    walk = _one(relative_intensity(6, "km/h", "aerobic", phys))
    assert walk == pytest.approx((3.5 + 0.1 * 100.0) / 50.0)
    run = _one(relative_intensity(12, "km/h", "aerobic", phys))
    assert run == pytest.approx((3.5 + 0.2 * 200.0) / 50.0)
    forced_run = _one(relative_intensity(6, "km/h", "aerobic", phys, mode="run"))
    assert forced_run == pytest.approx((3.5 + 0.2 * 100.0) / 50.0)
    assert _one(speed_at_vo2max_m_min(phys)) == pytest.approx((50.0 - 3.5) / 0.2)


def test_mets_rpe_cr10() -> None:
    phys = _human(1, vo2max_ml_kg_min=np.array([35.0]))
    assert _one(relative_intensity(6, "METs", "aerobic", phys)) == pytest.approx(21.0 / 35.0)
    # RPE knots sit on the ACSM category lower bounds: RPE 12 -> 40 % HRR, RPE 14 -> 60 % HRR
    for rpe, hrr in [(6, 0.0), (12, 0.40), (14, 0.60), (18, 0.90), (20, 1.0)]:
        f = _one(relative_intensity(rpe, "RPE", "aerobic", phys))
        assert f == pytest.approx((3.5 + hrr * 31.5) / 35.0)
    # RPE 13 is moderate, RPE 15 vigorous
    for rpe, category in [(13, "moderate"), (15, "vigorous"), (10, "light"), (19, "near-maximal")]:
        frac = relative_intensity(rpe, "RPE", "aerobic", phys)
        assert acsm_category(float(fraction_vo2r_from_vo2max(frac, phys)[0])) == category
    assert _one(relative_intensity(3, "CR10", "aerobic", phys)) == pytest.approx((3.5 + 0.4 * 31.5) / 35.0)
    # monotone in the rating
    cr = [_one(relative_intensity(x, "CR10", "mind_body", phys)) for x in range(11)]
    assert all(a < b for a, b in zip(cr, cr[1:], strict=False))


def test_acsm_categories() -> None:
    assert acsm_category(0.10) == "very light"
    assert acsm_category(0.30) == "light"
    assert acsm_category(0.399) == "light"
    assert acsm_category(0.40) == "moderate"
    assert acsm_category(0.59) == "moderate"
    assert acsm_category(0.60) == "vigorous"
    assert acsm_category(0.89) == "vigorous"
    assert acsm_category(0.90) == "near-maximal"
    with pytest.raises(InputError):
        acsm_category(-0.1)


def test_rodent_speed() -> None:
    rat = SubjectPhysiology.typical(2, species="rat")
    v_max = speed_at_vo2max_m_min(rat)
    assert 30.0 < float(v_max[0]) < 45.0
    np.testing.assert_allclose(relative_intensity(float(v_max[0]), "m/min", "aerobic", rat), 1.0)
    slow, fast = (relative_intensity(v, "m/min", "aerobic", rat) for v in (10.0, 20.0))
    assert np.all(slow < fast)
    mouse = SubjectPhysiology.typical(1, species="mouse")
    assert _one(speed_at_vo2max_m_min(mouse)) == pytest.approx(25.0)
    assert _one(relative_intensity(25, "m/min", "aerobic", mouse)) == pytest.approx(1.0)
    # %HRmax in rodents goes through %HRR
    assert _one(relative_intensity(100, "%HRmax", "aerobic", mouse)) == pytest.approx(1.0)


def test_strength_families() -> None:
    phys = _human(1, mvc_n=np.array([400.0]), one_rm_kg=np.array([50.0]))
    assert _one(relative_intensity(30, "%MVC", "isometric", phys)) == pytest.approx(0.3)
    assert _one(relative_intensity(10, "kg", "isometric", phys)) == pytest.approx(10 * G_N_PER_KG / 400.0)
    assert _one(relative_intensity(25, "kg", "dynamic_resistance", phys)) == pytest.approx(0.5)
    assert _one(relative_intensity(70, "%1RM", "dynamic_resistance", phys)) == pytest.approx(0.7)
    assert _one(relative_intensity(130, "%1RM", "eccentric", phys)) == pytest.approx(1.3)
    assert _one(relative_intensity(60, "kg", "eccentric", phys)) == pytest.approx(1.2)
    assert _one(relative_intensity(20, "RPE", "eccentric", phys)) == pytest.approx(ECCENTRIC_MAX_FRACTION_1RM)
    assert _one(relative_intensity(5, "CR10", "isometric", phys)) == pytest.approx(0.5)


def test_passive_takes_no_intensity() -> None:
    phys = _human(3)
    np.testing.assert_array_equal(relative_intensity(None, None, "passive", phys), np.zeros(3))
    np.testing.assert_array_equal(relative_intensity(0, "%HRR", "passive", phys), np.zeros(3))
    with pytest.raises(InputError) as err:
        relative_intensity(50, "%HRR", "passive", phys)
    assert err.value.field == "intensity"
    assert "50" in str(err.value) and "passive" in str(err.value)


# ------------------------------------------------------------------------------------ intensity: errors
_EXAMPLE_VALUE = {"RPE": 13.0, "CR10": 3.0, "METs": 4.0, "bpm": 120.0}


@pytest.mark.parametrize(
    ("family", "unit"),
    [(f, u) for f in EXERCISE_FAMILIES if f != "passive" for u in INTENSITY_UNITS if u not in ALLOWED_UNITS[f]],
)
def test_every_disallowed_unit_family_pair_raises(family: str, unit: str) -> None:
    species = "rat" if unit == "m/min" else "human"
    phys = SubjectPhysiology.typical(2, species=species)
    value = _EXAMPLE_VALUE.get(unit, 30.0)
    with pytest.raises(InputError) as err:
        relative_intensity(value, unit, family, phys)  # type: ignore[arg-type]
    message = str(err.value)
    assert err.value.field == "intensity"
    assert f"{value:g} {unit}" in message
    assert family in message
    for allowed in ALLOWED_UNITS[family]:  # type: ignore[index]
        assert allowed in message


@pytest.mark.parametrize("species", ["human", "rat", "mouse"])
def test_units_not_meaningful_for_species_raise(species: str) -> None:
    phys = SubjectPhysiology.typical(1, species=species)
    for unit in ALLOWED_UNITS["aerobic"]:
        if unit in SPECIES_UNITS[species]:
            continue
        with pytest.raises(InputError, match=species) as err:
            relative_intensity(_EXAMPLE_VALUE.get(unit, 10.0), unit, "aerobic", phys)
        assert err.value.field == "intensity"


@pytest.mark.parametrize(
    ("value", "unit", "family", "allowed_fragment"),
    [
        (-5.0, "%HRR", "aerobic", "non-negative"),
        (120.0, "%HRR", "aerobic", "[0, 100]"),
        (101.0, "%VO2max", "aerobic", "[0, 100]"),
        (101.0, "%HRmax", "aerobic", "[0, 100]"),
        (5.0, "RPE", "aerobic", "[6, 20]"),
        (21.0, "RPE", "aerobic", "[6, 20]"),
        (11.0, "CR10", "aerobic", "[0, 10]"),
        (250.0, "bpm", "aerobic", "HRmax"),
        (0.5, "METs", "aerobic", "[1, 25]"),
        (60.0, "km/h", "aerobic", "[0, 45]"),
        (110.0, "%MVC", "isometric", "[0, 100]"),
        (101.0, "%1RM", "dynamic_resistance", "[0, 100]"),
        (150.0, "%1RM", "eccentric", "[0, 140]"),
        (500.0, "kg", "isometric", "MVC"),
        (500.0, "kg", "dynamic_resistance", "1RM"),
    ],
)
def test_out_of_range_values_raise(value: float, unit: str, family: str, allowed_fragment: str) -> None:
    phys = _human(2)
    with pytest.raises(InputError) as err:
        relative_intensity(value, unit, family, phys)  # type: ignore[arg-type]
    assert err.value.field == "intensity"
    message = str(err.value)
    assert f"{value:g} {unit}" in message
    assert allowed_fragment in message


def test_bad_family_unit_mode_and_value_types() -> None:
    phys = _human(1)
    with pytest.raises(InputError, match="family"):
        relative_intensity(50, "%HRR", "yoga", phys)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="furlongs"):
        relative_intensity(50, "furlongs", "aerobic", phys)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="intensity.mode"):
        relative_intensity(100, "W", "aerobic", phys, mode="rowing")
    with pytest.raises(InputError, match="intensity.mode"):
        relative_intensity(50, "%HRR", "aerobic", phys, mode="run")
    with pytest.raises(InputError):
        relative_intensity(float("nan"), "%HRR", "aerobic", phys)
    with pytest.raises(InputError):
        relative_intensity("fifty", "%HRR", "aerobic", phys)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        relative_intensity(None, "%HRR", "aerobic", phys)


# ------------------------------------------------------------------------------------------ vectorisation
def test_vectorised_over_subjects() -> None:
    n = 5
    base = SubjectPhysiology.typical(n)
    masses = np.array([50.0, 60.0, 70.0, 80.0, 90.0])
    phys = replace(base, body_mass_kg=masses)
    f = relative_intensity(100, "W", "aerobic", phys)
    assert f.shape == (n,)
    np.testing.assert_allclose(f, (7.0 + 10.8 * 100.0 / masses) / base.vo2max_ml_kg_min)
    assert np.all(np.diff(f) < 0)  # the same watts are easier for a heavier person
    hr = intensity_to_heart_rate(f, phys)
    assert hr.shape == (n,)
    assert np.all((hr >= phys.hr_rest_bpm) & (hr <= phys.hr_max_bpm))
    ages = np.linspace(20.0, 70.0, n)
    by_age = SubjectPhysiology.typical(n, age_y=ages)
    hrr = relative_intensity(140, "bpm", "aerobic", by_age)
    assert np.all(np.diff(hrr) > 0)  # 140 bpm is relatively harder as HRmax falls with age


# --------------------------------------------------------------------------------------------- capacity
def test_isometric_endurance_time() -> None:
    f = np.linspace(0.05, 1.0, 40)
    et = isometric_endurance_time_min(f)
    assert np.all(np.diff(et) < 0)  # monotone decreasing in %MVC
    b0, b1 = FREY_LAW_AVIN_POWER_MODELS["pooled"]
    assert float(isometric_endurance_time_min(0.5)) == pytest.approx(b0 * 0.5**b1 / 60.0)
    assert float(isometric_endurance_time_min(1.0)) * 60.0 == pytest.approx(b0)  # ~22 s at 100 % MVC
    assert 4.0 < float(isometric_endurance_time_min(0.25)) < 8.0
    assert math.isinf(float(isometric_endurance_time_min(0.0)))
    assert float(isometric_endurance_time_min(1.3)) == float(isometric_endurance_time_min(1.0))
    # shoulder model cross-check: 14.86 * 0.5^-1.83 = 52.8 s
    assert float(isometric_endurance_time_min(0.5, joint="shoulder")) * 60.0 == pytest.approx(52.8, abs=0.1)
    with pytest.raises(InputError, match="joint"):
        isometric_endurance_time_min(0.5, joint="neck")


def test_critical_power_hyperbola() -> None:
    # P_max 300 W, CP = 0.75 * 300 = 225 W, W' = 18 kJ
    t = aerobic_time_to_exhaustion_min([0.7, 0.75, 0.85, 1.0, 1.2], 0.75, 18.0, 300.0)
    assert math.isinf(t[0]) and math.isinf(t[1])
    assert t[2] == pytest.approx(18000.0 / (255.0 - 225.0) / 60.0)  # 10 min
    assert t[3] == pytest.approx(18000.0 / 75.0 / 60.0)  # 4 min
    assert t[2] > t[3] > t[4]
    # P = W'/t + CP holds at every finite point
    f = np.array([0.8, 0.9, 1.1])
    t_s = aerobic_time_to_exhaustion_min(f, 0.75, 18.0, 300.0) * 60.0
    np.testing.assert_allclose(f * 300.0, 18000.0 / t_s + 225.0)


def test_skiba_tau() -> None:
    assert float(w_prime_recovery_tau_s(0.0)) == pytest.approx(862.0)
    assert float(w_prime_recovery_tau_s(100.0)) == pytest.approx(546.0 * math.exp(-1.0) + 316.0)
    tau = w_prime_recovery_tau_s(np.array([0.0, 50.0, 200.0, 1000.0]))
    assert np.all(np.diff(tau) < 0) and tau[-1] == pytest.approx(316.0, abs=0.1)


def test_power_at_vo2max_vectorised() -> None:
    phys = SubjectPhysiology.typical(3, age_y=[25.0, 50.0, 75.0])
    p = power_at_vo2max_w(phys)
    np.testing.assert_allclose(p, (phys.vo2max_ml_kg_min - 7.0) * phys.body_mass_kg / 10.8)
    assert np.all(np.diff(p) < 0)


@pytest.mark.parametrize("species", ["human", "rat"])
def test_cohort_carries_each_subjects_resting_vo2_fraction(species: str) -> None:
    """The model's power fraction uses each sampled subject's own VO2rest/VO2max, not the registry's default."""
    from eihlab.population.cohort import sample_cohort
    from eihlab.population.conditions import get_condition

    draw = sample_cohort(species, get_condition("healthy", species), np.arange(20), seed=5)
    np.testing.assert_allclose(draw.params["vo2_rest_fraction"], draw.physiology.rest_fraction_vo2max)
    assert np.ptp(draw.params["vo2_rest_fraction"]) > 0
