"""Running evidence entries: simulate each entry's experiment and judge its expectations."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from eihlab.errors import EihlabError, InputError
from eihlab.evidence.evaluate import Cohort, Estimate, estimate, judge, right_direction
from eihlab.evidence.schema import Entry, Expectation
from eihlab.experiment.runner import Result, load_experiment, parse_experiment, run_experiment
from eihlab.experiment.schema import Experiment
from eihlab.protocol.physiology import SubjectPhysiology
from eihlab.protocol.schedule import build_schedule

ENTRIES = Path(__file__).with_name("entries")
KNOWN_FAILURES = Path(__file__).with_name("known_failures.yaml")
"""Why the model fails an entry, where it does (shown in the report next to the failure; data, not code)."""


def known_failures() -> dict[str, str]:
    """``{entry id: reason}`` from :data:`KNOWN_FAILURES`."""
    if not KNOWN_FAILURES.exists():
        return {}
    return {str(k): str(v) for k, v in (yaml.safe_load(KNOWN_FAILURES.read_text(encoding="utf-8")) or {}).items()}


@dataclass
class ExpectationResult:
    """One judged expectation."""

    expectation: Expectation
    estimate: Estimate
    passed: bool


@dataclass
class EntryResult:
    """One judged entry, with the simulation it came from."""

    entry: Entry
    expectations: list[ExpectationResult] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    result: Result | None = None

    @property
    def passed(self) -> bool:
        """All primary expectations met (and the simulation ran)."""
        primary = [e for e in self.expectations if e.expectation.primary]
        return not self.message and bool(primary) and all(e.passed for e in primary)

    @property
    def failure_kind(self) -> str:
        """``""`` when passed; ``"error"``; ``"unresolved"`` when every failed primary expectation has the claimed
        direction but its CI includes 0 at this cohort size; else ``"wrong"``."""
        if self.passed:
            return ""
        if self.message or not self.expectations:
            return "error"
        failed = [e for e in self.expectations if e.expectation.primary and not e.passed]
        if all(right_direction(e.expectation, e.estimate) for e in failed):
            return "unresolved"
        return "wrong"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of ``eihlab evidence run --json``."""
        return {
            "id": self.entry.id,
            "ref": self.entry.ref,
            "level": self.entry.level,
            "passed": self.passed,
            "expectations": [
                {
                    "text": e.expectation.text,
                    "value": e.estimate.value,
                    "ci_low": e.estimate.low,
                    "ci_high": e.estimate.high,
                    "primary": e.expectation.primary,
                    "passed": e.passed,
                    "right_direction": right_direction(e.expectation, e.estimate),
                }
                for e in self.expectations
            ],
            "message": self.message,
            "failure_kind": self.failure_kind,
            "n": self.result.experiment.cohort.n if self.result is not None else None,
            "study_n": self.entry.study_n.n if self.entry.study_n is not None else None,
            "seconds": round(self.seconds, 2),
        }


def _load_file(path: Path) -> list[Entry]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise InputError(str(path), "malformed YAML", "valid YAML") from None
    items = data if isinstance(data, list) else [data]
    entries = []
    for i, item in enumerate(items):
        try:
            entries.append(Entry.model_validate(item))
        except ValidationError as err:
            e = err.errors()[0]
            loc = ".".join(str(x) for x in e["loc"])
            raise InputError(
                f"{path.name}[{i}].{loc}", e.get("input"), e["msg"].removeprefix("Value error, ")
            ) from None
    return entries


def load_entries(paths: Iterable[Path] | None = None, only: Iterable[str] | None = None) -> list[Entry]:
    """Entries from files or folders (default: the bundled ones), optionally restricted to some ids."""
    files: list[Path] = []
    for p in paths or [ENTRIES]:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(p.glob("*.yaml")))
        elif p.exists():
            files.append(p)
        else:
            raise InputError("--findings", str(p), "an existing entry file or folder")
    entries = [e for f in files for e in _load_file(f)]
    ids = [e.id for e in entries]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InputError("evidence id", dupes[0], "unique ids across the entry files")
    if only:
        wanted = set(only)
        unknown = wanted - set(ids)
        if unknown:
            raise InputError("--only", sorted(unknown)[0], ids)
        entries = [e for e in entries if e.id in wanted]
    return entries


