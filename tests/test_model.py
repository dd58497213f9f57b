"""The model as declared: registry, describe, steady state, knock-outs, closed-form kinetics."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eihlab.model import system
from eihlab.model.body import N_REGIONS
from eihlab.model.inputs import FAMILIES, Inputs
from eihlab.model.pharmacology import AGENTS
from eihlab.model.registry import EDGE_BY_ID, NODE_BY_NAME, PARAMETERS, describe

MECHANISMS = Path(__file__).resolve().parents[2] / "shared" / "spec" / "mechanisms.md"


def test_describe_shape() -> None:
    data = describe()
    assert {"nodes", "edges", "parameters"} <= set(data)
    assert {"name", "level", "kind"} <= set(data["nodes"][0])
    assert {"source", "target", "sign", "modality", "timescale", "refs"} <= set(data["edges"][0])
    assert {"name", "component", "default", "unit", "lower", "upper", "source"} <= set(data["parameters"][0])


def test_every_parameter_has_unit_bounds_source() -> None:
    for p in PARAMETERS:
        assert p.unit and p.source and p.lower <= p.default <= p.upper, p.name


@pytest.mark.skipif(not MECHANISMS.exists(), reason="shared/spec/mechanisms.md not beside the checkout")
def test_review_edge_ids_are_modelled() -> None:
    """Every numbered edge of mechanisms.md §3-§5 not tagged [X] exists (SP, SC, CX, AM ids)."""
    text = MECHANISMS.read_text(encoding="utf-8")
    ids = set(re.findall(r"^\| (SP\d+|SC\d+|CX\d+|AM\d+) \|", text, flags=re.M))
    # claims that are correlations or comparisons rather than influences are represented by read-outs
    not_edges = {
        "SC0",
        "SC16",
        "CX6",
        "CX7",
        "CX8",
        "CX11",
        "CX12",
        "CX13",
        "CX14",
        "CX16",
        "CX20",
        "CX24",
        "CX26",
        "CX27",
        "AM4",
        "AM6",
        "AM7",
        "SP17",
    }
    missing = sorted(ids - set(EDGE_BY_ID) - not_edges)
    assert not missing, missing


def test_healthy_steady_state_is_rest() -> None:
    params = system.default_parameters(2)
    state = system.steady_state(params, Inputs.rest(2))
    assert np.allclose(state["central_sens"], 0.0)
    assert np.allclose(state["il10"], 1.0)
    assert np.allclose(state["fatigue"], 0.0)


def _bout_inputs(n: int, family: str, intensity: float) -> Inputs:
    u = Inputs.rest(n)
    u.exercising = np.ones(n)
    u.intensity = np.full(n, intensity)
    u.family = FAMILIES.index(family)
    u.region_weight = np.array([0, 0, 0, 0, 0, 0, 1.0, 1.0])
    return u


def _run(u: Inputs, minutes: float, edge_gain: dict | None = None, dt: float = 0.5) -> system.State:
    params = system.default_parameters(u.n)
    state = system.steady_state(params, Inputs.rest(u.n))
    gains = {k: np.full(u.n, v) for k, v in (edge_gain or {}).items()}
    for _ in range(int(minutes / dt)):
        ctx = system.evaluate(state, params, u, gains)
        state = system.advance(state, ctx, dt)
    return state


def test_knockout_of_opioid_edge_removes_opioid_inhibition() -> None:
    u = _bout_inputs(1, "aerobic", 0.75)
    params = system.default_parameters(1)
    full = system.evaluate(_run(u, 20), params, u).sig["off_drive"]
    ko = system.evaluate(_run(u, 20, {"SC4": 0.0}), params, u, {"SC4": np.zeros(1)}).sig["off_drive"]
    assert ko[0] < full[0]


@pytest.mark.parametrize("kind", ["edge", "node"])
def test_every_edge_and_node_can_be_knocked_out_per_subject(kind: str) -> None:
    """An experiment's knock-out arrives as one gain per subject ``(n,)``; it must broadcast against per-region
    arrays (a bare ``(n,)`` gain times ``(n, N_REGIONS)`` raised, or, when n = N_REGIONS, silently scaled regions
    instead of subjects)."""
    n = 3
    params = system.default_parameters(n)
    u = _bout_inputs(n, "aerobic", 0.75)
    u.acid = np.full((n, N_REGIONS), 0.2)
    u.injury = np.full((n, N_REGIONS), 0.1)
    state = system.steady_state(params, Inputs.rest(n))
    reference = system.evaluate(state, params, u)
    names = list(EDGE_BY_ID) if kind == "edge" else list(NODE_BY_NAME)
    for name in names:
        gains = {name: np.zeros(n)}
        ctx = system.evaluate(state, params, u, *((gains, None) if kind == "edge" else (None, gains)))
        for var, (target, _) in ctx.targets.items():
            assert np.shape(target) == np.shape(reference.targets[var][0]), (name, var)


def test_naloxone_lowers_opioid_occupancy() -> None:
    u = _bout_inputs(1, "aerobic", 0.75)
    params = system.default_parameters(1)
    state = _run(u, 20)
    plain = system.evaluate(state, params, u).sig["opioid_occupancy"]
    u.drug = {"naloxone": np.full(1, 20.0)}
    blocked = system.evaluate(state, params, u).sig["opioid_occupancy"]
    assert blocked[0] < 0.1 * plain[0]


def test_naloxone_removes_the_whole_immune_opioid_tone_of_an_injured_animal() -> None:
    """IL-10/IL-4 act on pain only through the opioid they make injured tissue release (Wu 2018; Celik 2020):
    without naloxone an injured animal whose IL-4 was restored above healthy (trained) is less sensitised than
    one whose IL-4 fell (sedentary); naloxone at C/K = c divides the tone, and so their difference, by 1 + c,
    so that a trained animal keeps none of this route's relief (Stagg 2011 [16]). Without injury the route is
    silent."""
    u = Inputs.rest(2)
    u.injury = np.zeros((2, N_REGIONS))
    u.injury[:, 0] = 2.0
    params = system.default_parameters(2)
    state = system.steady_state(params, u)
    state["il4"] = np.array([1.4, 0.5])  # trained (IL-4 restored above healthy), sedentary (lowered by the injury)

    def target(drug: dict[str, np.ndarray], inputs: Inputs = u) -> np.ndarray:
        inputs.drug = drug
        return np.asarray(system.evaluate(state, params, inputs).targets["central_sens"][0])

    plain = target({})
    assert plain[0] < plain[1] - 0.1
    blocked = target({"naloxone": np.full(2, 50.0)})
    assert blocked[1] - blocked[0] == pytest.approx((plain[1] - plain[0]) / 51.0, rel=1e-9)
    assert np.all(blocked > plain)
    uninjured = Inputs.rest(2)
    np.testing.assert_allclose(target({}, uninjured), target({"naloxone": np.full(2, 50.0)}, uninjured), atol=1e-9)


def test_exhausting_exercise_phosphorylates_nr1_but_moderate_does_not() -> None:
    hard = _run(_bout_inputs(1, "aerobic", 1.0), 8)
    easy = _run(_bout_inputs(1, "aerobic", 0.5), 30)
    assert hard["nr1p"][0] > 0.05
    assert easy["nr1p"][0] < 1e-6


def test_nr1_phosphorylation_builds_over_tau_nr1_rise() -> None:
    """Under a constant supra-threshold barrage (an acid drive held at rest; priming knocked out), p-NR1 after
    10 min is the first-order fraction 1 - exp(-t/tau_nr1_rise) of its plateau, t less the barrage average's lag."""
    u = Inputs.rest(1)
    u.acid = np.zeros((1, N_REGIONS))
    u.acid[0, 0] = 4.0
    params = system.default_parameters(1)
    tau, lag = params["tau_nr1_rise"][0], 2.0 * params["tau_barrage"][0]
    early, plateau = (_run(u, t, {"SP18": 0.0}, dt=0.25)["nr1p"][0] for t in (10.0, 60.0))
    assert 1.0 - np.exp(-(10.0 - lag) / tau) <= early / plateau <= 1.0 - np.exp(-10.0 / tau)


