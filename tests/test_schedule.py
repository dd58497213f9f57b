"""The integration grid: fine steps where a probe looks, coarse steps in the unobserved sessions of a programme."""

from __future__ import annotations

import numpy as np
import pytest

from eihlab.evidence.runner import estimated_steps, group_by_simulation, load_entries
from eihlab.experiment.runner import parse_experiment, run_experiment
from eihlab.protocol import schedule as schedule_mod
from eihlab.protocol.events import AcidEvent, ExerciseEvent, ProbeEvent
from eihlab.protocol.physiology import SubjectPhysiology
from eihlab.protocol.schedule import FINE_DT_MIN, UNOBSERVED_DT_MIN, build_schedule

WEEK = 7 * 1440.0
PROGRAMME = {
    "schema_version": 1,
    "name": "programme_grid",
    "design": "parallel",
    "cohort": {"species": "human", "condition": "chronic_low_back_pain", "n": 4, "seed": 5},
    "arms": [
        {
            "name": "training",
            "events": [
                {
                    "kind": "exercise",
                    "type": "cycling",
                    "intensity": {"value": 60, "unit": "%HRR"},
                    "duration": 30,
                    "weeks": 4,
                    "sessions_per_week": 3,
                },
                {
                    "kind": "probe",
                    "times": [-10, "2 wk", "4 wk"],
                    "measures": [
                        {"measure": "PPT", "site": "trapezius_right"},
                        {"measure": "HPT", "site": "forearm_left"},
                    ],
                },
            ],
        }
    ],
}


def _steps_in(steps: list[tuple[float, float]], t0: float, t1: float) -> set[float]:
    return {round(dt, 6) for t, dt in steps if t0 <= t < t1}


def test_sessions_no_probe_observes_take_the_coarse_step() -> None:
    phys = SubjectPhysiology.typical(1)
    bout = ExerciseEvent.model_validate(PROGRAMME["arms"][0]["events"][0])
    probe = ProbeEvent.model_validate(
        {"kind": "probe", "times": [-10, 40], "measures": [{"measure": "HPT", "site": "forearm_left"}]}
    )
    late = ProbeEvent.model_validate(
        {"kind": "probe", "times": [4 * WEEK], "measures": [{"measure": "HPT", "site": "forearm_left"}]}
    )
    sched = build_schedule([bout, probe, late], phys)
    steps = sched.grid()
    first, later = sched.bouts[0], sched.bouts[5]
    assert _steps_in(steps, first.t0, first.t1) == {FINE_DT_MIN}  # a probe 10 min after it: observed
    assert _steps_in(steps, later.t0, later.t1) == {UNOBSERVED_DT_MIN}
    # a bout held to exhaustion keeps the fine step (each subject's step is stretched to its own endurance)
    exhaust = ExerciseEvent.model_validate(
        {
            "kind": "exercise",
            "type": "cycling",
            "intensity": {"value": 80, "unit": "%VO2max"},
            "duration": "to_exhaustion",
            "at": 0,
        }
    )
    sched = build_schedule([exhaust, late], phys)
    assert _steps_in(sched.grid(), sched.bouts[0].t0, sched.bouts[0].t1) == {FINE_DT_MIN}


def test_coarse_unobserved_sessions_leave_the_probes_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    exp = parse_experiment(PROGRAMME)
    coarse = run_experiment(exp).observations.value.to_numpy()
    monkeypatch.setattr(schedule_mod, "UNOBSERVED_DT_MIN", FINE_DT_MIN)
    fine = run_experiment(exp).observations.value.to_numpy()
    np.testing.assert_allclose(coarse, fine, rtol=1e-4, atol=1e-6)


def test_evidence_runs_the_costliest_simulations_first() -> None:
    entries = {e.id: e for e in load_entries()}
    long_programme = estimated_steps(entries["villemure2014_yoga_insula"])
    acute = estimated_steps(entries["hviid2019_walking_ppt"])
    assert long_programme > 50 * acute > 0
    groups = group_by_simulation(list(entries.values()))
    costs = [estimated_steps(group[0]) for group in groups]
    assert costs == sorted(costs, reverse=True)


def test_acid_drives_nociceptors_only_below_the_asic3_threshold() -> None:
    assert schedule_mod.acid_drive(7.2) == 0.0  # neutral saline
    assert schedule_mod.acid_drive(5.0) == pytest.approx(2.0)
    assert schedule_mod.acid_drive(4.0) == pytest.approx(3.0)
    # the pH deficit halves every 20 min: from pH 5 the drive ends after 20 log2(2.4 / 0.4) = 51.7 min
    assert schedule_mod.acid_duration(7.4 - 5.0) == pytest.approx(20.0 * np.log2(6.0))
    assert schedule_mod.acid_duration(7.4 - 7.2) == 0.0
    acid = AcidEvent.model_validate({"kind": "acid", "ph": 5.0, "body_region": "lower_limb_left", "at": 0})
    probe = ProbeEvent.model_validate(
        {"kind": "probe", "times": [120], "measures": [{"measure": "HPT", "site": "forearm_left"}]}
    )
    sched = build_schedule([acid, probe], SubjectPhysiology.typical(1))
    assert float(np.max(sched.inputs_at(50.0).acid)) > 0.0
    assert float(np.max(sched.inputs_at(52.0).acid)) == 0.0
