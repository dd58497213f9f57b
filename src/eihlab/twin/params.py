r"""Which individual parameters a twin fits, and their population prior.

A twin is a virtual subject whose every parameter sits at the population median of the person's condition
(:mod:`eihlab.population.conditions`), except a small set fitted to the person's data:

=================================  ==========================================================================
``ppt_quadriceps_kpa``             whole-body pressure-pain sensitivity (PPT level at the quadriceps, men)
``site_scale:<site>``              the person's PPT at a further measured site relative to the model's site
                                   ratio (one per PPT site beyond the reference site; assumed cv 0.2)
``hpt_c``                          heat pain sensitivity (only when HPT is measured)
``descending_efficacy``            descending inhibition: CPM efficiency and the inhibitory part of EIH
``cpt_c``                          cold pain sensitivity, which sets how painful the CPM conditioning stimulus
                                   is (only when CPM is measured)
``k_md_exercise``                  systemic (thalamic) exercise-induced hypoalgesia
``k_gate``                         segmental (local) exercise-induced hypoalgesia
``cs_condition``,                  central and peripheral sensitisation (only for a condition whose median is
``affected_sensitisation``         above 0: healthy people have none)
``vo2max_ml_kg_min``               aerobic fitness (only when an exercise condition is measured; it matters
                                   only for absolute doses: W, km/h, METs)
=================================  ==========================================================================

The prior of each is the population's between-person distribution (:func:`eihlab.population.cohort.sample_cohort`),
written as a transform of a standard normal :math:`z`:

.. math::

    \theta(z) = \operatorname{clip}\big(m\,e^{\sigma z}, \ell, u\big), \quad \sigma = \sqrt{\ln(1 + cv^2)}
    \qquad\text{(log-normal)}, \qquad
    \theta(z) = \operatorname{clip}\big(m + cv\,|d|\,z, \ell, u\big) \qquad\text{(normal)},

with m the condition's median, d the default, cv, :math:`\ell`, u from :data:`eihlab.model.registry.PARAM_BY_NAME`.
The prior is therefore :math:`z \sim N(0, I)` and the fit works in z. Fitness follows the cohort's
:math:`VO_{2max} = f_c\,\overline{VO_{2max}}(\text{age}, \text{sex})\,e^{0.2 z}`.

When the person's sex is unknown the twin is simulated as a man and the PPT and HPT priors are widened to
the sex mixture: median :math:`m\sqrt{r_f}` and :math:`\sigma^2 + (\ln r_f / 2)^2` for the PPT level
(:math:`r_f` = ``ppt_female_factor``), median :math:`m + o_f/2` and :math:`sd^2 + (o_f/2)^2` for HPT
(:math:`o_f` = ``hpt_female_offset_c``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eihlab.errors import InputError
from eihlab.model.body import N_REGIONS, region_indices
from eihlab.model.registry import PARAM_BY_NAME, PARAMETERS
from eihlab.model.system import Params
from eihlab.population.conditions import Condition
from eihlab.protocol.physiology import PLAUSIBLE_RANGES, SubjectPhysiology, friend_vo2max_p50

__all__ = [
    "SITE_SCALE_CV",
    "TwinParam",
    "TwinPrior",
    "build_prior",
]

SITE_SCALE_CV = 0.2
"""Between-person cv of a site's PPT relative to the reference site (assumed: PPTs at two sites correlate
r ≈ 0.6-0.8 between people, which with a log-SD of ≈ 0.3 per site leaves a ratio SD of ≈ 0.2)."""
FITNESS_SIGMA = 0.2
"""Log-SD of VO2max around the condition's typical value (as in :func:`eihlab.population.cohort.sample_cohort`)."""
DEFAULT_AGE_Y = 30.0
"""Age assumed when none is given (the middle of the cohorts' default 20-40 y)."""

_SITE_PREFIX = "site_scale:"


@dataclass(frozen=True)
class TwinParam:
    """One fitted parameter and its prior.

    Attributes
    ----------
    name
        A model parameter name, ``site_scale:<site>`` or ``vo2max_ml_kg_min``.
    unit, description, source
        For the report.
    median
        Prior median m (the condition's median).
    spread
        :math:`\\sigma` (log-normal: log-SD) or the SD (normal).
    dist
        ``"lognormal"`` or ``"normal"``.
    lower, upper
        Clipping bounds.
    """

    name: str
    unit: str
    median: float
    spread: float
    dist: str
    lower: float
    upper: float
    description: str
    source: str

    def value(self, z: np.ndarray) -> np.ndarray:
        """:math:`\\theta(z)` (vectorised)."""
        z = np.asarray(z, dtype=float)
        raw = self.median * np.exp(self.spread * z) if self.dist == "lognormal" else self.median + self.spread * z
        return np.asarray(np.clip(raw, self.lower, self.upper))

    def z_of(self, theta: np.ndarray | float) -> np.ndarray:
        """The z of a value (the inverse of :meth:`value` inside the bounds)."""
        t = np.clip(np.asarray(theta, dtype=float), self.lower, self.upper)
        if self.dist == "lognormal":
            return np.asarray(np.log(t / self.median) / self.spread)
        return np.asarray((t - self.median) / self.spread)

    @property
    def site(self) -> str | None:
        """The site of a site-scale parameter, else ``None``."""
        return self.name[len(_SITE_PREFIX) :] if self.name.startswith(_SITE_PREFIX) else None


