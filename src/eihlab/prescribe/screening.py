"""Screening: the patient's CPM and EIH against healthy peers, and the review's peri-operative advice.

The reference population is a cohort of healthy virtual people of the patient's age and sex (moderately
active) put through the same CPM and EIH tests as the patient (or the default tests: parallel CPM with the
left hand in 2 °C water and PPT at the right quadriceps; EIH after a 3-min isometric knee extension at 30 %
MVC). Their noise-free values plus the measurement error of each test
(:data:`eihlab.prescribe.cohort.MEASUREMENT_SD`) give the distribution of values a clinic would measure. The
patient's value — measured, or else the patient cohort's prediction — is placed in it as a percentile: below
:data:`IMPAIRED_PERCENTILE` is *impaired*, below :data:`LOW_PERCENTILE` *low*, else *normal*.

Following the review (§5b), low CPM or low EIH marks a person at higher risk of chronic or post-surgical
pain; for a planned operation the report then gives the review's advice (pre-emptive analgesia, exercise of
healthy limbs, peri-operative pain planning).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eihlab.prescribe.cohort import MEASUREMENT_SD, PatientCohort, baseline_tests, build_cohort, eih_test
from eihlab.prescribe.evidence import cite
from eihlab.prescribe.patient import CPMMeasurement, EIHMeasurement, Patient
from eihlab.protocol.exercise import exercise_type

LOW_PERCENTILE = 25.0
"""Below this percentile of healthy peers a CPM or EIH counts as low."""
IMPAIRED_PERCENTILE = 10.0
"""Below this percentile it counts as impaired."""
DISCLAIMER_HEAD = "Research tool, not a medical device."
DISCLAIMER_BODY = (
    "These prescriptions are predictions of a mechanistic model for virtual patients like this one; they have "
    "not been validated clinically and must not replace the judgement of a physician or physiotherapist."
)
DISCLAIMER = f"eihlab prescribe is a research tool, not a medical device. {DISCLAIMER_BODY}"


@dataclass(frozen=True)
class Test:
    """One screening test: the patient's value, its source and its place among healthy peers."""

    name: str
    value: float
    unit: str
    source: str
    protocol: str
    percentile: float
    status: str
    reference: np.ndarray = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        q = np.percentile(self.reference, [10, 25, 50, 75, 90])
        return {
            "value": round(self.value, 2),
            "unit": self.unit,
            "source": self.source,
            "protocol": self.protocol,
            "percentile": round(self.percentile, 1),
            "status": self.status,
            "reference": {f"p{p}": round(float(v), 2) for p, v in zip((10, 25, 50, 75, 90), q, strict=True)},
        }


@dataclass(frozen=True)
class Screening:
    """CPM and EIH status, the combined risk and the peri-operative advice."""

    cpm: Test
    eih: Test
    at_risk: bool
    advice: tuple[str, ...]
    perioperative: tuple[str, ...]
    evidence: tuple[dict[str, str], ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "cpm": self.cpm.as_dict(),
            "eih": self.eih.as_dict(),
            "at_risk": self.at_risk,
            "advice": list(self.advice),
            "perioperative": {"applies": bool(self.perioperative), "advice": list(self.perioperative)},
            "evidence": list(self.evidence),
        }


def ordinal(percentile: float) -> str:
    """``"52nd percentile"``, ``"below the 1st percentile"``."""
    k = int(round(percentile))
    if k < 1:
        return "below the 1st percentile"
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix} percentile"


def _status(percentile: float) -> str:
    if percentile < IMPAIRED_PERCENTILE:
        return "impaired"
    return "low" if percentile < LOW_PERCENTILE else "normal"


def _percentile(value: float, reference: np.ndarray) -> float:
    below = np.mean(reference < value)
    ties = np.mean(reference == value)
    return float(100.0 * (below + 0.5 * ties))


def _cpm_words(cpm: CPMMeasurement) -> str:
    return (
        f"{cpm.paradigm} CPM, PPT at {cpm.site}, {cpm.conditioning_region.replace('_', ' ')} in {cpm.water_c:g} °C "
        "water"
    )


def _eih_words(eih: EIHMeasurement) -> str:
    ex = eih.exercise
    assert ex.intensity is not None
    return (
        f"PPT at {eih.site} {eih.time_after_min:g} min after {ex.type.replace('_', ' ')} "
        f"({(ex.body_region or exercise_type(ex.type).region).replace('_', ' ')}) at {ex.intensity.value:g} "
        f"{ex.intensity.unit} for {float(ex.duration):g} min"
    )


