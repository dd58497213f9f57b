r"""Calibration: fit declared parameter defaults to declared evidence entries, with provenance.

The loss of a candidate point :math:`\theta` is the sum of squared shortfalls of the training entries'
primary expectations (:func:`eihlab.evidence.evaluate.shortfall`; 0 for an expectation that passes):

.. math:: L(\theta) = \sum_{e \in \text{train}} \sum_{x \in e} s_x(\theta)^2 .

Cohorts are drawn with each entry's own seed at every point (common random numbers), so :math:`L` is a
deterministic function and a derivative-free bounded optimiser (Powell, :func:`scipy.optimize.minimize`)
can be used. With ``cohorts`` K > 1 each entry is judged on K cohorts of its size (its seed s and s+1 … s+K-1,
as :mod:`eihlab.evidence.replicate` draws them) and contributes the mean of their losses,

.. math:: L(\theta) = \sum_{e \in \text{train}} \frac{1}{K} \sum_{k=0}^{K-1} \sum_{x \in e} s_{x,k}(\theta)^2 ,

so that the fit meets a target on the model's cohorts of that size rather than on the one its seed draws (a
fit to one cohort stops at the first point that passes there, at the edge of what passes on others).

Each parameter is searched on ``[0, 1]``, mapped to its bounds on a log scale where both bounds are positive
and linearly otherwise.

Every evaluated point is appended to a journal (one JSON line each). A resumed run replays the journal:
the optimiser is deterministic, so it retraces its path through cached points and continues where the
interrupted run stopped. The result is written to :data:`eihlab.model.registry.CALIBRATION_FILE`, the
source of truth of every ``calibrated`` parameter, with the targets, the command and the loss before and after.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy import optimize

from eihlab.errors import InputError
from eihlab.evidence.evaluate import shortfall
from eihlab.evidence.replicate import with_seed_offset
from eihlab.evidence.runner import EntryResult, group_by_simulation, load_entries, run_entries
from eihlab.evidence.schema import Entry
from eihlab.model import registry
from eihlab.model._elements import Param

TRAINING_LEVEL = "calibration"
"""Entries of this level (the calibration targets T1-T4) are the default training set; the rest is hold-out."""


@dataclass(frozen=True)
class Scale:
    """The map between a parameter's bounds and the optimiser's unit interval."""

    lower: float
    upper: float

    @property
    def log(self) -> bool:
        """Log scale when both bounds are positive."""
        return self.lower > 0

    def to_unit(self, value: float) -> float:
        """Parameter value → ``[0, 1]``."""
        if self.log:
            return math.log(value / self.lower) / math.log(self.upper / self.lower)
        return (value - self.lower) / (self.upper - self.lower)

    def from_unit(self, u: float) -> float:
        """``[0, 1]`` → parameter value (clipped to the bounds)."""
        u = min(max(u, 0.0), 1.0)
        if self.log:
            return float(self.lower * (self.upper / self.lower) ** u)
        return float(self.lower + u * (self.upper - self.lower))


MARGIN = 0.1
"""Calibration aims this fraction of a ``within`` range inside each bound (no fit on the edge of a tolerance)."""


def entry_loss(result: EntryResult) -> float:
    """Sum of squared shortfalls of an entry's primary expectations (10² per expectation if it did not run)."""
    primary = [e for e in result.entry.expectations if e.primary]
    if result.message or not result.expectations:
        return 100.0 * max(len(primary), 1)
    return float(
        sum(shortfall(e.expectation, e.estimate, MARGIN) ** 2 for e in result.expectations if e.expectation.primary)
    )


class _Converged(Exception):
    """Raised inside the objective when every training expectation is met with margin (loss 0)."""


def _evaluate(values: dict[str, float], entries: list[Entry]) -> list[tuple[str, float, bool]]:
    """Run entries at a candidate point: ``(id, loss, passed)`` per entry and cohort (also the worker function)."""
    with registry.trial_defaults(values):
        results = run_entries(entries)
    return [(r.entry.id, entry_loss(r), r.passed) for r in results]


def _per_entry(rows: list[tuple[str, float, bool]]) -> dict[str, dict[str, Any]]:
    """Each entry's mean loss over its cohorts, whether it passed on every one, and on how many it passed."""
    grouped: dict[str, list[tuple[float, bool]]] = {}
    for eid, loss, ok in rows:
        grouped.setdefault(eid, []).append((loss, ok))
    return {
        eid: {
            "loss": sum(loss for loss, _ in runs) / len(runs),
            "passed": all(ok for _, ok in runs),
            "passes": sum(ok for _, ok in runs),
        }
        for eid, runs in grouped.items()
    }


