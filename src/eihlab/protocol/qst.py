"""Virtual QST: probes whose values emerge from the model's percept at the current state.

Each function returns an ``(n, trials)`` array of measured values and a boolean array of trials censored at
the device cut-off. Measurement = the percept threshold + reaction time × ramp rate, with session and trial
noise (``calibration_targets`` T3), clipped at the cut-off. Conventions follow ``qst_conventions.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from eihlab.errors import InputError
from eihlab.model._context import Context
from eihlab.model.body import SITES, Site, get_site
from eihlab.model.descending import inhibition
from eihlab.model.percept import PerceptState, heat_rating_from_percept, log_gain, rating_from_percept
from eihlab.model.system import percept_state, reference_levels
from eihlab.protocol.events import Measure

Array = np.ndarray

FILAMENTS_G = {
    "rat": np.array([0.41, 0.70, 1.20, 2.04, 3.63, 5.50, 8.51, 15.14]),
    "mouse": np.array([0.02, 0.04, 0.07, 0.16, 0.4, 0.6, 1.0, 1.4, 2.0, 4.0]),
}
"""von Frey filament sets: Chaplan's 1994 rat set (handles 3.61-5.18, δ = 0.224; doi:10.1016/0165-0270(94)90144-9)
and a common mouse set (qst_conventions §4.1)."""
UP_DOWN_START_G = {"rat": 2.04, "mouse": 0.4}
"""First filament of the up-down procedure (Chaplan: 2.0 g in rats; 0.4 g is usual in mice)."""
UP_DOWN_DRAWS = max(len(g) for g in FILAMENTS_G.values()) + 4
"""Normals per von Frey trial: a first run through the whole set plus Chaplan's four stimuli after the change."""

CONDITIONING_SITE = {
    "upper_limb_left": "hand_left",
    "upper_limb_right": "hand_right",
    "lower_limb_left": "foot_left",
    "lower_limb_right": "foot_right",
}

UNITS = {
    "PPT": "kPa",
    "HPT": "degC",
    "CPT": "degC",
    "EPT": "mA",
    "cold_pressor_tolerance": "s",
    "pain_rating": "VAS 0-100",
    "temporal_summation": "VAS 0-100",
    "von_frey": "g",
    "hargreaves": "s",
    "paw_pressure": "g",
}


class NoiseStream:
    """Standard normals for one arm of a cohort, consumed in a fixed order (reproducible per subject)."""

    def __init__(self, z: Array) -> None:
        self._z = z
        self._cursor = 0

    def take(self, k: int) -> Array:
        """The next ``k`` normals for every subject, shape ``(n, k)``."""
        if self._cursor + k > self._z.shape[1]:
            raise RuntimeError("noise stream exhausted (the schedule under-counted its draws)")
        out = self._z[:, self._cursor : self._cursor + k]
        self._cursor += k
        return out


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """Everything a probe needs: the evaluated model, the subjects' parameters and their session noise."""

    ctx: Context
    species: str
    session: Array  # (n, 4): mechanical, heat, cold, rating session offsets (standard normals)
    noise: NoiseStream

    @property
    def p(self) -> dict[str, Array]:
        return self.ctx.p  # type: ignore[return-value]


def draws_per_measure(m: Measure) -> int:
    """How many normals a measure consumes per subject (CPM measures twice; von Frey runs an up-down series)."""
    if m.measure == "von_frey":
        return m.trials * UP_DOWN_DRAWS
    return m.trials * (2 if m.measure == "CPM" else 1)


def _site(pc: ProbeContext, m: Measure) -> Site:
    assert m.site is not None
    return get_site(m.site, pc.species, "measures.site")


def _ppt_true(pc: ProbeContext, site: Site, ps: PerceptState, inh: Array | None = None) -> Array:
    p = pc.p
    base = p["ppt_quadriceps_kpa"] * site.ppt_scale * np.where(p["female"] > 0, p["ppt_female_factor"], 1.0)
    lg = log_gain(ps, p, reference_levels(), "pressure", inh)
    return np.asarray(base * np.exp(-lg) * np.exp(p["session_noise_cv"] * pc.session[:, 0]))


def _hpt_true(pc: ProbeContext, site: Site, ps: PerceptState, inh: Array | None = None) -> Array:
    p = pc.p
    base = p["hpt_c"] + site.heat_offset_c + np.where(p["female"] > 0, p["hpt_female_offset_c"], 0.0)
    lg = log_gain(ps, p, reference_levels(), "heat", inh)
    return np.asarray(base - p["k_heat_c"] * lg + 0.5 * pc.session[:, 1])


