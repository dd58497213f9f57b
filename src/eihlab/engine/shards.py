"""Splitting a run into seeded shards, running them anywhere and assembling the observations.

A shard is a range of subjects of one arm: ``(arm index, lo, hi)``, positions in the arm's cohort. Every
subject draws its parameters and its measurement noise from its own generator, seeded by
``[seed, subject id, ...]`` (see :mod:`eihlab.population.cohort` and :mod:`eihlab.engine.simulate`), so a
shard's numbers depend on nothing but the experiment, the seed and its subjects: not on how many shards
there are, which process or machine runs them, or in what order they finish.

Shards are whole multiples of the engine's chunk (2,048 subjects by default), so that concatenating the
shards in plan order gives the very rows, in the very order, of an unsharded run (the engine emits its rows
chunk by chunk). :func:`run_shard` is a pure, picklable function; :func:`run_sharded` plans the shards,
reuses those in a :class:`~eihlab.engine.store.ShardStore` when resuming, sends the rest to an
:class:`~eihlab.engine.executors.Executor` (this process, local processes or a Dask cluster), writes each
finished shard atomically and returns the frames in plan order.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from eihlab.engine import simulate
from eihlab.engine.executors import Executor, make_executor
from eihlab.engine.store import ShardStore
from eihlab.errors import InputError
from eihlab.experiment.runner import arm_observations, parse_experiment
from eihlab.experiment.schema import Experiment

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True, order=True, slots=True)
class Shard:
    """Subjects ``lo:hi`` (positions in the arm's cohort) of arm ``arm``."""

    arm: int
    lo: int
    hi: int

    @property
    def name(self) -> str:
        """File and task name: ``arm{arm}_{lo}_{hi}``."""
        return f"arm{self.arm}_{self.lo}_{self.hi}"

    @property
    def n(self) -> int:
        """Number of subjects."""
        return self.hi - self.lo


@dataclass(frozen=True, slots=True)
class ShardDone:
    """Progress report after a shard finished (or was reused from the store when resuming)."""

    shard: Shard
    done: int
    """Shards finished so far, this one included."""
    total: int
    """Shards in the run."""
    resumed: bool
    """True when the shard was read from the store rather than computed."""


def plan_shards(exp: Experiment, *, chunk: int | None = None, shard_size: int | None = None) -> list[Shard]:
    """Split every arm of an experiment into shards, in arm order and subject order.

    Parameters
    ----------
    exp
        The experiment (its cohort size is the size of each arm).
    chunk
        The engine's chunk (default :data:`eihlab.engine.simulate.CHUNK`).
    shard_size
        Subjects per shard, rounded up to a multiple of ``chunk`` (default: one chunk).

    Returns
    -------
    list of Shard
    """
    chunk = chunk or simulate.CHUNK
    if chunk < 1:
        raise InputError("chunk", chunk, "a number of subjects ≥ 1")
    if shard_size is not None and shard_size < 1:
        raise InputError("shard_size", shard_size, "a number of subjects ≥ 1")
    size = chunk * max(1, math.ceil((shard_size or chunk) / chunk))
    return [
        Shard(arm, lo, min(lo + size, exp.arm_n(arm)))
        for arm in range(len(exp.arms))
        for lo in range(0, exp.arm_n(arm), size)
    ]


def experiment_hash(exp: Experiment) -> str:
    """SHA-256 of the resolved experiment (cohort size and seed included), as hex."""
    text = json.dumps(exp.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_for(exp: Experiment, *, chunk: int, shard_size: int) -> dict[str, Any]:
    """What identifies a run's shards: the experiment's hash, name, n, seed, chunk, shard size and version."""
    from eihlab import __version__

    return {
        "experiment": exp.name,
        "hash": experiment_hash(exp),
        "n": exp.cohort.n,
        "seed": exp.cohort.seed,
        "chunk": chunk,
        "shard_size": shard_size,
        "eihlab": __version__,
    }


def run_shard(
    experiment: Experiment | Mapping[str, Any], arm_index: int, lo: int, hi: int, chunk: int | None = None
) -> pd.DataFrame:
    """Observations of subjects ``lo:hi`` of arm ``arm_index``: pure, deterministic and picklable.

    Parameters
    ----------
    experiment
        The resolved experiment (cohort size and seed applied), as a model or as ``model_dump()``.
    arm_index
        The arm.
    lo, hi
        Positions in the arm's cohort.
    chunk
        The engine's chunk (pass it explicitly: worker processes do not share this process's settings).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`eihlab.experiment.runner.OBS_COLUMNS`.
    """
    exp = experiment if isinstance(experiment, Experiment) else parse_experiment(dict(experiment))
    return arm_observations(exp, arm_index, lo, hi, chunk=chunk)


def run_sharded(
    exp: Experiment,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    executor: Executor | None = None,
    shard_dir: Path | None = None,
    resume: bool = False,
    on_shard: Callable[[ShardDone], None] | None = None,
    progress: Callable[[str], None] | None = None,
    chunk: int | None = None,
    shard_size: int | None = None,
) -> list[pd.DataFrame]:
    """Run an experiment shard by shard; returns the shards' observations in plan order.

    Concatenated, the frames equal the per-arm frames of an unsharded run. Parameters are those of
    :func:`eihlab.experiment.runner.run_experiment` (which validates ``exp`` and calls this).
    """
    chunk = chunk or simulate.CHUNK
    plan = plan_shards(exp, chunk=chunk, shard_size=shard_size)
    size = chunk * max(1, math.ceil((shard_size or chunk) / chunk))
    # the executor first: a bad --workers or an unreachable scheduler fails before anything is written
    owned = executor is None
    ex = make_executor(workers, scheduler) if executor is None else executor
    try:
        return _run_plan(exp, plan, ex, shard_dir, resume, on_shard, progress, chunk, size)
    finally:
        if owned:
            ex.close()


def _run_plan(
    exp: Experiment,
    plan: list[Shard],
    ex: Executor,
    shard_dir: Path | None,
    resume: bool,
    on_shard: Callable[[ShardDone], None] | None,
    progress: Callable[[str], None] | None,
    chunk: int,
    size: int,
) -> list[pd.DataFrame]:
    frames: dict[Shard, pd.DataFrame] = {}
    store = None
    if shard_dir is not None:
        store = ShardStore.open(Path(shard_dir), manifest_for(exp, chunk=chunk, shard_size=size), resume=resume)
    arms_started: set[int] = set()

    def finished(shard: Shard, frame: pd.DataFrame, resumed: bool) -> None:
        frames[shard] = frame
        if progress and shard.arm not in arms_started:
            arms_started.add(shard.arm)
            progress(exp.arms[shard.arm].name)
        if on_shard:
            on_shard(ShardDone(shard, len(frames), len(plan), resumed))

    if store is not None and resume:
        present = store.names()
        for shard in plan:
            if shard.name in present:
                frame = store.read(shard.name)
                if frame is not None:
                    finished(shard, frame, True)
    todo = [s for s in plan if s not in frames]
    if todo:
        data = exp.model_dump()
        key = experiment_hash(exp)[:16]
        calls = [(data, s.arm, s.lo, s.hi, chunk) for s in todo]
        keys = [f"eihlab-{exp.name}-{key}-{s.name}" for s in todo]
        with closing(ex.imap_unordered(run_shard, calls, keys)) as results:
            for i, frame in results:
                shard = todo[i]
                if store is not None:
                    store.write(shard.name, frame)
                finished(shard, frame, False)
    return [frames[s] for s in plan]


@contextmanager
def shard_progress(console: Console, *, quiet: bool = False) -> Iterator[ShardProgress]:
    """A rich progress display over shards (and, for several experiments, over experiments).

    Parameters
    ----------
    console
        Where to draw (the CLI uses stderr).
    quiet
        Draw nothing.
    """
    if quiet:
        yield ShardProgress(None)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        yield ShardProgress(bar)


class ShardProgress:
    """Callbacks that move a rich progress display (or do nothing when it is None)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self._shards: Any = None

    def shards(self, description: str) -> Callable[[ShardDone], None]:
        """An ``on_shard`` callback drawing one bar for a run's shards (reused across runs)."""
        if self.bar is not None:
            if self._shards is None:
                self._shards = self.bar.add_task(description, total=None, unit="shards")
            else:
                self.bar.reset(self._shards, description=description, total=None)

        def update(event: ShardDone) -> None:
            if self.bar is not None:
                self.bar.update(self._shards, completed=event.done, total=event.total)

        return update

    def counter(self, description: str, total: int) -> Callable[[], None]:
        """A callback advancing a bar of ``total`` steps by one (e.g. experiments of a suite)."""
        task = self.bar.add_task(description, total=total, unit="") if self.bar is not None else None

        def advance() -> None:
            if self.bar is not None:
                self.bar.advance(task)

        return advance


__all__ = [
    "Shard",
    "ShardDone",
    "ShardProgress",
    "experiment_hash",
    "manifest_for",
    "plan_shards",
    "run_shard",
    "run_sharded",
    "shard_progress",
]
