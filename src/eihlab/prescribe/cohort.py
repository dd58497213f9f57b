r"""The patient cohort: virtual patients like this one, weighted by how well they reproduce the measurements.

Without a fitted digital twin, a patient is represented by a cohort of virtual patients of the same condition,
age and sex (:func:`eihlab.population.cohort.sample_cohort`), with the patient's heart rates and an aerobic
capacity scaled by the activity level. The painful regions of the patient file replace the condition's
affected regions (a left-knee OA patient is sensitised at the left knee), and the condition's median
peripheral sensitisation is scaled by the reported pain intensity, :math:`0.5 + 0.1\,\mathrm{NRS}` (assumed:
the condition's median stands for a typical clinic pain of 5/10; unscaled when no intensity is given).

**Approximate Bayesian computation.** When the patient has measured PPT, CPM or EIH, a pool of
:data:`POOL_FACTOR` × ``n`` virtual patients is sampled from the condition's population (the prior); each
one's noise-free baseline PPT, CPM and EIH under the same protocols are simulated, and it is weighted by a
Gaussian kernel of its distance to the measurements,

.. math::  w_i \propto \exp\Big(-\tfrac12 \sum_j \big((s_{ij} - y_j)/(h\,\sigma_j)\big)^2\Big),

with :math:`\sigma_j` the measurement error of each test (:data:`MEASUREMENT_SD`) and the tolerance
:math:`h \ge 1` widened in steps of 1.5 until the effective sample size :math:`(\sum w)^2/\sum w^2` reaches
:data:`MIN_ESS` (rejection ABC with a soft kernel; Beaumont et al. 2002, *Genetics* 162:2025). The ``n``
heaviest virtual patients are kept with their weights; every later prediction is a weighted statistic over
them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eihlab.engine.simulate import Perturbation, simulate_chunk
from eihlab.errors import InputError
from eihlab.model import system
from eihlab.population.cohort import CohortDraw, sample_cohort
from eihlab.population.conditions import Condition, get_condition
from eihlab.prescribe.patient import ALIASES, TYPICAL_HR_REST, CPMMeasurement, EIHMeasurement, Patient
from eihlab.prescribe.simulate import SPECIES, Dose, rest_state, simulate_dose
from eihlab.protocol.events import Conditioning, ExerciseEvent, Measure, ProbeEvent
from eihlab.protocol.physiology import PLAUSIBLE_RANGES
from eihlab.protocol.schedule import build_schedule

POOL_FACTOR = 3
"""Prior pool size per kept virtual patient when there are measurements to fit."""
MIN_ESS = 30.0
"""Effective sample size the ABC tolerance is widened to reach."""
MEASUREMENT_SD: dict[str, float] = {"ppt_pct": 10.0, "cpm_pct": 10.0, "cpm_kpa": 40.0, "eih_pct": 8.0, "eih_kpa": 35.0}
"""Measurement error (1 SD) of each test, the ABC kernel width at tolerance 1. assumed from QST reliability
(calibration_targets T3: PPT MDC95 29–51 kPa, i.e. SEM ≈ 10–20 kPa, ≈ 5 % within a session and nearer 10 %
between sessions; CPM and EIH are less reliable than PPT, with SEMs of about 10 percentage points)."""


@dataclass(frozen=True)
class Fit:
    """One measurement and what the kept virtual patients predict for it."""

    name: str
    observed: float
    unit: str
    predicted: np.ndarray

    def summary(self, weights: np.ndarray) -> dict[str, float | str]:
        """Observed value, the weighted mean prediction and its 5-95 % range."""
        lo, hi = weighted_quantile(self.predicted, weights, [0.05, 0.95])
        return {
            "measure": self.name,
            "observed": self.observed,
            "unit": self.unit,
            "predicted": float(np.average(self.predicted, weights=weights)),
            "p05": lo,
            "p95": hi,
        }


@dataclass(frozen=True)
class PatientCohort:
    """Virtual patients standing for one patient, with ABC weights (summing to 1)."""

    patient: Patient
    condition: Condition
    draw: CohortDraw
    weights: np.ndarray
    rest: system.State
    seed: int
    prior_n: int
    tolerance: float
    fits: tuple[Fit, ...] = ()
    notes: tuple[str, ...] = ()
    _knockouts: dict[str, system.State] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n(self) -> int:
        """Number of virtual patients kept."""
        return self.draw.n

    @property
    def ess(self) -> float:
        """Effective sample size of the weights."""
        return float(1.0 / np.sum(self.weights**2))

    def rest_under(self, gains: Perturbation, key: str) -> system.State:
        """Resting state under a knock-out (cached by ``key``)."""
        if key not in self._knockouts:
            self._knockouts[key] = rest_state(self.draw, gains)
        return self._knockouts[key]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> tuple[float, ...]:
    """Quantiles of weighted values (linear interpolation of the weighted empirical CDF at mid-weights)."""
    v = np.asarray(values, dtype=float).ravel()
    w = np.asarray(weights, dtype=float).ravel()
    order = np.argsort(v)
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return tuple(float(np.interp(q, cdf, v)) for q in qs)


def patient_condition(patient: Patient) -> Condition:
    """The condition with the patient's painful regions and pain intensity."""
    base = get_condition(patient.condition, SPECIES, "condition")
    shifts = dict(base.shifts)
    if shifts.get("affected_sensitisation", 0.0) > 0 and patient.pain_intensity is not None:
        shifts["affected_sensitisation"] = shifts["affected_sensitisation"] * (0.5 + 0.1 * patient.pain_intensity)
    regions = patient.painful_regions() if patient.painful_sites else base.affected_regions
    return dataclasses.replace(base, shifts=shifts, affected_regions=tuple(regions))


