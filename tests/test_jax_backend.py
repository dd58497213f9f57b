"""The JAX backend is the same model: it reproduces the numpy engine's observations to rounding on CPU."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eihlab.errors import InputError
from eihlab.experiment.runner import arm_observations, load_experiment, parse_experiment

pytest.importorskip("jax")


def _both(exp, index: int, monkeypatch: pytest.MonkeyPatch) -> tuple[pd.DataFrame, pd.DataFrame]:
    monkeypatch.setenv("EIHLAB_BACKEND", "numpy")
    ref = arm_observations(exp, index)
    monkeypatch.setenv("EIHLAB_BACKEND", "jax")
    return ref, arm_observations(exp, index)


def test_acute_bout_equal_to_rounding(monkeypatch: pytest.MonkeyPatch) -> None:
    """30 min cycling with probes before and after: every observation equal to 1e-12 relative."""
    exp = parse_experiment(
        {
            "schema_version": 1,
            "name": "jax_equality",
            "cohort": {"species": "human", "condition": "fibromyalgia", "n": 48, "seed": 11},
            "arms": [
                {
                    "name": "cycling",
                    "events": [
                        {
                            "kind": "exercise",
                            "type": "cycling",
                            "intensity": {"value": 60, "unit": "%HRR"},
                            "duration": 20,
                        },
                        {
                            "kind": "probe",
                            "times": [-5, 20, 40],
                            "measures": [
                                {"measure": "PPT", "site": "quadriceps_right"},
                                {"measure": "HPT", "site": "forearm_left"},
                            ],
                        },
                    ],
                }
            ],
        }
    )
    ref, got = _both(exp, 0, monkeypatch)
    assert ref[["subject", "time_min", "measure", "site"]].equals(got[["subject", "time_min", "measure", "site"]])
    np.testing.assert_allclose(got["value"], ref["value"], rtol=1e-12)
    assert ref.loc[ref["time_min"] == 20, "value"].mean() != ref.loc[ref["time_min"] == -5, "value"].mean()


def test_drug_and_knockout_arm_equal_to_rounding(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bundled experiment with a drug dose (traced drug levels) and its arms: equal to 1e-12 relative."""
    exp = load_experiment("knockout_cb1_acute_eih")
    exp = exp.model_copy(update={"cohort": exp.cohort.model_copy(update={"n": 16})})
    for index in range(len(exp.arms)):
        ref, got = _both(exp, index, monkeypatch)
        np.testing.assert_allclose(got["value"], ref["value"], rtol=1e-12)


def test_unknown_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A misspelt EIHLAB_BACKEND names the variable, the value and the choices."""
    monkeypatch.setenv("EIHLAB_BACKEND", "jaxx")
    exp = load_experiment("knockout_cb1_acute_eih")
    with pytest.raises(InputError, match="EIHLAB_BACKEND.*jaxx.*numpy"):
        arm_observations(exp, 0, 0, 2)
