"""Virtual trials (power curves) and global sensitivity analysis."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as sps
from typer.testing import CliRunner

from conftest import ACUTE
from eihlab.cli.main import app
from eihlab.errors import InputError
from eihlab.experiment.runner import parse_experiment, run_experiment
from eihlab.trials._common import Outcome
from eihlab.trials.power import POWER_COLUMNS, _p_paired, _p_welch, estimate_power, parse_range
from eihlab.trials.sensitivity import COLUMNS, SubjectModel, analyse, make_problem, run_sensitivity

ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])


def _acute(**cohort: object) -> dict:
    data = copy.deepcopy(ACUTE)
    data["cohort"].update(cohort)
    return data


def _rest_vs_rest() -> dict:
    data = _acute()
    rest = copy.deepcopy(data["arms"][0])
    data["arms"] = [rest, {**copy.deepcopy(rest), "name": "rest2"}]
    data["compare"] = [{"exercise": "rest2", "control": "rest"}]
    return data


# --- the generic core through SALib's analytic Ishigami case ------------------------------------------------


def _ishigami(x: np.ndarray) -> np.ndarray:
    from SALib.test_functions import Ishigami

    return np.asarray(Ishigami.evaluate(x))


def test_sobol_ishigami_matches_the_analytic_indices() -> None:
    problem = make_problem(["x1", "x2", "x3"], [(-np.pi, np.pi)] * 3)
    table = analyse(problem, _ishigami, "sobol", 2048, seed=3)
    assert list(table.columns) == list(COLUMNS["sobol"])
    assert list(table["parameter"]) == ["x1", "x2", "x3"]
    # N = 2048 base rows: Monte-Carlo error of the indices is about 0.02-0.03
    np.testing.assert_allclose(table["S1"], ISHIGAMI_S1, atol=0.05)
    np.testing.assert_allclose(table["ST"], ISHIGAMI_ST, atol=0.05)
    assert (table["S1_conf"] > 0).all() and (table["ST_conf"] < 0.1).all()


def test_morris_ishigami_ranks_and_columns() -> None:
    problem = make_problem(["x1", "x2", "x3"], [(-np.pi, np.pi)] * 3)
    table = analyse(problem, _ishigami, "morris", 100, seed=1)
    assert list(table.columns) == list(COLUMNS["morris"])
    assert (table["mu_star"] > 0).all()
    # x3 acts only through its interaction with x1: the smallest mean effect, but a large spread
    assert table["mu_star"][2] < table["mu_star"][0]
    assert table["sigma"][2] > table["mu_star"][2] * 0.5


def test_analyse_rejects_bad_input() -> None:
    problem = make_problem(["a", "b"], [(0.0, 1.0), (0.0, 1.0)])
    with pytest.raises(InputError, match="power of 2"):
        analyse(problem, lambda x: x[:, 0], "sobol", 100)
    with pytest.raises(InputError, match="method"):
        analyse(problem, lambda x: x[:, 0], "fast", 64)
    with pytest.raises(InputError, match="varies"):
        analyse(problem, lambda x: np.ones(len(x)), "sobol", 8)
    with pytest.raises(InputError, match="lower < upper"):
        make_problem(["a"], [(1.0, 1.0)])


# --- power -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"), [("10:50:20", [10, 30, 50]), (" 2:4:1 ", [2, 3, 4]), ("7", [7]), ("5:5:3", [5])]
)
def test_parse_range(text: str, expected: list[int]) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize("text", ["", "10:200", "10:200:0", "1:10:1", "20:10:5", "10:95:10", "a:b:c", "10:-5:1"])
def test_parse_range_rejects(text: str) -> None:
    with pytest.raises(InputError, match="START:STOP:STEP"):
        parse_range(text)


def test_vectorised_tests_match_scipy() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.3, 1.0, (6, 9)), rng.normal(0.0, 2.0, (6, 9))
    np.testing.assert_allclose(_p_paired(a), sps.ttest_1samp(a, 0.0, axis=1).pvalue)
    np.testing.assert_allclose(_p_welch(a, b), sps.ttest_ind(a, b, axis=1, equal_var=False).pvalue)
    const = np.ones((2, 4))
    assert list(_p_paired(const)) == [0.0, 0.0] and list(_p_paired(0 * const)) == [1.0, 1.0]


def test_power_pool_is_the_cohort_run_experiment_draws() -> None:
    exp = parse_experiment(_acute())
    result = estimate_power(exp, [4], replicates=3, output="PPT@quadriceps_right", time=30)
    reference = run_experiment(exp, n=12).contrasts
    row = reference[(reference.site == "quadriceps_right") & (reference.time_min == 30)].iloc[0]
    # n = 4 x 3 replicates partitions the whole pool: the mean effect is the full-cohort net change
    assert result.table["mean_effect"].iloc[0] == pytest.approx(row["net_mean"])
    assert result.effect == pytest.approx(row["net_mean"])


def test_power_curve_is_monotone_ish_and_in_range() -> None:
    exp = parse_experiment(_acute())
    result = estimate_power(exp, parse_range("4:24:10"), replicates=40, seed=5)
    t = result.table
    assert list(t.columns) == list(POWER_COLUMNS)
    assert result.outcome.label == "PPT@quadriceps_right" and result.time_min == 30.0
    assert ((t["power"] >= 0) & (t["power"] <= 1)).all()
    assert ((t["ci_low"] <= t["power"]) & (t["power"] <= t["ci_high"])).all()
    assert t["power"].iloc[-1] > t["power"].iloc[0]
    assert result.effect > 0
    # the simulated power follows the paired t-test's analytic power for the pool's d_z (non-central t),
    # within Monte-Carlo error (40 replicates: SE <= 0.08)
    for n, power in zip(t["n_per_arm"], t["power"], strict=True):
        df, nc = n - 1, result.effect_size * np.sqrt(n)
        crit = sps.t.ppf(0.975, df)
        analytic = sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc)
        assert abs(power - analytic) <= 0.2, (n, power, analytic)


def test_power_of_no_effect_is_alpha() -> None:
    exp = parse_experiment(_rest_vs_rest())
    result = estimate_power(exp, [5, 10], replicates=120, alpha=0.1, output="PPT@quadriceps_right", time=30)
    # two identical arms: only measurement noise differs, so the rejection rate is the type-I error rate
    se = np.sqrt(0.1 * 0.9 / 120)
    assert (abs(result.table["power"] - 0.1) <= 3 * se).all()
    assert abs(result.effect) < 5.0  # kPa, against a net change of ~80 kPa after cycling
    assert result.min_n is None


def test_power_parallel_design_uses_welch() -> None:
    exp = parse_experiment({**_acute(), "design": "parallel"})
    result = estimate_power(exp, [10], replicates=5)
    assert "Welch" in result.test and 0.0 <= result.table["power"].iloc[0] <= 1.0


def test_power_input_errors() -> None:
    exp = parse_experiment(_acute())
    with pytest.raises(InputError, match="output"):
        estimate_power(exp, [5], replicates=2, output="PPT@nowhere")
    with pytest.raises(InputError, match="time"):
        estimate_power(exp, [5], replicates=2, time=-5)
    with pytest.raises(InputError, match="replicates"):
        estimate_power(exp, [5], replicates=1)
    with pytest.raises(InputError, match="compare"):
        estimate_power(parse_experiment({**_acute(), "compare": []}), [5], replicates=2)


# --- the model as a function of its parameters -------------------------------------------------------------


def test_subject_model_is_deterministic_and_sensitive() -> None:
    exp = parse_experiment(_acute())
    outcome = Outcome("PPT", "quadriceps_right")
    model = SubjectModel(exp, 1, ("descending_efficacy",), outcome, -5.0, 30.0, 0)
    x = np.array([[0.0], [1.0], [2.0], [1.0]])
    y = model(x)
    assert y[1] == y[3]  # same parameters, same output: no noise
    assert y[0] < y[1] < y[2]  # more descending inhibition, more hypoalgesia


def test_sensitivity_of_the_model_runs_through_analyse() -> None:
    exp = parse_experiment(_acute())
    params = ["descending_efficacy", "ppt_quadriceps_kpa", "tau_fitness"]
    result = run_sensitivity(exp, method="sobol", n=8, params=params, output="PPT@quadriceps_right")
    assert result.arm == "exercise" and result.time_min == 30.0 and result.evaluations == 8 * 5
    t = result.indices.set_index("parameter")
    assert set(t.index) == set(params)
    assert t.loc["descending_efficacy", "ST"] > t.loc["tau_fitness", "ST"]
    assert t["ST"].iloc[0] == t["ST"].max()


def test_sensitivity_input_errors() -> None:
    exp = parse_experiment(_acute())
    with pytest.raises(InputError, match="parameter names"):
        run_sensitivity(exp, method="morris", n=2, params=["no_such_parameter"])
    with pytest.raises(InputError, match="power of 2"):
        run_sensitivity(exp, method="sobol", n=12, params=["k_md"])
    with pytest.raises(InputError, match="time"):
        run_sensitivity(exp, method="morris", n=2, params=["k_md"], time=12.5)


# --- command line ------------------------------------------------------------------------------------------


@pytest.fixture
def experiment_file(tmp_path: Path) -> Path:
    path = tmp_path / "acute.yaml"
    path.write_text(yaml.safe_dump(_acute()), encoding="utf-8")
    return path


def test_cli_trial_writes_csv_and_plot(experiment_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "power"
    args = ["trial", str(experiment_file), "--n-per-arm", "4:12:4", "--replicates", "10", "--out", str(out)]
    res = CliRunner().invoke(app, [*args, "--quiet"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "power.csv")
    assert list(table.columns) == list(POWER_COLUMNS) and list(table["n_per_arm"]) == [4, 8, 12]
    assert (out / "power.png").stat().st_size > 0
    assert "smallest n per arm" in res.output or "not reached" in res.output


def test_cli_trial_bad_range_is_one_line_error(experiment_file: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["trial", str(experiment_file), "--n-per-arm", "10:5:1", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert res.output.strip().startswith("error: n_per_arm") and len(res.output.strip().splitlines()) == 1


def test_cli_sensitivity_writes_csv_and_plot(experiment_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "sa"
    res = CliRunner().invoke(
        app,
        [
            "sensitivity",
            str(experiment_file),
            "--output",
            "PPT@quadriceps_right",
            "--method",
            "morris",
            "--n",
            "3",
            "--params",
            "descending_efficacy,k_md,ppt_quadriceps_kpa",
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "indices.csv")
    assert list(table.columns) == list(COLUMNS["morris"]) and len(table) == 3
    assert table["mu_star"].is_monotonic_decreasing
    assert (out / "indices.png").stat().st_size > 0
    assert "descending_efficacy" in res.output


def test_cli_sensitivity_bad_method(experiment_file: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["sensitivity", str(experiment_file), "--method", "fast", "--out", str(tmp_path)])
    assert res.exit_code == 2 and res.output.startswith("error: method")
