r"""The fast perception map: from the slow state to pain thresholds and ratings at a site.

Transmission-cell gain for modality m at site s (all terms relative to a healthy person at rest):

.. math::

   \ln G_{m,s} = \frac{\ln \mathrm{psens}_{r(s)}}{1 + \Omega} + c_m \sigma - a_m (\iota - \iota_0)
                 + b_m (\phi - \phi_0) + \delta_m - \ln(1 + \gamma_s) + w_s - \ln(1 + \alpha_s) + \ln \mathrm{VPL}

with :math:`\Omega` the M2-derived peripheral opioids (anti-hyperalgesic: they reverse peripheral
sensitisation, at most to healthy; :mod:`eihlab.model.immune`), :math:`\sigma` central sensitisation,
:math:`w_s` segmental wind-up, :math:`\iota` descending inhibition, :math:`\phi` facilitation,
:math:`\gamma_s` the segmental gate at the site, :math:`\alpha_s` Lu model a's sensory attenuation at a moving
site, and the discriminator term :math:`\delta` = :math:`(d - d_0)` (MD weight) for mechanical and electrical
stimuli and :math:`-(v - v_0)` (VM weight) for heat and cold (§4.2). A threshold is where the stimulus
drive times G reaches the subject's criterion:

* pressure, rodent paw pressure (Randall-Selitto) and von Frey force (drive ∝ force): :math:`\theta = \theta_0 / G`;
* electrical current (Aδ): :math:`\theta = \theta_0 / G`;
* heat (drive :math:`e^{(T - T_0)/k_T}`): :math:`\theta = \theta_0 - k_T \ln G`; cold mirrors it.

The device adds reaction time × ramp rate and trial noise and clips at its cut-off (``eihlab.protocol.qst``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eihlab.model._elements import Param

C = "percept"

PARAMETERS = (
    Param(
        "ppt_quadriceps_kpa",
        520.0,
        "kPa",
        200.0,
        1000.0,
        "calibration_targets T3 (quadriceps ≈ 400-700 kPa, 1 cm², 30-50 kPa/s; spread gives ICC ≈ 0.98, MDC95 ≈ 47)",
        "healthy resting PPT at the quadriceps (men)",
        0.10,
        C,
    ),
    Param(
        "ppt_female_factor",
        0.77,
        "1",
        0.6,
        1.0,
        "calibration_targets T3 (women ≈ 20-30 % lower)",
        "PPT ratio women/men",
        0.0,
        C,
    ),
    Param(
        "hpt_c",
        45.0,
        "degC",
        40.0,
        49.0,
        "calibration_targets T3 (HPT ≈ 43-46 °C, SD 2-3 °C)",
        "healthy resting HPT (forearm, men)",
        0.05,
        C,
        "normal",
    ),
    Param(
        "hpt_female_offset_c",
        -1.5,
        "degC",
        -3.0,
        0.0,
        "qst_conventions §3.2 (DFNS: women 1.5 °C lower)",
        "HPT offset in women",
        0.0,
        C,
        "normal",
    ),
    Param(
        "cpt_c",
        10.0,
        "degC",
        0.0,
        25.0,
        "calibration_targets T3 (CPT ≈ 5-15 °C, wide spread)",
        "healthy resting CPT",
        0.7,
        C,
        "normal",
    ),
    Param(
        "ept_ma",
        10.0,
        "mA",
        1.0,
        40.0,
        "assumed: cutaneous electrical pain thresholds of a few to ~20 mA",
        "healthy resting electrical pain threshold",
        0.4,
        C,
    ),
    Param(
        "k_heat_c",
        2.0,
        "degC",
        0.5,
        5.0,
        "assumed: nociceptor heat drive e-folds every ~2 °C",
        "heat drive scale",
        0.0,
        C,
    ),
    Param("k_cold_c", 4.0, "degC", 1.0, 10.0, "assumed: cold drive e-folds every ~4 °C", "cold drive scale", 0.0, C),
    Param(
        "a_mechanical",
        0.6,
        "1",
        0.0,
        2.0,
        "[31]: PPT relates more to facilitation than inhibition",
        "weight of descending inhibition in mechanical percepts",
        0.2,
        C,
    ),
    Param(
        "a_heat",
        1.0,
        "1",
        0.0,
        2.0,
        "[31]: HPT relates to descending inhibition",
        "weight of descending inhibition in heat/cold percepts",
        0.2,
        C,
    ),
    Param(
        "b_mechanical",
        1.0,
        "1",
        0.0,
        2.0,
        "[31]: PPT relates to descending facilitation",
        "weight of facilitation in mechanical percepts",
        0.2,
        C,
    ),
    Param("b_heat", 0.5, "1", 0.0, 2.0, "[31]", "weight of facilitation in heat/cold percepts", 0.2, C),
    Param("c_cs_mechanical", 0.5, "1", 0.0, 2.0, "[38]-[40]", "central sensitisation weight, mechanical", 0.0, C),
    Param("c_cs_heat", 0.3, "1", 0.0, 2.0, "[38]-[40]", "central sensitisation weight, heat", 0.0, C),
    Param(
        "k_sensory_attenuation",
        0.3,
        "1",
        0.0,
        1.0,
        "[47] Lu model a (local, during movement)",
        "attenuation at a moving site during active movement",
        0.3,
        C,
    ),
    Param(
        "k_cpm",
        8.0,
        "1",
        0.0,
        20.0,
        "calibration target: CPM of the same order as EIH (P8)",
        "OFF-side drive per unit conditioning pain",
        0.3,
        C,
    ),
    Param(
        "tau_cpm_after_min",
        3.0,
        "min",
        0.5,
        15.0,
        "assumed: sequential CPM fades within minutes",
        "decay of conditioning after the conditioning stimulus ends",
        0.0,
        C,
    ),
    Param(
        "rating_slope",
        0.7,
        "1",
        0.2,
        2.0,
        "assumed: a stimulus at 2 × threshold is rated ≈ 50/100",
        "slope of the rating curve",
        0.25,
        C,
    ),
    Param(
        "rating_slope_heat",
        0.92,
        "1",
        0.2,
        3.0,
        "qst_conventions §3.3 (a heat test stimulus rated 60/100 lies at 43-49 °C, about 2 °C above HPT): "
        "1 - exp(-s (T - HPT)/k_heat_c) = 0.6 at T - HPT = 2 °C gives s ≈ 0.92",
        "slope of the heat rating curve per k_heat_c above threshold",
        0.25,
        C,
    ),
    Param(
        "tolerance_percept",
        3.0,
        "1",
        1.5,
        6.0,
        "assumed: tolerance ≈ 3 × threshold drive",
        "percept at which a stimulus is no longer tolerated",
        0.3,
        C,
    ),
    Param(
        "tau_cold_pressor_s",
        25.0,
        "s",
        5.0,
        60.0,
        "assumed: cold-pressor pain builds over ~30 s",
        "build-up of cold-pressor pain",
        0.2,
        C,
    ),
    Param(
        "k_temporal_summation",
        0.35,
        "1",
        0.0,
        1.0,
        "qst_conventions §3.4 (wind-up grows with sensitisation)",
        "wind-up gain per unit sensitisation/facilitation",
        0.3,
        C,
    ),
    Param(
        "vf_rat_g",
        10.0,
        "g",
        4.0,
        26.0,
        "calibration_targets T3 (naive rat ≈ 10-15 g)",
        "naive rat 50 % von Frey threshold",
        0.25,
        C,
    ),
    Param(
        "vf_psychometric_sd",
        0.1,
        "log10 g",
        0.02,
        0.4,
        "assumed: withdrawal probability rises from 16 % to 84 % over ±0.1 log10 g, about half of Chaplan's "
        "filament step (δ = 0.224), the spread Dixon's up-down design is meant for",
        "psychometric spread of paw withdrawal around the 50 % threshold",
        0.0,
        C,
    ),
    Param(
        "vf_mouse_g",
        1.2,
        "g",
        0.3,
        4.0,
        "qst_conventions §4.1 (mouse filaments 0.02-4 g)",
        "naive mouse 50 % von Frey threshold",
        0.3,
        C,
    ),
    Param(
        "paw_pressure_rat_g",
        100.0,
        "g",
        40.0,
        250.0,
        "assumed: naive rat Randall-Selitto (paw-pressure) withdrawal thresholds of roughly 60-150 g on "
        "Ugo Basile or digital analgesy-meters, well below the usual 250-300 g cut-off (bio-protocol "
        "Randall-Selitto protocols, 300 g maximum [read]); the baseline falls over the first days of "
        "handling and stabilises by the third (Taiwo et al. 1989, Brain Res 487:148, PMID 2752281 [read])",
        "naive rat paw-pressure (Randall-Selitto) withdrawal threshold (between-rat CV assumed ≈ 10 % in "
        "habituated rats)",
        0.1,
        C,
    ),
    Param(
        "paw_pressure_mouse_g",
        30.0,
        "g",
        10.0,
        100.0,
        "assumed: mouse paw thresholds about a third of the rat's (paw area and body mass); the test is "
        "rarely used on mouse paws because of the restraint it needs",
        "naive mouse paw-pressure withdrawal threshold",
        0.2,
        C,
    ),
    Param(
        "paw_pressure_trial_cv",
        0.1,
        "1",
        0.0,
        0.4,
        "assumed: Randall-Selitto trials vary more than human algometry (restrained animal, visual end point); "
        "about 10 % per trial",
        "trial-to-trial noise of the paw-pressure threshold (CV)",
        0.0,
        C,
    ),
    Param(
        "rodent_heat_threshold_c",
        47.0,
        "degC",
        44.0,
        50.0,
        "qst_conventions §4.2 (naive rat 47.6 ± 0.2 °C)",
        "rodent paw heat threshold",
        0.02,
        C,
        "normal",
    ),
    Param(
        "hargreaves_delta_c",
        25.0,
        "degC",
        10.0,
        40.0,
        "calibration_targets T3 (naive latency ≈ 8-12 s)",
        "asymptotic skin heating by the lamp",
        0.0,
        C,
    ),
    Param("hargreaves_tau_s", 15.0, "s", 5.0, 40.0, "calibration_targets T3", "skin heating time constant", 0.1, C),
    Param(
        "reaction_time_s",
        0.4,
        "s",
        0.1,
        1.5,
        "assumed: simple reaction time plus button press",
        "delay from percept to response",
        0.3,
        C,
    ),
    Param(
        "trial_noise_cv",
        0.035,
        "1",
        0.0,
        0.3,
        "calibration_targets T3 (PPT MDC 29-51 kPa)",
        "trial-to-trial threshold noise (CV)",
        0.0,
        C,
    ),
    Param(
        "session_noise_cv",
        0.025,
        "1",
        0.0,
        0.3,
        "calibration_targets T3 (ICC 0.80-0.97)",
        "session-to-session threshold fluctuation (CV)",
        0.0,
        C,
    ),
    Param(
        "thermal_trial_noise_c",
        0.7,
        "degC",
        0.0,
        3.0,
        "qst_conventions §3.2 (HPT ICC 0.87-0.95)",
        "trial noise of thermal thresholds",
        0.0,
        C,
    ),
    Param(
        "rating_noise",
        6.0,
        "VAS",
        0.0,
        20.0,
        "assumed: VAS trial noise ≈ 5-8 mm",
        "trial noise of 0-100 ratings",
        0.0,
        C,
    ),
)

Modality = str
MECHANICAL_MODALITIES = ("pressure", "electrical", "von_frey", "punctate")
THERMAL_MODALITIES = ("heat", "cold")


@dataclass(frozen=True, slots=True)
class PerceptState:
    """What the perception map needs from the model at one instant, for n subjects."""

    psens_site: np.ndarray
    peripheral_opioid: np.ndarray
    central_sens: np.ndarray
    inhibition: np.ndarray
    facilitation: np.ndarray
    off_drive: np.ndarray
    efficacy: np.ndarray
    md_weight: np.ndarray
    vm_weight: np.ndarray
    gate_site: np.ndarray
    windup_site: np.ndarray
    attenuation_site: np.ndarray
    vpl: np.ndarray


def log_gain(
    ps: PerceptState,
    p: dict[str, np.ndarray],
    ref: dict[str, float],
    modality: Modality,
    inhibition: np.ndarray | None = None,
) -> np.ndarray:
    """Natural log of the transmission gain for a modality (0 for a healthy person at rest)."""
    inh = ps.inhibition if inhibition is None else inhibition
    thermal = modality in THERMAL_MODALITIES
    a = p["a_heat"] if thermal else p["a_mechanical"]
    b = p["b_heat"] if thermal else p["b_mechanical"]
    c = p["c_cs_heat"] if thermal else p["c_cs_mechanical"]
    disc = -(ps.vm_weight - ref["vm_weight"]) if thermal else (ps.md_weight - ref["md_weight"])
    return np.asarray(
        np.log(ps.psens_site) / (1.0 + ps.peripheral_opioid)
        + c * ps.central_sens
        - a * (inh - ref["inhibition"])
        + b * (ps.facilitation - ref["facilitation"])
        + disc
        - np.log1p(ps.gate_site)
        + ps.windup_site
        - np.log1p(ps.attenuation_site)
        + np.log(np.maximum(ps.vpl, 1e-3))
    )


def rating_from_percept(percept: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """0-100 rating of a stimulus whose drive is ``percept`` times the threshold drive.

    ``rating = 100 (1 - exp(-slope (P - 1)))`` for P > 1, 0 below threshold.
    """
    return np.asarray(100.0 * (1.0 - np.exp(-slope * np.maximum(percept - 1.0, 0.0))))


def heat_rating_from_percept(percept: np.ndarray, slope: np.ndarray) -> np.ndarray:
    r"""0-100 rating of contact heat whose drive is ``percept`` times the threshold drive.

    ``rating = 100 (1 - exp(-slope ln P))`` for P > 1, 0 below threshold. The heat drive grows as
    :math:`e^{(T - \theta)/k_T}`, so :math:`\ln P` is the temperature above threshold in units of
    :math:`k_T`: ratings rise roughly linearly over the first degrees above HPT and saturate slowly, as heat
    pain ratings do (qst_conventions §3.3), instead of jumping to the ceiling within 2-3 °C.
    """
    return rating_from_percept(1.0 + np.log(np.maximum(percept, 1.0)), slope)
