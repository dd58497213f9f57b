r"""Counter-based standard normals: one number per (seed, subject, stream, draw), vectorised over subjects.

Every random number of a simulated subject is a pure function of four integers: the cohort's seed, the
subject's id, a *stream* (what the numbers are for: a named parameter, a demographic draw, an arm's
measurement noise) and the draw's index in that stream. So a subject's numbers do not depend on the cohort
size, the shard or worker that runs it, the other subjects, or on which other parameters exist: adding a
parameter to the model leaves every other parameter's draws as they were.

The integers are mixed by the SplitMix64 output function (Steele, Lea & Flood 2014, doi:10.1145/2660193.2660195;
the generator of ``java.util.SplittableRandom``, also the recommended seeder of the xoshiro family), chained once
per key; the top 53 bits give a uniform in (0, 1) and the inverse normal CDF (:func:`scipy.special.ndtri`) the
normal. SplitMix64 as a generator passes BigCrush; used here as a hash of structured counters, its normality and
independence across subjects, streams and draws are checked by ``tests/test_random.py``. Unlike a per-subject
``numpy.random.Generator`` it needs no Python loop over subjects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from scipy.special import ndtri

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64: add the golden gamma, then the variant-13 finaliser (uint64 arithmetic wraps mod 2^64)."""
    x = x + _GAMMA
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def stream_key(name: str) -> int:
    """A stable 64-bit key for a named stream (the same in every process and Python version)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def standard_normals(seed: int, subject_ids: np.ndarray, streams: str | Sequence[str], k: int = 1) -> np.ndarray:
    """Standard normals: draws ``0..k-1`` of each named stream for each subject.

    Parameters
    ----------
    seed
        The cohort's seed (any integer; reduced mod 2^64).
    subject_ids
        Non-negative subject ids, shape ``(n,)``.
    streams
        One stream name, or several (hashed by :func:`stream_key`).
    k
        Number of draws per subject and stream.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, k)`` for one stream; ``(n, len(streams) * k)`` for several, stream by stream.
    """
    names = [streams] if isinstance(streams, str) else list(streams)
    keys = np.array([stream_key(name) for name in names], dtype=np.uint64)
    ids = np.asarray(subject_ids, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        base = _mix(np.full(1, seed % 2**64, dtype=np.uint64))
        per_stream = _mix(base ^ keys)  # (S,)
        h = _mix(ids[:, None] ^ per_stream[None, :])  # (n, S)
        h = (h[:, :, None] ^ np.arange(k, dtype=np.uint64)[None, None, :]).reshape(ids.size, -1)
        h = _mix(h)
    uniform = ((h >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    return np.asarray(ndtri(uniform))


__all__ = ["standard_normals", "stream_key"]