def _split(entries: list[Entry], workers: int) -> list[list[Entry]]:
    """Groups of entries that share a simulation, dealt round-robin to ``workers`` shares."""
    shares: list[list[Entry]] = [[] for _ in range(max(workers, 1))]
    for i, group in enumerate(group_by_simulation(entries)):
        shares[i % len(shares)].extend(group)
    return [s for s in shares if s]


@dataclass
class Evaluator:
    """The calibration loss at candidate points, cached in a journal and optionally spread over processes."""

    names: list[str]
    entries: list[Entry]
    journal: Path | None = None
    workers: int = 1
    progress: Callable[[int, float, float], None] | None = None
    cohorts: int = 1
    cache: dict[tuple[float, ...], dict[str, Any]] = field(default_factory=dict)
    calls: int = 0
    best: float = math.inf
    best_values: list[float] = field(default_factory=list)

    def load_journal(self) -> int:
        """Read a previous run's journal into the cache; returns the number of points read."""
        if self.journal is None or not self.journal.exists():
            return 0
        for line in self.journal.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            same = (record.get("names"), record.get("targets"), record.get("cohorts", 1))
            if same != (self.names, self.targets, self.cohorts):
                raise InputError(
                    "--resume",
                    str(self.journal),
                    f"a journal of the same parameters {self.names}, targets and number of cohorts ({self.cohorts})",
                )
            self.cache[self._key(record["values"])] = record
        return len(self.cache)

    @property
    def targets(self) -> list[str]:
        """Ids of the training entries."""
        return [e.id for e in self.entries]

    @cached_property
    def runs(self) -> list[Entry]:
        """Every training entry on each of its cohorts (seed offsets 0 … K-1), built once."""
        return [with_seed_offset(e, k) if k else e for e in self.entries for k in range(self.cohorts)]

    @staticmethod
    def _key(values: Sequence[float]) -> tuple[float, ...]:
        return tuple(float(f"{v:.12g}") for v in values)

    def details(self, values: Sequence[float], pool: ProcessPoolExecutor | None = None) -> dict[str, Any]:
        """Loss and per-entry results at a point (from the journal when it was evaluated before)."""
        key = self._key(values)
        if key not in self.cache:
            point = dict(zip(self.names, key, strict=True))
            if pool is None:
                rows = _evaluate(point, self.runs)
            else:
                shares = _split(self.runs, self.workers)
                rows = [row for part in pool.map(_evaluate, [point] * len(shares), shares) for row in part]
            entries = _per_entry(rows)
            record: dict[str, Any] = {
                "names": self.names,
                "targets": self.targets,
                "values": list(key),
                "loss": sum(e["loss"] for e in entries.values()),
                "entries": entries,
            }
            if self.cohorts > 1:
                record["cohorts"] = self.cohorts
            self.cache[key] = record
            if self.journal is not None:
                self.journal.parent.mkdir(parents=True, exist_ok=True)
                with self.journal.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record) + "\n")
        record = self.cache[key]
        self.calls += 1
        if float(record["loss"]) < self.best:
            self.best, self.best_values = float(record["loss"]), list(key)
        if self.progress:
            self.progress(self.calls, record["loss"], self.best)
        return record


@dataclass(frozen=True)
class Fit:
    """The outcome of a calibration run."""

    names: list[str]
    before: dict[str, float]
    after: dict[str, float]
    loss_before: float
    loss_after: float
    entries_before: dict[str, Any]
    entries_after: dict[str, Any]
    evaluations: int
    targets: list[str]


def resolve_params(names: Sequence[str], species_hint: str = "") -> list[Param]:
    """The parameters to fit, or an :class:`InputError` naming the unknown one."""
    if not names:
        raise InputError("--params", "", "at least one parameter name (see `eihlab model describe`)")
    unknown = [n for n in names if n not in registry.PARAM_BY_NAME]
    if unknown:
        raise InputError("--params", unknown[0], "a parameter name (see `eihlab model describe`)")
    params = [registry.PARAM_BY_NAME[n] for n in names]
    fixed = [p.name for p in params if not p.upper > p.lower]
    if fixed:
        raise InputError("--params", fixed[0], "a parameter whose bounds allow fitting (lower < upper)")
    return params