def _cpt_true(pc: ProbeContext, site: Site, ps: PerceptState) -> Array:
    p = pc.p
    lg = log_gain(ps, p, reference_levels(), "cold")
    return np.asarray(p["cpt_c"] + p["k_cold_c"] * lg + 1.0 * pc.session[:, 2])


def _trials(pc: ProbeContext, m: Measure) -> Array:
    return pc.noise.take(m.trials)


def ppt(pc: ProbeContext, m: Measure, inh: Array | None = None) -> tuple[Array, Array]:
    """Pressure pain threshold (kPa): ramp (default 30 kPa/s), 1 cm² probe, cut-off (default 1000 kPa)."""
    site = _site(pc, m)
    ps = percept_state(pc.ctx, site)
    true = _ppt_true(pc, site, ps, inh)
    ramp = m.ramp_rate or 30.0
    cutoff = m.cutoff or 1000.0
    value = (
        true[:, None] * np.exp(pc.p["trial_noise_cv"][:, None] * _trials(pc, m))
        + ramp * pc.p["reaction_time_s"][:, None]
    )
    return np.minimum(value, cutoff), value >= cutoff


def hpt(pc: ProbeContext, m: Measure, inh: Array | None = None) -> tuple[Array, Array]:
    """Heat pain threshold (°C) from 32 °C at 1 °C/s, cut-off 50 °C."""
    site = _site(pc, m)
    true = _hpt_true(pc, site, percept_state(pc.ctx, site), inh)
    ramp = m.ramp_rate or 1.0
    cutoff = m.cutoff or 50.0
    value = (
        true[:, None]
        + pc.p["thermal_trial_noise_c"][:, None] * _trials(pc, m)
        + ramp * pc.p["reaction_time_s"][:, None]
    )
    value = np.maximum(value, 32.0)
    return np.minimum(value, cutoff), value >= cutoff


def cpt(pc: ProbeContext, m: Measure) -> tuple[Array, Array]:
    """Cold pain threshold (°C) from 32 °C at 1 °C/s, cut-off 0 °C."""
    site = _site(pc, m)
    true = _cpt_true(pc, site, percept_state(pc.ctx, site))
    ramp = m.ramp_rate or 1.0
    cutoff = m.cutoff if m.cutoff is not None else 0.0
    value = (
        true[:, None]
        + pc.p["thermal_trial_noise_c"][:, None] * _trials(pc, m)
        - ramp * pc.p["reaction_time_s"][:, None]
    )
    value = np.minimum(value, 32.0)
    return np.maximum(value, cutoff), value <= cutoff


def ept(pc: ProbeContext, m: Measure) -> tuple[Array, Array]:
    """Electrical pain threshold (mA), Aδ-mediated (mechanical pathway weights)."""
    site = _site(pc, m)
    ps = percept_state(pc.ctx, site)
    lg = log_gain(ps, pc.p, reference_levels(), "electrical")
    cutoff = m.cutoff or 50.0
    true = pc.p["ept_ma"] * np.exp(-lg) * np.exp(pc.p["session_noise_cv"] * pc.session[:, 0])
    value = true[:, None] * np.exp(pc.p["trial_noise_cv"][:, None] * _trials(pc, m))
    return np.minimum(value, cutoff), value >= cutoff


def _stimulus_percept(pc: ProbeContext, m: Measure, site: Site, inh: Array | None = None) -> Array:
    ps = percept_state(pc.ctx, site)
    if m.stimulus_modality == "heat":
        stim = m.stimulus if m.stimulus is not None else 46.0
        return np.asarray(np.exp((stim - _hpt_true(pc, site, ps, inh)) / pc.p["k_heat_c"]))
    stim = m.stimulus if m.stimulus is not None else 1.3 * float(np.median(pc.p["ppt_quadriceps_kpa"])) * site.ppt_scale
    return np.asarray(stim / _ppt_true(pc, site, ps, inh))


def _rating(pc: ProbeContext, m: Measure, percept: Array) -> Array:
    """0-100 rating of the measure's stimulus at ``percept`` × threshold drive (contact heat has its own curve)."""
    if m.stimulus_modality == "heat":
        return heat_rating_from_percept(percept, pc.p["rating_slope_heat"])
    return rating_from_percept(percept, pc.p["rating_slope"])


