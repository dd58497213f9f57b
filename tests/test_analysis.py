"""`eihlab analyze`: every formula on small hand-computed tables and published examples, validation, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy import stats as sps
from typer.testing import CliRunner

from eihlab.analysis import analyze, analyze_file, icc, read_table, write_analysis
from eihlab.analysis.eih import classify, pct_mpe, responder_criterion
from eihlab.analysis.load import RUN_COLUMNS
from eihlab.analysis.reliability import mdc95, sem
from eihlab.analysis.units import convert, find_unit
from eihlab.analysis.vonfrey import DIXON_K, chaplan_threshold, dixon_k, g_to_handle, handle_to_g
from eihlab.cli.main import app
from eihlab.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "qst_example.csv"

# Shrout & Fleiss (1979) Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
# pingouin's bundled "icc" data set (8 wines scored by judges A-D), wide.
PINGOUIN_WINES = [
    [1, 2, 0, 1],
    [1, 3, 3, 2],
    [3, 8, 1, 4],
    [6, 4, 3, 3],
    [6, 5, 5, 6],
    [7, 5, 6, 2],
    [8, 7, 7, 9],
    [9, 9, 9, 8],
]


def table(*rows: dict[str, object], **defaults: object) -> pd.DataFrame:
    """A QST-layout table: each row overrides the defaults (one subject, PPT at the quadriceps in kPa)."""
    base: dict[str, object] = {
        "subject": "A",
        "session": 1,
        "condition": "exercise",
        "timepoint": "pre",
        "site": "quadriceps",
        "modality": "PPT",
        "trial": 1,
        "value": 400.0,
        "unit": "kPa",
    }
    base.update(defaults)
    return pd.DataFrame([{**base, **r} for r in rows])


def trials(values: dict[str, list[float]], **fields: object) -> list[dict[str, object]]:
    """Rows for ``{timepoint: [trial values]}``."""
    return [
        {"timepoint": tp, "trial": i + 1, "value": v, **fields}
        for tp, vals in values.items()
        for i, v in enumerate(vals)
    ]


# --------------------------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("value", "unit", "kind", "area", "expected"),
    [
        (4.0, "kgf/cm2", "pressure", math.nan, 392.266),  # 1 kgf/cm² = 98.0665 kPa
        (4.0, "kg/cm²", "pressure", math.nan, 392.266),
        (10.0, "N/cm2", "pressure", math.nan, 100.0),  # 1 N/cm² = 10 kPa
        (45.0, "N", "pressure", 1.0, 450.0),  # 45 N on a 1 cm² probe
        (45.0, "N", "pressure", 0.5, 900.0),  # ... on a 0.5 cm² probe
        (4.0, "kgf", "pressure", 2.0, 196.133),
        (10.0, "lbf", "pressure", 1.0, 444.82216152605),  # 1 lbf = 4.4482216 N
        (1.0, "psi", "pressure", math.nan, 6.894757293168),
        (100.0, "degF", "temperature", math.nan, 37.77777777777778),
        (310.15, "K", "temperature", math.nan, 37.0),
        (1500.0, "ms", "time", math.nan, 1.5),
        (98.0665, "mN", "force", math.nan, 10.0),
        (4.0, "NRS 0-10", "rating", math.nan, 40.0),
        (40.0, "mm", "rating", math.nan, 40.0),
    ],
)
def test_unit_conversions(value: float, unit: str, kind: str, area: float, expected: float) -> None:
    u = find_unit(unit, (kind,))
    assert u is not None
    assert convert([value], u, area)[0] == pytest.approx(expected, rel=1e-9)


def test_differences_convert_without_offset() -> None:
    u = find_unit("degF", ("temperature",))
    assert u is not None
    assert convert([9.0], u, difference=True)[0] == pytest.approx(5.0)


def test_pipeline_converts_force_with_probe_area_and_kgf() -> None:
    rows = [
        *trials({"pre": [45.0, 47.0], "post": [50.0, 52.0]}, unit="N", probe_cm2=1.0),
        *trials({"pre": [3.0, 3.2], "post": [3.5, 3.5]}, unit="kgf/cm2", site="trapezius"),
    ]
    res = analyze(table(*rows), responder_rule="gt0")
    s = res.subjects.set_index("site")
    assert s.loc["quadriceps", "baseline"] == pytest.approx(460.0)
    assert s.loc["quadriceps", "value"] == pytest.approx(510.0)
    assert s.loc["trapezius", "baseline"] == pytest.approx(3.1 * 98.0665)
    assert s.loc["trapezius", "change"] == pytest.approx(0.4 * 98.0665)
    assert set(res.subjects["unit"]) == {"kPa"}


# --------------------------------------------------------------------------------------------- EIH


def test_eih_absolute_percent_and_net() -> None:
    rows = [
        *trials({"pre": [400.0, 420.0], "post": [450.0, 470.0]}),  # Δ = 460 - 410 = 50
        *trials({"pre": [400.0, 400.0], "post": [410.0, 410.0]}, condition="rest", session=2),  # Δ = 10
    ]
    res = analyze(table(*rows), responder_rule="gt0")
    s = res.subjects.set_index("condition")
    assert s.loc["exercise", "baseline"] == pytest.approx(410.0)
    assert s.loc["exercise", "value"] == pytest.approx(460.0)
    assert s.loc["exercise", "change"] == pytest.approx(50.0)
    assert s.loc["exercise", "pct_change"] == pytest.approx(100 * 50 / 410)
    assert s.loc["exercise", "net_change"] == pytest.approx(40.0)
    assert s.loc["exercise", "net_pct_change"] == pytest.approx(100 * 50 / 410 - 2.5)
    assert math.isnan(s.loc["rest", "net_change"])
    assert s.loc["exercise", "n_trials"] == 2
    assert list(res.subjects.columns[:10]) == [
        "subject",
        "condition",
        "site",
        "timepoint",
        "modality",
        "baseline",
        "value",
        "change",
        "pct_change",
        "responder",
    ]


def test_net_eih_averages_rest_sessions_and_group_is_within_subject() -> None:
    rows = []
    for subj, (ex, r1, r2) in {"A": (50.0, 10.0, 20.0), "B": (30.0, 0.0, -10.0), "C": (40.0, 5.0, 5.0)}.items():
        rows += trials({"pre": [100.0], "post": [100.0 + ex]}, subject=subj, session=1)
        rows += trials({"pre": [100.0], "post": [100.0 + r1]}, subject=subj, session=2, condition="rest")
        rows += trials({"pre": [100.0], "post": [100.0 + r2]}, subject=subj, session=3, condition="rest")
    res = analyze(table(*rows), responder_rule="gt0")
    ex = res.subjects.loc[res.subjects["condition"] == "exercise"].set_index("subject")
    assert ex["net_change"].to_dict() == pytest.approx({"A": 35.0, "B": 35.0, "C": 35.0})
    g = res.group.set_index(["condition", "statistic"])
    assert g.loc[("exercise", "net_change"), "mean"] == pytest.approx(35.0)
    assert g.loc[("exercise", "change"), "mean"] == pytest.approx(40.0)
    assert g.loc[("exercise", "change"), "sd"] == pytest.approx(10.0)
    assert g.loc[("exercise", "change"), "d_z"] == pytest.approx(4.0)
    half = sps.t.ppf(0.975, 2) * 10.0 / math.sqrt(3)
    assert g.loc[("exercise", "change"), "ci_low"] == pytest.approx(40.0 - half)
    # rest: each subject's two sessions are averaged first (15, -5, 5), so n = 3 subjects
    assert g.loc[("rest", "change"), "n"] == 3
    assert g.loc[("rest", "change"), "mean"] == pytest.approx(5.0)
    assert g.loc[("rest", "change"), "n_classified"] == 6  # responder counts are per subject-session


def test_censored_trial_at_cutoff_is_kept_and_counted() -> None:
    rows = trials({"pre": [600.0, 620.0], "post": [1000.0, 900.0]}, cutoff=1000.0)
    res = analyze(table(*rows), responder_rule="gt0")
    assert res.subjects.loc[0, "n_censored"] == 1
    assert res.subjects.loc[0, "value"] == pytest.approx(950.0)
    assert res.trials["censored"].tolist() == [False, False, True, False]


def test_pct_mpe_hargreaves() -> None:
    assert pct_mpe([15.0], [10.0], [20.0])[0] == pytest.approx(50.0)  # (15 - 10) / (20 - 10)
    rows = trials({"pre": [9.0, 11.0], "post": [14.0, 16.0]}, modality="hargreaves", unit="s", cutoff=20.0)
    res = analyze(table(*rows, site="hind_paw_left"), responder_rule="gt0", rest_condition=None)
    assert res.subjects.loc[0, "pct_mpe"] == pytest.approx(50.0)
    # without a stated cut-off the conventional 20 s is assumed, and the user is told
    rows = trials({"pre": [10.0], "post": [12.0]}, modality="hargreaves", unit="s")
    res = analyze(table(*rows), responder_rule="gt0", rest_condition=None)
    assert res.subjects.loc[0, "pct_mpe"] == pytest.approx(20.0)
    assert any("assumed 20 s" in n for n in res.notes)


def test_temporal_summation_from_pulses() -> None:
    # NRS 0-10 ratings of pulses 1..5: TS = (last - first) × 10 on the 0-100 scale
    rows = [
        {"timepoint": tp, "trial": 1, "pulse": p, "value": v}
        for tp, ratings in {"pre": [2, 3, 4, 5, 6], "post": [2, 2, 3, 3, 4]}.items()
        for p, v in enumerate(ratings, start=1)
    ]
    res = analyze(table(*rows, modality="TSP", unit="NRS 0-10", site="forearm"), responder_rule="gt0")
    row = res.subjects.iloc[0]
    assert row["baseline"] == pytest.approx(40.0)
    assert row["value"] == pytest.approx(20.0)
    assert row["change"] == pytest.approx(-20.0)
    assert bool(row["responder"])  # less summation is hypoalgesia (direction -1)


# --------------------------------------------------------------------------------------------- CPM


def test_cpm_threshold_parallel_and_sequential() -> None:
    rows = [
        *trials({"pre": [300.0, 300.0]}, cpm_phase="before"),
        *trials({"pre": [320.0, 340.0]}, cpm_phase="during"),
        *trials({"pre": [315.0, 315.0]}, cpm_phase="after"),
    ]
    res = analyze(table(*rows, condition="cpm"), responder_rule="pct20")
    cpm = res.cpm.set_index("paradigm")
    assert cpm.loc["parallel", "cpm"] == pytest.approx(30.0)
    assert cpm.loc["parallel", "cpm_pct"] == pytest.approx(10.0)
    assert cpm.loc["sequential", "cpm"] == pytest.approx(15.0)
    assert cpm.loc["sequential", "cpm_pct"] == pytest.approx(5.0)
    assert cpm.loc["parallel", "inhibition"] == pytest.approx(30.0)
    assert "> 0 is inhibition" in cpm.loc["parallel", "convention"]
    assert not cpm["responder"].any()  # 10 % and 5 % < 20 %
    assert res.subjects.empty


def test_cpm_rating_test_inhibition_is_negative() -> None:
    rows = [
        *trials({"pre": [6.0, 6.0]}, cpm_phase="before"),
        *trials({"pre": [4.5, 4.5]}, cpm_phase="parallel"),
    ]
    res = analyze(table(*rows, modality="pain_rating", unit="NRS 0-10"), responder_rule="pct20")
    row = res.cpm.iloc[0]
    assert row["paradigm"] == "parallel"
    assert row["cpm"] == pytest.approx(-15.0)  # 45 - 60 on the 0-100 scale
    assert row["cpm_pct"] == pytest.approx(-25.0)
    assert row["inhibition"] == pytest.approx(15.0)
    assert "< 0 is inhibition" in row["convention"]
    assert bool(row["responder"])  # -25 % in a rating is a 25 % inhibition >= 20 %


# --------------------------------------------------------------------------------------------- responders


def test_responder_rules() -> None:
    change = [5.0, 15.0, 25.0, 30.0, -30.0]
    pct = [19.9, 20.0, 25.0, 30.0, -30.0]
    expected = {
        "gt0": [True, True, True, True, False],
        "sem1": [False, True, True, True, False],  # > 10
        "sem2": [False, False, True, True, False],  # > 20
        "mdc95": [False, False, False, True, False],  # > 1.96·√2·10 = 27.72
        "pct20": [False, True, True, True, False],  # >= 20 %
    }
    for rule, labels in expected.items():
        _, got = classify(change, pct, [1] * 5, rule, 10.0)
        assert got.tolist() == labels, rule
    assert responder_criterion("mdc95", 10.0) == pytest.approx(1.96 * math.sqrt(2) * 10.0, rel=1e-4)
    # ratings: a fall is hypoalgesia
    _, got = classify([-25.0, 25.0], [-30.0, 30.0], [-1, -1], "sem2", 10.0)
    assert got.tolist() == [True, False]
    # unknown SEM: no label rather than a guess
    _, got = classify([50.0], [10.0], [1], "sem2", math.nan)
    assert got.isna().all()
    with pytest.raises(InputError, match="responder_rule"):
        responder_criterion("sem3", 1.0)


def test_responders_use_sem_of_the_datas_own_retest() -> None:
    # baseline in two sessions for three subjects: the between-session SEM drives the sem rules
    pre = {"A": (400.0, 410.0), "B": (500.0, 480.0), "C": (450.0, 455.0)}
    post = {"A": 460.0, "B": 490.0, "C": 470.0}
    rows = []
    for s, (b1, b2) in pre.items():
        rows += trials({"pre": [b1], "post": [post[s]]}, subject=s, session=1)
        rows += trials({"pre": [b2]}, subject=s, session=2, condition="rest")
    res = analyze(table(*rows), responder_rule="sem2")
    rel = res.reliability.loc[res.reliability["used_for_responders"].astype(bool)].iloc[0]
    r = icc([list(v) for v in pre.values()])
    assert rel["icc2_1"] == pytest.approx(r.icc2_1)
    assert rel["sem"] == pytest.approx(r.sd * math.sqrt(1 - r.icc2_1))
    ex = res.subjects.set_index("subject")
    assert ex["criterion"].tolist() == pytest.approx([2 * rel["sem"]] * 3)
    assert ex["responder"].tolist() == [c > 2 * rel["sem"] for c in ex["change"]]


# --------------------------------------------------------------------------------------------- reliability


def test_icc_shrout_fleiss_and_pingouin() -> None:
    r = icc(SHROUT_FLEISS)
    # Shrout & Fleiss (1979), Table 3/4: BMS 11.24, JMS 32.49, EMS 1.02; ICC(2,1) = .29, ICC(3,1) = .71
    assert (r.ms_rows, r.ms_cols, r.ms_error) == pytest.approx((11.24, 32.49, 1.02), abs=0.005)
    assert round(r.icc2_1, 2) == 0.29 and round(r.icc3_1, 2) == 0.71
    # Reference values computed once with pingouin 0.7.0 (intraclass_corr, types ICC(A,1) and ICC(C,1);
    # CIs from its formula unrounded); pingouin itself is not a dependency.
    assert r.icc2_1 == pytest.approx(0.28976377952755916, rel=1e-12)
    assert r.icc2_1_ci == pytest.approx((0.018786513374712058, 0.7610843696489527), rel=1e-9)
    assert r.icc3_1 == pytest.approx(0.7148407148407154, rel=1e-12)
    assert r.icc3_1_ci == pytest.approx((0.34246476503392614, 0.9458582599553597), rel=1e-9)
    w = icc(PINGOUIN_WINES)
    assert w.icc2_1 == pytest.approx(0.7276887871853546, rel=1e-12)
    assert w.icc2_1_ci == pytest.approx((0.4344896578911301, 0.9267086063159158), rel=1e-9)
    assert w.icc3_1 == pytest.approx(0.7294865007940708, rel=1e-12)
    assert w.icc3_1_ci == pytest.approx((0.42614603012923313, 0.9278952614727314), rel=1e-9)


def test_sem_and_mdc95() -> None:
    r = icc(SHROUT_FLEISS)
    sd = float(np.std(SHROUT_FLEISS, ddof=1))
    assert r.sd == pytest.approx(sd)
    assert r.sem == pytest.approx(sd * math.sqrt(1 - 0.28976377952755916))
    assert r.mdc95 == pytest.approx(1.959964 * math.sqrt(2) * r.sem)
    assert sem(20.0, 0.75) == pytest.approx(10.0)
    assert mdc95(10.0) == pytest.approx(27.718, abs=1e-3)
    with pytest.raises(InputError):
        icc([[1.0, 2.0]])


def test_icc_drops_incomplete_rows() -> None:
    with_gap = [*SHROUT_FLEISS, [5.0, math.nan, 3.0, 4.0]]
    assert icc(with_gap).icc2_1 == pytest.approx(icc(SHROUT_FLEISS).icc2_1)


# --------------------------------------------------------------------------------------------- von Frey


def _dixon_ml(pattern: str) -> float:
    """ML estimate of the 50 % point (σ = step = 1) from the final dose, as Dixon built his table."""
    levels = [0.0]
    for c in pattern[:-1]:
        levels.append(levels[-1] + (1.0 if c == "O" else -1.0))
    x = np.array(levels)
    y = np.array([c == "X" for c in pattern])

    def nll(mu: float) -> float:
        z = x - mu
        return -float(sps.norm.logcdf(z[y]).sum() + sps.norm.logsf(z[~y]).sum())

    fit = optimize.minimize_scalar(nll, bounds=(-20.0, 20.0), method="bounded", options={"xatol": 1e-10})
    return float(fit.x) - x[-1]


def test_dixon_table_is_dixons_maximum_likelihood_estimate() -> None:
    # published entries (Dixon 1965 Table 2): first part O / OO / OOO / OOOO, second part X
    assert [dixon_k("O" * m + "X") for m in range(1, 5)] == [-0.5, -0.388, -0.378, -0.377]
    assert dixon_k("OXOXOX") == -0.5
    assert dixon_k("XOXOXO") == 0.5  # antisymmetry
    for second, ks in DIXON_K.items():
        for m, k in enumerate(ks, start=1):
            pattern = "O" * m + second
            assert k == pytest.approx(_dixon_ml(pattern), abs=0.0015), pattern
            assert dixon_k(pattern.translate(str.maketrans("XO", "OX"))) == -k
    assert dixon_k("OOOOOOX") == dixon_k("OOOOX")  # longer first runs use Dixon's OOOO column


def test_chaplan_threshold_worked_example() -> None:
    # Stoelting handles 4.31 (2 g) → 4.56 → 4.31 → ...: O X O X O X ends on 4.56;
    # 50 % threshold = 10^(4.56 + (-0.5)(0.224)) / 10 000 = 10^4.448 / 10^4 = 2.8054 g
    t, censored = chaplan_threshold("OXOXOX", handle_to_g(4.56))
    assert t == pytest.approx(10**4.448 / 10_000)
    assert t == pytest.approx(2.8054, abs=1e-4)
    assert not censored
    assert g_to_handle(2.0) == pytest.approx(4.30103)
    # no withdrawal up to the last filament: the filament is reported, censored (Chaplan 1994)
    assert chaplan_threshold("OOOO", 15.0) == (15.0, True)
    with pytest.raises(InputError, match="sequence"):
        dixon_k("OXOXOXOX")  # 7 responses from the change on: beyond Dixon's table
    with pytest.raises(InputError):
        dixon_k("OXZ")


def test_von_frey_sequences_in_the_data() -> None:
    rows = [
        {"timepoint": "pre", "value": 4.56, "unit": "handle", "sequence": "OXOXOX"},
        {"timepoint": "post", "value": 6.0, "unit": "g", "sequence": "oooxoxoo", "step": 0.231},
    ]
    res = analyze(table(*rows, modality="von_frey_seq", site="hind_paw_left"), responder_rule="gt0")
    row = res.subjects.iloc[0]
    assert row["modality"] == "von_frey"
    assert row["baseline"] == pytest.approx(10**4.448 / 10_000)
    assert row["value"] == pytest.approx(6.0 * 10 ** (0.040 * 0.231))  # k(OOO|XOXOO) = 0.040


# --------------------------------------------------------------------------------------------- validation


def _error(df: pd.DataFrame, **kw: object) -> str:
    with pytest.raises(InputError) as info:
        analyze(df, **kw)  # type: ignore[arg-type]
    return str(info.value)


def test_missing_column() -> None:
    msg = _error(table({}).drop(columns=["unit"]))
    assert msg.startswith("columns: got 'missing unit'")


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"unit": "furlong"}, "row 4, unit: got 'furlong'; allowed: one of "),
        ({"modality": "PPX"}, "row 4, modality: got 'PPX'"),
        ({"value": -5.0}, "row 4, value: got '-5.0'; allowed: a non-negative PPT"),
        ({"value": "12,5"}, "row 4, value: got '12,5'; allowed: a number"),
        ({"unit": "N"}, "row 4, probe_cm2: got ''; allowed: a probe area in cm² (> 0) to convert N to kPa"),
        (
            {"value": 1200.0, "cutoff": 1000.0},
            "row 4, value: got '1200.0'; allowed: a value at or below the stated cut-off",
        ),
        ({"trial": 1.5}, "row 4, trial: got '1.5'; allowed: a whole number >= 1"),
        ({"trial": 1, "timepoint": "pre"}, "row 4, trial: got 1; allowed: a trial number not used before"),
        ({"censored": "maybe"}, "row 4, censored: got 'maybe'; allowed: true or false"),
        ({"cpm_phase": "halfway"}, "row 4, cpm_phase: got 'halfway'"),
        ({"subject": ""}, "row 4, subject: got ''; allowed: a non-empty value"),
        (
            {"modality": "pain_rating", "unit": "NRS 0-10", "value": 11},
            "row 4, value: got '11.0'; allowed: a rating within its scale (NRS 0-10)",
        ),
        ({"pulse": 2}, "row 4, pulse: got '2.0'; allowed: empty (pulse numbers belong to TSP rows)"),
    ],
)
def test_bad_values_name_the_row(bad: dict[str, object], expected: str) -> None:
    rows = [
        {"timepoint": "pre", "trial": 1},
        {"timepoint": "post", "trial": 1},
        {"timepoint": "post", "trial": 2, **bad},
    ]
    assert _error(table(*rows)).startswith(expected)


def test_subject_without_baseline_names_the_row() -> None:
    rows = [*trials({"pre": [400.0], "post": [420.0]}), *trials({"post": [430.0]}, subject="B")]
    msg = _error(table(*rows))
    assert msg.startswith("row 4, timepoint: got 'post'; allowed: a baseline ('pre') measurement for subject B")


def test_incomplete_cpm_block_and_bad_baseline_option() -> None:
    msg = _error(table(*trials({"pre": [300.0, 310.0]}, cpm_phase="before")))
    assert msg.startswith("row 2, cpm_phase: got 'before'; allowed: a complete CPM block")
    msg = _error(table(*trials({"pre": [300.0], "post": [310.0]})), baseline_timepoint="t0")
    assert msg.startswith("baseline_timepoint: got 't0'; allowed: one of post, pre")
    msg = _error(table(*trials({"a": [300.0], "b": [310.0]})))
    assert msg.startswith("baseline_timepoint: got None")
    ok = analyze(table(*trials({"a": [300.0], "b": [310.0]})), baseline_timepoint="a", responder_rule="gt0")
    assert ok.subjects.loc[0, "change"] == pytest.approx(10.0)


def test_bad_sequence_names_the_row() -> None:
    rows = [
        {"timepoint": "pre", "value": 2.0, "unit": "g", "sequence": "OXOXOX"},
        {"timepoint": "post", "value": 2.0, "unit": "g", "sequence": "OX?X"},
    ]
    msg = _error(table(*rows, modality="von_frey_seq"))
    assert msg.startswith("row 3, sequence: got 'OX?X'; allowed: an X/O sequence")


def test_lenient_sets_bad_rows_aside_with_their_dependants(tmp_path: Path) -> None:
    rows = [
        *trials({"pre": [400.0, 410.0], "post": [450.0, 460.0]}),
        {"subject": "B", "timepoint": "pre", "trial": 1, "value": 380.0, "unit": "furlong"},
        {"subject": "B", "timepoint": "post", "trial": 1, "value": 420.0},
        {"subject": "C", "timepoint": "pre", "trial": 1, "value": -3.0},
    ]
    df = table(*rows)
    res = analyze(df, lenient=True, responder_rule="gt0")
    assert res.rejected["row"].tolist() == [6, 7, 8]
    reasons = res.rejected.set_index("row")["reason"]
    assert reasons[6].startswith("row 6, unit: got 'furlong'")
    assert reasons[7].startswith("row 7, timepoint: got 'post'; allowed: a baseline")  # its baseline was rejected
    assert "non-negative" in reasons[8]
    assert len(res.trials) + len(res.rejected) == len(df)  # nothing silently dropped
    assert res.subjects["subject"].tolist() == ["A"]
    out = write_analysis(res, tmp_path / "out", figures=False)
    rejected = pd.read_csv(tmp_path / "out" / "rejected.csv", dtype=str, keep_default_na=False)
    assert rejected["row"].tolist() == ["6", "7", "8"] and "reason" in rejected.columns
    assert rejected.loc[0, "unit"] == "furlong"  # the original row is kept as it was
    assert {p.name for p in out} >= {"subjects.csv", "cpm.csv", "reliability.csv", "group.csv", "figures"}


# --------------------------------------------------------------------------------------------- files and CLI


def test_example_file(tmp_path: Path) -> None:
    res = analyze_file(EXAMPLE)
    assert res.settings["baseline_timepoint"] == "pre"
    assert res.subjects["subject"].nunique() == 8
    assert set(res.subjects["unit"]) == {"kPa"}
    raw = read_table(EXAMPLE)
    first = raw.loc[(raw["site"] == "quadriceps")].iloc[0]
    assert first["unit"] == "N"
    assert res.trials.loc[res.trials["row"] == 2, "value"].iloc[0] == pytest.approx(10 * float(first["value"]))
    assert int(res.subjects["n_censored"].sum()) == 2  # S04's two trials at the 70 N cut-off
    assert set(res.cpm["paradigm"]) == {"parallel", "sequential"} and len(res.cpm) == 16
    used = res.reliability.loc[res.reliability["used_for_responders"].astype(bool)]
    assert set(used["site"]) == {"quadriceps", "trapezius"} and set(used["k"]) == {3}
    ex = res.group.set_index(["condition", "site", "statistic"])
    assert ex.loc[("exercise", "quadriceps", "change"), "ci_low"] > 0  # local EIH
    assert not res.notes


def test_round_trip_on_eihlab_run_output(tmp_path: Path) -> None:
    from eihlab.experiment.runner import OBS_COLUMNS, load_experiment, run_experiment
    from eihlab.stats import net_change, summarise

    assert tuple(OBS_COLUMNS) == RUN_COLUMNS
    run = run_experiment(load_experiment("cycling_70hrr_crossover"), n=6, seed=2)
    path = tmp_path / "observations.csv"
    run.observations.to_csv(path, index=False, float_format="%.6g")  # as `eihlab run` writes it
    res = analyze_file(path)
    assert res.settings["layout"] == "run" and res.settings["baseline_timepoint"] == "-5"
    assert len(res.rejected) == 0 and len(res.trials) == len(run.observations)
    summary = summarise(run.observations)
    post = summary.loc[summary["time_min"] > 0]
    g = res.group.loc[res.group["statistic"] == "change"].set_index(["condition", "site", "timepoint"])
    for row in post.itertuples():
        mine = g.loc[(row.arm, row.site, f"{row.time_min:g}")]
        assert mine["mean"] == pytest.approx(row.change_mean, rel=1e-4, abs=1e-3)
        assert mine["d_z"] == pytest.approx(row.d_z, rel=1e-3, abs=1e-3)
    net = net_change(run.observations, "cycling", "rest")
    n = res.group.loc[res.group["statistic"] == "net_change"].set_index(["site", "timepoint"])
    for row in net.loc[net["time_min"] > 0].itertuples():
        assert n.loc[(row.site, f"{row.time_min:g}"), "mean"] == pytest.approx(row.net_mean, rel=1e-4, abs=1e-3)
    used = res.reliability.loc[res.reliability["used_for_responders"].astype(bool)]
    assert len(used) == 3 and (used["condition"] == "all").all()
    assert res.subjects["responder"].notna().all()


def test_run_layout_recorded_cpm_summation_and_readouts() -> None:
    def obs(measure: str, site: str, unit: str, pre: float, post: float) -> list[dict[str, object]]:
        return [
            {"subject": 0, "arm": "rest", "time_min": t, "measure": measure, "site": site, "trial": 1}
            | {"value": v, "unit": unit, "censored": False}
            for t, v in ((-5.0, pre), (30.0, post))
        ]

    df = pd.DataFrame(
        [
            *obs("CPM", "trapezius_right", "kPa", 25.0, 40.0),  # recorded CPM = during - before
            *obs("temporal_summation", "forearm_left", "VAS 0-100", -4.0, -10.0),  # a score may be negative
            *obs("central_sens", "", "rel.", 0.2, 0.3),  # a model read-out: named by quantity, no site
        ]
    )
    res = analyze(df, responder_rule="gt0")
    assert res.settings["layout"] == "run" and res.settings["baseline_timepoint"] == "-5"
    cpm = res.cpm.set_index("timepoint")
    assert (cpm["paradigm"] == "recorded").all() and (cpm["modality"] == "PPT").all()
    assert cpm.loc["30", "cpm"] == pytest.approx(40.0) and cpm.loc["30", "inhibition"] == pytest.approx(40.0)
    s = res.subjects.set_index("modality")
    assert s.loc["TSP", "change"] == pytest.approx(-6.0) and bool(s.loc["TSP", "responder"])
    assert s.loc["central_sens", "site"] == "none" and s.loc["central_sens", "change"] == pytest.approx(0.1)


def test_cli_json_shape_and_out(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["analyze", str(EXAMPLE), "--json", "--responder-rule", "mdc95"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["subjects", "cpm", "reliability", "group"]
    assert all(isinstance(v, list) and v for v in data.values())
    assert list(data["subjects"][0])[:10] == [
        "subject",
        "condition",
        "site",
        "timepoint",
        "modality",
        "baseline",
        "value",
        "change",
        "pct_change",
        "responder",
    ]
    assert {"icc2_1", "icc3_1", "icc2_1_ci_low", "sem", "mdc95"} <= set(data["reliability"][0])
    assert {"paradigm", "cpm", "cpm_pct", "convention"} <= set(data["cpm"][0])
    assert {"d_z", "d_z_ci_low", "ci_low", "responder_rate"} <= set(data["group"][0])

    out = tmp_path / "res"
    result = runner.invoke(app, ["analyze", str(EXAMPLE), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "cpm.csv",
        "figures",
        "group.csv",
        "reliability.csv",
        "subjects.csv",
    ]
    assert {p.name for p in (out / "figures").iterdir()} == {
        "spaghetti_PPT_quadriceps.png",
        "spaghetti_PPT_trapezius.png",
        "responders_PPT.png",
        "cpm.png",
    }


def test_cli_bad_input_one_line_exit_2_nothing_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    table(*trials({"pre": [400.0], "post": [420.0]}), {"timepoint": "post", "trial": 2, "unit": "furlong"}).to_csv(
        bad, index=False
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyze", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: row 4, unit: got 'furlong'")
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]

    result = CliRunner().invoke(app, ["analyze", str(bad), "--out", str(out), "--lenient", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "1 bad rows skipped" in result.stderr
    assert (out / "rejected.csv").exists()

    for args in (["--responder-rule", "sem3"], []):
        result = CliRunner().invoke(app, ["analyze", str(bad), "--lenient", *args])
        assert result.exit_code == 2 and result.stderr.startswith("error: ")
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "missing.csv"), "--json"])
    assert result.exit_code == 2 and "DATA: got" in result.stderr
