"""Units of QST values and their conversion to the canonical units of ``qst_conventions.md`` §0.2.

Canonical units: pressure in kPa, temperature in °C (``degC``), time in s, von Frey force in g, electrical
current in mA, ratings on a 0-100 scale (``0-100``), dimensionless ratios (``ratio``) and the simulator's
relative read-outs (``rel.``).

Conversions are affine, :math:`x_\\text{canonical} = a\\,x + b`:

* pressure: 1 N/cm² = 10 kPa; 1 kgf/cm² = 9.80665 N/cm² = 98.0665 kPa (standard gravity, the "98.07 kPa"
  of the conventions); 1 psi = 1 lbf/in² = 6.894757 kPa; 1 mmHg = 0.133322 kPa. A *force* read from a hand
  algometer (N, kgf, lbf) becomes a pressure only with the probe area :math:`A` in cm²:
  :math:`p\\,[\\text{kPa}] = 10\\,F[\\text{N}]/A`, with 1 kgf = 9.80665 N and 1 lbf = 4.4482216152605 N;
* temperature: °F → °C :math:`(x - 32)\\cdot 5/9`, K → °C :math:`x - 273.15`;
* time: ms, min; force (von Frey): 1 g = 9.80665 mN; current: A, µA;
* ratings: a 0-10 scale (NRS 0-10, VAS in cm) is multiplied by 10, a 0-100 scale (VAS in mm) is kept.

Differences (a CPM effect, a temporal-summation score) are converted with the factor :math:`a` only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["CANONICAL", "KINDS", "Unit", "convert", "find_unit", "normalise_unit", "units_of"]

G0 = 9.80665
"""Standard gravity (m/s²): 1 kgf = 9.80665 N, 1 g-force = 9.80665 mN."""
LBF_N = 4.4482216152605
"""One pound-force in newtons."""

CANONICAL: dict[str, str] = {
    "pressure": "kPa",
    "temperature": "degC",
    "time": "s",
    "force": "g",
    "current": "mA",
    "rating": "0-100",
    "ratio": "ratio",
    "relative": "rel.",
}
"""The canonical unit of each kind of quantity."""

KINDS = tuple(CANONICAL)


@dataclass(frozen=True)
class Unit:
    """One accepted unit spelling.

    Attributes
    ----------
    name
        The spelling shown in messages (``"kgf/cm2"``).
    kind
        Kind of quantity (a key of :data:`CANONICAL`).
    factor, offset
        :math:`x_\\text{canonical} = \\text{factor}\\cdot x + \\text{offset}`; for a force-over-area unit
        ``factor`` gives kPa per (unit / cm²).
    per_area
        The unit is a force read from a probe: the value is divided by the probe area in cm².
    """

    name: str
    kind: str
    factor: float
    offset: float = 0.0
    per_area: bool = False


def normalise_unit(text: str) -> str:
    """Lower-case a unit and drop spaces and the usual typographic variants (``kgf/cm²`` → ``kgf/cm2``)."""
    s = str(text).strip().lower().replace(" ", "").replace("²", "2").replace("µ", "u").replace("μ", "u")
    return s.replace("°", "deg").replace("^2", "2")


def _table() -> dict[tuple[str, str], Unit]:
    units: list[tuple[list[str], Unit]] = [
        (["kPa"], Unit("kPa", "pressure", 1.0)),
        (["Pa"], Unit("Pa", "pressure", 1e-3)),
        (["N/cm2"], Unit("N/cm2", "pressure", 10.0)),
        (["kgf/cm2", "kg/cm2"], Unit("kgf/cm2", "pressure", 10.0 * G0)),
        (["psi", "lbf/in2"], Unit("psi", "pressure", 10.0 * LBF_N / 2.54**2)),
        (["mmHg"], Unit("mmHg", "pressure", 0.133322387415)),
        (["N"], Unit("N", "pressure", 10.0, per_area=True)),
        (["kgf", "kg"], Unit("kgf", "pressure", 10.0 * G0, per_area=True)),
        (["lbf", "lb"], Unit("lbf", "pressure", 10.0 * LBF_N, per_area=True)),
        (["degC", "C", "celsius"], Unit("degC", "temperature", 1.0)),
        (["degF", "F", "fahrenheit"], Unit("degF", "temperature", 5.0 / 9.0, -32.0 * 5.0 / 9.0)),
        (["K", "kelvin"], Unit("K", "temperature", 1.0, -273.15)),
        (["s", "sec"], Unit("s", "time", 1.0)),
        (["ms"], Unit("ms", "time", 1e-3)),
        (["min"], Unit("min", "time", 60.0)),
        (["g", "gf"], Unit("g", "force", 1.0)),
        (["mN"], Unit("mN", "force", 1.0 / G0)),
        (["mA"], Unit("mA", "current", 1.0)),
        (["A"], Unit("A", "current", 1e3)),
        (["uA"], Unit("uA", "current", 1e-3)),
        (["0-100", "VAS 0-100", "NRS 0-100", "mm"], Unit("0-100", "rating", 1.0)),
        (["0-10", "NRS 0-10", "VAS 0-10", "NRS", "cm"], Unit("0-10", "rating", 10.0)),
        (["ratio", "1"], Unit("ratio", "ratio", 1.0)),
        (["rel."], Unit("rel.", "relative", 1.0)),
    ]
    table: dict[tuple[str, str], Unit] = {}
    for spellings, unit in units:
        for s in spellings:
            table[(unit.kind, normalise_unit(s))] = unit
    return table


_UNITS = _table()


def units_of(kind: str) -> list[str]:
    """The accepted spellings of one kind, for messages (``units_of("pressure")``)."""
    return sorted({u.name for (k, _), u in _UNITS.items() if k == kind})


def find_unit(text: str, kinds: tuple[str, ...]) -> Unit | None:
    """The :class:`Unit` a spelling stands for among ``kinds`` (the first kind that knows it), else ``None``."""
    key = normalise_unit(text)
    for kind in kinds:
        unit = _UNITS.get((kind, key))
        if unit is not None:
            return unit
    return None


def convert(
    values: npt.ArrayLike,
    unit: Unit,
    probe_cm2: npt.ArrayLike | float = math.nan,
    *,
    difference: bool = False,
) -> npt.NDArray[np.float64]:
    """Convert values in ``unit`` to the canonical unit of its kind.

    Parameters
    ----------
    values
        Values in ``unit``.
    unit
        Their unit.
    probe_cm2
        Probe area in cm², needed (and used) only for a force unit (``unit.per_area``): kPa = factor·F/A.
    difference
        The values are differences (CPM, a temporal-summation score): apply the factor, not the offset.

    Returns
    -------
    numpy.ndarray
        The converted values (NaN where the area is missing or not positive for a force unit).

    Examples
    --------
    >>> round(float(convert([4.0], find_unit("kgf/cm2", ("pressure",)))[0]), 6)
    392.266
    >>> float(convert([45.0], find_unit("N", ("pressure",)), 0.5)[0])
    900.0
    """
    x = np.asarray(values, dtype=float)
    out = unit.factor * x + (0.0 if difference else unit.offset)
    if unit.per_area:
        area = np.asarray(probe_cm2, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(area > 0, out / np.where(area > 0, area, 1.0), np.nan)
    return np.asarray(out, dtype=float)
