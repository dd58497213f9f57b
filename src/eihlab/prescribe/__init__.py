"""Screening and exercise prescriptions for one patient (``eihlab prescribe``).

A research tool, not a medical device. From a patient file (:mod:`~eihlab.prescribe.patient`) it builds a
weighted cohort of virtual patients like the patient (:mod:`~eihlab.prescribe.cohort`, an approximate
Bayesian computation step when measurements are given), places the patient's CPM and EIH among healthy peers
(:mod:`~eihlab.prescribe.screening`), searches exercise doses under safety constraints
(:mod:`~eihlab.prescribe.candidates`, :mod:`~eihlab.prescribe.optimise`), simulates each top option's
12-week progression, finds the mechanisms each relies on by knock-outs (:mod:`~eihlab.prescribe.mechanisms`)
and cites the evidence entries behind it (:mod:`~eihlab.prescribe.evidence`). :mod:`~eihlab.prescribe.report`
writes Markdown, a self-contained HTML page and JSON.
"""

from eihlab.prescribe.patient import Patient, load_patient, parse_patient
from eihlab.prescribe.pipeline import Option, Prescription, as_json, prescribe

__all__ = ["Option", "Patient", "Prescription", "as_json", "load_patient", "parse_patient", "prescribe"]
