"""Benchmark: a 1,000-subject crossover (rest vs 30 min cycling at 70 % HRR; PPT at 2 sites and HPT, pre and
post 0/15/30 min), against a named baseline in the same run: the same experiment simulated one subject at a
time (chunk size 1), i.e. without vectorisation across subjects.

Run: ``python benchmarks/crossover_1000.py [--n 1000]``. Prints seconds and subjects per second for both and
the speed-up ratio.
"""

from __future__ import annotations

import argparse
import time

from eihlab.engine import simulate
from eihlab.experiment.runner import load_experiment, run_experiment


def timed(n: int, chunk: int) -> float:
    simulate.CHUNK = chunk
    exp = load_experiment("cycling_70hrr_crossover")
    start = time.perf_counter()
    run_experiment(exp, n=n, seed=1)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--baseline-n", type=int, default=20)
    args = parser.parse_args()
    vectorised = timed(args.n, 2048)
    per_subject = timed(args.baseline_n, 1)
    rate_v = args.n / vectorised
    rate_b = args.baseline_n / per_subject
    print(f"vectorised: {args.n} subjects in {vectorised:.2f} s ({rate_v:,.0f} subjects/s)")
    print(
        f"one subject at a time (baseline): {args.baseline_n} subjects in {per_subject:.2f} s "
        f"({rate_b:,.1f} subjects/s)"
    )
    print(f"speed-up: {rate_v / rate_b:.0f}x")


if __name__ == "__main__":
    main()
