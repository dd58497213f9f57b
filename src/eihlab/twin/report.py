"""Writing a twin: ``twin.json``, ``predictions.csv``, ``fit.png`` and ``predictions.png``, atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eihlab._atomic import atomic_folder
from eihlab.analysis.io import records

from .fit import IS_DRAWS, TwinFit

__all__ = ["METHOD", "twin_json", "write_twin"]

METHOD = (
    "maximum a posteriori in the prior's standardised space (the population's between-person distribution of "
    "the person's condition as prior), Gaussian measurement model of trial means with the model's own session "
    "and trial noise, Laplace approximation refined by adaptive importance sampling"
)
"""One line on the method, for the JSON and the command line."""

_RESIDUAL_COLUMNS = [
    "session",
    "condition",
    "timepoint",
    "minutes",
    "data_site",
    "site",
    "modality",
    "test",
    "phase",
    "unit",
    "n_trials",
    "n_censored",
    "value",
    "twin",
    "sd",
    "z_residual",
]


def twin_json(fit: TwinFit, predictions: pd.DataFrame | None = None) -> dict[str, Any]:
    """Everything about a twin as plain JSON-able data (the content of ``twin.json``)."""
    params = [
        {
            "name": e.name,
            "unit": e.unit,
            "prior_median": e.prior_median,
            "prior_ci_low": e.prior_ci_low,
            "prior_ci_high": e.prior_ci_high,
            "map": e.map,
            "mean": e.mean,
            "sd": e.sd,
            "ci_low": e.ci_low,
            "ci_high": e.ci_high,
            "information": e.information,
            "description": e.description,
            "source": e.source,
        }
        for e in fit.estimates
    ]
    residuals = fit.residuals.loc[:, _RESIDUAL_COLUMNS].rename(columns={"value": "observed"})
    z = residuals["z_residual"].to_numpy(float)
    out: dict[str, Any] = {
        "subject": fit.person.subject,
        "condition": fit.prior.condition.name,
        "sex": {True: "female", False: "male", None: "unknown"}[fit.prior.female],
        "age_y": fit.prior.age_y,
        "exercise_dose": fit.dose.label if fit.person.exercise_conditions else None,
        "rest_condition": fit.person.rest_condition,
        "cpm_conditioning": fit.stimulus.label if fit.person.has(cpm=True) else None,
        "method": METHOD,
        "parameters": params,
        "diagnostics": {
            "log_posterior": fit.log_posterior,
            "log_likelihood": fit.log_likelihood,
            "log_prior": fit.log_prior,
            "n_measured": int(len(residuals)),
            "sum_squared_z_residuals": float(np.sum(z**2)),
            "converged": fit.converged,
            "effective_sample_size": fit.ess,
            "importance_draws": IS_DRAWS,
            "batch_simulations": fit.n_simulations,
            "seconds": fit.seconds,
        },
        "residuals": records(residuals),
        "notes": list(dict.fromkeys(fit.notes)),
    }
    if predictions is not None:
        out["predictions"] = records(predictions)
    return out


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fit(fit: TwinFit, path: Path) -> None:
    """Measured trial means against the twin's expected values (± 1.96 measurement SD), one panel per test."""
    plt = _pyplot()
    res = fit.residuals
    groups = list(dict.fromkeys(zip(res["test"], res["phase"] == "recorded", strict=True)))
    fig, axes = plt.subplots(
        len(groups), 1, figsize=(max(6.0, 0.55 * len(res) + 2.0), 3.2 * len(groups)), squeeze=False
    )
    try:
        for ax, (test, recorded) in zip(axes[:, 0], groups, strict=True):
            part = res.loc[(res["test"] == test) & ((res["phase"] == "recorded") == recorded)]
            x = np.arange(len(part))
            ax.errorbar(
                x + 0.12, part["twin"], yerr=1.96 * part["sd"], fmt="s", color="tab:orange", capsize=3, label="twin"
            )
            ax.plot(x - 0.12, part["value"], "o", color="black", label="measured")
            labels = [
                f"{s}/{c} {t} {site}" + (f" {p}" if p and p != "recorded" else "")
                for s, c, t, site, p in zip(
                    part["session"], part["condition"], part["timepoint"], part["data_site"], part["phase"], strict=True
                )
            ]
            ax.set_xticks(x, labels, fontsize=7, rotation=40, ha="right")
            unit = str(part["unit"].iloc[0])
            ax.set_ylabel(f"{'CPM ' if recorded else ''}{test} ({unit})")
            ax.legend(fontsize=8, loc="best")
        axes[0, 0].set_title(f"twin of {fit.person.subject}: measured trial means vs the twin (± 1.96 SD)", fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def plot_predictions(predictions: pd.DataFrame, subject: str, path: Path) -> None:
    """Predicted % change per dose with its 95 % credible interval (and one session's 95 % range), per site."""
    plt = _pyplot()
    panels = list(dict.fromkeys(zip(predictions["measure"], predictions["site"], strict=True)))
    doses = list(dict.fromkeys(predictions["dose"]))
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=(5.5 * max(1, len(panels)), 0.45 * len(doses) + 2.2))
    axes = np.atleast_1d(axes)
    try:
        for ax, (measure, site) in zip(axes, panels, strict=False):
            part = predictions.loc[(predictions["measure"] == measure) & (predictions["site"] == site)]
            part = part.set_index("dose").reindex(doses)
            y = np.arange(len(doses))[::-1]
            mid = part["predicted_change_pct"].to_numpy(float)
            ax.hlines(y, part["pi_low"], part["pi_high"], color="lightgray", linewidth=6, label="one session (95 %)")
            ax.errorbar(
                mid,
                y,
                xerr=[mid - part["ci_low"].to_numpy(float), part["ci_high"].to_numpy(float) - mid],
                fmt="o",
                color="tab:blue",
                capsize=3,
                label="expected (95 % CI)",
            )
            ax.axvline(0.0, color="black", linewidth=0.8)
            measured = set(predictions.loc[predictions["measured_dose"].astype(bool), "dose"])
            ax.set_yticks(y, [f"{d} (measured)" if d in measured else d for d in doses], fontsize=8)
            ax.set_xlabel(f"{measure} change at {site} (%)")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=2)
        fig.suptitle(f"twin of {subject}: predicted EIH 1 min after each dose", fontsize=10)
        fig.tight_layout(rect=(0.0, 0.06, 1.0, 1.0))
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def write_twin(fit: TwinFit, predictions: pd.DataFrame, out: Path) -> list[Path]:
    """Write ``twin.json``, ``predictions.csv``, ``fit.png`` and ``predictions.png`` into ``out``.

    Everything goes into a temporary sibling folder first and is moved into place at the end (an existing
    ``out`` is replaced), so a failure never leaves a half-written folder.
    """
    import json

    out = Path(out)
    with atomic_folder(out) as tmp:
        (tmp / "twin.json").write_text(json.dumps(twin_json(fit), indent=1) + "\n", encoding="utf-8")
        predictions.to_csv(tmp / "predictions.csv", index=False, float_format="%.6g")
        plot_fit(fit, tmp / "fit.png")
        plot_predictions(predictions, fit.person.subject, tmp / "predictions.png")
    return sorted(out.iterdir())
