"""A shard store on disk: finished shards of a run, written atomically, so that an interrupted run can resume.

Layout of a store folder ``DIR``::

    DIR/manifest.json                 what run the shards belong to (experiment hash, n, seed, chunk, ...)
    DIR/shards/arm{i}_{lo}_{hi}.npz   observations of subjects lo:hi of arm i (one file per finished shard)

Every file is written to a temporary name in the same folder, flushed to disk and then renamed into place
(``os.replace`` is atomic on POSIX and Windows), so a shard file is either complete or absent: killing a run
at any moment loses at most the shards still being computed. Shards are stored as numpy ``.npz`` (no pickle):
numbers keep every bit, and string columns are stored as codes plus a table of their distinct values.

Resuming checks the manifest: shards are reused only when it matches the new run exactly; a store written
for another experiment, cohort size, seed or chunk size is refused with :class:`StoreMismatchError` rather
than silently mixed in.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from eihlab.errors import EihlabError

FORMAT = 1
"""Version of the store's layout and encoding."""
_STRING_COLUMNS = ("arm", "measure", "site", "unit")
_SHARD_NAME = re.compile(r"^arm(\d+)_(\d+)_(\d+)\.npz$")


class StoreMismatchError(EihlabError):
    """A shard store holds the shards of a different run than the one asked to resume."""


def default_shard_dir(out: Path) -> Path:
    """The shard store used by ``eihlab run --out OUT``: the hidden sibling folder ``.OUT.shards``.

    It sits beside ``OUT`` (not inside it) because the results folder is replaced whole when a run finishes.
    """
    out = Path(out)
    return out.parent / f".{out.name}.shards"


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write a file atomically: into a temporary sibling, flushed and fsynced, then renamed onto ``path``.

    Parameters
    ----------
    path
        Final path of the file.
    write
        Called with the open temporary file (binary); writes the content.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def encode_frame(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Encode a shard's observations as plain numpy arrays (string columns as codes and values; no objects).

    Parameters
    ----------
    frame
        Observations with the columns of :data:`eihlab.experiment.runner.OBS_COLUMNS`.

    Returns
    -------
    dict of numpy.ndarray
        Arrays ready for :func:`numpy.savez`; :func:`decode_frame` inverts it exactly.
    """
    arrays: dict[str, np.ndarray] = {"__columns__": np.array(list(frame.columns), dtype=str)}
    for name in frame.columns:
        col = frame[name]
        if name in _STRING_COLUMNS:
            codes, uniques = pd.factorize(col, sort=False)
            arrays[f"{name}__codes"] = codes.astype(np.int32)
            arrays[f"{name}__values"] = np.asarray(uniques, dtype=str)
        else:
            arrays[name] = col.to_numpy()
    return arrays


def decode_frame(arrays: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Rebuild the observations encoded by :func:`encode_frame`."""
    columns: dict[str, Any] = {}
    for name in arrays["__columns__"].tolist():
        if name in _STRING_COLUMNS:
            values = arrays[f"{name}__values"]
            columns[name] = values[arrays[f"{name}__codes"]].astype(object)
        else:
            columns[name] = arrays[name]
    return pd.DataFrame(columns)


class ShardStore:
    """Finished shards of one run in a folder, with the manifest that says which run.

    Use :meth:`open`, which starts the store afresh or, with ``resume=True``, keeps the shards of an earlier
    run of the same settings.

    Parameters
    ----------
    root
        The store's folder.
    manifest
        JSON-serialisable description of the run (see :func:`eihlab.engine.shards.manifest_for`).
    """

    def __init__(self, root: Path, manifest: Mapping[str, Any]) -> None:
        self.root = Path(root)
        self.manifest = dict(manifest)
        self.shard_folder = self.root / "shards"

    @classmethod
    def open(cls, root: Path, manifest: Mapping[str, Any], *, resume: bool = False) -> ShardStore:
        """Open a store for a run, creating the folder.

        Parameters
        ----------
        root
            The store's folder.
        manifest
            Description of the run; with ``resume`` it must equal the stored one.
        resume
            Keep the shards already in the folder (the manifest must match). Without it, any earlier shards
            in the folder are deleted first.

        Raises
        ------
        StoreMismatchError
            ``resume`` and the folder holds shards of another run (different experiment, n, seed, ...).
        """
        store = cls(root, {"format": FORMAT, **manifest})
        old = store.read_manifest()
        if resume and old is not None and old != store.manifest:
            raise StoreMismatchError(store.describe_mismatch(old))
        if not resume or old is None:
            store.clear()
        store.shard_folder.mkdir(parents=True, exist_ok=True)
        for stale in store.shard_folder.glob(".*.tmp"):  # a temporary file of a killed write
            with contextlib.suppress(OSError):
                stale.unlink()
        atomic_write(store.root / "manifest.json", lambda fh: fh.write(_manifest_bytes(store.manifest)))
        return store

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest stored in the folder, or None when there is none (or it is unreadable)."""
        try:
            data = json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def describe_mismatch(self, old: Mapping[str, Any]) -> str:
        """One line naming what differs between the stored manifest and this run's."""
        diffs = [
            f"{key} {old.get(key)} (stored) vs {self.manifest.get(key)} (this run)"
            for key in sorted(set(old) | set(self.manifest))
            if key != "hash" and old.get(key) != self.manifest.get(key)
        ]
        if not diffs:
            diffs = ["the experiment's definition changed"]
        return (
            f"cannot resume: the shard store {self.root} holds a different run ({'; '.join(diffs)}); "
            "run again with the original settings, or without --resume to start over"
        )

    def path(self, name: str) -> Path:
        """The file of the shard called ``name`` (``arm{i}_{lo}_{hi}``)."""
        return self.shard_folder / f"{name}.npz"

    def names(self) -> set[str]:
        """Names of the shards present in the store."""
        if not self.shard_folder.is_dir():
            return set()
        return {p.name[: -len(".npz")] for p in self.shard_folder.iterdir() if _SHARD_NAME.match(p.name)}

    def read(self, name: str) -> pd.DataFrame | None:
        """The observations of a stored shard, or None when it is missing or unreadable."""
        try:
            with np.load(self.path(name), allow_pickle=False) as data:
                return decode_frame({k: data[k] for k in data.files})
        except (OSError, ValueError, KeyError):
            return None

    def write(self, name: str, frame: pd.DataFrame) -> Path:
        """Write a finished shard atomically; returns its path."""
        path = self.path(name)
        arrays = encode_frame(frame)
        savez: Any = np.savez  # numpy's stub reads a column named like a keyword as that keyword

        atomic_write(path, lambda fh: savez(fh, **arrays))
        return path

    def clear(self) -> None:
        """Delete the stored shards and manifest (the folder itself stays)."""
        if self.shard_folder.is_dir():
            for p in self.shard_folder.iterdir():
                if _SHARD_NAME.match(p.name) or p.name.endswith(".tmp"):
                    p.unlink()
        with contextlib.suppress(FileNotFoundError):
            (self.root / "manifest.json").unlink()

    @staticmethod
    def discard(root: Path) -> None:
        """Remove a store folder after its run's results were written."""
        shutil.rmtree(root, ignore_errors=True)


def _manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    return (json.dumps(dict(manifest), indent=1, sort_keys=True) + "\n").encode("utf-8")


__all__ = [
    "FORMAT",
    "ShardStore",
    "StoreMismatchError",
    "atomic_write",
    "decode_frame",
    "default_shard_dir",
    "encode_frame",
]