def screen(cohort: PatientCohort, *, n_reference: int = 200, seed: int = 0) -> Screening:
    """Place the patient's CPM and EIH among healthy peers and collect the review's advice."""
    patient = cohort.patient
    m = patient.measured
    cpm = m.cpm or CPMMeasurement(value=0.0)
    eih = m.eih or EIHMeasurement(value=0.0)
    peers_patient = Patient(age_y=patient.age_y, sex=patient.sex, condition="healthy")
    peers = build_cohort(peers_patient, n=n_reference, seed=seed + 1)
    rng = np.random.default_rng([seed, 9001])

    def measured_like(values: np.ndarray, sd: float) -> np.ndarray:
        return np.asarray(values + sd * rng.standard_normal(values.size))

    cpm_key = "cpm_pct" if cpm.unit == "%" else "cpm_kpa"
    ref_cpm = measured_like(
        baseline_tests(peers.draw, peers.rest, [], cpm, peers.seed)[cpm_key], MEASUREMENT_SD[cpm_key]
    )
    pct, kpa = eih_test(peers.draw, peers.rest, eih, peers.seed)
    eih_key = "eih_pct" if eih.unit == "%" else "eih_kpa"
    ref_eih = measured_like(pct if eih.unit == "%" else kpa, MEASUREMENT_SD[eih_key])

    w = cohort.weights
    if m.cpm is not None:
        cpm_value, cpm_source = m.cpm.value, "measured"
    else:
        own = baseline_tests(cohort.draw, cohort.rest, [], cpm, cohort.seed)[cpm_key]
        cpm_value, cpm_source = float(np.sum(w * own)), "predicted (not measured)"
    if m.eih is not None and m.eih.value is not None:
        eih_value, eih_source = m.eih.value, "measured"
    else:
        own_pct, own_kpa = eih_test(cohort.draw, cohort.rest, eih, cohort.seed)
        eih_value, eih_source = float(np.sum(w * (own_pct if eih.unit == "%" else own_kpa))), "predicted (not measured)"

    cpm_p = _percentile(cpm_value, ref_cpm)
    eih_p = _percentile(eih_value, ref_eih)
    tests = (
        Test("CPM", cpm_value, cpm.unit, cpm_source, _cpm_words(cpm), cpm_p, _status(cpm_p), ref_cpm),
        Test("EIH", eih_value, eih.unit, eih_source, _eih_words(eih), eih_p, _status(eih_p), ref_eih),
    )
    at_risk = any(t.status != "normal" for t in tests)
    advice: list[str] = []
    if at_risk:
        low = " and ".join(t.name for t in tests if t.status != "normal")
        advice.append(
            f"Low {low} (below the {LOW_PERCENTILE:g}th percentile of healthy peers of the same age and sex): by the "
            "review (§5b) a marker of weaker central pain modulation and a higher risk of chronic pain; start with "
            "exercise of non-affected limbs or the whole body at intensities that do not provoke pain (§5c)."
        )
    else:
        advice.append(
            "CPM and EIH are within the range of healthy peers of the same age and sex: no sign of impaired "
            "central pain modulation on these tests."
        )
    if any(t.source != "measured" for t in tests):
        advice.append(
            "The review (§5b) recommends measuring CPM and EIH together; values marked 'predicted' come from the "
            "model for this condition, age and sex and should be replaced by measurements."
        )
    periop: list[str] = []
    if patient.planned_surgery:
        if at_risk:
            periop = [
                "Surgery is planned and CPM/EIH are low: the review (§5b) advises pre-emptive analgesia (to be "
                "decided with the surgical and anaesthesia team) or pre-operative exercise of healthy limbs.",
                "Plan peri-operative (pre-operative) pain management from the CPM/EIH results to prevent "
                "post-operative sensitisation; repeat CPM/EIH testing before the operation.",
                "As pre-operative exercise, prefer the options below on non-affected limbs or the whole body where "
                "there are any.",
            ]
        else:
            periop = [
                "Surgery is planned; CPM and EIH are not low, so the screening gives no indication for pre-emptive "
                "analgesia. The review (§5b) still advises planning peri-operative pain management from CPM/EIH "
                "results; the options below can serve as pre-operative exercise.",
            ]
    return Screening(tests[0], tests[1], at_risk, tuple(advice), tuple(periop), tuple(cite(["screening"])))


__all__ = [
    "DISCLAIMER",
    "ordinal",
    "DISCLAIMER_BODY",
    "DISCLAIMER_HEAD",
    "IMPAIRED_PERCENTILE",
    "LOW_PERCENTILE",
    "Screening",
    "Test",
    "screen",
]
