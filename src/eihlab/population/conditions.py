"""Conditions (phenotypes) as parameter shifts, plus the injury a rodent model carries.

A condition never adds a code path: it sets the median of pathology parameters (central sensitisation,
extra facilitation, descending efficacy, M1/DLPFC suppression), names the regions whose nociceptors are
sensitised, and for rodent injury models the injury that started ``onset_days`` before the experiment.
Chronic pain conditions also lower the barrage at which RVM NR1 is phosphorylated (a primed facilitation
system: the review's "beyond a chronic-pain patient's pain range", §4.6). The magnitudes are assumed
orderings from the review (§7: CFS more severe than CLBP; FM and CFS widespread; KOA local) and are to be
calibrated (issue 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eihlab.errors import InputError

HUMAN = ("human",)
RODENT = ("rat", "mouse")


@dataclass(frozen=True, slots=True)
class Condition:
    """A phenotype: parameter medians, affected regions, an optional injury, and aerobic capacity.

    ``vo2max_factor`` scales the population-typical VO2max (deconditioning in chronic pain; assumed from
    reported VO2peak deficits of ~10-30 %, e.g. CFS doi:10.1016/j.apmr.2015.03.021).
    """

    name: str
    species: tuple[str, ...]
    description: str
    shifts: dict[str, float] = field(default_factory=dict)
    affected_regions: tuple[str, ...] = ()
    injury: str | None = None
    injury_side: str = "left"
    onset_days: float = 7.0
    vo2max_factor: float = 1.0
    source: str = "assumed: ordering from the review §7; magnitudes to be calibrated"


_WIDESPREAD = ("whole_body",)

CONDITIONS: dict[str, Condition] = {
    c.name: c
    for c in (
        Condition("healthy", HUMAN + RODENT, "healthy, pain-free"),
        Condition(
            "knee_osteoarthritis",
            HUMAN,
            "painful knee OA (right knee affected)",
            {
                "nr1_threshold": 1.2,
                "cs_condition": 0.3,
                "descending_efficacy": 0.8,
                "m1_suppression": 0.15,
                "facilitation_condition": 0.1,
                "affected_sensitisation": 1.0,
            },
            ("lower_limb_right",),
            source="[32][33]: KOA has local sensitisation and impaired EIH in the affected limb",
        ),
        Condition(
            "chronic_low_back_pain",
            HUMAN,
            "chronic non-specific low back pain",
            {
                "nr1_threshold": 1.4,
                "cs_condition": 0.15,
                "descending_efficacy": 0.9,
                "m1_suppression": 0.15,
                "affected_sensitisation": 0.6,
            },
            ("trunk",),
            source="[32]: CLBP retains normal EIH with cycling",
        ),
        Condition(
            "chronic_fatigue_syndrome",
            HUMAN,
            "chronic fatigue syndrome with widespread pain",
            {
                "nr1_threshold": 0.8,
                "cs_condition": 1.2,
                "descending_efficacy": 0.35,
                "facilitation_condition": 0.4,
                "m1_suppression": 0.3,
                "dlpfc_suppression": 0.3,
                "affected_sensitisation": 0.3,
            },
            _WIDESPREAD,
            vo2max_factor=0.7,
            source="[32]: CFS loses EIH and becomes hyperalgesic after cycling",
        ),
        Condition(
            "fibromyalgia",
            HUMAN,
            "fibromyalgia",
            {
                "nr1_threshold": 0.9,
                "cs_condition": 1.0,
                "descending_efficacy": 0.45,
                "facilitation_condition": 0.3,
                "m1_suppression": 0.3,
                "dlpfc_suppression": 0.3,
                "affected_sensitisation": 0.3,
            },
            _WIDESPREAD,
            vo2max_factor=0.8,
            source="[17][34]: FM has impaired CPM and EIH",
        ),
        Condition(
            "chronic_whiplash",
            HUMAN,
            "chronic whiplash-associated disorder",
            {
                "nr1_threshold": 1.0,
                "cs_condition": 0.6,
                "descending_efficacy": 0.6,
                "facilitation_condition": 0.2,
                "m1_suppression": 0.2,
                "affected_sensitisation": 1.0,
            },
            ("neck_shoulders",),
            source="[34]: CWAD hyperalgesia after high-intensity exercise",
        ),
        Condition(
            "chronic_musculoskeletal_pain_low_cpm",
            HUMAN,
            "chronic musculoskeletal pain with impaired CPM",
            {
                "nr1_threshold": 1.0,
                "cs_condition": 0.4,
                "descending_efficacy": 0.35,
                "m1_suppression": 0.2,
                "facilitation_condition": 0.1,
                "affected_sensitisation": 0.5,
            },
            ("neck_shoulders", "trunk"),
            source="[36]: impaired CPM goes with absent EIH",
        ),
        Condition(
            "adolescent_chronic_pain",
            HUMAN,
            "adolescent chronic pain",
            {
                "nr1_threshold": 1.2,
                "cs_condition": 0.4,
                "descending_efficacy": 0.6,
                "m1_suppression": 0.1,
                "affected_sensitisation": 0.4,
            },
            _WIDESPREAD,
        ),
        Condition(
            "myofascial_pain_syndrome",
            HUMAN,
            "myofascial pain syndrome (neck-shoulder)",
            {
                "nr1_threshold": 1.2,
                "cs_condition": 0.3,
                "descending_efficacy": 0.7,
                "m1_suppression": 0.2,
                "affected_sensitisation": 0.8,
            },
            ("neck_shoulders",),
        ),
        Condition(
            "multiple_sclerosis",
            HUMAN,
            "central neuropathic pain in multiple sclerosis",
            {
                "nr1_threshold": 1.2,
                "cs_condition": 0.5,
                "descending_efficacy": 0.6,
                "m1_suppression": 0.3,
                "facilitation_condition": 0.2,
            },
        ),
        Condition(
            "chronic_migraine",
            HUMAN,
            "chronic migraine",
            {
                "nr1_threshold": 1.2,
                "cs_condition": 0.5,
                "descending_efficacy": 0.6,
                "facilitation_condition": 0.2,
                "affected_sensitisation": 0.8,
            },
            ("head",),
        ),
        Condition(
            "sciatic_nerve_crush",
            RODENT,
            "sciatic nerve crush (left hind limb)",
            injury="sciatic_crush",
            source="[41][42]",
        ),
        Condition(
            "partial_sciatic_ligation",
            RODENT,
            "partial sciatic nerve ligation (left hind limb)",
            injury="partial_sciatic_ligation",
            source="[15][59]",
        ),
        Condition(
            "spared_nerve_injury",
            RODENT,
            "spared nerve injury / peripheral nerve injury (left hind limb)",
            injury="spared_nerve_injury",
            source="[46][54]",
        ),
        Condition("spinal_cord_injury", RODENT, "spinal cord injury", injury="spinal_cord_injury", source="[44]"),
        Condition(
            "acidic_saline_muscle_pain",
            RODENT,
            "chronic muscle pain after repeated acidic saline",
            {"cs_condition": 0.6, "facilitation_condition": 0.3},
            source="[15][62]",
        ),
    )
}

INJURY_SEVERITY: dict[str, float] = {
    "sciatic_crush": 1.0,
    "partial_sciatic_ligation": 1.5,
    "spared_nerve_injury": 2.0,
    "spinal_cord_injury": 1.5,
}
"""Nociceptive drive of each injury model (assumed: SNI > PSL > crush, from the persistence of allodynia)."""


def get_condition(name: str, species: str, field: str = "cohort.condition") -> Condition:
    """Look a condition up, checking that it exists for the species."""
    allowed = [c.name for c in CONDITIONS.values() if species in c.species]
    cond = CONDITIONS.get(name)
    if cond is None or species not in cond.species:
        raise InputError(field, name, allowed)
    return cond