def training_entries(targets: Sequence[str] | None, findings: Sequence[Path] | None = None) -> list[Entry]:
    """The training set: the given entry ids (a trailing ``*`` matches a prefix), else every calibration entry."""
    entries = load_entries(findings)
    if not targets:
        return [e for e in entries if e.level == TRAINING_LEVEL]
    chosen: list[Entry] = []
    for t in targets:
        hits = [e for e in entries if (e.id.startswith(t[:-1]) if t.endswith("*") else e.id == t)]
        if not hits:
            raise InputError("--targets", t, "an evidence entry id or an id prefix ending in '*'")
        chosen.extend(h for h in hits if h not in chosen)
    return chosen


def calibrate(
    params: list[Param],
    entries: list[Entry],
    *,
    max_evaluations: int = 60,
    journal: Path | None = None,
    resume: bool = False,
    workers: int = 1,
    progress: Callable[[int, float, float], None] | None = None,
    cohorts: int = 1,
) -> Fit:
    """Fit ``params`` to ``entries`` with bounded Powell on the unit cube; see the module docstring.

    The search stops early at the first point where every training expectation is met with :data:`MARGIN`
    (on every one of the ``cohorts`` cohorts of each entry).
    """
    if cohorts < 1:
        raise InputError("--cohorts", cohorts, "an integer >= 1")
    names = [p.name for p in params]
    scales = [Scale(p.lower, p.upper) for p in params]
    if journal is not None and journal.exists() and not resume:
        journal.unlink()
    ev = Evaluator(names, entries, journal, workers, progress, cohorts)
    if resume:
        ev.load_journal()
    x0 = np.array([s.to_unit(p.default) for s, p in zip(scales, params, strict=True)])

    def to_values(u: np.ndarray) -> list[float]:
        return [s.from_unit(float(v)) for s, v in zip(scales, u, strict=True)]

    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None

    def objective(u: np.ndarray) -> float:
        loss = float(ev.details(to_values(u), pool)["loss"])
        if loss == 0.0:
            raise _Converged
        return loss

    try:
        start = ev.details(to_values(x0), pool)
        if start["loss"] > 0:
            try:
                optimize.minimize(
                    objective,
                    x0,
                    method="Powell",
                    bounds=[(0.0, 1.0)] * len(params),
                    options={"maxfev": max_evaluations, "xtol": 0.02, "ftol": 1e-3},
                )
            except _Converged:
                pass  # every training expectation met with margin
        best_values = ev.best_values  # the best point evaluated (Powell's last point need not be it)
        end = ev.details(best_values, pool)
    finally:
        if pool is not None:
            pool.shutdown()
    return Fit(
        names=names,
        before=dict(zip(names, to_values(x0), strict=True)),
        after=dict(zip(names, best_values, strict=True)),
        loss_before=start["loss"],
        loss_after=end["loss"],
        entries_before=start["entries"],
        entries_after=end["entries"],
        evaluations=len(ev.cache),
        targets=[e.id for e in entries],
    )


class _PlainDumper(yaml.SafeDumper):
    """A safe dumper that writes repeated lists out instead of as YAML anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_calibration(fit: Fit, command: str, path: Path = registry.CALIBRATION_FILE) -> None:
    """Merge a fit into the calibration file (atomically): fitted values, their targets and the run's record."""
    data = registry.read_calibration(path)
    for name, value in fit.after.items():
        data["parameters"][name] = {"value": float(f"{value:.6g}"), "targets": fit.targets}
    runs = data.setdefault("runs", [])
    runs.append(
        {
            "command": command,
            "parameters": fit.names,
            "targets": fit.targets,
            "loss_before": round(fit.loss_before, 6),
            "loss_after": round(fit.loss_after, 6),
            "evaluations": fit.evaluations,
        }
    )
    header = (
        "# Calibrated parameter defaults, written by `eihlab calibrate` (see eihlab.evidence.calibrate).\n"
        "# The registry applies these over the declared defaults; each parameter's source then names its targets.\n"
    )
    text = header + yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, width=120)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".calibrated.", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def reproduce(path: Path = registry.CALIBRATION_FILE) -> None:
    """Re-run every recorded calibration command in order, starting from the declared defaults.

    The calibration file is set aside first; each command then fits from the defaults the previous ones
    left, exactly as when the bundled defaults were made (``make calibrate``; about an hour on 2 cores).
    """
    import shlex
    import subprocess
    import sys

    runs = registry.read_calibration(path).get("runs", [])
    if not runs:
        raise InputError(str(path), "no recorded runs", "a calibration file written by `eihlab calibrate`")
    path.rename(path.with_suffix(".yaml.bak"))
    for run in runs:
        args = shlex.split(run["command"])[1:]  # drop the program name
        subprocess.run([sys.executable, "-m", "eihlab", *args, "--no-holdout", "--quiet"], check=True)


if __name__ == "__main__":  # pragma: no cover
    reproduce()
