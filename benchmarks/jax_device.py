"""Benchmark: the engine's JAX backend on whatever device JAX finds (a GPU where there is one), against numpy.

Runs the acute protocol of ``benchmarks/engine.py`` (30 min cycling, PPT x2 + HPT at -5/30/45/60 min) and the
12-week programme through :func:`eihlab.experiment.runner.arm_observations` with ``EIHLAB_BACKEND=jax`` at a
few cohort and chunk sizes (a GPU wants large chunks), after a warm-up of the same shapes (compilation, which is
reported), and checks the first subjects' observations against the numpy engine in the same run.

Run: ``python benchmarks/jax_device.py [--json] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine as bench  # noqa: E402
from eihlab.experiment.runner import arm_observations  # noqa: E402


def timed(protocol: str, n: int, chunk: int, weeks: int = 12) -> dict[str, Any]:
    """Subjects per second of ``n`` subjects in chunks of ``chunk`` with JAX, after a one-chunk warm-up."""
    exp = bench.experiment(protocol, n, weeks)
    os.environ["EIHLAB_BACKEND"] = "jax"
    start = time.perf_counter()
    arm_observations(exp, 0, 0, min(n, chunk), chunk=chunk)
    warm = time.perf_counter() - start
    start = time.perf_counter()
    arm_observations(exp, 0, chunk=chunk)
    seconds = time.perf_counter() - start
    return {
        "protocol": protocol,
        "n": n,
        "chunk": chunk,
        "subj_per_s": n / seconds,
        "seconds": seconds,
        "warmup_s": warm,
    }


def agreement(protocol: str, n: int, weeks: int = 12) -> float:
    """Largest relative difference of the JAX observations from the numpy engine's, first ``n`` subjects."""
    exp = bench.experiment(protocol, n, weeks)
    os.environ["EIHLAB_BACKEND"] = "numpy"
    ref = arm_observations(exp, 0)["value"].to_numpy()
    os.environ["EIHLAB_BACKEND"] = "jax"
    got = arm_observations(exp, 0)["value"].to_numpy()
    return float(np.max(np.abs(got - ref) / np.abs(ref)))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the measurements and print them (JSON with ``--json``)."""
    import jax

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small cohorts: a smoke run")
    args = parser.parse_args(argv)
    runs = (
        [("acute", 2_048, 2_048), ("programme", 256, 256)]
        if args.quick
        else [
            ("acute", 20_000, 2_048),
            ("acute", 100_000, 16_384),
            ("acute", 100_000, 65_536),
            ("programme", 2_000, 2_048),
            ("programme", 20_000, 16_384),
        ]
    )
    result: dict[str, Any] = {"device": str(jax.devices()[0]), "jax": jax.__version__, "runs": []}
    for protocol, n, chunk in runs:
        result["runs"].append(timed(protocol, n, chunk))
        print(json.dumps(result["runs"][-1]), file=sys.stderr, flush=True)
    os.environ["EIHLAB_BACKEND"] = "numpy"
    result["numpy_acute_2048_subj_per_s"] = bench.engine_rate(bench.experiment("acute", 2_048))[0]
    result["max_rel_diff_vs_numpy"] = {"acute": agreement("acute", 64), "programme": agreement("programme", 8, 2)}
    print(json.dumps(result, indent=2) if args.json else result)
    return result


if __name__ == "__main__":
    main()
