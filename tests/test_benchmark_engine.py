"""Smoke test of ``benchmarks/engine.py``: the JSON shape, eihlab faster than scipy and libRoadRunner, all agree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "engine.py"
KEYS = {"eihlab_subj_per_s", "scipy_subj_per_s", "roadrunner_subj_per_s", "max_rel_err"}


def test_engine_benchmark_quick_json() -> None:
    """``--quick --json`` prints the issue's shape; the engine beats both peers per subject; all agree to 1e-3."""
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json"], capture_output=True, text=True, check=True, timeout=300
    )
    out = json.loads(run.stdout)
    assert set(out) == {"acute", "programme", "peak_mib_100k"}
    for protocol in ("acute", "programme"):
        r = out[protocol]
        assert set(r) == KEYS
        assert r["eihlab_subj_per_s"] > 0 and r["scipy_subj_per_s"] > 0 and r["roadrunner_subj_per_s"] > 0
        assert r["eihlab_subj_per_s"] / r["scipy_subj_per_s"] > 10.0
        assert r["eihlab_subj_per_s"] / r["roadrunner_subj_per_s"] > 2.0
        # engine, LSODA, BDF and libRoadRunner all within the 1e-3 of the rtol-1e-10 reference
        assert 0.0 <= r["max_rel_err"] <= 1e-3
    assert out["peak_mib_100k"] > 0
