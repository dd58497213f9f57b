"""Experiments end to end: reproducibility, EIH direction, bad input, CLI."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from conftest import ACUTE
from eihlab.cli.main import app, main
from eihlab.errors import InputError
from eihlab.experiment.runner import parse_experiment, run_experiment

runner = CliRunner()


def _write(tmp_path, data) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def test_same_seed_identical_files(tmp_path) -> None:
    exp = _write(tmp_path, ACUTE)
    for out in ("a", "b"):
        result = runner.invoke(app, ["run", exp, "--out", str(tmp_path / out), "--quiet"])
        assert result.exit_code == 0, result.output
    for name in ("observations.csv", "summary.csv", "experiment.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert list((tmp_path / "a" / "figures").glob("*.png"))


def test_subject_numbers_do_not_depend_on_cohort_size() -> None:
    small = run_experiment(parse_experiment(ACUTE), n=5).observations
    big = run_experiment(parse_experiment(ACUTE), n=12).observations
    a = small[small.subject < 5].value.to_numpy()
    b = big[big.subject < 5].value.to_numpy()
    np.testing.assert_allclose(np.sort(a), np.sort(b))


def test_aerobic_exercise_raises_ppt_more_than_hpt() -> None:
    res = run_experiment(parse_experiment(ACUTE), n=60)
    net = res.contrasts.set_index(["measure", "time_min"])
    assert net.loc[("PPT", 30.0), "net_ci_low"] > 0
    s = res.summary.set_index(["arm", "measure", "time_min"])
    ppt_pct = s.loc[("exercise", "PPT", 30.0), "pct_change_mean"]
    hpt_pct = s.loc[("exercise", "HPT", 30.0), "pct_change_mean"]
    assert ppt_pct > hpt_pct


def test_parallel_groups_of_their_own_size() -> None:
    """A parallel arm may have its own n; ids never overlap, and an n override keeps the groups' ratio."""
    data = copy.deepcopy(ACUTE)
    data["design"] = "parallel"
    data["arms"][0]["n"] = 4
    exp = parse_experiment(data)
    assert exp.size_text() == "n = 4 (rest), 30 (exercise)"
    ids = run_experiment(exp, n=15).observations.groupby("arm").subject.unique()
    assert len(ids["rest"]) == 2 and len(ids["exercise"]) == 15  # 4 x 15/30 = 2
    assert not set(ids["rest"]) & set(ids["exercise"])
    same = run_experiment(exp, n=15, workers=2, shard_size=8).observations.groupby("arm").subject.unique()
    assert all(sorted(same[a]) == sorted(ids[a]) for a in ("rest", "exercise"))


def test_knockout_names_are_checked() -> None:
    bad = copy.deepcopy(ACUTE)
    bad["arms"][1]["knockouts"] = ["no_such_edge"]
    with pytest.raises(InputError, match="arms\\[1\\].knockouts"):
        run_experiment(parse_experiment(bad))


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["cohort"].update(species="dog"), "cohort.species"),
        (lambda d: d["arms"][1]["events"][0].update(duration=-5), "duration"),
        (lambda d: d["arms"][1]["events"][0]["intensity"].update(unit="%furlongs"), "unit"),
        (lambda d: d["arms"][1]["events"][0]["intensity"].update(value=150), "intensity"),
        (lambda d: d["arms"][0]["events"][0]["measures"][0].update(site="elbow_of_mars"), "site"),
        (lambda d: d["cohort"].update(condition="lycanthropy"), "cohort.condition"),
        (lambda d: d.update(colour="blue"), "colour"),
        (lambda d: d["arms"][0].update(n=10), "arms[0].n"),
        (lambda d: d["cohort"].update(parameters={"vo2_rest_fraction": 0.1}), "cohort.parameters.vo2_rest_fraction"),
    ],
)
def test_bad_input_exit_2_one_line_no_output(tmp_path, mutate, expected) -> None:
    data = copy.deepcopy(ACUTE)
    mutate(data)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", _write(tmp_path, data), "--out", str(out), "--quiet"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and expected in lines[0], result.output
    assert not out.exists()


def test_malformed_yaml(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("cohort: [unclosed\n", encoding="utf-8")
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "YAML" in result.output


def test_model_describe_json() -> None:
    result = runner.invoke(app, ["model", "describe", "--json"])
    data = json.loads(result.output)
    assert len(data["nodes"]) > 50 and len(data["edges"]) > 80 and len(data["parameters"]) > 100


@pytest.mark.slow
@pytest.mark.parametrize("name", __import__("eihlab.experiment.runner", fromlist=["x"]).bundled_names())
def test_every_bundled_experiment_runs(name: str) -> None:
    """Every bundled experiment runs (two subjects per arm) and gives finite values for every probe."""
    from eihlab.experiment.runner import load_experiment

    res = run_experiment(load_experiment(name), n=2)
    assert len(res.observations) > 0
    assert np.isfinite(res.observations.value).all()


@pytest.mark.parametrize(
    ("argv", "command", "fragment"),
    [
        (["evidence", "run", "--bogus"], "evidence run", "No such option: --bogus"),
        (["evidence", "replicate", "--only", "a", "b"], "evidence replicate", "unexpected extra argument"),
        (["calibrate", "--max-evaluations", "many"], "calibrate", "Invalid value for '--max-evaluations'"),
    ],
)
def test_cli_usage_error_is_one_line_with_exit_2(
    argv: list[str], command: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err
    assert lines[0].endswith(f"(see 'eihlab {command} --help')"), err


def test_cli_main_returns_the_command_exit_status() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["model", "describe", "--json"])
    assert exit_info.value.code == 0
