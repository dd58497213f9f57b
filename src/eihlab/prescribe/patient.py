"""The patient file: what a clinic knows about one person, validated.

A patient file is YAML::

    age_y: 64
    sex: female                       # female | male
    condition: knee_osteoarthritis    # a human condition of eihlab.population.conditions
    painful_sites: [infrapatellar_right]   # QST sites, body regions or aliases (knee_right, low_back, ...)
    pain_intensity: 6                 # NRS 0-10, average pain (optional)
    activity_level: low               # sedentary | low | moderate | high
    hr_rest: 72                       # bpm, optional
    hr_max: 150                       # bpm, optional (default: Tanaka, 208 - 0.7 age)
    planned_surgery: false            # true: the report adds the review's peri-operative advice
    measured:                         # optional, any subset
      ppt: {infrapatellar_right: 260, forearm_left: 310}            # kPa, or {value, unit}
      cpm: {value: 4, unit: "%", paradigm: parallel, site: quadriceps_right}
      eih:
        value: -6                      # % (or kPa) change of PPT after the EIH test (or from data)
        unit: "%"
        site: infrapatellar_right
        exercise: {type: isometric_knee_extension, intensity: {value: 30, unit: "%MVC"}, duration: 3,
                   body_region: lower_limb_right}
    data: qst.csv                     # optional: QST data of this patient (eihlab.analysis layouts); sites
                                      # named as model sites (quadriceps_right), aliases or bare (→ _right)
    subject: P01                      # which subject of the data file, if it holds several

Every field is checked; a mistake raises :class:`eihlab.errors.InputError` naming the field, the value and what
is allowed. Unknown fields are errors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from eihlab.errors import InputError
from eihlab.model.body import REGION_GROUPS, SITES, get_site
from eihlab.population.conditions import CONDITIONS, get_condition
from eihlab.protocol.events import ExerciseEvent
from eihlab.protocol.physiology import hr_max_tanaka

HUMAN_CONDITIONS: tuple[str, ...] = tuple(sorted(c.name for c in CONDITIONS.values() if "human" in c.species))
HUMAN_SITES: tuple[str, ...] = tuple(sorted(s.name for s in SITES.values() if "human" in s.species))
ACTIVITY_LEVELS: dict[str, float] = {"sedentary": 0.85, "low": 0.93, "moderate": 1.0, "high": 1.15}
"""Activity level → factor on the age/sex-typical VO2max (assumed: a sedentary adult sits ~15 % below the
FRIEND median and a regularly training one ~15 % above; no source fitted)."""

ALIASES: dict[str, str] = {
    "knee_left": "infrapatellar_left",
    "knee_right": "infrapatellar_right",
    "thigh_left": "quadriceps_left",
    "thigh_right": "quadriceps_right",
    "neck": "trapezius_right",
    "neck_left": "trapezius_left",
    "neck_right": "trapezius_right",
    "shoulder_left": "deltoid_left",
    "shoulder_right": "deltoid_right",
    "low_back": "lumbar_paraspinal_right",
    "lower_back": "lumbar_paraspinal_right",
    "hand_left": "hand_left",
    "hand_right": "hand_right",
    "calf_left": "gastrocnemius_left",
    "calf_right": "gastrocnemius_right",
    "head": "forehead",
}
"""Clinic words for painful sites → the QST site tested there."""

REGION_SITE: dict[str, str] = {
    "head": "forehead",
    "neck_shoulder_left": "trapezius_left",
    "neck_shoulder_right": "trapezius_right",
    "upper_limb_left": "forearm_left",
    "upper_limb_right": "forearm_right",
    "trunk": "lumbar_paraspinal_right",
    "lower_limb_left": "quadriceps_left",
    "lower_limb_right": "quadriceps_right",
}
"""The QST site that stands for a painful region when no site is named."""

WIDESPREAD_SITES: tuple[str, ...] = ("trapezius_right", "lumbar_paraspinal_right", "quadriceps_right")
"""QST sites for widespread pain (neck-shoulder, low back and thigh: upper body, trunk and lower body)."""
MAX_PAINFUL_SITES = 3
"""At most this many painful sites are predicted (the first ones named)."""

DEFAULT_EIH_TEST: dict[str, Any] = {
    "type": "isometric_knee_extension",
    "intensity": {"value": 30, "unit": "%MVC"},
    "duration": 3,
}
"""The EIH test assumed when a measured EIH does not say which exercise produced it (a 3-min isometric knee
extension at 30 % MVC, the common clinical test; assumed)."""

TYPICAL_HR_REST = {"female": 70.0, "male": 65.0}
"""Resting heart rate used when the file has none (the population-typical values of
:meth:`eihlab.protocol.physiology.SubjectPhysiology.typical`)."""


def _allowed(names: Iterable[str]) -> AfterValidator:
    allowed = tuple(names)

    def check(v: str) -> str:
        if v not in allowed:
            raise ValueError("one of " + ", ".join(sorted(allowed)))
        return v

    return AfterValidator(check)


def _in_range(lo: float, hi: float, unit: str = "") -> AfterValidator:
    def check(v: float) -> float:
        if not (math.isfinite(v) and lo <= v <= hi):
            raise ValueError(f"a number in [{lo:g}, {hi:g}]{' ' + unit if unit else ''}")
        return v

    return AfterValidator(check)


def _site_name(v: str) -> str:
    name = ALIASES.get(v, v)
    if name not in HUMAN_SITES:
        raise ValueError("a QST site (" + ", ".join(HUMAN_SITES) + ")")
    return name


def _painful(v: str) -> str:
    if v in REGION_GROUPS or v in ALIASES or v in HUMAN_SITES:
        return v
    raise ValueError(
        "a QST site, a body region or an alias: " + ", ".join(sorted({*HUMAN_SITES, *REGION_GROUPS, *ALIASES}))
    )


SiteName = Annotated[str, AfterValidator(_site_name)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pressure(_Strict):
    """A pressure with its unit (kPa, N/cm2, kgf/cm2, psi; a force unit needs ``probe_cm2``)."""

    value: Annotated[float, _in_range(0.0, 5000.0)]
    unit: str = "kPa"
    probe_cm2: Annotated[float, _in_range(0.01, 10.0, "cm²")] = 1.0

    def kpa(self) -> float:
        """The pressure in kPa."""
        from eihlab.analysis.units import convert, find_unit, units_of

        unit = find_unit(self.unit, ("pressure",))
        if unit is None:
            raise InputError("unit", self.unit, units_of("pressure"))
        return float(convert([self.value], unit, self.probe_cm2)[0])


class CPMMeasurement(_Strict):
    """A measured CPM effect: conditioned − baseline test threshold (> 0 = inhibition for a threshold).

    Defaults: parallel paradigm, PPT at the right quadriceps, the left hand in 2 °C water for 60 s (a cold
    pressor; qst_conventions §2: 1–12 °C are in use, 1–2 °C the most common).
    """

    value: Annotated[float, _in_range(-1000.0, 1000.0)]
    unit: Annotated[str, _allowed(("%", "kPa"))] = "%"
    paradigm: Annotated[str, _allowed(("parallel", "sequential"))] = "parallel"
    site: SiteName = "quadriceps_right"
    conditioning_region: Annotated[str, _allowed(("upper_limb_left", "upper_limb_right"))] = "upper_limb_left"
    water_c: Annotated[float, _in_range(0.0, 25.0, "°C")] = 2.0


class EIHMeasurement(_Strict):
    """A measured EIH: the change of PPT at ``site`` ``time_after_min`` after the test ``exercise``.

    ``value`` may be left out when the patient's ``data`` file holds the EIH: the file then states the protocol
    and the data give the value.
    """

    value: Annotated[float, _in_range(-1000.0, 1000.0)] | None = None
    unit: Annotated[str, _allowed(("%", "kPa"))] = "%"
    site: SiteName = "quadriceps_right"
    exercise: ExerciseEvent = ExerciseEvent.model_validate(DEFAULT_EIH_TEST)
    time_after_min: Annotated[float, _in_range(0.0, 120.0, "min")] = 2.0

    @model_validator(mode="after")
    def _acute(self) -> EIHMeasurement:
        ex = self.exercise
        if ex.duration == "to_exhaustion" or ex.weeks is not None or ex.repeat is not None:
            raise ValueError("the EIH test is one bout of fixed duration (no to_exhaustion, weeks or repeat)")
        return self


class Measured(_Strict):
    """Measurements of this patient (any subset)."""

    ppt: dict[SiteName, float | Pressure] = Field(default_factory=dict)
    cpm: CPMMeasurement | None = None
    eih: EIHMeasurement | None = None

    def ppt_kpa(self) -> dict[str, float]:
        """Baseline PPT per site in kPa."""
        out = {}
        for site, v in self.ppt.items():
            kpa = v.kpa() if isinstance(v, Pressure) else float(v)
            if not (0.0 < kpa <= 5000.0):
                raise InputError(f"measured.ppt.{site}", v, "a pressure in (0, 5000] kPa")
            out[site] = kpa
        return out


class Patient(_Strict):
    """One patient, as the clinic knows them."""

    schema_version: Literal[1] = 1
    name: str = "patient"
    age_y: Annotated[float, _in_range(18.0, 100.0, "years")]
    sex: Annotated[str, _allowed(("female", "male"))]
    condition: Annotated[str, _allowed(HUMAN_CONDITIONS)] = "healthy"
    painful_sites: list[Annotated[str, AfterValidator(_painful)]] = Field(default_factory=list)
    pain_intensity: Annotated[float, _in_range(0.0, 10.0, "(NRS)")] | None = None
    activity_level: Annotated[str, _allowed(ACTIVITY_LEVELS)] = "moderate"
    hr_rest: Annotated[float, _in_range(30.0, 120.0, "bpm")] | None = None
    hr_max: Annotated[float, _in_range(90.0, 230.0, "bpm")] | None = None
    planned_surgery: bool = False
    measured: Measured = Measured()
    data: str | None = None
    subject: str | None = None

    @property
    def hr_max_bpm(self) -> float:
        """Maximal heart rate: stated, else Tanaka's 208 − 0.7·age."""
        return float(self.hr_max) if self.hr_max is not None else float(hr_max_tanaka(np.array([self.age_y]))[0])

    @property
    def hr_rest_bpm(self) -> float:
        """Resting heart rate: stated, else the population-typical value for the sex."""
        return float(self.hr_rest) if self.hr_rest is not None else TYPICAL_HR_REST[self.sex]

    @property
    def female(self) -> bool:
        """True for a woman."""
        return self.sex == "female"

    def painful_regions(self) -> tuple[str, ...]:
        """The body regions (of :data:`eihlab.model.body.REGIONS`) that hurt: from the painful sites, else from
        the condition."""
        names = self.painful_sites or list(get_condition(self.condition, "human").affected_regions)
        regions: list[str] = []
        for name in names:
            if name in REGION_GROUPS:
                regions.extend(REGION_GROUPS[name])
            else:
                regions.append(get_site(ALIASES.get(name, name), "human").region)
        return tuple(dict.fromkeys(regions))

    def painful_test_sites(self) -> tuple[str, ...]:
        """QST sites at the painful places (named sites, or one standard site per painful region)."""
        sites: list[str] = []
        for name in self.painful_sites:
            if name in REGION_GROUPS:
                sites.extend(REGION_SITE[r] for r in REGION_GROUPS[name] if r in REGION_SITE)
            else:
                sites.append(ALIASES.get(name, name))
        regions = self.painful_regions()
        if set(REGION_GROUPS["whole_body"]) <= set(regions) and all(n in REGION_GROUPS for n in self.painful_sites):
            return WIDESPREAD_SITES
        if not self.painful_sites:
            sites.extend(REGION_SITE[r] for r in regions)
        return tuple(dict.fromkeys(sites))[:MAX_PAINFUL_SITES]