def _sample(patient: Patient, condition: Condition, n: int, seed: int) -> CohortDraw:
    from eihlab.prescribe.patient import ACTIVITY_LEVELS

    draw = sample_cohort(
        SPECIES,
        condition,
        np.arange(n),
        seed,
        age_y=patient.age_y,
        female_fraction=1.0 if patient.female else 0.0,
    )
    phys = draw.physiology
    limits = PLAUSIBLE_RANGES[SPECIES]
    hr_max = np.full(n, patient.hr_max_bpm) if patient.hr_max is not None else phys.hr_max_bpm
    if patient.hr_rest is not None:
        hr_rest = np.full(n, patient.hr_rest_bpm)
    else:
        hr_rest = phys.hr_rest_bpm * patient.hr_rest_bpm / TYPICAL_HR_REST[patient.sex]
    hr_rest = np.minimum(hr_rest, hr_max - 20.0)
    vo2 = np.clip(phys.vo2max_ml_kg_min * ACTIVITY_LEVELS[patient.activity_level], *limits["vo2max_ml_kg_min"])
    phys = dataclasses.replace(phys, hr_rest_bpm=hr_rest, hr_max_bpm=hr_max, vo2max_ml_kg_min=vo2)
    return dataclasses.replace(draw, physiology=phys)


def subset(draw: CohortDraw, index: np.ndarray) -> CohortDraw:
    """The virtual patients at ``index`` (parameters and physiology)."""
    phys = draw.physiology
    fields = {f.name: getattr(phys, f.name)[index] for f in dataclasses.fields(phys) if f.name != "species"}
    return CohortDraw(
        draw.subject_ids[index],
        {k: v[index] for k, v in draw.params.items()},
        type(phys)(species=phys.species, **fields),
    )


def _cpm_measure(cpm: CPMMeasurement) -> Measure:
    return Measure(
        measure="CPM",
        site=cpm.site,
        trials=1,
        paradigm="sequential" if cpm.paradigm == "sequential" else "parallel",
        conditioning=Conditioning(body_region=cpm.conditioning_region, water_c=cpm.water_c),
    )


def baseline_tests(
    draw: CohortDraw, initial: system.State, sites: Sequence[str], cpm: CPMMeasurement | None, seed: int
) -> dict[str, np.ndarray]:
    """Noise-free resting PPT (kPa) at ``sites`` and the CPM effect (kPa and %) of every virtual patient."""
    measures = [Measure(measure="PPT", site=s, trials=1) for s in sites]
    if cpm is not None:
        measures.append(Measure(measure="PPT", site=cpm.site, trials=1))
        measures.append(_cpm_measure(cpm))
    schedule = build_schedule([ProbeEvent(times=[0.0], measures=measures)], draw.physiology, field="measured")
    params = {**draw.params, "trial_noise_cv": np.zeros(draw.n)}
    cols = simulate_chunk(
        schedule,
        draw.subject_ids,
        params,
        species=SPECIES,
        seed=seed,
        arm_index=7,
        gains=Perturbation({}, {}),
        initial=initial,
    )
    out: dict[str, np.ndarray] = {}
    for m, s, v in zip(cols["measure"], cols["site"], cols["value"], strict=True):
        out[f"{m[0]}:{s[0]}"] = np.asarray(v, dtype=float)
    if cpm is not None:
        kpa = out[f"CPM:{cpm.site}"]
        out["cpm_kpa"] = kpa
        out["cpm_pct"] = 100.0 * kpa / out[f"PPT:{cpm.site}"]
    return out


