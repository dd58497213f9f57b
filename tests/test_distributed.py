"""Sharded, parallel and distributed runs: shard-count independence, resume, and a real Dask cluster."""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from conftest import ACUTE
from eihlab.cli.main import app
from eihlab.engine import shards
from eihlab.engine.executors import make_executor
from eihlab.engine.shards import ShardDone, plan_shards
from eihlab.engine.store import ShardStore, StoreMismatchError, atomic_write, default_shard_dir
from eihlab.errors import InputError
from eihlab.experiment.runner import Result, load_experiment, parse_experiment, run_experiment
from eihlab.experiment.schema import Experiment

runner = CliRunner()
CHUNK = 2
"""A tiny engine chunk, so that a few subjects make many shards (each chunk costs one steady state)."""


def _one_arm() -> Experiment:
    data = copy.deepcopy(ACUTE)
    data["arms"] = data["arms"][:1]
    data["compare"] = []
    return parse_experiment(data)


def _two_arms_parallel() -> Experiment:
    return parse_experiment({**copy.deepcopy(ACUTE), "design": "parallel"})


def _assert_same(a: Result | pd.DataFrame, b: Result | pd.DataFrame) -> None:
    left = a.observations if isinstance(a, Result) else a
    right = b.observations if isinstance(b, Result) else b
    pd.testing.assert_frame_equal(left, right, check_exact=True)


@pytest.fixture(scope="module")
def one_arm_reference() -> Result:
    """The unsharded run (the engine's own chunk loop) of 14 subjects = 7 chunks."""
    return run_experiment(_one_arm(), n=14, chunk=CHUNK)


@pytest.mark.parametrize(
    ("shard_size", "workers", "expected_shards"),
    [(14, 1, 1), (6, 1, 3), (2, 2, 7)],
    ids=["1-shard", "3-shards", "7-shards-2-workers"],
)
def test_numbers_do_not_depend_on_shards_or_workers(
    one_arm_reference: Result, shard_size: int, workers: int, expected_shards: int
) -> None:
    exp = _one_arm()
    done: list[ShardDone] = []
    res = run_experiment(exp, n=14, chunk=CHUNK, shard_size=shard_size, workers=workers, on_shard=done.append)
    assert len(done) == expected_shards and done[-1].done == done[-1].total == expected_shards
    _assert_same(res, one_arm_reference)
    pd.testing.assert_frame_equal(res.summary, one_arm_reference.summary, check_exact=True)


def test_plan_covers_every_subject_once_in_whole_chunks() -> None:
    exp = parse_experiment({**copy.deepcopy(ACUTE), "design": "parallel", "cohort": {**ACUTE["cohort"], "n": 10}})
    plan = plan_shards(exp, chunk=3, shard_size=5)  # rounded up to 6 = two chunks
    assert [(s.arm, s.lo, s.hi) for s in plan] == [(0, 0, 6), (0, 6, 10), (1, 0, 6), (1, 6, 10)]
    with pytest.raises(InputError, match="shard_size"):
        plan_shards(exp, chunk=3, shard_size=0)
    with pytest.raises(InputError, match="workers"):
        make_executor(workers=-1)


def test_store_round_trip_is_exact(tmp_path: Path, one_arm_reference: Result) -> None:
    frame = one_arm_reference.observations
    store = ShardStore.open(tmp_path / "s", {"n": 1})
    store.write("arm0_0_14", frame)
    back = store.read("arm0_0_14")
    assert back is not None
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert store.names() == {"arm0_0_14"}


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    def boom(fh) -> None:
        fh.write(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "x.npz", boom)
    assert list(tmp_path.iterdir()) == []


class _Interrupt(Exception):
    pass


def test_resume_loses_no_finished_shard_and_recomputes_only_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = _two_arms_parallel()
    reference = run_experiment(exp, n=4, chunk=CHUNK)  # 2 arms x 2 chunks, unsharded
    store = tmp_path / "store"

    def stop_after_two(event: ShardDone) -> None:
        if event.done == 2:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        run_experiment(exp, n=4, chunk=CHUNK, shard_dir=store, on_shard=stop_after_two)
    files = sorted((store / "shards").glob("*.npz"))
    assert [f.name for f in files] == ["arm0_0_2.npz", "arm0_2_4.npz"]
    stamps = {f.name: (f.stat().st_ino, f.stat().st_mtime_ns) for f in files}

    calls: list[tuple[int, int, int]] = []
    real = shards.run_shard

    def counting(experiment, arm_index, lo, hi, chunk=None):  # type: ignore[no-untyped-def]
        calls.append((arm_index, lo, hi))
        return real(experiment, arm_index, lo, hi, chunk)

    monkeypatch.setattr(shards, "run_shard", counting)
    events: list[ShardDone] = []
    resumed = run_experiment(exp, n=4, chunk=CHUNK, shard_dir=store, resume=True, on_shard=events.append)
    assert calls == [(1, 0, 2), (1, 2, 4)]
    assert [e.resumed for e in events] == [True, True, False, False]
    assert {f.name: (f.stat().st_ino, f.stat().st_mtime_ns) for f in files} == stamps
    _assert_same(resumed, reference)
    assert set(resumed.observations.subject) == set(range(8))  # parallel: arm 1 has subjects 4..7

    # a store of another run is refused, and left as it was
    with pytest.raises(StoreMismatchError, match=r"seed 3 \(stored\) vs 4 \(this run\)"):
        run_experiment(exp, n=4, seed=4, chunk=CHUNK, shard_dir=store, resume=True)
    assert len(list((store / "shards").glob("*.npz"))) == 4
    # without --resume an old store is cleared and the run starts over
    calls.clear()
    run_experiment(exp, n=4, seed=4, chunk=CHUNK, shard_dir=store)
    assert len(calls) == 4


