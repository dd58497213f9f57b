"""The SBML export is the model: its equations equal the engine's right-hand side, and libRoadRunner runs it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from eihlab.cli.main import app
from eihlab.model import sbml, system
from eihlab.model.body import REGION_NAMES
from eihlab.model.inputs import FAMILIES, Inputs
from eihlab.model.registry import STATES

sympy = pytest.importorskip("sympy")


def _cycling(intensity: float) -> Inputs:
    u = Inputs.rest(1)
    u.exercising = np.ones(1)
    u.intensity = np.full(1, intensity)
    u.family = FAMILIES.index("aerobic")
    u.region_weight = np.array([1.0 if r.startswith("lower_limb") else 0.0 for r in REGION_NAMES])
    u.muscle_fraction = 0.5
    return u


def _numeric_rhs(state: system.State, params: system.Params, u: Inputs) -> dict[str, float]:
    rates = system.derivatives(state, system.evaluate(state, params, u))
    out: dict[str, float] = {}
    for s in STATES:
        flat = rates[s.name].reshape(-1)
        out.update(zip(sbml.state_ids(s.name, s.per_region), map(float, flat), strict=True))
    return out


def _symbolic_rhs(
    eq: sbml.Equations, state: system.State, params: system.Params, u_on: float, u_int: float
) -> dict[str, float]:
    values: dict[str, float] = {}
    for s in STATES:
        values.update(zip(sbml.state_ids(s.name, s.per_region), map(float, state[s.name].reshape(-1)), strict=True))
    for pid in eq.parameters:
        if pid.startswith("psens_condition__"):
            values[pid] = float(params["psens_condition"][0, REGION_NAMES.index(pid.split("__")[1])])
        elif pid in params:
            values[pid] = float(params[pid][0])
    values.update(u_exercising=u_on, u_intensity=u_int)
    for sid, expr in eq.signals.items():  # in evaluation order
        values[sid] = float(expr.subs(values))
    return {sid: float(expr.subs(values)) for sid, expr in eq.rates.items()}


@pytest.fixture(scope="module")
def perturbed() -> tuple[system.State, system.Params]:
    rng = np.random.default_rng(3)
    params = system.default_parameters(1)
    params["session_exertion"] = np.ones(1)
    state = system.steady_state(params, Inputs.rest(1))
    state = {k: v * (1.0 + 0.2 * rng.random(v.shape)) + 0.01 * rng.random(v.shape) for k, v in state.items()}
    state["fatigue"] = np.array([0.4])
    return state, params


@pytest.mark.parametrize("intensity", [0.0, 0.75])
def test_exported_equations_equal_the_engine_rhs(
    perturbed: tuple[system.State, system.Params], intensity: float
) -> None:
    """Every state's dy/dt from the sympy equations equals the numpy model's, at rest and during a bout."""
    state, params = perturbed
    eq = sbml.equations(_cycling(0.75))
    u = _cycling(intensity) if intensity > 0 else Inputs.rest(1)
    expected = _numeric_rhs(state, params, u)
    got = _symbolic_rhs(eq, state, params, 1.0 if intensity > 0 else 0.0, intensity)
    assert set(got) == set(expected)
    for sid, value in expected.items():
        assert got[sid] == pytest.approx(value, rel=1e-9, abs=1e-12), sid
    assert any(abs(v) > 1e-3 for v in expected.values())  # the comparison is not between zeros


def test_rise_decay_switch_has_no_condition() -> None:
    """``τ = τ_rise if F > y else τ_decay`` is exported as max/min, not as a piecewise a simulator must root-find."""
    eq = sbml.equations(_cycling(0.75))
    md = eq.rates["md_modulation"]  # τ_md_rise while rising, τ_md_modulation while decaying
    assert not md.has(sympy.Piecewise)
    assert md.has(sympy.Max) and md.has(sympy.Min)


def test_sbml_document_is_valid_and_runs_in_roadrunner() -> None:
    """libsbml finds no error; libRoadRunner loads it and a 30-min bout moves the gate as the engine does."""
    libsbml = pytest.importorskip("libsbml")
    roadrunner = pytest.importorskip("roadrunner")
    text = sbml.export(_cycling(0.75))
    doc = libsbml.readSBMLFromString(text)
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    assert doc.getModel().getNumRules() == len(sbml.equations(_cycling(0.75)).rates) + len(
        sbml.equations(_cycling(0.75)).signals
    )
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = 1e-8
    rr.integrator.absolute_tolerance = 1e-12
    params = system.default_parameters(1)
    params["session_exertion"] = np.ones(1)
    rest = system.steady_state(params, Inputs.rest(1))
    for s in STATES:
        for sid, v in zip(sbml.state_ids(s.name, s.per_region), rest[s.name].reshape(-1), strict=True):
            rr[sid] = float(v)
    rr["u_exercising"], rr["u_intensity"] = 1.0, 0.75
    rr.simulate(0.0, 10.0, 2)
    state, u = rest, _cycling(0.75)
    for _ in range(40):
        state = system.step(state, params, u, 0.25)
    for name in ("gate", "md_modulation", "fatigue"):
        ids = sbml.state_ids(name, name == "gate")
        got = np.array([rr[i] for i in ids])
        assert np.allclose(got, state[name].reshape(-1), rtol=1e-4, atol=1e-9), name
    assert rr["gate__lower_limb_left"] > 0.01


def test_cli_writes_sbml_and_refuses_bad_input(tmp_path: Path) -> None:
    """``eihlab model sbml`` writes a document that libsbml reads; a wrong suffix is one line and exit 2."""
    libsbml = pytest.importorskip("libsbml")
    out = tmp_path / "eih.xml"
    ok = CliRunner().invoke(app, ["model", "sbml", str(out), "--exercise", "cycling"])
    assert ok.exit_code == 0, ok.output
    doc = libsbml.readSBMLFromFile(str(out))
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    assert 0.3 < doc.getModel().getParameter("u_intensity").getValue() < 1.0
    bad = CliRunner().invoke(app, ["model", "sbml", str(tmp_path / "eih.txt")])
    assert bad.exit_code == 2 and "must end in .xml" in bad.output
    assert not (tmp_path / "eih.txt").exists()