def pain_rating(pc: ProbeContext, m: Measure, inh: Array | None = None) -> tuple[Array, Array]:
    """0-100 rating of a fixed pressure (kPa) or heat (°C) stimulus."""
    site = _site(pc, m)
    r = _rating(pc, m, _stimulus_percept(pc, m, site, inh))
    value = r[:, None] + pc.p["rating_noise"][:, None] * (_trials(pc, m) + 0.5 * pc.session[:, 3:4])
    value = np.clip(value, 0.0, 100.0)
    return value, np.zeros_like(value, dtype=bool)


def temporal_summation(pc: ProbeContext, m: Measure) -> tuple[Array, Array]:
    """Wind-up: rating of the 10th minus the 1st stimulus of a train (0-100 scale)."""
    site = _site(pc, m)
    percept = _stimulus_percept(pc, m, site)
    sig, ref = pc.ctx.sig, reference_levels()
    windup = pc.p["k_temporal_summation"] * (
        1.0 + pc.ctx.s["central_sens"] + np.maximum(sig["facilitation"] - ref["facilitation"], -0.5)
    )
    ts = _rating(pc, m, percept * (1.0 + windup)) - _rating(pc, m, percept)
    value = ts[:, None] + pc.p["rating_noise"][:, None] * _trials(pc, m)
    return value, np.zeros_like(value, dtype=bool)


def cold_pressor_tolerance(pc: ProbeContext, m: Measure) -> tuple[Array, Array]:
    """Time (s) a hand stays in cold water (default 2 °C) before pain reaches tolerance; cut-off 180 s."""
    site = _site(pc, m)
    ps = percept_state(pc.ctx, site)
    water = m.stimulus if m.stimulus is not None else 2.0
    cutoff = m.cutoff or 180.0
    drive = np.exp((_cpt_true(pc, site, ps) - water) / pc.p["k_cold_c"])
    ratio = pc.p["tolerance_percept"] * pc.ctx.sig["tolerance_gain"] / np.maximum(drive, 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ratio < 1.0, -pc.p["tau_cold_pressor_s"] * np.log1p(-np.minimum(ratio, 0.999999)), np.inf)
    value = t[:, None] * np.exp(0.1 * _trials(pc, m)) + pc.p["reaction_time_s"][:, None]
    return np.minimum(value, cutoff), value >= cutoff


def cpm(pc: ProbeContext, m: Measure) -> tuple[Array, Array]:
    """Conditioned pain modulation: test during (parallel) or after (sequential) cold-water conditioning minus before.

    Sign convention (qst_conventions §2.3): for thresholds a positive CPM is inhibition; for ratings a
    negative CPM is inhibition. The conditioning pain adds ``k_cpm × rating/100`` to the OFF-side drive of the
    same saturating descending pathway that exercise uses, so CPM and EIH share capacity (P8).
    """
    cond = m.conditioning
    cs_site = SITES[CONDITIONING_SITE.get(cond.body_region, "hand_left")]
    cs_ps = percept_state(pc.ctx, cs_site)
    cs_drive = np.exp((_cpt_true(pc, cs_site, cs_ps) - cond.water_c) / pc.p["k_cold_c"])
    cs_pain = rating_from_percept(cs_drive, pc.p["rating_slope"]) / 100.0
    extra = pc.p["k_cpm"] * cs_pain
    if m.paradigm == "sequential":
        extra = extra * np.exp(-1.0 / pc.p["tau_cpm_after_min"])
    sig = pc.ctx.sig
    inh_cs = inhibition(sig["off_drive"] + extra, sig["descending_efficacy"], pc.p["x50_inhibition"])
    test: Callable[..., tuple[Array, Array]] = {"PPT": ppt, "HPT": hpt, "pain_rating": pain_rating}[m.test]
    before, _ = test(pc, m)
    during, cens = test(pc, m, inh_cs)
    return during - before, cens