def test_exertion_and_md_suppression_are_bounded() -> None:
    """A session rated far harder than usual (session exertion 4, about 2 SD of its spread) at near-maximal work
    gives at most maximal perceived exertion (1, the top of Borg's scale), and exercise suppresses MD's weight in
    the mechanical percept at most to zero (a sign flip once turned a patient's low-back PPT rise into +440 kPa)."""
    u = _bout_inputs(1, "aerobic", 0.95)
    params = system.default_parameters(1)
    params["session_exertion"] = np.full(1, 4.0)
    params["k_md_exercise"] = np.full(1, 1.0)
    state = system.steady_state(params, Inputs.rest(1))
    for _ in range(12):  # 6 min, before exhaustion (at about 7 min) ends the bout
        ctx = system.evaluate(state, params, u)
        assert ctx.sig["exertion"][0] <= 1.0
        state = system.advance(state, ctx, 0.5)
    sig = system.evaluate(state, params, u).sig
    assert sig["exertion"][0] == 1.0 and state["md_modulation"][0] > 0.9
    assert (
        0.0
        <= sig["md_weight"][0]
        < 0.1 * system.evaluate(system.steady_state(params, Inputs.rest(1)), params, Inputs.rest(1)).sig["md_weight"][0]
    )


def test_critical_power_is_compared_in_power_units() -> None:
    """Intensity (a fraction of VO2max) meets critical power (a fraction of the power at VO2max) as a fraction of
    VO2 reserve: 70 % HRR for a typical adult (VO2max 40, CP 75 %) is 0.70 of the power at VO2max, below CP, so
    fatigue accrues only on the slow below-CP term; at CP's own VO2 fraction the W′ term is exactly zero."""
    from eihlab.model.periphery import endurance_rate, power_fraction

    params = system.default_parameters(1)
    r = params["vo2_rest_fraction"][0]
    assert r == pytest.approx(3.5 / 40.0)
    f_70hrr = r + (1.0 - r) * 0.70
    ctx = system.evaluate(system.steady_state(params, Inputs.rest(1)), params, _bout_inputs(1, "aerobic", f_70hrr))
    assert power_fraction(ctx)[0] == pytest.approx(0.70)
    on = np.ones(1)
    slow_only = (0.70 / params["cp_fraction"][0]) ** 4 / params["endurance_long_min"][0]
    assert endurance_rate(ctx, on)[0] == pytest.approx(slow_only)
    f_cp = r + (1.0 - r) * params["cp_fraction"][0]
    ctx = system.evaluate(system.steady_state(params, Inputs.rest(1)), params, _bout_inputs(1, "aerobic", f_cp))
    assert endurance_rate(ctx, on)[0] == pytest.approx(1.0 / params["endurance_long_min"][0])


