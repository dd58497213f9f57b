"""Running an experiment: sample each arm's cohort, simulate it, collect tidy observations and summaries."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from eihlab.engine.simulate import Perturbation, simulate_arm
from eihlab.errors import InputError
from eihlab.experiment.schema import Arm, Experiment
from eihlab.model.registry import EDGE_BY_ID, NODE_BY_NAME, resolve_edge, resolve_node
from eihlab.population.cohort import check_overrides, sample_cohort
from eihlab.population.conditions import get_condition
from eihlab.protocol.events import InjuryEvent
from eihlab.protocol.schedule import Schedule, build_schedule
from eihlab.stats import net_change, summarise

if TYPE_CHECKING:
    from eihlab.engine.executors import Executor
    from eihlab.engine.shards import ShardDone

LIBRARY = Path(__file__).with_name("library")
OBS_COLUMNS = ["subject", "arm", "time_min", "measure", "site", "trial", "value", "unit", "censored"]


@dataclass(frozen=True)
class Result:
    """Observations (one row per trial), the summary and the requested contrasts of one run."""

    experiment: Experiment
    observations: pd.DataFrame
    summary: pd.DataFrame
    contrasts: pd.DataFrame


def _first_error_line(err: ValidationError) -> InputError:
    e = err.errors()[0]
    loc = ".".join(str(x) for x in e["loc"] if not (isinstance(x, str) and x in _EVENT_KINDS))
    msg = e["msg"].removeprefix("Value error, ")
    value = e.get("input")
    if isinstance(value, dict | list):
        value = "<" + type(value).__name__ + ">"
    return InputError(loc or "experiment", value, msg)


_EVENT_KINDS = {"exercise", "drug", "stimulation", "injury", "acid", "probe"}


def parse_experiment(data: object) -> Experiment:
    """Validate a mapping as an experiment, turning pydantic's report into one :class:`InputError`."""
    if not isinstance(data, dict):
        raise InputError("experiment", type(data).__name__, "a YAML mapping with cohort and arms")
    try:
        return Experiment.model_validate(data)
    except ValidationError as err:
        raise _first_error_line(err) from None


def bundled_names() -> list[str]:
    """Names of the bundled experiments."""
    return sorted(p.stem for p in LIBRARY.glob("*.yaml"))


def load_experiment(source: str | Path) -> Experiment:
    """Load an experiment from a path or a bundled name."""
    path = Path(source)
    if not path.exists():
        bundled = LIBRARY / f"{source}.yaml"
        if not bundled.exists():
            raise InputError(
                "experiment", str(source), "an existing YAML file or a bundled name (`eihlab experiments list`)"
            )
        path = bundled
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        raise InputError(f"{path.name} ({where})", "malformed YAML", "valid YAML") from None
    return parse_experiment(data)


def _perturbation(arm: Arm, where: str) -> Perturbation:
    edges: dict[str, float] = {}
    nodes: dict[str, float] = {}
    for name in arm.knockouts:
        if name in NODE_BY_NAME:
            nodes[name] = 0.0
        else:
            edges[resolve_edge(name, f"{where}.knockouts")] = 0.0
    for name, factor in arm.scale.items():
        if name in NODE_BY_NAME:
            nodes[resolve_node(name, f"{where}.scale")] = factor
        elif name in EDGE_BY_ID or "->" in name:
            edges[resolve_edge(name, f"{where}.scale")] = factor
        else:
            raise InputError(f"{where}.scale", name, "an edge id, 'source->target' or a node name")
    return Perturbation(edges, nodes)


def validate_experiment(exp: Experiment) -> None:
    """Checks that need the model: sites per species, conditions, parameters, knock-outs, intensity units."""
    species = exp.cohort.species
    get_condition(exp.cohort.condition, species)
    check_overrides(exp.cohort.parameters, "cohort.parameters")
    from eihlab.model.body import get_site
    from eihlab.protocol.physiology import SubjectPhysiology

    phys = SubjectPhysiology.typical(1, species)
    for i, arm in enumerate(exp.arms):
        where = f"arms[{i}]"
        if arm.condition:
            get_condition(arm.condition, species, f"{where}.condition")
        check_overrides(arm.parameters, f"{where}.parameters")
        _perturbation(arm, where)
        build_schedule(list(arm.events), phys, field=f"{where}.events")
        has_probe = False
        for j, ev in enumerate(arm.events):
            if ev.kind == "probe":
                has_probe = True
                for k, m in enumerate(ev.measures):
                    if m.site is not None:
                        get_site(m.site, species, f"{where}.events[{j}].measures[{k}].site")
        if not has_probe:
            raise InputError(f"{where}.events", "no probe", "at least one probe event per arm")


