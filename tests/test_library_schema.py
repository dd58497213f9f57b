"""The bundled experiment library: every file is a valid experiment; every study in the evidence base has one.

Each ``src/eihlab/experiment/library/*.yaml`` must load with ``yaml.safe_load``, validate as an
:class:`~eihlab.experiment.schema.Experiment`, carry its file stem as ``name``, and use only sites,
conditions, agents and intensity units that exist for its cohort's species. Every empirical or mechanism
finding of ``shared/spec/findings.yaml`` about humans, rats, mice or cats (cats are simulated as rats,
mechanisms.md §11.3) must have a file named after its id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import eihlab.experiment
from eihlab.experiment.schema import Experiment
from eihlab.model.body import REGION_GROUPS, get_site
from eihlab.model.pharmacology import AGENTS
from eihlab.population.conditions import get_condition
from eihlab.protocol.events import DrugEvent, ExerciseEvent, ProbeEvent
from eihlab.protocol.exercise import EXERCISE_TYPES
from eihlab.protocol.intensity import ALLOWED_UNITS, SPECIES_UNITS

LIBRARY = Path(eihlab.experiment.__file__).resolve().parent / "library"
FILES = sorted(LIBRARY.glob("*.yaml"))
FINDINGS = Path(__file__).resolve().parents[2] / "shared/spec/findings.yaml"
SPECIES_WITH_FILES = {"human", "rat", "mouse", "cat"}
KINDS_WITH_FILES = {"empirical", "mechanism"}
RODENT_ONLY_MEASURES = {"von_frey", "hargreaves", "paw_pressure"}


def _load(path: Path) -> Experiment:
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(raw, dict), f"{path.name}: the document must be a mapping"
    return Experiment.model_validate(raw)


def test_library_is_not_empty() -> None:
    assert FILES, f"no experiment files in {LIBRARY}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_file_validates_and_is_named_after_its_stem(path: Path) -> None:
    exp = _load(path)
    assert exp.name == path.stem
    assert exp.description.strip(), "every library experiment needs a description"
    first = path.read_text(encoding="utf-8").splitlines()[0]
    if first.startswith("# finding:"):
        assert first.removeprefix("# finding:").strip() == path.stem
        assert exp.reference.strip(), "a finding's experiment must cite its reference"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_names_exist_for_the_cohort_species(path: Path) -> None:
    exp = _load(path)
    species = exp.cohort.species
    get_condition(exp.cohort.condition, species)
    for arm in exp.arms:
        get_condition(arm.condition or exp.cohort.condition, species, f"arms.{arm.name}.condition")
        for ev in arm.events:
            if isinstance(ev, ProbeEvent):
                for m in ev.measures:
                    if m.site is not None:
                        get_site(m.site, species, f"arms.{arm.name}.measures.site")
                    if m.measure in RODENT_ONLY_MEASURES:
                        assert species != "human", f"{m.measure} is a rodent assay"
                    if m.measure == "CPM":
                        assert m.conditioning.body_region in REGION_GROUPS
            elif isinstance(ev, DrugEvent):
                assert ev.agent in AGENTS
            elif isinstance(ev, ExerciseEvent) and ev.intensity is not None:
                family = EXERCISE_TYPES[ev.type].family
                unit = ev.intensity.unit
                allowed = ALLOWED_UNITS[family]  # type: ignore[index]
                assert unit in allowed, f"{unit} is not a unit for {family} exercise"
                assert unit in SPECIES_UNITS[species], f"{unit} is not a unit for a {species}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_arm_with_exercise_has_a_baseline_probe(path: Path) -> None:
    exp = _load(path)
    for arm in exp.arms:
        bouts = [t for ev in arm.events if isinstance(ev, ExerciseEvent) for t in ev.start_times()]
        probes = [t for ev in arm.events if isinstance(ev, ProbeEvent) for t in ev.start_times()]
        assert probes, f"arm {arm.name} observes nothing"
        if bouts:
            assert min(probes) < min(bouts), f"arm {arm.name} has no probe before its first bout"


def test_every_study_finding_has_an_experiment() -> None:
    if not FINDINGS.is_file():
        pytest.skip(f"findings file not found at {FINDINGS} (the shared spec is not checked out here)")
    findings = yaml.safe_load(FINDINGS.read_text(encoding="utf-8"))["findings"]
    kinds, species = KINDS_WITH_FILES, SPECIES_WITH_FILES
    wanted = {f["id"] for f in findings if f.get("kind") in kinds and f.get("species") in species}
    assert wanted, "no study findings found; has the findings schema changed?"
    have = {p.stem for p in FILES}
    missing = sorted(wanted - have)
    assert not missing, f"findings without an experiment file: {missing}"
    for fid in wanted:
        exp = _load(LIBRARY / f"{fid}.yaml")
        ref = next(f["ref"] for f in findings if f["id"] == fid)
        assert exp.reference == ref, f"{fid}: reference differs from findings.yaml"