@dataclass(frozen=True)
class TwinPrior:
    """The fitted parameters of one person with everything else the twin holds fixed.

    Attributes
    ----------
    params
        The fitted parameters in the order of z.
    condition
        The person's condition (medians and affected regions).
    female
        ``True``/``False``, or ``None`` when unknown (simulated as a man, priors widened).
    age_y
        Age used for the physiology.
    """

    params: tuple[TwinParam, ...]
    condition: Condition
    female: bool | None
    age_y: float

    @property
    def names(self) -> list[str]:
        """Names of the fitted parameters."""
        return [p.name for p in self.params]

    @property
    def dim(self) -> int:
        """Number of fitted parameters."""
        return len(self.params)

    def theta(self, z: np.ndarray) -> np.ndarray:
        """Natural-scale values of z rows, shape ``(k, dim)``."""
        z = np.atleast_2d(np.asarray(z, dtype=float))
        return np.column_stack([p.value(z[:, j]) for j, p in enumerate(self.params)])

    def site_scales(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Per-site PPT scale factors of z rows (sites without a fitted scale are absent)."""
        z = np.atleast_2d(np.asarray(z, dtype=float))
        return {p.site: p.value(z[:, j]) for j, p in enumerate(self.params) if p.site is not None}

    def model_inputs(self, z: np.ndarray) -> tuple[Params, SubjectPhysiology]:
        """Parameters and physiology of one virtual subject per z row (fitted values set, the rest medians).

        Parameters
        ----------
        z
            Shape ``(k, dim)``.

        Returns
        -------
        tuple of (Params, SubjectPhysiology)
            Arrays over the k subjects, ready for :func:`eihlab.twin.engine.simulate_arms`.
        """
        z = np.atleast_2d(np.asarray(z, dtype=float))
        k = z.shape[0]
        params = median_params(self.condition, k, bool(self.female))
        phys = typical_physiology(self.condition, k, bool(self.female), self.age_y)
        for j, p in enumerate(self.params):
            if p.site is not None:
                continue
            values = p.value(z[:, j])
            if p.name == "vo2max_ml_kg_min":
                phys = dataclasses.replace(phys, vo2max_ml_kg_min=values)
            else:
                params[p.name] = values
        params["psens_condition"] = params["affected_sensitisation"][:, None] * affected_mask(self.condition)[None, :]
        params["vo2_rest_fraction"] = np.asarray(phys.rest_fraction_vo2max, dtype=float)
        return params, phys


def affected_mask(condition: Condition) -> np.ndarray:
    """1 for the condition's affected regions, 0 elsewhere (as in the cohort sampler)."""
    mask = np.zeros(N_REGIONS)
    for region in condition.affected_regions:
        mask[list(region_indices(region))] = 1.0
    return mask


def median_params(condition: Condition, n: int, female: bool) -> Params:
    """Every parameter at the condition's median for n identical subjects (the cohort at variability 0)."""
    params: Params = {
        spec.name: np.full(n, float(np.clip(condition.shifts.get(spec.name, spec.default), spec.lower, spec.upper)))
        for spec in PARAMETERS
    }
    params["psens_condition"] = params["affected_sensitisation"][:, None] * affected_mask(condition)[None, :]
    params["female"] = np.full(n, 1.0 if female else 0.0)
    return params


def typical_physiology(condition: Condition, n: int, female: bool, age_y: float) -> SubjectPhysiology:
    """The condition's typical physiology (the cohort sampler at variability 0)."""
    base = SubjectPhysiology.typical(n, "human", age_y=age_y, female=female)
    limits = PLAUSIBLE_RANGES["human"]
    vo2 = np.clip(condition.vo2max_factor * base.vo2max_ml_kg_min, *limits["vo2max_ml_kg_min"])
    cp = np.clip(np.full(n, PARAM_BY_NAME["cp_fraction"].default), *limits["cp_fraction"])
    return dataclasses.replace(base, vo2max_ml_kg_min=vo2, cp_fraction=cp)


def _registry_param(name: str, condition: Condition, female: bool | None) -> TwinParam:
    spec = PARAM_BY_NAME[name]
    median = float(condition.shifts.get(name, spec.default))
    if spec.dist == "normal":
        spread, dist = spec.cv * abs(spec.default), "normal"
    else:
        spread, dist = math.sqrt(math.log1p(spec.cv**2)), "lognormal"
    source = spec.source
    if female is None and name == "ppt_quadriceps_kpa":
        ratio = PARAM_BY_NAME["ppt_female_factor"].default
        median *= math.sqrt(ratio)
        spread = math.sqrt(spread**2 + (math.log(ratio) / 2.0) ** 2)
        source += "; sex unknown: prior widened to the sex mixture"
    if female is None and name == "hpt_c":
        offset = PARAM_BY_NAME["hpt_female_offset_c"].default
        median += offset / 2.0
        spread = math.sqrt(spread**2 + (offset / 2.0) ** 2)
        source += "; sex unknown: prior widened to the sex mixture"
    return TwinParam(name, spec.unit, median, spread, dist, spec.lower, spec.upper, spec.description, source)


def _has_spread(name: str, condition: Condition) -> bool:
    spec = PARAM_BY_NAME[name]
    return spec.cv > 0.0 and float(condition.shifts.get(name, spec.default)) > 0.0


def build_prior(
    condition: Condition,
    *,
    ppt_sites: Sequence[str] = (),
    hpt: bool = False,
    cpm: bool = False,
    exercise: bool = False,
    female: bool | None = None,
    age_y: float | None = None,
    only: Sequence[str] | None = None,
) -> TwinPrior:
    """The fitted parameters for what a person's data contain, with their population prior.

    Parameters
    ----------
    condition
        The person's condition (a human condition of :data:`eihlab.population.conditions.CONDITIONS`).
    ppt_sites
        Model sites where PPT was measured; the first (or a quadriceps site) is the reference, every other
        one gets a ``site_scale:<site>`` parameter.
    hpt, cpm, exercise
        Whether HPT, CPM and an exercise condition are in the data.
    female
        The person's sex, or ``None`` when unknown.
    age_y
        Age in years (default :data:`DEFAULT_AGE_Y`).
    only
        Fit only these of the parameters the data call for (the others stay at their medians).

    Returns
    -------
    TwinPrior
    """
    if "human" not in condition.species:
        raise InputError("--condition", condition.name, "a human condition")
    age = DEFAULT_AGE_Y if age_y is None else float(age_y)
    names = ["ppt_quadriceps_kpa"]
    if hpt:
        names.append("hpt_c")
    names.append("descending_efficacy")
    if cpm:
        names.append("cpt_c")
    names += ["k_md_exercise", "k_gate"]
    names += [n for n in ("cs_condition", "affected_sensitisation") if _has_spread(n, condition)]
    params = [_registry_param(n, condition, female) for n in names]
    sites = list(dict.fromkeys(ppt_sites))
    if sites:
        quads = [s for s in sites if s.startswith("quadriceps")]
        reference = quads[0] if quads else sites[0]
        sigma = math.sqrt(math.log1p(SITE_SCALE_CV**2))
        params += [
            TwinParam(
                f"{_SITE_PREFIX}{s}",
                "1",
                1.0,
                sigma,
                "lognormal",
                0.5,
                2.0,
                f"the person's PPT at {s} relative to the model's ratio to {reference}",
                f"assumed: between-person cv {SITE_SCALE_CV:g} of PPT ratios between sites",
            )
            for s in sites
            if s != reference
        ]
    if exercise:
        typical = float(friend_vo2max_p50(age, bool(female))) * condition.vo2max_factor
        lo, hi = PLAUSIBLE_RANGES["human"]["vo2max_ml_kg_min"]
        params.append(
            TwinParam(
                "vo2max_ml_kg_min",
                "mL/kg/min",
                typical,
                FITNESS_SIGMA,
                "lognormal",
                max(lo, 0.3 * typical),
                min(hi, 1.8 * typical),
                "aerobic fitness (VO2max); it changes the dose only for absolute intensities (W, km/h, METs)",
                "FRIEND 50th percentile × the condition's vo2max_factor, log-SD 0.2 (as the cohort sampler)",
            )
        )
    if only is not None:
        unknown = sorted(set(only) - {p.name for p in params})
        if unknown:
            raise InputError("parameters", unknown[0], [p.name for p in params])
        params = [p for p in params if p.name in set(only)]
        if not params:
            raise InputError("parameters", [], "at least one parameter to fit")
    return TwinPrior(tuple(params), condition, female, age)