def run_entry(entry: Entry, cache: dict[tuple[str, int | None, int | None], Result] | None = None) -> EntryResult:
    """Simulate an entry's experiment (reusing a cached run of the same experiment) and judge it."""
    out = EntryResult(entry)
    start = time.perf_counter()
    key = _simulation_key(entry)
    try:
        if cache is not None and key in cache:
            result = cache[key]
        else:
            result = run_experiment(entry_experiment(entry), n=entry.n, seed=entry.seed)
            if cache is not None:
                cache[key] = result
        out.result = result
        cohort = Cohort(result.observations, result.experiment.design)
        for exp_ in entry.expectations:
            est = estimate(cohort, exp_)
            out.expectations.append(ExpectationResult(exp_, est, judge(exp_, est)))
    except EihlabError as err:
        out.message = str(err)
    out.seconds = time.perf_counter() - start
    return out


def _simulation_key(entry: Entry) -> tuple[str, int | None, int | None]:
    return (repr(entry.experiment), entry.n, entry.seed)


def entry_experiment(entry: Entry) -> Experiment:
    """The entry's experiment (a bundled name or an inline definition)."""
    return (
        load_experiment(entry.experiment) if isinstance(entry.experiment, str) else parse_experiment(entry.experiment)
    )


def estimated_steps(entry: Entry) -> int:
    """Integration steps of an entry's simulation, summed over its arms, for a typical subject (0 if invalid).

    The engine advances a whole cohort one step at a time, and at evidence-sized cohorts (tens of subjects) a
    step costs about the same whatever n is, so this is the simulation's cost up to a constant.
    """
    try:
        exp = entry_experiment(entry)
        phys = SubjectPhysiology.typical(1, exp.cohort.species)
        return sum(len(build_schedule(list(arm.events), phys).grid()) for arm in exp.arms)
    except EihlabError:
        return 0  # run_entry reports the error


def group_by_simulation(entries: list[Entry]) -> list[list[Entry]]:
    """Entries that share one simulation (same experiment, n and seed), the costliest simulations first.

    Longest-first is what a pool of workers needs to finish together: a 2-year programme (about 45,000 steps)
    handed out last would run alone while the other workers idle.
    """
    groups: dict[tuple[str, int | None, int | None], list[Entry]] = {}
    for e in entries:
        groups.setdefault(_simulation_key(e), []).append(e)
    return sorted(groups.values(), key=lambda group: estimated_steps(group[0]), reverse=True)


def _run_group(entries: list[Entry]) -> list[EntryResult]:
    cache: dict[tuple[str, int | None, int | None], Result] = {}
    return [run_entry(e, cache) for e in entries]


def at_study_n(entries: list[Entry]) -> list[Entry]:
    """The entries with their cohort size set to the study's own (``study_n``) where it is recorded."""
    return [e.model_copy(update={"n": e.study_n.n}) if e.study_n is not None else e for e in entries]


def at_cohort_size(entries: list[Entry], n: int) -> list[Entry]:
    """The entries with every cohort set to ``n`` subjects (per arm in a parallel design, in total in a crossover).

    At a large ``n`` an entry's CI narrows towards the model's population value, which tells a failure that is
    the model's (the effect is absent or reversed) from one that is the cohort size's (the effect is there but
    smaller than the CI half-width at the bundled size), and a pass that holds in the population from one that
    the bundled cohort's draw carried.
    """
    return [e.model_copy(update={"n": cohort_size(n)}) for e in entries]


