"""Exercise types and their defaults: family, body region, active or passive.

A type is the name a user writes (``cycling``, ``isometric_handgrip``, ``tai_chi``); it fixes the family the
model distinguishes (aerobic, anaerobic, isometric, dynamic resistance, eccentric, mind-body, passive) and a
default exercised region, which an experiment may override.
"""

from __future__ import annotations

from dataclasses import dataclass

from eihlab.errors import InputError


@dataclass(frozen=True, slots=True)
class ExerciseType:
    """What a named exercise is: its family, default region and muscle-mass share of that region."""

    family: str
    region: str
    mass_share: float = 1.0
    voluntary_running: bool = False


EXERCISE_TYPES: dict[str, ExerciseType] = {
    "walking": ExerciseType("aerobic", "lower_limbs"),
    "running": ExerciseType("aerobic", "lower_limbs"),
    "cycling": ExerciseType("aerobic", "lower_limbs"),
    "swimming": ExerciseType("aerobic", "whole_body"),
    "treadmill": ExerciseType("aerobic", "whole_body"),
    "forced_wheel": ExerciseType("aerobic", "whole_body"),
    "voluntary_wheel": ExerciseType("aerobic", "whole_body", 1.0, voluntary_running=True),
    "arm_cycling": ExerciseType("aerobic", "upper_limbs"),
    "aerobic_and_resistance": ExerciseType("aerobic", "whole_body"),
    "wingate": ExerciseType("anaerobic", "lower_limbs"),
    "isometric_handgrip": ExerciseType("isometric", "upper_limb_right", 0.35),
    "isometric_knee_extension": ExerciseType("isometric", "lower_limb_right", 0.4),
    "isometric_elbow_flexion": ExerciseType("isometric", "upper_limb_right", 0.4),
    "isometric_wall_squat": ExerciseType("isometric", "lower_limbs", 0.6),
    "isometric_back_extension": ExerciseType("isometric", "trunk", 0.5),
    "dynamic_resistance": ExerciseType("dynamic_resistance", "whole_body", 0.6),
    "knee_extension": ExerciseType("dynamic_resistance", "lower_limb_right", 0.4),
    "leg_press": ExerciseType("dynamic_resistance", "lower_limbs", 0.7),
    "shoulder_press": ExerciseType("dynamic_resistance", "neck_shoulders", 0.8),
    "kettlebell_swing": ExerciseType("dynamic_resistance", "whole_body", 0.7),
    "eccentric_elbow_flexion": ExerciseType("eccentric", "upper_limb_right", 0.4),
    "eccentric_knee_extension": ExerciseType("eccentric", "lower_limb_right", 0.4),
    "yoga": ExerciseType("mind_body", "whole_body", 0.5),
    "tai_chi": ExerciseType("mind_body", "whole_body", 0.5),
    "baduanjin": ExerciseType("mind_body", "whole_body", 0.5),
    "pnf": ExerciseType("dynamic_resistance", "whole_body", 0.3),
    "passive_movement": ExerciseType("passive", "lower_limb_right", 0.4),
}


def exercise_type(name: str, field: str = "exercise.type") -> ExerciseType:
    """Look up an exercise type, raising :class:`InputError` with the allowed names."""
    try:
        return EXERCISE_TYPES[name]
    except KeyError:
        raise InputError(field, name, EXERCISE_TYPES) from None