def test_bolus_matches_closed_form() -> None:
    """Intravenous bolus: C(t)/K = D/V exp(-ln2 t / t½) / K."""
    a = AGENTS["naloxone"]
    t = np.array([0.0, 30.0, 64.0, 128.0])
    expected = 0.1 / a.volume_l_kg * np.exp(-np.log(2) * t / a.half_life_min) / a.potency_mg_l
    np.testing.assert_allclose(a.concentration_ratio(0.1, t), expected, rtol=1e-12)
    assert a.concentration_ratio(0.1, -1.0) == 0.0


def test_oral_dose_matches_bateman() -> None:
    a = AGENTS["naltrexone"]
    ke, ka = np.log(2) / a.half_life_min, a.ka_per_min
    t = np.linspace(0, 600, 7)
    expected = 0.7 / a.volume_l_kg * ka / (ka - ke) * (np.exp(-ke * t) - np.exp(-ka * t)) / a.potency_mg_l
    np.testing.assert_allclose(a.concentration_ratio(0.7, t), expected, rtol=1e-12)


def test_exponential_euler_matches_solve_ivp() -> None:
    """The engine's step converges to scipy's LSODA solution of the same ODE (rtol 1e-3 at 0.05-min steps)."""
    from scipy.integrate import solve_ivp

    u = _bout_inputs(1, "aerobic", 0.7)
    params = system.default_parameters(1)
    start = system.steady_state(params, Inputs.rest(1))
    names = ["beta_ep", "aea", "gate", "motor_after", "md_modulation", "fatigue"]
    layout = [(k, start[k].shape) for k in start]

    def pack(s: system.State) -> np.ndarray:
        return np.concatenate([s[k].ravel() for k, _ in layout])

    def unpack(y: np.ndarray) -> system.State:
        out, i = {}, 0
        for k, shape in layout:
            size = int(np.prod(shape))
            out[k] = y[i : i + size].reshape(shape)
            i += size
        return out

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        s = unpack(y)
        return pack(system.derivatives(s, system.evaluate(s, params, u)))

    ref = unpack(solve_ivp(rhs, (0, 10), pack(start), method="LSODA", rtol=1e-9, atol=1e-12).y[:, -1])
    state = start
    for _ in range(200):
        state = system.advance(state, system.evaluate(state, params, u), 0.05)
    for k in names:
        np.testing.assert_allclose(state[k], ref[k], rtol=2e-3, atol=1e-6, err_msg=k)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(FAMILIES), st.floats(0.0, 1.2))