def test_cli_resume_and_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(ACUTE), encoding="utf-8")
    out = tmp_path / "out"
    store = default_shard_dir(out)
    # an "interrupted" run: its shards are in the store, no results yet
    expected = run_experiment(parse_experiment(ACUTE), n=3, seed=5, shard_dir=store)

    result = runner.invoke(app, ["run", str(path), "--out", str(out), "--n", "3", "--seed", "6", "--resume"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot resume" in lines[0] and "seed 5 (stored) vs 6" in lines[0], result.output
    assert not out.exists() and store.exists()

    result = runner.invoke(app, ["run", str(path), "--out", str(out), "--n", "3", "--seed", "5", "--resume", "--quiet"])
    assert result.exit_code == 0, result.output
    assert not store.exists()  # discarded once the results are written
    written = pd.read_csv(out / "observations.csv")
    np.testing.assert_allclose(written.value, expected.observations.value, rtol=1e-5)


# --- a real Dask cluster ---------------------------------------------------------------------------------------

DASK_LIMIT_S = 420
WORKER_ENV = {"MALLOC_TRIM_THRESHOLD_": str(128 * 2**20)}
"""See the README: Dask's nanny sets 64 KiB by default, which slows numpy-heavy workers."""


@dataclass
class _Cluster:
    address: str
    workers: list[subprocess.Popen[bytes]]
    logs: Path


def _dask_executable() -> str:
    exe = Path(sys.executable).with_name("dask")
    found = str(exe) if exe.exists() else shutil.which("dask")
    if found is None:
        pytest.fail("the `dask` command is not installed (pip install 'dask[distributed]')")
    return found


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process and everything it started (it leads its own session), however it is doing."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    # the group may outlive its leader (a nanny's worker process): make sure nothing of it is left
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def time_limit() -> Iterator[None]:
    """Fail (rather than hang CI) when the test runs over :data:`DASK_LIMIT_S`."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"test exceeded {DASK_LIMIT_S} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(DASK_LIMIT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def dask_cluster(tmp_path: Path, time_limit: None) -> Iterator[_Cluster]:
    """A ``dask scheduler`` and two single-threaded ``dask worker`` processes on 127.0.0.1."""
    from distributed import Client

    dask = _dask_executable()
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with open(logs / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(
                [dask, *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=tmp_path,
                env={**os.environ, **(env or {})},
                start_new_session=True,  # its own process group: killpg reaches the nanny's worker too
            )
        procs.append(proc)
        return proc

    try:
        info = tmp_path / "scheduler.json"
        start("scheduler", *"scheduler --host 127.0.0.1 --port 0 --no-dashboard".split(), "--scheduler-file", str(info))
        deadline = time.monotonic() + 90
        while not info.exists() or not info.read_text().strip():
            assert procs[0].poll() is None, (logs / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        args = "--nthreads 1 --nworkers 1 --host 127.0.0.1 --no-dashboard --memory-limit 0 --death-timeout 60"
        workers = [
            start(f"worker{i}", "worker", address, "--name", f"w{i}", *args.split(), env=WORKER_ENV) for i in range(2)
        ]
        with Client(address, set_as_default=False, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
        yield _Cluster(address, workers, logs)
    finally:
        signal.alarm(0)  # clean-up must not be cut short
        for proc in reversed(procs):
            _stop(proc)


@pytest.mark.slow
def test_dask_cluster_survives_a_killed_worker(dask_cluster: _Cluster) -> None:
    """20,000 subjects (2 parallel arms x 10,000) in 20 shards on two Dask workers; one is SIGKILLed mid-run."""
    from distributed import Client

    data = load_experiment("cycling_70hrr_crossover").model_dump()
    exp = parse_experiment({**data, "design": "parallel"})
    n, chunk = 10_000, 1_000

    start = time.perf_counter()
    local = run_experiment(exp, n=n, chunk=chunk, workers=2)
    local_s = time.perf_counter() - start

    monitor = Client(dask_cluster.address, set_as_default=False, timeout="30s")
    names = {w["name"]: addr for addr, w in monitor.scheduler_info(n_workers=-1)["workers"].items()}
    busy_when_killed: list[int] = []

    def kill_one_worker(event: ShardDone) -> None:
        if event.done == 4:
            busy_when_killed.append(len(monitor.processing(workers=[names["w0"]])[names["w0"]]))
            os.killpg(dask_cluster.workers[0].pid, signal.SIGKILL)

    try:
        start = time.perf_counter()
        remote = run_experiment(exp, n=n, chunk=chunk, scheduler=dask_cluster.address, on_shard=kill_one_worker)
        remote_s = time.perf_counter() - start
        print(f"local, 2 processes: {local_s:.1f} s; Dask, 2 workers then 1: {remote_s:.1f} s")
        # the kill landed mid-run, on a worker that held a shard in progress, which the scheduler reran elsewhere
        assert busy_when_killed and busy_when_killed[0] >= 1
        assert dask_cluster.workers[0].wait(timeout=30) == -signal.SIGKILL
        assert list(monitor.scheduler_info(n_workers=-1)["workers"]) == [names["w1"]]
    finally:
        monitor.close()

    obs = remote.observations
    per_subject = obs.groupby(["arm", "subject"]).size()
    expected_ids = {("rest", i) for i in range(n)} | {("cycling", n + i) for i in range(n)}
    assert set(per_subject.index) == expected_ids  # every subject of both arms
    assert per_subject.nunique() == 1  # ... exactly once (the same number of rows each)
    _assert_same(remote, local)
