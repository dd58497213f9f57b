"""Tests of eihlab.stats against small tables computed by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize
from scipy import stats as sps

from eihlab.errors import InputError
from eihlab.stats import (
    EffectSize,
    mean_ci,
    net_change,
    plot_time_courses,
    subject_changes,
    summarise,
    within_subject_d,
)

T975_DF2 = 4.302652729911275  # t_{0.975, 2} (two-sided 95 %, n = 3), standard t table value


def _rows(
    arm: str, values: dict[float, list[float]], *, measure: str = "PPT", site: str = "quadriceps"
) -> list[dict[str, object]]:
    """Tidy rows for subjects 1, 2, 3 (one trial each): ``values[time] = [s1, s2, s3]``."""
    return [
        {
            "subject": s + 1,
            "arm": arm,
            "time_min": t,
            "measure": measure,
            "site": site,
            "value": v,
            "unit": "kPa",
        }
        for t, vs in values.items()
        for s, v in enumerate(vs)
    ]


def toy() -> pd.DataFrame:
    """3 subjects x 2 arms x 2 times (-5 = pre, 10 = post) of PPT at one site.

    exercise: pre 300, 400, 500; post 330, 420, 560 -> change 30, 20, 60; pct 10, 5, 12
    rest:     pre 310, 390, 500; post 310, 400, 495 -> change 0, 10, -5
    Subject 1's exercise pre value is given as two trials, 290 and 310 (mean 300).
    """
    ex = _rows("exercise", {-5.0: [300.0, 400.0, 500.0], 10.0: [330.0, 420.0, 560.0]})
    ex[0]["value"] = 290.0
    ex.append({**ex[0], "value": 310.0})
    rest = _rows("rest", {-5.0: [310.0, 390.0, 500.0], 10.0: [310.0, 400.0, 495.0]})
    df = pd.DataFrame(ex + rest)
    df["trial_note"] = "ignored extra column"
    return df


def test_summarise_hand_computed() -> None:
    s = summarise(toy())
    assert list(s.columns) == [
        "arm",
        "measure",
        "site",
        "time_min",
        "unit",
        "n",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
        "change_mean",
        "change_sd",
        "change_ci_low",
        "change_ci_high",
        "pct_change_mean",
        "pct_change_ci_low",
        "pct_change_ci_high",
        "d_z",
        "d_z_ci_low",
        "d_z_ci_high",
    ]
    assert list(zip(s["arm"], s["time_min"], strict=True)) == [
        ("exercise", -5.0),
        ("exercise", 10.0),
        ("rest", -5.0),
        ("rest", 10.0),
    ]
    assert (s["n"] == 3).all()
    assert (s["unit"] == "kPa").all()

    pre = s.iloc[0]
    # pre values 300, 400, 500: mean 400, sd 100, CI 400 +/- t(0.975, 2) * 100 / sqrt(3)
    assert pre["mean"] == pytest.approx(400.0)
    assert pre["sd"] == pytest.approx(100.0)
    half = T975_DF2 * 100.0 / math.sqrt(3.0)  # 248.4138
    assert pre["ci_low"] == pytest.approx(400.0 - half)
    assert pre["ci_high"] == pytest.approx(400.0 + half)
    # baseline row: changes are exactly 0, d_z undefined
    for col in ("change_mean", "change_sd", "change_ci_low", "change_ci_high", "pct_change_mean"):
        assert pre[col] == 0.0
    assert math.isnan(pre["d_z"]) and math.isnan(pre["d_z_ci_low"]) and math.isnan(pre["d_z_ci_high"])

    post = s.iloc[1]
    # post values 330, 420, 560: mean 1310/3 = 436.667; squared deviations 80600/3 -> sd 115.902
    assert post["mean"] == pytest.approx(1310.0 / 3.0)
    assert post["sd"] == pytest.approx(math.sqrt(80600.0 / 3.0 / 2.0))
    # changes 30, 20, 60: mean 36.667, sum of squared deviations 866.667 -> sd sqrt(433.333) = 20.817
    change_sd = math.sqrt(1300.0 / 3.0)
    assert post["change_mean"] == pytest.approx(110.0 / 3.0)
    assert post["change_sd"] == pytest.approx(change_sd)
    half = T975_DF2 * change_sd / math.sqrt(3.0)  # 51.711
    assert post["change_ci_low"] == pytest.approx(110.0 / 3.0 - half)
    assert post["change_ci_high"] == pytest.approx(110.0 / 3.0 + half)
    # pct changes 10, 5, 12: mean 9, sd sqrt(13) = 3.606
    assert post["pct_change_mean"] == pytest.approx(9.0)
    half = T975_DF2 * math.sqrt(13.0) / math.sqrt(3.0)
    assert post["pct_change_ci_low"] == pytest.approx(9.0 - half)
    assert post["pct_change_ci_high"] == pytest.approx(9.0 + half)
    # d_z = 36.667 / 20.817 = 1.7614
    assert post["d_z"] == pytest.approx(1.7614096918559585)
    assert post["d_z_ci_low"] < post["d_z"] < post["d_z_ci_high"]

    rest_post = s.iloc[3]
    # rest changes 0, 10, -5: mean 5/3, sd sqrt(((−5/3)^2 + (25/3)^2 + (−20/3)^2) / 2) = sqrt(175/3)
    assert rest_post["change_mean"] == pytest.approx(5.0 / 3.0)
    assert rest_post["change_sd"] == pytest.approx(math.sqrt(175.0 / 3.0))
    assert rest_post["d_z"] == pytest.approx((5.0 / 3.0) / math.sqrt(175.0 / 3.0))


def test_summarise_is_deterministic_and_order_free() -> None:
    df = toy()
    shuffled = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(summarise(df), summarise(shuffled))
    pd.testing.assert_frame_equal(summarise(df), summarise(df))


def test_trials_are_averaged_before_statistics() -> None:
    sc = subject_changes(toy())
    assert list(sc.columns) == [
        "subject",
        "arm",
        "measure",
        "site",
        "time_min",
        "unit",
        "baseline",
        "value",
        "change",
        "pct_change",
    ]
    s1 = sc[(sc["subject"] == 1) & (sc["arm"] == "exercise")]
    # trials 290 and 310 at -5 min -> one row with value 300, which is also the baseline
    assert s1["time_min"].tolist() == [-5.0, 10.0]
    assert s1["value"].tolist() == [300.0, 330.0]
    assert s1["baseline"].tolist() == [300.0, 300.0]
    assert s1["change"].tolist() == [0.0, 30.0]
    assert s1["pct_change"].tolist() == pytest.approx([0.0, 10.0])
    # n counts subjects, not trials
    assert summarise(toy())["n"].tolist() == [3, 3, 3, 3]


def test_baseline_is_latest_time_at_or_before_zero() -> None:
    rows = [
        # subject 1: pre assessments at -30 and 0 (0 counts as pre), post at 5 and 20
        (1, -30.0, 100.0),
        (1, 0.0, 110.0),
        (1, 5.0, 121.0),
        (1, 20.0, 99.0),
        # subject 2: no pre assessment at all -> earliest time (5) is the baseline
        (2, 20.0, 90.0),
        (2, 5.0, 80.0),
    ]
    df = pd.DataFrame(
        [
            {
                "subject": s,
                "arm": "ex",
                "time_min": t,
                "measure": "PPT",
                "site": "arm",
                "value": v,
                "unit": "N",
            }
            for s, t, v in rows
        ]
    )
    sc = subject_changes(df)
    s1, s2 = sc[sc["subject"] == 1], sc[sc["subject"] == 2]
    assert s1["time_min"].tolist() == [-30.0, 0.0, 5.0, 20.0]
    assert s1["baseline"].tolist() == [110.0] * 4
    assert s1["change"].tolist() == pytest.approx([-10.0, 0.0, 11.0, -11.0])
    assert s1["pct_change"].tolist() == pytest.approx([-100.0 / 11.0, 0.0, 10.0, -10.0])
    assert s2["time_min"].tolist() == [5.0, 20.0]
    assert s2["baseline"].tolist() == [80.0, 80.0]
    assert s2["change"].tolist() == pytest.approx([0.0, 10.0])


def _nct_cdf_by_quadrature(t: float, nu: float, lam: float) -> float:
    """Noncentral-t cdf from its definition T = (Z + lam) / sqrt(V / nu), V ~ chi2(nu).

    P(T <= t) = integral over v of Phi(t sqrt(v / nu) - lam) f_chi2(v; nu) dv -- independent of
    scipy.stats.nct (only the normal cdf and chi-square pdf are used).
    """

    def integrand(v: float) -> float:
        return float(sps.norm.cdf(t * math.sqrt(v / nu) - lam) * sps.chi2.pdf(v, nu))

    return float(integrate.quad(integrand, 0.0, np.inf, limit=200)[0])


def test_dz_ci_matches_independent_noncentral_t_computation() -> None:
    # 20 changes standardised to mean 0.5 and sd 1 -> d_z = 0.5 exactly.
    z = np.linspace(-1.0, 1.0, 20)
    change = (z - z.mean()) / z.std(ddof=1) + 0.5
    es = within_subject_d(change)
    assert isinstance(es, EffectSize)
    assert es.n == 20
    assert es.d == pytest.approx(0.5)

    # Reference: invert the quadrature cdf above (t = 0.5 sqrt(20) = 2.236, nu = 19) -> [0.02837, 0.96004];
    # scipy.special.nctdtrinc (cdflib, a separate implementation) gives the same to 1e-6. The brief's
    # "approximately [0.03, 0.96]" for d = 0.5, n = 20 agrees.
    t_obs, nu, root_n = 0.5 * math.sqrt(20.0), 19.0, math.sqrt(20.0)
    ref_low = optimize.brentq(lambda lam: _nct_cdf_by_quadrature(t_obs, nu, lam) - 0.975, -5, 10) / root_n
    ref_high = optimize.brentq(lambda lam: _nct_cdf_by_quadrature(t_obs, nu, lam) - 0.025, -5, 10) / root_n
    assert ref_low == pytest.approx(0.02837, abs=1e-5)
    assert ref_high == pytest.approx(0.96004, abs=1e-5)
    assert es.ci_low == pytest.approx(ref_low, abs=1e-7)
    assert es.ci_high == pytest.approx(ref_high, abs=1e-7)

    # A negative effect gives the mirrored interval; a 90 % interval is narrower.
    neg = within_subject_d(-change)
    assert neg.ci_low == pytest.approx(-es.ci_high, abs=1e-8)
    assert neg.ci_high == pytest.approx(-es.ci_low, abs=1e-8)
    es90 = within_subject_d(change, alpha=0.10)
    assert es.ci_low < es90.ci_low < es90.ci_high < es.ci_high


def test_dz_undefined_cases_are_nan() -> None:
    for change in ([], [1.0], [2.0, 2.0, 2.0], [np.nan, 3.0]):
        es = within_subject_d(np.asarray(change, dtype=float))
        assert math.isnan(es.d) and math.isnan(es.ci_low) and math.isnan(es.ci_high)
    assert within_subject_d([2.0, 2.0, 2.0]).n == 3
    assert within_subject_d([np.nan, 1.0, 3.0]).n == 2  # NaN dropped
    with pytest.raises(InputError, match="alpha"):
        within_subject_d([1.0, 2.0], alpha=1.5)


def test_mean_ci() -> None:
    m, lo, hi = mean_ci([300.0, 400.0, 500.0])
    half = T975_DF2 * 100.0 / math.sqrt(3.0)
    assert (m, lo, hi) == pytest.approx((400.0, 400.0 - half, 400.0 + half))
    m1, lo1, hi1 = mean_ci([7.0])
    assert m1 == 7.0 and math.isnan(lo1) and math.isnan(hi1)


def test_net_change_crossover() -> None:
    df = toy()
    # subject 4 did only the exercise arm: not paired, so left out of the net change
    extra = pd.DataFrame(_rows("exercise", {-5.0: [100.0], 10.0: [500.0]})).assign(subject=4)
    net = net_change(pd.concat([df, extra], ignore_index=True), "exercise", "rest")
    assert list(net.columns) == [
        "measure",
        "site",
        "time_min",
        "unit",
        "n",
        "net_mean",
        "net_sd",
        "net_ci_low",
        "net_ci_high",
        "d_z",
        "d_z_ci_low",
        "d_z_ci_high",
    ]
    assert net["time_min"].tolist() == [-5.0, 10.0]
    assert net["n"].tolist() == [3, 3]
    base, post = net.iloc[0], net.iloc[1]
    assert base["net_mean"] == 0.0 and math.isnan(base["d_z"])
    # net = (30 - 0, 20 - 10, 60 - (-5)) = (30, 10, 65): mean 35, squared deviations 25 + 625 + 900 = 1550
    sd = math.sqrt(1550.0 / 2.0)  # 27.839
    assert post["net_mean"] == pytest.approx(35.0)
    assert post["net_sd"] == pytest.approx(sd)
    half = T975_DF2 * sd / math.sqrt(3.0)
    assert post["net_ci_low"] == pytest.approx(35.0 - half)
    assert post["net_ci_high"] == pytest.approx(35.0 + half)
    es = within_subject_d([30.0, 10.0, 65.0])
    assert post["d_z"] == pytest.approx(35.0 / sd)
    assert post["d_z_ci_low"] == pytest.approx(es.ci_low)
    assert post["d_z_ci_high"] == pytest.approx(es.ci_high)

    with pytest.raises(InputError, match="cycling"):
        net_change(df, "cycling", "rest")
    with pytest.raises(InputError):
        net_change(df, "rest", "rest")


def test_missing_columns_are_named() -> None:
    df = toy().drop(columns=["site", "unit"])
    with pytest.raises(InputError) as info:
        summarise(df)
    assert info.value.field == "observations"
    assert info.value.value == ["site", "unit"]
    assert "'site'" in str(info.value) and "'unit'" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_other_input_errors() -> None:
    df = toy()
    df.loc[0, "unit"] = "N"
    with pytest.raises(InputError, match="unit"):
        summarise(df)
    with pytest.raises(InputError, match="alpha"):
        summarise(toy(), alpha=0.0)
    bad = toy().astype({"value": object})
    bad.loc[1, "value"] = "lots"
    with pytest.raises(InputError, match="observations.value"):
        summarise(bad)


def test_single_subject_gives_nan_intervals() -> None:
    s = summarise(toy().query("subject == 1"))
    assert (s["n"] == 1).all()
    assert s["sd"].isna().all() and s["ci_low"].isna().all() and s["d_z"].isna().all()


def test_plot_time_courses_writes_pngs(tmp_path: Path) -> None:
    df = pd.concat(
        [
            toy(),
            toy().assign(site="trapezius"),
            toy().assign(measure="HPT/heat", unit="degC"),
        ],
        ignore_index=True,
    )
    paths = plot_time_courses(summarise(df), tmp_path / "fig")
    assert [p.name for p in paths] == ["HPT_heat.png", "PPT.png"]
    for p in paths:
        assert p.parent == tmp_path / "fig"
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # a multi-day design (plotted in days) also renders
    days = toy()
    days.loc[days["time_min"] > 0, "time_min"] = 7 * 1440.0
    (week,) = plot_time_courses(summarise(days), tmp_path / "week")
    assert week.name == "PPT.png" and week.stat().st_size > 0

    with pytest.raises(InputError, match="mean"):
        plot_time_courses(pd.DataFrame({"arm": ["a"]}), tmp_path)
