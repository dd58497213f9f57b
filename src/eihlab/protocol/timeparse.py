"""Durations and times with units: ``"30 min"``, ``"2 h"``, ``"3 d"``, ``"4 wk"``, ``"45 s"`` or a number of minutes."""

from __future__ import annotations

import re

from eihlab.errors import InputError

_UNITS_MIN = {
    "s": 1 / 60,
    "sec": 1 / 60,
    "min": 1.0,
    "h": 60.0,
    "hr": 60.0,
    "d": 1440.0,
    "day": 1440.0,
    "days": 1440.0,
    "wk": 10080.0,
    "week": 10080.0,
    "weeks": 10080.0,
}
_PATTERN = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*([a-z]+)\s*$")


def to_minutes(value: object, field: str) -> float:
    """Convert a number (minutes) or a ``"<number> <unit>"`` string to minutes."""
    if isinstance(value, bool):
        raise InputError(field, value, "a number of minutes or a string such as '30 min', '2 h', '3 d', '4 wk'")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        m = _PATTERN.match(value.lower())
        if m and m.group(2) in _UNITS_MIN:
            return float(m.group(1)) * _UNITS_MIN[m.group(2)]
    raise InputError(field, value, "a number of minutes or a string such as '30 min', '2 h', '3 d', '4 wk'")
