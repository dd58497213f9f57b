"""Calibration: the loss is judge's continuous twin, defaults can be trialled and restored, fits are recorded."""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from eihlab.errors import InputError
from eihlab.evidence import Entry
from eihlab.evidence.calibrate import Scale, calibrate, resolve_params, write_calibration
from eihlab.evidence.evaluate import Estimate, judge, shortfall
from eihlab.evidence.schema import Expectation, Term
from eihlab.model import registry, system

TERM = Term(arm="a", measure="PPT")
finite = st.floats(-50, 50, allow_nan=False)


@given(
    expect=st.sampled_from(["increase", "decrease", "not_increase", "not_decrease", "positive", "negative"]),
    centre=finite,
    half=st.floats(0.01, 20),
)
def test_shortfall_is_zero_exactly_when_judge_passes(expect: str, centre: float, half: float) -> None:
    """For every CI rule, shortfall == 0 iff the expectation passes, and it grows as the CI moves away."""
    if expect in ("positive", "negative"):
        exp = Expectation(text="t", correlation=(TERM, TERM), expect=expect)  # type: ignore[arg-type]
    else:
        exp = Expectation(text="t", contrast=[TERM], expect=expect)  # type: ignore[arg-type]
    est = Estimate(centre, centre - half, centre + half, 10)
    s = shortfall(exp, est)
    assert s >= 0
    assert (s == 0) == judge(exp, est)


@pytest.mark.parametrize(("value", "expected"), [(5.0, 0.0), (1.0, 0.0), (0.0, 0.25), (9.0, 1.0)])
def test_shortfall_within_is_the_distance_over_the_width(value: float, expected: float) -> None:
    exp = Expectation(text="t", contrast=[TERM], expect="within", low=1.0, high=5.0)
    assert shortfall(exp, Estimate(value, math.nan, math.nan, 10)) == pytest.approx(expected)
    assert shortfall(exp, Estimate(math.nan, math.nan, math.nan, 0)) == 10.0


def test_scale_round_trips_on_log_and_linear_bounds() -> None:
    for lo, hi, v in ((200.0, 1000.0, 520.0), (-1.0, 3.0, 0.5), (0.0, 2.0, 1.3)):
        s = Scale(lo, hi)
        assert s.from_unit(s.to_unit(v)) == pytest.approx(v)
        assert s.from_unit(-0.5) == lo and s.from_unit(1.5) == pytest.approx(hi)


def test_trial_defaults_apply_and_restore() -> None:
    before = system.reference_levels()
    default = registry.PARAM_BY_NAME["descending_efficacy"].default
    with registry.trial_defaults({"descending_efficacy": default * 0.5}):
        assert registry.PARAM_BY_NAME["descending_efficacy"].default == pytest.approx(default * 0.5)
        assert system.default_parameters(1)["descending_efficacy"][0] == pytest.approx(default * 0.5)
        assert system.reference_levels() != before
    assert registry.PARAM_BY_NAME["descending_efficacy"].default == default
    assert system.reference_levels() == before
    with pytest.raises(InputError, match="descending_efficacy"), registry.trial_defaults({"descending_efficacy": 1e9}):
        pass


def _baseline_entry(low: float, high: float) -> Entry:
    return Entry.model_validate(
        {
            "id": "toy_ppt_baseline",
            "ref": "test",
            "level": "calibration",
            "experiment": {
                "name": "toy",
                "cohort": {"species": "human", "n": 12, "seed": 5},
                "arms": [
                    {
                        "name": "rest",
                        "events": [
                            {
                                "kind": "probe",
                                "times": [0],
                                "measures": [{"measure": "PPT", "site": "quadriceps_right"}],
                            }
                        ],
                    }
                ],
            },
            "expectations": [
                {
                    "text": "baseline PPT in range",
                    "contrast": [
                        {"arm": "rest", "measure": "PPT", "site": "quadriceps_right", "time": 0, "statistic": "value"}
                    ],
                    "expect": "within",
                    "low": low,
                    "high": high,
                }
            ],
        }
    )