def eih_test(draw: CohortDraw, initial: system.State, eih: EIHMeasurement, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free change of PPT (% and kPa) after the patient's EIH test, per virtual patient."""
    ex: ExerciseEvent = eih.exercise
    if ex.intensity is None:
        raise InputError("measured.eih.exercise.intensity", None, "an intensity (the test must be active exercise)")
    dose = Dose(
        type=ex.type,
        region=ex.body_region or _default_region(ex.type),
        duration_min=float(ex.duration),
        sets=ex.sets,
        reps=ex.reps,
        rest_min=ex.rest_between_sets,
    )
    try:
        out = simulate_dose(
            draw,
            dose,
            [ex.intensity.value],
            ex.intensity.unit,
            [eih.site],
            seed=seed,
            initial=initial,
            after=(eih.time_after_min,),
        )
    except InputError as err:
        raise InputError(f"measured.eih.exercise.{err.field}", err.value, err.allowed) from None
    pct = out.ppt[(eih.site, eih.time_after_min)][0]
    base = out.baseline_kpa[eih.site][0]
    return pct, pct / 100.0 * base


def _default_region(type_name: str) -> str:
    from eihlab.protocol.exercise import exercise_type

    return exercise_type(type_name).region


def _kernel_terms(
    patient: Patient, draw: CohortDraw, initial: system.State, seed: int, measured_ppt: dict[str, float]
) -> list[tuple[str, float, str, np.ndarray, float]]:
    """(name, observed, unit, simulated per virtual patient, measurement SD) for every measurement."""
    m = patient.measured
    terms: list[tuple[str, float, str, np.ndarray, float]] = []
    if measured_ppt or m.cpm is not None:
        base = baseline_tests(draw, initial, list(measured_ppt), m.cpm, seed)
        for site, kpa in measured_ppt.items():
            # PPT error grows with the threshold: its SD is a fraction of the measured value
            terms.append((f"PPT {site}", kpa, "kPa", base[f"PPT:{site}"], MEASUREMENT_SD["ppt_pct"] / 100.0 * kpa))
        if m.cpm is not None:
            key = "cpm_pct" if m.cpm.unit == "%" else "cpm_kpa"
            terms.append((f"CPM {m.cpm.site}", m.cpm.value, m.cpm.unit, base[key], MEASUREMENT_SD[key]))
    if m.eih is not None and m.eih.value is not None:
        pct, change_kpa = eih_test(draw, initial, m.eih, seed)
        eih_sim = pct if m.eih.unit == "%" else change_kpa
        eih_sd = MEASUREMENT_SD["eih_pct" if m.eih.unit == "%" else "eih_kpa"]
        terms.append((f"EIH {m.eih.site}", m.eih.value, m.eih.unit, eih_sim, eih_sd))
    return terms


def build_cohort(
    patient: Patient,
    *,
    n: int = 200,
    seed: int = 0,
    measured_ppt: dict[str, float] | None = None,
) -> PatientCohort:
    """Sample the virtual patients and weight them by the measurements (see the module docstring).

    Parameters
    ----------
    patient
        The patient.
    n
        Virtual patients kept.
    seed
        Cohort seed.
    measured_ppt
        Baseline PPT per site in kPa (default: the patient file's).

    Returns
    -------
    PatientCohort
    """
    if n < 10:
        raise InputError("n", n, "at least 10 virtual patients")
    if patient.measured.eih is not None and patient.measured.eih.value is None:
        raise InputError("measured.eih.value", None, "a number (or a data file holding the patient's EIH)")
    condition = patient_condition(patient)
    ppt = dict(patient.measured.ppt_kpa() if measured_ppt is None else measured_ppt)
    has_data = bool(ppt) or patient.measured.cpm is not None or patient.measured.eih is not None
    pool = n * POOL_FACTOR if has_data else n
    draw = _sample(patient, condition, pool, seed)
    initial = rest_state(draw)
    notes: list[str] = []
    if not has_data:
        weights = np.full(n, 1.0 / n)
        return PatientCohort(patient, condition, draw, weights, initial, seed, pool, 1.0, (), tuple(notes))
    terms = _kernel_terms(patient, draw, initial, seed, ppt)
    distance = np.zeros(pool)
    for _, observed, _, sim, sd in terms:
        distance += ((sim - observed) / sd) ** 2
    tolerance = 1.0
    while True:
        logw = -0.5 * distance / tolerance**2
        w = np.exp(logw - logw.max())
        ess = w.sum() ** 2 / np.sum(w**2)
        if ess >= min(MIN_ESS, pool) or tolerance > 50:
            break
        tolerance *= 1.5
    if tolerance > 1.0:
        unusual = (
            f"the measurements are unusual for {patient.condition.replace('_', ' ')} at this age and sex; "
            if tolerance > 3.0
            else ""
        )
        notes.append(
            f"{unusual}the ABC tolerance was widened to {tolerance:.2g} × the measurement error to keep "
            f"{MIN_ESS:g} effective virtual patients"
        )
    keep = np.sort(np.argsort(-w, kind="stable")[:n])
    weights = w[keep] / w[keep].sum()
    kept = subset(draw, keep)
    rest = {k: v[keep] for k, v in initial.items()}
    fits = tuple(Fit(name, observed, unit, sim[keep]) for name, observed, unit, sim, _ in terms)
    return PatientCohort(patient, condition, kept, weights, rest, seed, pool, tolerance, fits, tuple(notes))


def merge_data(patient: Patient, base: Path) -> tuple[Patient, list[str]]:
    """Fill the patient's measurements from ``patient.data`` (tidy QST data read with :mod:`eihlab.analysis`).

    Values written in ``measured`` win. From the data: each PPT site's baseline (mean over sessions), the CPM
    effect in % (parallel paradigm if present) and the EIH (% change at the first post-exercise timepoint of a
    non-rest condition). The data do not say which exercise the EIH test was: ``measured.eih`` without a
    ``value`` states the test and the site, and the data give the value; otherwise the EIH at the first painful
    site measured (else the first site) is read as the change after the default test
    (:data:`eihlab.prescribe.patient.DEFAULT_EIH_TEST`), which the notes say.

    Returns
    -------
    patient, notes
    """
    from eihlab.analysis import analyze_file
    from eihlab.model.body import SITES

    if patient.data is None:
        return patient, []
    path = Path(patient.data)
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise InputError("data", patient.data, "an existing QST data file (a path relative to the patient file)")
    result = analyze_file(path)
    subjects, cpm = result.subjects, result.cpm
    ids = list(dict.fromkeys([*(str(s) for s in subjects["subject"]), *(str(s) for s in cpm["subject"])]))
    who = patient.subject
    if who is None:
        if len(ids) != 1:
            raise InputError("subject", None, f"the subject of the data file to use (one of {', '.join(ids)})")
        who = ids[0]
    elif who not in ids:
        raise InputError("subject", who, ids)

    def model_site(label: str) -> str | None:
        for cand in (label, ALIASES.get(label, ""), f"{label}_right", f"{label}_left"):
            if cand in SITES and "human" in SITES[cand].species:
                return cand
        return None

    notes: list[str] = [f"data: {path.name}, subject {who}, read with eihlab.analysis"]
    ppt: dict[str, float] = {}
    eih: dict[str, float] = {}
    mine = subjects.loc[(subjects["subject"].astype(str) == who) & (subjects["modality"] == "PPT")]
    for site, rows in mine.groupby("site", sort=False):
        ms = model_site(str(site))
        if ms is None:
            notes.append(f"data: site {site!r} is not a model site; ignored")
            continue
        ppt[ms] = float(rows["baseline"].mean())
        exercise = rows.loc[rows["condition"].astype(str) != "rest"]
        if len(exercise):
            first = exercise.loc[exercise["timepoint"] == exercise["timepoint"].iloc[0]]
            eih[ms] = float(first["pct_change"].mean())
    measured = patient.measured
    update: dict[str, object] = {"ppt": {**ppt, **measured.ppt}}
    if measured.eih is None and eih:
        painful = [s for s in patient.painful_test_sites() if s in eih]
        site = painful[0] if painful else next(iter(eih))
        update["eih"] = EIHMeasurement(value=eih[site], unit="%", site=site)
        notes.append(
            f"data: EIH at {site} taken as the change after the default test (3 min isometric knee extension of "
            "the right leg at 30 % MVC); state the test under measured.eih (without value) to change it"
        )
    elif measured.eih is not None and measured.eih.value is None:
        if measured.eih.site not in eih:
            raise InputError("measured.eih.site", measured.eih.site, sorted(eih) or "a PPT site with EIH in the data")
        update["eih"] = measured.eih.model_copy(update={"value": eih[measured.eih.site], "unit": "%"})
    mine_cpm = cpm.loc[(cpm["subject"].astype(str) == who) & (cpm["modality"] == "PPT")]
    if measured.cpm is None and len(mine_cpm):
        ms = model_site(str(mine_cpm["site"].iloc[0]))
        par = mine_cpm.loc[mine_cpm["paradigm"] == "parallel"]
        rows = par if len(par) else mine_cpm.loc[mine_cpm["paradigm"] == "sequential"]
        if ms is not None and len(rows):
            paradigm = "parallel" if len(par) else "sequential"
            update["cpm"] = CPMMeasurement(value=float(rows["cpm_pct"].mean()), unit="%", paradigm=paradigm, site=ms)
    merged = measured.model_copy(update=update)
    return patient.model_copy(update={"measured": merged}), notes


__all__ = [
    "MEASUREMENT_SD",
    "PatientCohort",
    "build_cohort",
    "merge_data",
    "patient_condition",
    "weighted_quantile",
]