def up_down(log_threshold: Array, z: Array, filaments_g: Array, start_g: float, slope: Array) -> tuple[Array, Array]:
    r"""Chaplan's up-down procedure run on simulated animals; returns the 50 % thresholds (g) and censoring.

    Each application of filament :math:`f` evokes a withdrawal with probability
    :math:`\Phi((\log_{10} f - \log_{10} T)/s)` (a log-normal tolerance, the assumption behind Dixon's method),
    decided by the standard normals ``z``. Starting at ``start_g``, a withdrawal moves to the next weaker filament
    and none to the next stronger; after the first change of response four more filaments are applied. The
    threshold is :math:`10^{X_f + k\delta}/10^4` with :math:`X_f` the handle of the last filament, :math:`k`
    Dixon's constant for the pattern (:func:`eihlab.analysis.vonfrey.dixon_k`) and :math:`\delta` the mean
    log spacing of the set. A series that never changes (no withdrawal at the strongest filament, or one at the
    weakest) is censored at that filament, as Chaplan did.

    Parameters
    ----------
    log_threshold
        True :math:`\log_{10} T` (g), any shape ``S``.
    z
        Standard normals, shape ``S + (steps,)`` with ``steps >= len(filaments_g) + 4``.
    filaments_g, start_g
        The filament set (ascending, g) and the first filament.
    slope
        Psychometric spread :math:`s` (log10 units), broadcastable to ``S``.
    """
    from eihlab.analysis.vonfrey import CHAPLAN_STEP, dixon_k, g_to_handle, handle_to_g

    logs = np.log10(filaments_g)
    delta = float(np.mean(np.diff(logs))) if logs.size > 1 else CHAPLAN_STEP
    shape = np.shape(log_threshold)
    flat_t = np.reshape(log_threshold, -1)
    flat_s = np.reshape(np.broadcast_to(slope, shape), -1)
    flat_z = np.reshape(z, (flat_t.size, -1))
    idx = np.full(flat_t.size, int(np.abs(logs - np.log10(start_g)).argmin()))
    steps = logs.size + 4
    responses = np.zeros((flat_t.size, steps), dtype=bool)
    used = np.zeros(flat_t.size, dtype=int)
    after_change = np.full(flat_t.size, -1)  # stimuli since the first change (-1: none yet)
    active = np.ones(flat_t.size, dtype=bool)
    censored = np.zeros(flat_t.size, dtype=bool)
    last = idx.copy()
    for step in range(steps):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        r = flat_z[rows, step] < (logs[idx[rows]] - flat_t[rows]) / flat_s[rows]
        responses[rows, step] = r
        used[rows] += 1
        last[rows] = idx[rows]
        first = responses[rows, 0]
        changed = (after_change[rows] >= 0) | (r != first)
        after_change[rows] = np.where(changed, after_change[rows] + 1, -1)
        done = after_change[rows] >= 4
        nxt = idx[rows] + np.where(r, -1, 1)
        off_set = (nxt < 0) | (nxt >= logs.size)
        censored[rows] = off_set & ~changed
        active[rows] = ~(done | off_set)
        idx[rows] = np.clip(nxt, 0, logs.size - 1)
    thresholds = np.empty(flat_t.size)
    cache: dict[str, float | None] = {}
    for i in range(flat_t.size):
        pattern = "".join("X" if x else "O" for x in responses[i, : used[i]])
        if pattern not in cache:
            cache[pattern] = dixon_k(pattern)
        k = cache[pattern]
        final = float(filaments_g[last[i]])
        thresholds[i] = final if k is None else handle_to_g(g_to_handle(final) + k * delta)
    return np.reshape(thresholds, shape), np.reshape(censored, shape)


def von_frey(pc: ProbeContext, m: Measure) -> tuple[Array, Array]:
    """Rodent 50 % withdrawal threshold (g) by a simulated up-down series (:func:`up_down`) per trial."""
    site = _site(pc, m)
    ps = percept_state(pc.ctx, site)
    lg = log_gain(ps, pc.p, reference_levels(), "von_frey")
    base = pc.p["vf_rat_g"] if pc.species == "rat" else pc.p["vf_mouse_g"]
    log_true = np.repeat(np.log10(base * np.exp(-lg))[:, None], m.trials, axis=1)
    z = pc.noise.take(m.trials * UP_DOWN_DRAWS).reshape(log_true.shape[0], m.trials, UP_DOWN_DRAWS)
    grid = FILAMENTS_G.get(pc.species, FILAMENTS_G["rat"])
    slope = pc.p["vf_psychometric_sd"][:, None]
    return up_down(log_true, z, grid, UP_DOWN_START_G.get(pc.species, 2.04), slope)