def arm_observations(
    exp: Experiment, index: int, lo: int = 0, hi: int | None = None, *, chunk: int | None = None
) -> pd.DataFrame:
    """Sample and simulate subjects ``lo:hi`` (positions in the arm's cohort) of arm ``index``.

    Parameters
    ----------
    exp
        A validated experiment (cohort size and seed already resolved).
    index
        The arm.
    lo, hi
        Positions in the arm's cohort (default: all of the arm's ``exp.arm_n(index)``). In a parallel design
        arm ``i``'s subject ids are ``i * exp.id_stride + position`` (the stride is the largest group, so
        ``i * n`` with equal groups); in a crossover every arm has the ids ``0 .. n-1``.
    chunk
        Subjects integrated at once (default :data:`eihlab.engine.simulate.CHUNK`). It never changes a
        subject's numbers, only the row order (rows go chunk by chunk, then probe, measure, subject, trial).

    Returns
    -------
    pandas.DataFrame
        The observations with the columns :data:`OBS_COLUMNS`.
    """
    cohort = exp.cohort
    arm = exp.arms[index]
    hi = exp.arm_n(index) if hi is None else hi
    condition = get_condition(arm.condition or cohort.condition, cohort.species)
    offset = index * exp.id_stride if exp.design == "parallel" else 0
    ids = np.arange(offset + lo, offset + hi)
    draw = sample_cohort(
        cohort.species,
        condition,
        ids,
        cohort.seed,
        age_y=cohort.age_y,
        female_fraction=cohort.female_fraction,
        variability=cohort.variability,
        overrides={**cohort.parameters, **arm.parameters},
    )
    events = list(arm.events)
    if condition.injury and not any(isinstance(e, InjuryEvent) for e in events):
        events.append(
            InjuryEvent.model_validate(
                dict(model=condition.injury, side=condition.injury_side, at=-condition.onset_days * 1440.0)
            )
        )

    def schedule_for(lo: int, hi: int) -> Schedule:
        phys = dataclasses.replace(
            draw.physiology,
            **{
                f.name: getattr(draw.physiology, f.name)[lo:hi]
                for f in dataclasses.fields(draw.physiology)
                if f.name != "species"
            },
        )
        return build_schedule(events, phys, field=f"arms[{index}].events")

    obs = simulate_arm(
        schedule_for,
        draw,
        species=cohort.species,
        seed=cohort.seed,
        arm_index=index,
        gains=_perturbation(arm, f"arms[{index}]"),
        chunk=chunk,
    )
    obs.insert(1, "arm", arm.name)
    return obs


def run_experiment(
    exp: Experiment,
    *,
    n: int | None = None,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    shard_dir: Path | None = None,
    resume: bool = False,
    on_shard: Callable[[ShardDone], None] | None = None,
    executor: Executor | None = None,
    chunk: int | None = None,
    shard_size: int | None = None,
) -> Result:
    """Simulate every arm of an experiment and summarise it.

    With the defaults the arms run one after the other in this process. Any of ``workers``, ``scheduler``,
    ``executor``, ``shard_dir``, ``on_shard`` or ``shard_size`` splits the run into seeded shards (see
    :mod:`eihlab.engine.shards`); the result is identical, bit for bit and row for row, however it is split
    and wherever the shards run.

    Parameters
    ----------
    exp
        The experiment.
    n, seed
        Override the cohort size and seed.
    progress
        Called with each arm's name as the arm starts (sharded: as its first shard finishes).
    workers
        Local worker processes: 1 (this process), 0 (every core) or N.
    scheduler
        Address of a Dask scheduler (``tcp://HOST:PORT``) to run the shards on; overrides ``workers``.
    shard_dir
        Write each finished shard here (atomically) so that an interrupted run can resume.
    resume
        Reuse the shards in ``shard_dir`` of an earlier run with the same settings (refused, with
        :class:`eihlab.engine.store.StoreMismatchError`, when the settings differ).
    on_shard
        Called after each shard finishes (or is reused) with a :class:`eihlab.engine.shards.ShardDone`.
    executor
        An open executor to use (and leave open) instead of one made from ``workers``/``scheduler``.
    chunk
        Subjects integrated at once (default :data:`eihlab.engine.simulate.CHUNK`); affects row order only.
    shard_size
        Subjects per shard, rounded up to a multiple of ``chunk`` (default: one chunk).

    Returns
    -------
    Result
    """
    if n is not None:
        exp = exp.with_size(n)
    if seed is not None:
        exp = exp.model_copy(update={"cohort": exp.cohort.model_copy(update={"seed": seed})})
    validate_experiment(exp)
    sharded = workers != 1 or any(x is not None for x in (scheduler, shard_dir, on_shard, executor, shard_size))
    if sharded:
        from eihlab.engine.shards import run_sharded

        frames = run_sharded(
            exp,
            workers=workers,
            scheduler=scheduler,
            executor=executor,
            shard_dir=shard_dir,
            resume=resume,
            on_shard=on_shard,
            progress=progress,
            chunk=chunk,
            shard_size=shard_size,
        )
    else:
        frames = []
        for index, arm in enumerate(exp.arms):
            if progress:
                progress(arm.name)
            frames.append(arm_observations(exp, index, chunk=chunk))
    observations = pd.concat(frames, ignore_index=True)[OBS_COLUMNS]
    observations = observations.astype({"subject": "int64", "trial": "int64", "censored": bool})
    summary = summarise(observations)
    contrasts = [
        net_change(observations, c.exercise, c.control).assign(exercise=c.exercise, control=c.control)
        for c in exp.compare
        if exp.design == "crossover"
    ]
    table = pd.concat(contrasts, ignore_index=True) if contrasts else pd.DataFrame()
    return Result(exp, observations, summary, table)