_UNION_TAGS = frozenset({"float", "Pressure", "[key]", "function-after[_site_name(), str]"})


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in _UNION_TAGS and not str(part).startswith("function-"):
            out += ("." if out else "") + str(part)
    return out or "patient"


def _error(err: ValidationError) -> InputError:
    e = err.errors()[0]
    field = _field(e["loc"])
    value = e.get("input")
    if e["type"] == "missing":
        return InputError(field, None, "a value (the field is required)")
    if e["type"] == "extra_forbidden":
        return InputError(field, "unknown field", _fields_at(e["loc"][:-1]))
    if isinstance(value, dict | list):
        value = "<" + type(value).__name__ + ">"
    msg = str(e["msg"]).removeprefix("Value error, ")
    if "; allowed: " in msg:
        msg = "one of " + msg.split("; allowed: ", 1)[1]
    elif msg.startswith("Input should be a valid number"):
        msg = "a number"
    elif msg.startswith("Input should be "):
        msg = msg.removeprefix("Input should be ")
    return InputError(field, value, msg)


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Patient
    for part in loc:
        if isinstance(part, int) or model is None:
            break
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            break
        ann = info.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return sorted(getattr(model, "model_fields", Patient.model_fields))


def parse_patient(data: object) -> Patient:
    """Validate a mapping as a patient, turning pydantic's report into one :class:`InputError`."""
    if not isinstance(data, dict):
        raise InputError("patient", type(data).__name__, "a YAML mapping with age_y, sex, condition, ...")
    try:
        patient = Patient.model_validate(data)
    except ValidationError as err:
        raise _error(err) from None
    if patient.hr_rest_bpm >= patient.hr_max_bpm - 20.0:
        raise InputError(
            "hr_rest",
            patient.hr_rest_bpm,
            f"a resting heart rate at least 20 bpm below HRmax ({patient.hr_max_bpm:g} bpm)",
        )
    return patient


def load_patient(path: str | Path) -> tuple[Patient, Path]:
    """Read and validate a patient file; returns the patient and the folder relative paths start from."""
    p = Path(path)
    if not p.is_file():
        raise InputError("PATIENT", str(path), "an existing patient YAML file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        raise InputError(f"{p.name} ({where})", "malformed YAML", "valid YAML") from None
    except UnicodeDecodeError:
        raise InputError(p.name, "binary file", "a UTF-8 YAML file") from None
    return parse_patient(data), p.parent


__all__ = [
    "ACTIVITY_LEVELS",
    "ALIASES",
    "CPMMeasurement",
    "EIHMeasurement",
    "Measured",
    "Patient",
    "load_patient",
    "parse_patient",
]