def test_random_parameters_stay_finite(seed: int, family: str, intensity: float) -> None:
    """No parameter draw inside the bounds gives NaN/inf during an exhausting bout and recovery."""
    rng = np.random.default_rng(seed)
    params = {p.name: rng.uniform(p.lower, p.upper, 3) for p in PARAMETERS}
    params["psens_condition"] = rng.uniform(0, 2, (3, 8))
    params["female"] = np.array([0.0, 1.0, 0.0])
    u = _bout_inputs(3, family, intensity)
    state = system.steady_state(params, Inputs.rest(3), days=30, steps=60)
    for dt in [0.5] * 60 + [60.0] * 10:
        state = system.advance(state, system.evaluate(state, params, u if dt < 1 else Inputs.rest(3)), dt)
    system.check_finite(state, "property test")
    assert NODE_BY_NAME


def test_training_raises_fitness_and_lowers_relative_absolute_dose() -> None:
    params = system.default_parameters(1)
    state = system.steady_state(params, Inputs.rest(1))
    u = _bout_inputs(1, "aerobic", 0.7)
    u.absolute_dose = True
    for _day in range(60):  # 60 min a day for 60 days
        for _ in range(60):
            state = system.advance(state, system.evaluate(state, params, u), 1.0)
        state = system.advance(state, system.evaluate(state, params, Inputs.rest(1)), 1380.0)
    assert state["fitness"][0] > 1.05
    ctx = system.evaluate(state, params, u)
    assert ctx.u.intensity[0] < 0.7 / 1.05


def test_tdcs_raises_m1_vl_connectivity_and_mep() -> None:
    params = system.default_parameters(1)
    rest = Inputs.rest(1)
    state = system.steady_state(params, rest)
    before = system.evaluate(state, params, rest).sig
    u = Inputs.rest(1)
    u.tdcs_m1_ma = 2.0
    for _ in range(40):
        state = system.advance(state, system.evaluate(state, params, u), 0.5)
    after = system.evaluate(state, params, rest).sig
    assert after["fc_m1_vl"][0] > before["fc_m1_vl"][0]
    assert after["mep_amplitude"][0] > before["mep_amplitude"][0]
    assert after["fc_insula_vl"][0] < before["fc_insula_vl"][0]


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000))
def test_probe_values_stay_within_device_ranges(seed: int) -> None:
    """For parameter draws anywhere in the bounds, every QST value is finite and inside its device range."""
    from eihlab.model.body import SITES
    from eihlab.protocol.events import Measure
    from eihlab.protocol.qst import FILAMENTS_G, PROBES, NoiseStream, ProbeContext, draws_per_measure

    rng = np.random.default_rng(seed)
    n = 4
    params = {p.name: rng.uniform(p.lower, p.upper, n) for p in PARAMETERS}
    params["psens_condition"] = rng.uniform(0, 3, (n, 8))
    params["female"] = rng.integers(0, 2, n).astype(float)
    state = system.steady_state(params, Inputs.rest(n), days=30, steps=60)
    ctx = system.evaluate(state, params, Inputs.rest(n))
    ranges = {
        "PPT": (0.0, 1000.0),
        "HPT": (32.0, 50.0),
        "CPT": (0.0, 32.0),
        "EPT": (0.0, 50.0),
        "cold_pressor_tolerance": (0.0, 180.0),
        "pain_rating": (0.0, 100.0),
        "von_frey": (0.0, float(FILAMENTS_G["rat"][-1]) * 10 ** (2.1 * 0.224)),  # Dixon k ≤ 2.1 above the top
        "hargreaves": (0.0, 20.0),
        "paw_pressure": (0.0, 250.0),
    }
    for measure, (lo, hi) in ranges.items():
        species = "rat" if measure in ("von_frey", "hargreaves", "paw_pressure") else "human"
        site = "hind_paw_left" if species == "rat" else "quadriceps_right"
        draws = draws_per_measure(Measure(measure=measure, site=site, trials=2))
        pc = ProbeContext(ctx, species, rng.standard_normal((n, 5)), NoiseStream(rng.standard_normal((n, draws))))
        values, _ = PROBES[measure](pc, Measure(measure=measure, site=site, trials=2))
        assert np.all(np.isfinite(values)), measure
        assert np.all((values >= lo) & (values <= hi)), (measure, values)
    assert SITES