def hargreaves(pc: ProbeContext, m: Measure) -> tuple[Array, Array]:
    """Rodent radiant-heat withdrawal latency (s); the skin heats as ``30 + Δ(1 - e^{-t/τ})`` °C; cut-off 20 s."""
    site = _site(pc, m)
    ps = percept_state(pc.ctx, site)
    p = pc.p
    lg = log_gain(ps, p, reference_levels(), "heat")
    threshold = p["rodent_heat_threshold_c"] - p["k_heat_c"] * lg
    frac = (threshold - 30.0) / p["hargreaves_delta_c"]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(frac < 1.0, -p["hargreaves_tau_s"] * np.log1p(-np.clip(frac, 0.0, 0.999999)), np.inf)
    cutoff = m.cutoff or 20.0
    value = (t + p["reaction_time_s"])[:, None] * np.exp(0.08 * _trials(pc, m))
    return np.minimum(value, cutoff), value >= cutoff


PAW_PRESSURE_RAMP_G_S = 16.0
"""Force ramp of the paw-pressure test (g/s); assumed: the constant-rate ramp of a bench analgesy-meter is of
the order of 10-30 g/s, so a naive rat withdraws after several seconds."""
PAW_PRESSURE_CUTOFF_G = 250.0
"""Default safety cut-off of the paw-pressure test (g); 250-300 g is usual (300 g in bio-protocol
Randall-Selitto protocols) to avoid tissue damage."""


def paw_pressure(pc: ProbeContext, m: Measure) -> tuple[Array, Array]:
    """Rodent paw-pressure (Randall-Selitto) withdrawal threshold (g).

    A force rising at a constant rate (default :data:`PAW_PRESSURE_RAMP_G_S`) is applied through a blunt cone
    to the paw until the animal withdraws or struggles; the threshold is the force at that moment, clipped at
    the cut-off (default :data:`PAW_PRESSURE_CUTOFF_G`). Unlike von Frey (punctate, cutaneous, capped by its
    filament set at 15 g in rats) it presses deep tissue with forces well above a naive rat's von Frey
    ceiling, so analgesia in healthy animals is measurable; it reads the model's pressure percept (the same
    mechanical gain as human algometry: drive ∝ force, threshold = θ₀/G).
    """
    site = _site(pc, m)
    ps = percept_state(pc.ctx, site)
    p = pc.p
    lg = log_gain(ps, p, reference_levels(), "pressure")
    base = p["paw_pressure_rat_g"] if pc.species == "rat" else p["paw_pressure_mouse_g"]
    true = base * np.exp(-lg) * np.exp(p["session_noise_cv"] * pc.session[:, 0])
    ramp = m.ramp_rate or PAW_PRESSURE_RAMP_G_S
    cutoff = m.cutoff or PAW_PRESSURE_CUTOFF_G
    value = (
        true[:, None] * np.exp(p["paw_pressure_trial_cv"][:, None] * _trials(pc, m))
        + ramp * p["reaction_time_s"][:, None]
    )
    return np.minimum(value, cutoff), value >= cutoff


def readout(pc: ProbeContext, m: Measure) -> tuple[Array, Array]:
    """A model quantity (state or signal), one value per subject (per-region states: mean over regions)."""
    name = m.quantity or ""
    source = pc.ctx.s if name in pc.ctx.s else pc.ctx.sig
    if name not in source:
        allowed = sorted(set(pc.ctx.s) | set(pc.ctx.sig))
        raise InputError("measures.quantity", name, allowed)
    v = np.asarray(source[name], dtype=float)
    if v.ndim == 2:
        v = v.mean(axis=1)
    v = np.broadcast_to(v, (pc.ctx.u.n,))[:, None]
    _trials(pc, m)
    return np.repeat(v, m.trials, axis=1), np.zeros((v.shape[0], m.trials), dtype=bool)


PROBES: dict[str, Callable[[ProbeContext, Measure], tuple[Array, Array]]] = {
    "PPT": ppt,
    "HPT": hpt,
    "CPT": cpt,
    "EPT": ept,
    "pain_rating": pain_rating,
    "temporal_summation": temporal_summation,
    "cold_pressor_tolerance": cold_pressor_tolerance,
    "CPM": cpm,
    "von_frey": von_frey,
    "hargreaves": hargreaves,
    "paw_pressure": paw_pressure,
    "readout": readout,
}


def unit_of(m: Measure) -> str:
    """Unit of a measure's values."""
    if m.measure == "CPM":
        return UNITS[m.test]
    if m.measure == "readout":
        return "rel."
    return UNITS[m.measure]
