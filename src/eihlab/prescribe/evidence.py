"""Which evidence entries support a recommendation (data, not logic: ids of :func:`eihlab.evidence.load_entries`).

Each tag names a feature of an option or of the screening — its exercise family or type, whether it loads a
painful region, the safety limits it was chosen under, a mechanism it relies on, the 12-week programme —
and lists the evidence entries (the review's findings encoded as simulated experiments) behind it, with a
few words on what each shows. The entries are the findings the model itself is checked against with
``eihlab evidence run``; an entry the model is known to fail is flagged.
"""

from __future__ import annotations

from functools import cache

EVIDENCE: dict[str, tuple[tuple[str, str], ...]] = {
    "family:aerobic": (
        ("naugle2014_hrr55_vs_hrr70", "aerobic EIH grows with intensity (70 vs 55 % HRR)"),
        ("jones2019_cycling_70hrr_ppt_gt_hpt", "15 min cycling at 70 % HRR raises PPT"),
        ("T1_exercise_type_effect_sizes", "effect sizes of aerobic, isometric and resistance exercise"),
    ),
    "type:walking": (("hviid2019_walking_ppt", "6 min of brisk walking raises PPT"),),
    "family:isometric": (
        ("peterson2019_isometric_handgrip_50mvc_ppt", "isometric handgrip raises PPT"),
        ("T2_local_vs_remote_isometric", "isometric EIH is larger at the exercised muscle than remotely"),
        ("alsouhibani2019_isometric_eih_matches_cpm", "isometric EIH is about as large as CPM"),
    ),
    "family:dynamic_resistance": (
        ("lu2021_gate_control_resistance_exercise", "resistance exercise raises PPT"),
        ("keilman2017_kettlebell_lowback_ppt", "kettlebell swings raise low-back PPT"),
    ),
    "family:mind_body": (
        ("liu2019_mindbody_vta_mopfc", "12 weeks of tai chi change reward-circuit connectivity"),
        ("villemure2014_yoga_insula", "long-term yoga practitioners have higher pain thresholds"),
    ),
    "role:non-affected": (
        ("burrows2014_koa_shoulder_ppt_increase", "in knee OA, exercising a non-affected region raises PPT"),
        ("lu2021_model_c_cortical_descending_diffuse", "active movement gives diffuse analgesia at non-moving limbs"),
    ),
    "role:affected": (
        ("burrows2014_koa_lower_limb_no_eih", "exercising the affected limbs gave no EIH: hence the non-painful cap"),
        ("T4_intensity_and_fatigue.cwad_comfortable_vs_high", "a comfortable, non-painful intensity still gives EIH"),
    ),
    "role:whole body": (
        ("T4_intensity_and_fatigue.koa_affected_vs_nonaffected", "loading the affected limb gives no EIH"),
        ("vanoosterwijck2012_cwad_comfortable_lowback_ppt_increase", "comfortable whole-body cycling raises PPT"),
    ),
    "limit:flare": (
        ("vanoosterwijck2012_cwad_high_intensity_ppt_decrease", "high intensity lowered PPT in whiplash"),
        ("meeus2010_cfs_cycling_ppt_decrease", "cycling lowered PPT in chronic fatigue syndrome"),
    ),
    "limit:exhaustion": (
        ("kruger2016_maximal_cycling_ppt_decrease", "cycling to near VO2max lowered PPT"),
        ("lima2017_fatigue_rvm_pnr1_increase", "fatiguing exercise phosphorylates RVM NR1 (facilitation)"),
    ),
    "programme": (
        ("stagg2011_treadmill_5wk_opioids_pag_rvm", "5 weeks of training raise PAG/RVM opioids"),
        ("bobinski2015_treadmill_2wk_brainstem_5ht", "2 weeks of training raise brainstem 5-HT"),
        ("galdino2014_aerobic_cb1_pag_up", "aerobic training raises PAG CB1"),
        ("liu2019_koa_12wk_pag_mopfc", "12 weeks of exercise improve knee-OA pain"),
    ),
    "mechanism:SP3": (
        ("lu2021_model_b_proprioceptive_gate", "proprioceptive input alone gives analgesia (gate)"),
        ("lu2021_gate_control_resistance_exercise", "resistance exercise and gate control"),
    ),
    "mechanism:SC4": (
        ("stagg2011_naloxone_blocks_eih", "naloxone blocks EIH"),
        ("crombie2018_isometric_endocannabinoids_naloxone", "isometric EIH, endocannabinoids and naloxone"),
    ),
    "mechanism:SC8c": (
        ("knockout_cb1_acute_eih", "a CB1 antagonist removes acute EIH"),
        ("galdino2014_ecb_inhibitors_prolong_eih", "slower eCB clearance prolongs EIH"),
    ),
    "mechanism:EX6": (
        ("lu2021_model_c_cortical_descending_diffuse", "movement engages cortical/descending modulation"),
    ),
    "mechanism:SC1": (
        ("alsouhibani2019_eih_reduces_subsequent_cpm", "EIH and CPM share the descending pathway"),
        ("lemley2015_baseline_cpm_predicts_eih", "people with better CPM have more EIH"),
    ),
    "screening": (
        ("lemley2015_baseline_cpm_predicts_eih", "baseline CPM predicts EIH"),
        ("vaegter2016_weak_cpm_less_eih", "weaker CPM goes with less EIH in chronic pain"),
        ("smith2020_cpm_impairment_reduced_eih", "impaired CPM goes with reduced EIH"),
        ("chretien2018_impaired_cpm_no_eih", "patients with impaired CPM show no EIH"),
    ),
}
"""Tag → (evidence entry id, what it shows)."""


@cache
def entry_refs() -> dict[str, str]:
    """``{entry id: reference}`` of the bundled evidence entries."""
    from eihlab.evidence import load_entries

    return {e.id: e.ref for e in load_entries()}


@cache
def _failing() -> dict[str, str]:
    from eihlab.evidence.runner import known_failures

    return known_failures()


def cite(tags: list[str]) -> list[dict[str, str]]:
    """The evidence entries behind some tags, without repeats: ``[{"id", "ref", "shows", "tag", "model"}]``.

    ``model`` is ``"known failure: ..."`` when the model is known to fail the entry, else ``""``.
    """
    refs = entry_refs()
    failing = _failing()
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for tag in tags:
        for entry_id, shows in EVIDENCE.get(tag, ()):
            if entry_id in seen or entry_id not in refs:
                continue
            seen.add(entry_id)
            note = f"known failure: {failing[entry_id]}" if entry_id in failing else ""
            out.append({"id": entry_id, "ref": refs[entry_id], "shows": shows, "tag": tag, "model": note})
    return out


__all__ = ["EVIDENCE", "cite", "entry_refs"]