def test_up_down_recovers_the_threshold_and_censors_at_the_set() -> None:
    """Chaplan's up-down on simulated animals: unbiased inside the filament set, censored at its ends."""
    from eihlab.protocol.qst import FILAMENTS_G, up_down

    rng = np.random.default_rng(7)
    grid = FILAMENTS_G["rat"]
    for true_g in (1.0, 2.5, 5.0):
        values, censored = up_down(np.full(3000, np.log10(true_g)), rng.standard_normal((3000, 14)), grid, 2.04, 0.1)
        assert abs(np.mean(np.log10(values)) - np.log10(true_g)) < 0.03 and not censored.any()
    values, censored = up_down(np.full(50, np.log10(40.0)), rng.standard_normal((50, 14)), grid, 2.04, 0.1)
    assert censored.all() and np.allclose(values, grid[-1])
    # forced responses O X O X O X from 2.04 g: Chaplan's pattern ending at 3.63 g (handle 4.56) gives 2.81 g
    z = np.array([[9.0, -9.0, 9.0, -9.0, 9.0, -9.0] + [0.0] * 8])
    value, censored = up_down(np.array([np.log10(2.7)]), z, grid, 2.04, 0.1)
    assert value[0] == pytest.approx(2.805, abs=0.01) and not censored[0]


def _falling_target_path(dt: float, place_switch: bool) -> float:
    """A rise (τ 1 min) / decay (τ 100 min) relaxation chasing the target F(t) = 2 - t for 4 min, by ETD2 steps."""
    from eihlab.model._context import Context

    def context(y: np.ndarray, t: float) -> Context:
        ctx = Context({"y": y}, {}, Inputs.rest(1), {}, {})
        ctx.relax_asymmetric("y", np.array([2.0 - t]), 1.0, 100.0)
        if not place_switch:
            ctx.switching.clear()
        return ctx

    y, t = np.array([0.0]), 0.0
    for _ in range(round(4.0 / dt)):
        start = context(y, t)
        predicted = system.advance({"y": y}, start, dt)
        y = system.advance({"y": y}, start, dt, context(predicted["y"], t + dt))["y"]
        t += dt
    return float(y[0])


def test_a_rise_decay_switch_inside_a_step_is_placed_where_the_gap_closes() -> None:
    from scipy.integrate import solve_ivp

    def rhs(t: float, y: np.ndarray) -> list[float]:
        target = 2.0 - t
        return [(target - y[0]) / (1.0 if target > y[0] else 100.0)]

    exact = solve_ivp(rhs, (0.0, 4.0), [0.0], rtol=1e-12, atol=1e-14, max_step=1e-3).y[0, -1]
    placed = abs(_falling_target_path(0.5, place_switch=True) - exact)
    averaged = abs(_falling_target_path(0.5, place_switch=False) - exact)
    assert placed < 1e-3  # 1.6e-4 measured
    assert placed < averaged / 100  # the averaged time constant is off by 0.1