def cohort_size(n: int, field: str = "--n") -> int:
    """``n`` if it is a usable cohort size (a whole number, at least 2); else an :class:`InputError` on ``field``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise InputError(field, n, "a whole number of subjects, at least 2")
    return n


def run_entries(
    entries: list[Entry],
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    *,
    study_n: bool = False,
    n: int | None = None,
) -> list[EntryResult]:
    """Run entries, sharing simulations between entries that use the same experiment; results in input order.

    With ``workers > 1`` the groups of entries that share a simulation run in that many processes. Every
    simulation is seeded by its entry, so the numbers do not depend on ``workers``. With ``study_n`` each entry
    runs at its study's sample size where the entry records it (:func:`at_study_n`); with ``n`` every entry runs
    at that cohort size (:func:`at_cohort_size`). The two are exclusive.
    """
    if study_n and n is not None:
        raise InputError("--n", n, "either --n or --study-n, not both")
    if study_n:
        entries = at_study_n(entries)
    if n is not None:
        entries = at_cohort_size(entries, n)
    if workers <= 1:
        cache: dict[tuple[str, int | None, int | None], Result] = {}
        results = []
        for entry in entries:
            if progress:
                progress(entry.id)
            results.append(run_entry(entry, cache))
        return results
    # keyed by id and simulation: the same entry at several seeds (a replication) must not collapse to one
    done: dict[tuple[str, tuple[str, int | None, int | None]], EntryResult] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_run_group, group) for group in group_by_simulation(entries)]
        for future in as_completed(futures):
            for r in future.result():
                done[r.entry.id, _simulation_key(r.entry)] = r
                if progress:
                    progress(r.entry.id)
    return [done[e.id, _simulation_key(e)] for e in entries]


def fitted_ids() -> set[str]:
    """Ids of the entries the bundled parameter defaults were calibrated to (``model/calibrated.yaml``)."""
    from eihlab.model.registry import read_calibration

    return {t for record in read_calibration()["parameters"].values() for t in record["targets"]}


def population_verdict(bundled: EntryResult, population: EntryResult) -> str:
    """What a large cohort says about an entry's verdict at its bundled size.

    ``"holds"`` (passes at both sizes), ``"carried by the draw"`` (passes at the bundled size only),
    ``"cohort too small"`` (fails at the bundled size, passes in the population), ``"small in the population"``
    (fails at both; right direction, unresolved even at the large size) or ``"absent or reversed"`` (fails at
    both; the population estimate is on the wrong side or misses the range). For an expectation of *no* change
    (an antagonist "blocks"), ``"carried by the draw"`` means a residual effect that the bundled size does not
    resolve and the large one does.
    """
    if bundled.passed:
        return "holds" if population.passed else "carried by the draw"
    if population.passed:
        return "cohort too small"
    return "small in the population" if population.failure_kind == "unresolved" else "absent or reversed"


def _population_row(r: EntryResult, bundled: EntryResult) -> dict[str, Any]:
    return {
        "n": r.result.experiment.cohort.n if r.result is not None else None,
        "passed": r.passed,
        "failure_kind": r.failure_kind,
        "verdict": population_verdict(bundled, r),
        "expectations": [
            {"value": e.estimate.value, "ci_low": e.estimate.low, "ci_high": e.estimate.high, "passed": e.passed}
            for e in r.expectations
        ],
    }


def as_json(results: list[EntryResult], population: list[EntryResult] | None = None) -> dict[str, Any]:
    """``{"total", "passed", "fitted", "held_out", "failures", "results": [...]}``.

    ``fitted`` and ``held_out`` split the pass count into entries the defaults were calibrated to and the
    rest (predicted, not fitted); each result carries ``"fitted": true|false``. ``failures`` counts the
    failed entries by :attr:`EntryResult.failure_kind`. With ``population`` (the same entries run at one large
    cohort size, :func:`at_cohort_size`) each result also carries ``"population": {"n", "passed",
    "failure_kind", "verdict", "expectations": [{"value", "ci_low", "ci_high", "passed"}]}`` (see
    :func:`population_verdict`) and the summary ``"population": {"n", "passed", "verdicts": {verdict: count}}``.
    """
    fitted = fitted_ids()
    rows = [{**r.as_dict(), "fitted": r.entry.id in fitted} for r in results]
    extra: dict[str, Any] = {}
    if population is not None:
        if [r.entry.id for r in population] != [r.entry.id for r in results]:
            raise ValueError("the population results must be the same entries in the same order")
        for row, r, b in zip(rows, population, results, strict=True):
            row["population"] = _population_row(r, b)
        verdicts = [row["population"]["verdict"] for row in rows]
        extra["population"] = {
            "n": rows[0]["population"]["n"] if rows else None,
            "passed": sum(r.passed for r in population),
            "verdicts": {v: verdicts.count(v) for v in dict.fromkeys(verdicts)},
        }

    def count(flag: bool) -> dict[str, int]:
        chosen = [r for r in results if (r.entry.id in fitted) is flag]
        return {"total": len(chosen), "passed": sum(r.passed for r in chosen)}

    kinds = [r.failure_kind for r in results if not r.passed]
    return {
        "total": len(results),
        "passed": sum(r.passed for r in results),
        "fitted": count(True),
        "held_out": count(False),
        "failures": {k: kinds.count(k) for k in ("wrong", "unresolved", "error")},
        **extra,
        "results": rows,
    }
