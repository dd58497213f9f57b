"""Where shards run: in this process, in a local pool of worker processes, or on a Dask cluster.

Every executor takes a picklable module-level function and a list of argument tuples and yields
``(index, result)`` pairs as the calls finish, in whatever order they finish. Because each shard's numbers
depend only on the seed and its subjects (see :mod:`eihlab.engine.shards`), the executor never changes a
result, only how fast it comes.

* :class:`SerialExecutor`: one call after the other in this process (the default; no set-up).
* :class:`LocalExecutor`: a :class:`concurrent.futures.ProcessPoolExecutor` of N processes, started with
  ``forkserver`` (POSIX) with eihlab preloaded, so workers start fast and never fork a threaded parent.
* :class:`DaskExecutor`: a :class:`distributed.Client` connected to an existing scheduler
  (``tcp://HOST:PORT``). Each call becomes a task with a deterministic key; the scheduler reruns the tasks
  of a worker that dies, and ``retries`` reruns a task that raised.

:func:`make_executor` picks one from the CLI's ``--workers`` and ``--scheduler`` (``EIHLAB_SCHEDULER``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, TypeVar

from eihlab.errors import EihlabError, InputError

R = TypeVar("R")
SCHEDULER_ENV = "EIHLAB_SCHEDULER"
"""Environment variable naming a Dask scheduler address (used by the CLI's ``--scheduler``)."""


class SchedulerError(EihlabError):
    """The Dask scheduler cannot be reached (or Dask is not installed)."""


class WorkerError(EihlabError):
    """A local worker process died."""


def cpu_count() -> int:
    """Number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def scheduler_from_env() -> str | None:
    """The scheduler address in ``EIHLAB_SCHEDULER``, or None when unset or empty."""
    return os.environ.get(SCHEDULER_ENV) or None


class Executor(ABC):
    """Runs calls of one function and yields the results as they finish.

    Executors are context managers; leaving the context (also by an exception) cancels whatever is still
    pending and releases processes or connections.
    """

    description = "executor"

    @abstractmethod
    def imap_unordered(
        self, fn: Callable[..., R], calls: Sequence[tuple[Any, ...]], keys: Sequence[str] | None = None
    ) -> Generator[tuple[int, R], None, None]:
        """Call ``fn(*args)`` for every tuple in ``calls``; yield ``(index into calls, result)`` as each finishes.

        Parameters
        ----------
        fn
            A picklable module-level function.
        calls
            Argument tuples.
        keys
            Optional unique, deterministic names of the calls (task keys on a Dask cluster).
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release processes or connections."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class SerialExecutor(Executor):
    """Runs every call in this process, in order."""

    description = "1 process"

    def imap_unordered(
        self, fn: Callable[..., R], calls: Sequence[tuple[Any, ...]], keys: Sequence[str] | None = None
    ) -> Generator[tuple[int, R], None, None]:
        for i, args in enumerate(calls):
            yield i, fn(*args)


def _ignore_sigint() -> None:
    """Worker initialiser: Ctrl-C interrupts the parent, which then stops the pool (no tracebacks per worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _mp_context() -> multiprocessing.context.BaseContext:
    if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["eihlab.engine.shards"])
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


class LocalExecutor(Executor):
    """A pool of ``workers`` local processes (started when the first calls are submitted).

    The processes are started with ``forkserver`` (``spawn`` on Windows), so, as with any multiprocessing, a
    script that uses this executor must guard its top level with ``if __name__ == "__main__":``.

    Parameters
    ----------
    workers
        Number of worker processes (≥ 1).
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise InputError("workers", workers, "a number of processes ≥ 1 (0 on the command line: all cores)")
        self.workers = workers
        self.description = f"{workers} local processes"
        self._pool: ProcessPoolExecutor | None = None

    def imap_unordered(
        self, fn: Callable[..., R], calls: Sequence[tuple[Any, ...]], keys: Sequence[str] | None = None
    ) -> Generator[tuple[int, R], None, None]:
        if not calls:
            return
        if self._pool is None:
            # processes are started on demand, never more than there are calls in flight
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=_mp_context(), initializer=_ignore_sigint
            )
        pending: dict[Future[R], int] = {self._pool.submit(fn, *args): i for i, args in enumerate(calls)}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(finished, key=pending.__getitem__):
                    i = pending.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool as err:
                        raise WorkerError(
                            f"a worker process died ({err}); killed, out of memory, or started from a script "
                            "without the `if __name__ == '__main__':` guard that multiprocessing needs"
                        ) from None
                    yield i, result
        finally:
            for fut in pending:
                fut.cancel()

    def close(self) -> None:
        """Cancel queued calls, wait for the running ones (at most one shard each) and stop the processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """Sends the calls to an existing Dask cluster.

    Parameters
    ----------
    address
        The scheduler's address, e.g. ``tcp://10.0.0.5:8786``.
    retries
        How many times the scheduler reruns a task that raised (a worker that dies is handled by the
        scheduler anyway: its tasks are rerun elsewhere, up to ``distributed.scheduler.allowed-failures``).
    timeout
        Seconds to wait for the scheduler when connecting.

    Raises
    ------
    SchedulerError
        Dask is not installed or the scheduler cannot be reached.
    """

    def __init__(self, address: str, *, retries: int = 2, timeout: float = 15.0) -> None:
        try:
            from distributed import Client
        except ImportError as err:  # pragma: no cover - dask is a dependency
            raise SchedulerError(f"--scheduler needs dask[distributed] ({err})") from None
        self.address = address
        self.retries = retries
        try:
            self.client = Client(address, timeout=f"{timeout}s", set_as_default=False)
        except (OSError, ValueError, TypeError) as err:
            raise SchedulerError(f"cannot reach the Dask scheduler at {address!r}: {err}") from None
        n = len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        self.description = f"Dask scheduler {address} ({n} workers now)"

    def imap_unordered(
        self, fn: Callable[..., R], calls: Sequence[tuple[Any, ...]], keys: Sequence[str] | None = None
    ) -> Generator[tuple[int, R], None, None]:
        from distributed import as_completed

        if not calls:
            return
        futures = [
            self.client.submit(fn, *args, key=None if keys is None else keys[i], pure=True, retries=self.retries)
            for i, args in enumerate(calls)
        ]
        index = {fut.key: i for i, fut in enumerate(futures)}
        try:
            for fut, result in as_completed(futures, loop=self.client.loop, with_results=True):
                yield index[fut.key], result
                fut.release()
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self.client.close()


def make_executor(workers: int = 1, scheduler: str | None = None) -> Executor:
    """The executor for ``--workers`` and ``--scheduler``.

    Parameters
    ----------
    workers
        Local processes: 1 runs in this process, 0 uses every core, N > 1 starts a pool of N.
    scheduler
        A Dask scheduler address; when given, ``workers`` is ignored (the cluster's workers are used).

    Returns
    -------
    Executor
    """
    if scheduler:
        return DaskExecutor(scheduler)
    if workers < 0:
        raise InputError("workers", workers, "0 (all cores) or a number of processes ≥ 1")
    n = cpu_count() if workers == 0 else workers
    return SerialExecutor() if n == 1 else LocalExecutor(n)


__all__ = [
    "SCHEDULER_ENV",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "SchedulerError",
    "SerialExecutor",
    "WorkerError",
    "cpu_count",
    "make_executor",
    "scheduler_from_env",
]
