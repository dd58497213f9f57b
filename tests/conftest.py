"""Shared fixtures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

ACUTE = {
    "schema_version": 1,
    "name": "acute_test",
    "design": "crossover",
    "cohort": {"species": "human", "condition": "healthy", "n": 30, "seed": 3},
    "arms": [
        {
            "name": "rest",
            "events": [
                {
                    "kind": "probe",
                    "times": [-5, 30, 45],
                    "measures": [
                        {"measure": "PPT", "site": "quadriceps_right"},
                        {"measure": "HPT", "site": "forearm_left"},
                    ],
                }
            ],
        },
        {
            "name": "exercise",
            "events": [
                {
                    "kind": "exercise",
                    "type": "cycling",
                    "intensity": {"value": 70, "unit": "%HRR"},
                    "duration": "30 min",
                },
                {
                    "kind": "probe",
                    "times": [-5, 30, 45],
                    "measures": [
                        {"measure": "PPT", "site": "quadriceps_right"},
                        {"measure": "HPT", "site": "forearm_left"},
                    ],
                },
            ],
        },
    ],
    "compare": [{"exercise": "exercise", "control": "rest"}],
}
