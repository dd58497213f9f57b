r"""Sampling virtual subjects: parameters, physiology and demographics.

Subject *i* of a cohort with seed *s* draws its random numbers from counter-based streams keyed by *s*, *i* and
the parameter's name (:mod:`eihlab._random`), so a subject's numbers do not depend on the cohort size, the
shard it lands in, the number of workers, or on which other parameters the model has.

Each parameter with a between-person spread is drawn around its median m (the default, or the condition's
or the experiment's value): log-normal, :math:`m\,e^{\sigma z}` with :math:`\sigma = v\sqrt{\ln(1 + cv^2)}`, or
normal, :math:`m + v\,cv\,|m|\,z`, where v is the cohort's ``variability``; then clipped to the bounds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from eihlab._random import standard_normals
from eihlab.errors import InputError
from eihlab.model.body import N_REGIONS, region_indices
from eihlab.model.registry import PARAM_BY_NAME, PARAMETERS
from eihlab.model.system import Params
from eihlab.population.conditions import Condition
from eihlab.protocol.physiology import PLAUSIBLE_RANGES, SubjectPhysiology

_N_EXTRA = 6  # sex, age, vo2max, hr_rest, hr_max, body mass
_DEFAULT_AGE = {"human": (20.0, 40.0), "rat": (0.2, 0.3), "mouse": (0.2, 0.3)}
VO2MAX_SPREAD = {"human": 0.2, "rat": 0.08, "mouse": 0.08}
"""Between-subject log-SD of VO2max by species (scaled by the cohort's ``variability``). Humans: assumed, the
wide fitness range of an adult population. Rodents: laboratory rats of one strain, age and sex are far more
uniform; Copp et al. 2010 (doi:10.1113/jphysiol.2010.198382) report VO2max 84.0 ± 1.8 and critical speed
48.6 ± 1.0 m/min (mean ± SEM, n = 7 Sprague-Dawley rats), i.e. CVs of about 5-6 %; 8 % allows for mixed
cohorts. A rodent's maximal aerobic speed is (VO2max − a)/b on the species' locomotor-cost line, whose intercept
a is about 60 % of VO2max, so a VO2max spread is amplified about 2.6-fold in speed: the former human-like 20 %
gave rats a maximal speed CV of ~50 % and put about 13 % of healthy rats above critical power at 12 m/min,
against a critical speed of ~49 m/min in real rats."""


@dataclass(frozen=True, slots=True)
class CohortDraw:
    """Parameters (arrays over subjects) and physiology of a sampled cohort."""

    subject_ids: np.ndarray
    params: Params
    physiology: SubjectPhysiology

    @property
    def n(self) -> int:
        """Number of subjects."""
        return int(self.subject_ids.size)


FROM_PHYSIOLOGY: dict[str, str] = {
    "vo2_rest_fraction": "it is VO2rest/VO2max of each subject (species, age, sex and condition set VO2max)",
}
"""Parameters that a sampled cohort takes from each subject's physiology, so that they cannot be overridden."""


def check_overrides(values: Mapping[str, float], field: str) -> None:
    """Check parameter overrides against the tables: known name, value within bounds, not physiology-derived."""
    for name, value in values.items():
        spec = PARAM_BY_NAME.get(name)
        if spec is None:
            raise InputError(f"{field}.{name}", name, "a parameter name (see `eihlab model describe`)")
        if name in FROM_PHYSIOLOGY:
            raise InputError(f"{field}.{name}", value, f"no override: {FROM_PHYSIOLOGY[name]}")
        if not spec.lower <= value <= spec.upper:
            raise InputError(f"{field}.{name}", value, f"a number in [{spec.lower}, {spec.upper}] {spec.unit}")


def sample_cohort(
    species: str,
    condition: Condition,
    subject_ids: np.ndarray,
    seed: int,
    *,
    age_y: float | tuple[float, float] | None = None,
    female_fraction: float = 0.5,
    variability: float = 1.0,
    overrides: Mapping[str, float] | None = None,
) -> CohortDraw:
    """Draw parameters and physiology for the given subject ids."""
    overrides = dict(overrides or {})
    check_overrides(overrides, "parameters")
    ids = np.asarray(subject_ids, dtype=np.int64)
    n = ids.size
    z = standard_normals(seed, ids, [f"parameter:{spec.name}" for spec in PARAMETERS])
    params: Params = {}
    for j, spec in enumerate(PARAMETERS):
        median = overrides.get(spec.name, condition.shifts.get(spec.name, spec.default))
        if spec.cv == 0 or variability == 0:
            values = np.full(n, median)
        elif spec.dist == "normal":
            values = median + variability * spec.cv * abs(spec.default) * z[:, j]
        else:
            sigma = variability * np.sqrt(np.log1p(spec.cv**2))
            values = median * np.exp(sigma * z[:, j])
        params[spec.name] = np.clip(values, spec.lower, spec.upper)

    mask = np.zeros(N_REGIONS)
    for region in condition.affected_regions:
        mask[list(region_indices(region))] = 1.0
    params["psens_condition"] = params["affected_sensitisation"][:, None] * mask[None, :]

    extra = standard_normals(seed, ids, "demographics", _N_EXTRA)
    from scipy.special import ndtr  # uniform draws from the same normal stream

    female = ndtr(extra[:, 0]) < female_fraction
    lo, hi = (age_y, age_y) if isinstance(age_y, int | float) else (age_y or _DEFAULT_AGE[species])
    age = lo + (hi - lo) * ndtr(extra[:, 1])
    base = SubjectPhysiology.typical(n, species, age_y=age, female=female)
    spread = variability
    vo2 = condition.vo2max_factor * base.vo2max_ml_kg_min * np.exp(VO2MAX_SPREAD[species] * spread * extra[:, 2])
    hr_rest = np.clip(
        base.hr_rest_bpm * np.exp(0.1 * spread * extra[:, 3]), 0.3 * base.hr_max_bpm, 0.6 * base.hr_max_bpm
    )
    hr_max = base.hr_max_bpm * np.exp(0.035 * spread * extra[:, 4])
    mass = base.body_mass_kg * np.exp(0.15 * spread * extra[:, 5])
    limits = PLAUSIBLE_RANGES[species]

    def within(name: str, values: np.ndarray) -> np.ndarray:
        lo, hi = limits[name]
        return np.clip(values, lo, hi)

    physiology = dataclasses.replace(
        base,
        vo2max_ml_kg_min=within(
            "vo2max_ml_kg_min", np.clip(vo2, 0.3 * base.vo2max_ml_kg_min, 1.8 * base.vo2max_ml_kg_min)
        ),
        hr_rest_bpm=within("hr_rest_bpm", hr_rest),
        hr_max_bpm=within("hr_max_bpm", hr_max),
        body_mass_kg=within("body_mass_kg", np.clip(mass, 0.6 * base.body_mass_kg, 1.6 * base.body_mass_kg)),
        cp_fraction=within("cp_fraction", params["cp_fraction"]),
    )
    params["female"] = female.astype(float)
    params["vo2_rest_fraction"] = np.asarray(physiology.rest_fraction_vo2max, dtype=float)
    return CohortDraw(ids, params, physiology)