def test_a_step_lands_on_exhaustion_and_the_work_stops_there() -> None:
    u = _bout_inputs(3, "aerobic", 1.0)  # above critical power: exhaustion within minutes
    params = system.default_parameters(3)
    state = system.steady_state(params, Inputs.rest(3))
    state["fatigue"] = np.array([0.5, 0.99, 1.0])
    share = system.work_fraction(state, params, u, 1.0)
    rate = (1.0 - 0.99) / share[1]  # fatigue gained per minute of work
    assert share[0] == 1.0 and 0.0 < share[1] < 1.0 and share[2] == 0.0
    assert 0.5 + rate < 1.0  # the first subject does not reach exhaustion within the step
    after = system.step(state, params, u, 1.0)
    assert after["fatigue"][1] == pytest.approx(1.0, abs=1e-12)  # lands on exhaustion
    assert after["fatigue"][0] == pytest.approx(0.5 + rate, rel=1e-9)
    assert system.evaluate(after, params, u).sig["exercise_on"][1] == 0.0  # and stops working there


def test_m2_shift_repolarises_injury_recruited_m1_macrophages() -> None:
    """SP13c: with an M2 excess the M1 target keeps a smaller share of the injury's M1 excess; none without injury."""
    params = system.default_parameters(1)
    state = system.initial_state(1)
    injured = Inputs.rest(1)
    injured.injury_central = np.full(1, 1.0)

    def m1_target(m2: float, inputs: Inputs, gains: dict[str, np.ndarray] | None = None) -> float:
        s = {**state, "macrophage_m2": np.full(1, m2)}
        return float(np.asarray(system.evaluate(s, params, inputs, gains).targets["macrophage_m1"][0])[0])

    excess_plain = m1_target(1.0, injured) - 1.0
    excess_shifted = m1_target(1.6, injured) - 1.0
    assert excess_plain > 0.5
    assert excess_shifted == pytest.approx(excess_plain / (1.0 + params["k_m2_repolarisation"][0] * 0.6))
    assert m1_target(1.6, injured, {"SP13c": np.zeros(1)}) == pytest.approx(excess_plain + 1.0)
    assert m1_target(1.6, Inputs.rest(1)) == pytest.approx(1.0)


def test_paw_pressure_reads_the_pressure_percept_in_grams() -> None:
    """Randall-Selitto: naive rat near paw_pressure_rat_g (+ ramp × reaction time), censored at the cut-off."""
    from eihlab.protocol.events import Measure
    from eihlab.protocol.qst import PAW_PRESSURE_RAMP_G_S, PROBES, NoiseStream, ProbeContext, draws_per_measure

    n = 3
    params = system.default_parameters(n)
    ctx = system.evaluate(system.steady_state(params, Inputs.rest(n)), params, Inputs.rest(n))
    m = Measure(measure="paw_pressure", site="hind_paw_right", trials=2)
    zeros = NoiseStream(np.zeros((n, draws_per_measure(m))))
    values, censored = PROBES["paw_pressure"](ProbeContext(ctx, "rat", np.zeros((n, 5)), zeros), m)
    expected = params["paw_pressure_rat_g"][0] + PAW_PRESSURE_RAMP_G_S * params["reaction_time_s"][0]
    assert np.allclose(values, expected, rtol=1e-6) and not censored.any()
    low_cutoff = Measure(measure="paw_pressure", site="hind_paw_right", trials=2, cutoff=50.0)
    zeros = NoiseStream(np.zeros((n, draws_per_measure(low_cutoff))))
    values, censored = PROBES["paw_pressure"](ProbeContext(ctx, "rat", np.zeros((n, 5)), zeros), low_cutoff)
    assert np.allclose(values, 50.0) and censored.all()


def test_exhaustion_clock_ends_a_step_at_exhaustion_and_catches_up() -> None:
    from eihlab.engine.simulate import _ExhaustionClock

    clock = _ExhaustionClock(0.0, np.array([0.7, 5.0, np.inf, 0.0]))
    assert np.allclose(clock.step_lengths(0.0, 0.5), 0.5)
    assert np.allclose(clock.step_lengths(0.5, 0.5), [0.2, 0.5, 0.5, 0.5])  # subject 0 stops at 0.7 min
    assert np.allclose(clock.lag, [0.3, 0.0, 0.0, 0.0])
    assert np.allclose(clock.step_lengths(1.0, 0.5), [0.8, 0.5, 0.5, 0.5])  # and catches up, exhausted
    assert not clock.lag.any()
