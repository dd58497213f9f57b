"""From a patient file to a ranked, screened exercise prescription (:func:`prescribe`) and its JSON form."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eihlab.errors import InputError
from eihlab.prescribe.candidates import Candidate, candidate_space, therapist_units
from eihlab.prescribe.cohort import PatientCohort, build_cohort, merge_data, weighted_quantile
from eihlab.prescribe.evidence import cite
from eihlab.prescribe.mechanisms import Reliance, reliance
from eihlab.prescribe.optimise import (
    CI,
    FATIGUE_LIMIT,
    GRID_POINTS,
    MAX_EXHAUSTED,
    MAX_PAINFUL,
    MDC_PCT,
    Evaluation,
    Optimiser,
    Phase,
    Programme,
    Search,
    progression,
    search_all,
    simulate_progression,
)
from eihlab.prescribe.patient import Patient
from eihlab.prescribe.screening import DISCLAIMER, Screening, screen
from eihlab.prescribe.simulate import POST_MIN

REMOTE_SITES: tuple[str, ...] = (
    "forearm_left",
    "forearm_right",
    "trapezius_left",
    "trapezius_right",
    "quadriceps_left",
    "quadriceps_right",
    "forehead",
)
"""Remote sites in order of preference (the first away from the painful regions is used)."""
TEST_SITES: tuple[str, ...] = ("quadriceps_right",)
"""Where EIH is predicted for a person without painful sites (with the remote site)."""
WEEKS = 12


@dataclass(frozen=True)
class Option:
    """One recommended option with everything the report shows."""

    rank: int
    search: Search
    best: Evaluation
    phases: tuple[Phase, ...]
    programme: Programme
    mechanisms: tuple[Reliance, ...]
    evidence: tuple[dict[str, str], ...]

    @property
    def candidate(self) -> Candidate:
        """The exercise type and region."""
        return self.search.candidate


@dataclass
class Prescription:
    """The result of :func:`prescribe`."""

    patient: Patient
    cohort: PatientCohort
    optimiser: Optimiser
    painful_sites: tuple[str, ...]
    remote_site: str
    options: list[Option]
    searches: list[Search]
    screening: Screening
    max_flare_risk: float
    seed: int
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def excluded(self) -> list[Search]:
        """Candidates with no dose meeting the constraints."""
        return [s for s in self.searches if s.best is None]

    @property
    def others(self) -> list[Search]:
        """Feasible candidates ranked below the listed options."""
        listed = {o.candidate.key for o in self.options}
        return [s for s in self.searches if s.best is not None and s.candidate.key not in listed]

    def site_role(self, site: str) -> str:
        """``painful``, ``test`` (no painful sites) or ``remote``."""
        if site == self.remote_site:
            return "remote"
        return "painful" if self.patient.painful_regions() else "test"


def choose_sites(patient: Patient) -> tuple[tuple[str, ...], str]:
    """The painful (or test) sites and a remote site away from them."""
    from eihlab.model.body import SITES

    painful = patient.painful_test_sites() or TEST_SITES
    regions = set(patient.painful_regions())
    for site in REMOTE_SITES:
        if site not in painful and SITES[site].region not in regions:
            return painful, site
    return painful, next(s for s in REMOTE_SITES if s not in painful)


def rank_options(
    patient: Patient,
    *,
    n: int = 200,
    seed: int = 0,
    max_flare_risk: float = 0.2,
    coarse: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[Optimiser, list[Search]]:
    """Build the patient cohort and search every candidate; the searches come ranked (feasible first).

    ``patient`` must already hold its data-file measurements (:func:`eihlab.prescribe.cohort.merge_data`).
    ``coarse`` searches a 5-point grid per volume without refinement (quick checks).
    """
    if not 0.0 < max_flare_risk <= 1.0:
        raise InputError("--max-flare-risk", max_flare_risk, "a fraction in (0, 1]")
    say = progress or (lambda _msg: None)
    say("sampling virtual patients")
    cohort = build_cohort(patient, n=n, seed=seed)
    painful, remote = choose_sites(patient)
    opt = Optimiser(
        cohort, painful, remote, max_flare_risk, grid_points=5 if coarse else GRID_POINTS, refine=not coarse
    )
    return opt, search_all(opt, candidate_space(patient), progress=lambda label: say(f"searching {label}"))


def _option_tags(patient: Patient, cand: Candidate, mechanisms: tuple[Reliance, ...]) -> list[str]:
    tags = [f"family:{cand.family}", f"type:{cand.type}"]
    if patient.painful_regions():
        tags += [f"role:{cand.role}", "limit:flare"]
    tags.append("limit:exhaustion")
    tags += [f"mechanism:{m.edge}" for m in mechanisms if m.relied_on]
    tags.append("programme")
    return tags


def prescribe(
    patient: Patient,
    *,
    base: Path | None = None,
    n: int = 200,
    seed: int = 0,
    max_flare_risk: float = 0.2,
    top: int = 5,
    progress: Callable[[str], None] | None = None,
) -> Prescription:
    """Screen a patient and search exercise doses for them.

    Parameters
    ----------
    patient
        The validated patient file.
    base
        Folder that a relative ``data`` path starts from (the patient file's folder).
    n
        Virtual patients in the patient cohort.
    seed
        Seed of the virtual patients (results are reproducible for a seed).
    max_flare_risk
        Largest acceptable predicted flare risk of an option (0–1).
    top
        Options listed (each with its simulated 12-week programme and mechanisms).
    progress
        Called with a short description of each step.

    Returns
    -------
    Prescription
    """
    if top < 1:
        raise InputError("--top", top, "at least 1")
    start = time.perf_counter()
    say = progress or (lambda _msg: None)
    patient, notes = merge_data(patient, base or Path.cwd())
    opt, searches = rank_options(patient, n=n, seed=seed, max_flare_risk=max_flare_risk, progress=progress)
    cohort = opt.cohort
    notes += list(cohort.notes)
    painful, remote = opt.painful_sites, opt.remote_site
    say("screening CPM and EIH")
    screening = screen(cohort, n_reference=n, seed=seed)
    options: list[Option] = []
    for s in searches[:top]:
        if s.best is None:
            break
        say(f"12-week programme: {s.candidate.label}")
        phases = progression(opt, s.best)
        programme = simulate_progression(opt, s.candidate, phases)
        mech = tuple(reliance(opt, s.best))
        evidence = tuple(cite(_option_tags(patient, s.candidate, mech)))
        options.append(Option(len(options) + 1, s, s.best, phases, programme, mech, evidence))
    if not options:
        notes.append(
            "no option met the safety limits; consider a higher --max-flare-risk only with clinical supervision"
        )
    return Prescription(
        patient,
        cohort,
        opt,
        painful,
        remote,
        options,
        searches,
        screening,
        max_flare_risk,
        seed,
        time.perf_counter() - start,
        notes,
    )


def _round(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


def predicted_eih(rx: Prescription, e: Evaluation) -> list[dict[str, Any]]:
    """Per-site predicted acute EIH with the predictive interval."""
    out = []
    for site in rx.optimiser.sites:
        mean, lo, hi = rx.optimiser.interval(e.eih[site])
        out.append(
            {
                "site": site,
                "role": rx.site_role(site),
                "measure": "PPT",
                "change": _round(mean),
                "unit": "%",
                "ci_low": _round(lo),
                "ci_high": _round(hi),
                "time_after_min": POST_MIN,
            }
        )
    return out


def training_effect(rx: Prescription, programme: Programme) -> list[dict[str, Any]]:
    """Per-site, per-week predicted change of resting PPT over the programme."""
    w = rx.cohort.weights
    out = []
    for (site, week), values in programme.change.items():
        lo, hi = weighted_quantile(values, w, CI)
        out.append(
            {
                "site": site,
                "role": rx.site_role(site),
                "week": week,
                "measure": "PPT (resting)",
                "change": _round(np.sum(w * values)),
                "unit": "%",
                "ci_low": _round(lo),
                "ci_high": _round(hi),
            }
        )
    return out


def _dose_fields(cand: Candidate, volume: float) -> dict[str, Any]:
    dose = cand.dose(volume)
    return {
        "duration_min": _round(dose.session_minutes, 1),
        "volume": cand.describe_volume(volume),
        "sets": dose.sets,
        "reps": dose.reps,
    }


def option_json(rx: Prescription, o: Option) -> dict[str, Any]:
    """The JSON form of one option."""
    cand, e = o.candidate, o.best
    return {
        "rank": o.rank,
        "type": cand.type,
        "label": cand.label,
        "body_region": cand.region,
        "region_role": cand.role,
        "intensity": therapist_units(cand, e.value, rx.patient),
        **_dose_fields(cand, e.volume),
        "sessions_per_week": o.phases[0].sessions_per_week,
        "weeks": WEEKS,
        "progression": [
            {
                "weeks": list(p.weeks),
                "intensity": therapist_units(cand, p.value, rx.patient),
                **_dose_fields(cand, p.volume),
                "sessions_per_week": p.sessions_per_week,
                "note": p.note,
            }
            for p in o.phases
        ],
        "predicted_eih": predicted_eih(rx, e),
        "predicted_training_effect": training_effect(rx, o.programme),
        "objective": _round(e.objective),
        "flare_risk": _round(e.flare, 3),
        "painful_fraction": _round(e.painful, 3),
        "exhaustion_fraction": _round(e.exhausted, 3),
        "mechanisms": [
            {
                "edge": m.edge,
                "mechanism": m.mechanism,
                "eih_without": _round(m.eih_without),
                "drop": _round(m.drop),
                "relied_on": m.relied_on,
            }
            for m in o.mechanisms
        ],
        "relies_on": [m.edge for m in o.mechanisms if m.relied_on],
        "evidence": list(o.evidence),
    }


def as_json(rx: Prescription) -> dict[str, Any]:
    """The JSON form of a prescription (``eihlab prescribe --json``)."""
    p, c = rx.patient, rx.cohort
    return {
        "tool": "eihlab prescribe",
        "disclaimer": DISCLAIMER,
        "patient": {
            "name": p.name,
            "age_y": p.age_y,
            "sex": p.sex,
            "condition": p.condition,
            "painful_regions": list(p.painful_regions()),
            "painful_sites": list(rx.painful_sites) if p.painful_regions() else [],
            "test_sites": list(rx.painful_sites),
            "remote_site": rx.remote_site,
            "pain_intensity": p.pain_intensity,
            "activity_level": p.activity_level,
            "hr_rest_bpm": p.hr_rest_bpm,
            "hr_max_bpm": p.hr_max_bpm,
            "hr_max_source": "stated" if p.hr_max is not None else "Tanaka 208 - 0.7 age",
            "planned_surgery": p.planned_surgery,
        },
        "options": [option_json(rx, o) for o in rx.options],
        "also_feasible": [
            {
                "type": s.candidate.type,
                "label": s.candidate.label,
                "body_region": s.candidate.region,
                "region_role": s.candidate.role,
                "intensity": therapist_units(s.candidate, s.best.value, p),
                "volume": s.candidate.describe_volume(s.best.volume),
                "objective": _round(s.best.objective),
                "flare_risk": _round(s.best.flare, 3),
            }
            for s in rx.others
            if s.best is not None
        ],
        "not_recommended": [
            {
                "type": s.candidate.type,
                "label": s.candidate.label,
                "body_region": s.candidate.region,
                "region_role": s.candidate.role,
                "reason": s.reason,
            }
            for s in rx.excluded
        ],
        "screening": rx.screening.as_dict(),
        "method": {
            "virtual_patients": c.n,
            "prior_pool": c.prior_n,
            "effective_sample_size": _round(c.ess, 1),
            "abc_tolerance": _round(c.tolerance, 3),
            "fits": [f.summary(c.weights) for f in c.fits],
            "seed": rx.seed,
            "max_flare_risk": rx.max_flare_risk,
            "flare_definition": f"PPT at a painful site falls by more than {MDC_PCT:g} % right after or the next day",
            "non_painful_limit": MAX_PAINFUL,
            "exhaustion_limit": {"fatigue": FATIGUE_LIMIT, "max_fraction": MAX_EXHAUSTED},
            "interval": f"{int(CI[0] * 100)}-{int(CI[1] * 100)} % of the virtual patients (weighted)",
            "dose_evaluations": rx.optimiser.evaluations,
            "seconds": _round(rx.seconds, 1),
        },
        "notes": rx.notes,
    }


__all__ = ["Option", "Prescription", "as_json", "choose_sites", "prescribe", "rank_options"]