def test_calibration_fits_resumes_and_records(tmp_path) -> None:
    """A one-parameter fit moves the PPT scale into a target range; a resumed run replays its journal."""
    entry = _baseline_entry(700.0, 720.0)
    params = resolve_params(["ppt_quadriceps_kpa"])
    journal = tmp_path / "journal.jsonl"
    fit = calibrate(params, [entry], max_evaluations=30, journal=journal)
    assert fit.loss_before > 0 and fit.loss_after == 0
    assert fit.after["ppt_quadriceps_kpa"] > fit.before["ppt_quadriceps_kpa"]
    assert fit.entries_after["toy_ppt_baseline"]["passed"] and not fit.entries_before["toy_ppt_baseline"]["passed"]
    lines = journal.read_text().splitlines()
    calls: list[int] = []
    again = calibrate(
        params, [entry], max_evaluations=30, journal=journal, resume=True, progress=lambda c, *_: calls.append(c)
    )
    assert again.after == fit.after and journal.read_text().splitlines() == lines  # nothing re-simulated

    out = tmp_path / "calibrated.yaml"
    write_calibration(fit, "eihlab calibrate --params ppt_quadriceps_kpa", out)
    data = yaml.safe_load(out.read_text())
    assert data["parameters"]["ppt_quadriceps_kpa"]["targets"] == ["toy_ppt_baseline"]
    p = registry.calibrated(
        registry.PARAM_BY_NAME["ppt_quadriceps_kpa"],
        data["parameters"]["ppt_quadriceps_kpa"]["value"],
        ["toy_ppt_baseline"],
    )
    assert p.source.startswith("calibrated to toy_ppt_baseline (prior:")


def test_calibration_on_several_cohorts_fits_their_mean_loss(tmp_path) -> None:
    """With cohorts = 2 an entry's loss is the mean of its losses on its seed and the next (each judged as
    `eihlab evidence replicate` judges it), its pass needs both, and the journal refuses a resume with another K."""
    from eihlab.evidence.calibrate import Evaluator, entry_loss
    from eihlab.evidence.replicate import with_seed_offset
    from eihlab.evidence.runner import run_entries

    entry = _baseline_entry(690.0, 740.0)
    journal = tmp_path / "journal.jsonl"
    ev = Evaluator(["ppt_quadriceps_kpa"], [entry], journal, cohorts=2)
    record = ev.details([520.0])
    with registry.trial_defaults({"ppt_quadriceps_kpa": 520.0}):
        by_hand = [entry_loss(r) for r in run_entries([entry, with_seed_offset(entry, 1)])]
    assert by_hand[0] != by_hand[1]  # two different cohorts
    assert record["loss"] == pytest.approx(sum(by_hand) / 2, rel=1e-12)
    assert record["cohorts"] == 2 and record["entries"]["toy_ppt_baseline"]["passes"] == 0

    fit = calibrate(resolve_params(["ppt_quadriceps_kpa"]), [entry], max_evaluations=30, cohorts=2)
    assert fit.loss_after == 0 and fit.entries_after["toy_ppt_baseline"] == {"loss": 0.0, "passed": True, "passes": 2}
    with pytest.raises(InputError, match="number of cohorts"):
        Evaluator(["ppt_quadriceps_kpa"], [entry], journal, cohorts=3).load_journal()
    with pytest.raises(InputError, match="--cohorts"):
        calibrate(resolve_params(["ppt_quadriceps_kpa"]), [entry], cohorts=0)


def test_bad_parameter_names_are_refused() -> None:
    with pytest.raises(InputError, match="not_a_parameter"):
        resolve_params(["not_a_parameter"])
    with pytest.raises(InputError, match="--params"):
        resolve_params([])


def test_bundled_calibration_file_is_consistent() -> None:
    """Every calibrated default names its targets, lies in its bounds, and the targets are bundled entries."""
    from eihlab.evidence import load_entries

    ids = {e.id for e in load_entries()}
    fitted = registry.read_calibration()["parameters"]
    for name, record in fitted.items():
        p = registry.PARAM_BY_NAME[name]
        assert p.default == record["value"] and p.lower <= p.default <= p.upper
        assert p.source.startswith("calibrated to ")
        assert set(record["targets"]) <= ids, name


def test_reproduce_needs_recorded_runs(tmp_path) -> None:
    """`make calibrate` replays recorded runs; a file without any is refused and left in place."""
    from eihlab.evidence.calibrate import reproduce

    empty = tmp_path / "calibrated.yaml"
    empty.write_text("parameters: {}\n", encoding="utf-8")
    with pytest.raises(InputError, match="no recorded runs"):
        reproduce(empty)
    assert empty.exists()


def test_bundled_runs_name_their_parameters_and_targets() -> None:
    """Every recorded run names the parameters it fitted and an exact command with those parameters."""
    data = registry.read_calibration()
    for run in data.get("runs", []):
        assert run["command"].startswith("eihlab calibrate --params " + ",".join(run["parameters"]))
        assert run["loss_after"] <= run["loss_before"]
    assert "&id" not in registry.CALIBRATION_FILE.read_text(encoding="utf-8")  # no YAML anchors
