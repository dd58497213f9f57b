"""Rodent 50 % von Frey withdrawal thresholds from raw up-down (X/O) sequences (Chaplan et al. 1994).

Chaplan's formula is

.. math::

    \\text{50 % threshold (g)} = \\frac{10^{X_f + k\\delta}}{10\\,000},

with :math:`X_f` the log-unit value ("handle number", :math:`\\log_{10}(10\\,000 \\cdot \\text{force in g})`)
of the *final* filament used, :math:`\\delta` the mean distance between filaments in log units (0.224 for
Chaplan's set) and :math:`k` Dixon's tabulated value for the pattern of responses (X = withdrawal, O = none).
Equivalently, threshold = final filament (g) × :math:`10^{k\\delta}`.

The pattern is read as Dixon's two parts: the first part is the run of like responses before the first
change (O, OO, OOO or OOOO; a longer run counts as OOOO, Dixon's table stops there and its last two columns
differ by at most 0.015) and the second part starts with the first changed response (1-5 responses; Chaplan
uses the change plus 4 more). :data:`DIXON_K` lists the patterns that start with O; a pattern that starts
with X has the same k with the opposite sign after swapping X and O (Dixon's table is antisymmetric).

The table is Dixon's (Dixon 1965 Table 2; Dixon 1980 Table 7), transcribed to three decimals; every entry
equals the maximum-likelihood estimate of the 50 % point of a normal tolerance distribution with
:math:`\\sigma = \\delta`, measured from the final dose in units of :math:`\\delta`, which the tests check.

A sequence without a change (all O: no withdrawal up to the final filament; all X) has no estimate; as in
Chaplan 1994 the final filament is reported instead, flagged as censored.

References
----------
.. [1] Chaplan SR, Bach FW, Pogrel JW, Chung JM, Yaksh TL. Quantitative assessment of tactile allodynia in
   the rat paw. *J Neurosci Methods* 53 (1994) 55-63.
.. [2] Dixon WJ. The up-and-down method for small samples. *J Am Stat Assoc* 60 (1965) 967-978.
.. [3] Dixon WJ. Efficient analysis of experimental observations. *Annu Rev Pharmacol Toxicol* 20 (1980)
   441-462.
"""

from __future__ import annotations

import math

from eihlab.errors import InputError

__all__ = [
    "CHAPLAN_STEP",
    "DIXON_K",
    "chaplan_threshold",
    "dixon_k",
    "g_to_handle",
    "handle_to_g",
    "normalise_sequence",
]

CHAPLAN_STEP = 0.224
"""Mean log10 distance between the filaments of Chaplan's 1994 set (δ)."""

MAX_FIRST_RUN = 4
MAX_SECOND_PART = 5

DIXON_K: dict[str, tuple[float, float, float, float]] = {
    # second part: k for a first part of O, OO, OOO, OOOO
    "X": (-0.500, -0.388, -0.378, -0.377),
    "XX": (-0.178, 0.000, 0.026, 0.028),
    "XO": (0.842, 0.890, 0.894, 0.894),
    "XXX": (0.194, 0.449, 0.500, 0.506),
    "XXO": (1.000, 1.122, 1.139, 1.140),
    "XOX": (-0.500, -0.439, -0.432, -0.432),
    "XOO": (0.299, 0.314, 0.315, 0.315),
    "XXXX": (0.555, 0.897, 0.985, 1.000),
    "XXXO": (1.288, 1.500, 1.544, 1.549),
    "XXOX": (-0.305, -0.169, -0.144, -0.142),
    "XXOO": (0.305, 0.372, 0.380, 0.381),
    "XOXX": (0.084, 0.169, 0.181, 0.182),
    "XOXO": (0.701, 0.737, 0.741, 0.741),
    "XOOX": (-0.878, -0.861, -0.860, -0.860),
    "XOOO": (-0.157, -0.154, -0.154, -0.154),
    "XXXXX": (0.893, 1.329, 1.465, 1.496),
    "XXXXO": (1.603, 1.917, 2.000, 2.014),
    "XXXOX": (-0.043, 0.187, 0.244, 0.252),
    "XXXOO": (0.500, 0.648, 0.678, 0.681),
    "XXOXX": (0.296, 0.463, 0.500, 0.504),
    "XXOXO": (0.831, 0.935, 0.952, 0.954),
    "XXOOX": (-0.831, -0.763, -0.753, -0.752),
    "XXOOO": (-0.296, -0.266, -0.263, -0.263),
    "XOXXX": (0.611, 0.732, 0.756, 0.758),
    "XOXXO": (1.169, 1.237, 1.247, 1.248),
    "XOXOX": (-0.500, -0.458, -0.453, -0.453),
    "XOXOO": (0.022, 0.039, 0.040, 0.040),
    "XOOXX": (-0.169, -0.144, -0.142, -0.142),
    "XOOXO": (0.372, 0.380, 0.381, 0.381),
    "XOOOX": (-1.250, -1.247, -1.246, -1.246),
    "XOOOO": (-0.547, -0.547, -0.547, -0.547),
}
"""Dixon's k for patterns that start with O, by second part (the responses from the first change on)."""

_SWAP = str.maketrans("XO", "OX")
_ALLOWED = "an X/O sequence (X = withdrawal, O = none) with at most 5 responses from the first change on"


def normalise_sequence(sequence: str) -> str:
    """Upper-case an X/O sequence and drop spaces, commas and dashes (``"o o x"`` → ``"OOX"``)."""
    return "".join(c for c in str(sequence).upper() if c not in " ,;-_")


def dixon_k(sequence: str, field: str = "sequence") -> float | None:
    """Dixon's k for an up-down response pattern, or ``None`` if the responses never change.

    Parameters
    ----------
    sequence
        The responses in order, ``X`` for a withdrawal and ``O`` for none (case-insensitive), e.g.
        ``"OOXOXOX"``.
    field
        Name used in the error message.

    Raises
    ------
    eihlab.errors.InputError
        For a character other than X/O or more than five responses from the first change on.

    Examples
    --------
    >>> dixon_k("OXOXOX")
    -0.5
    >>> dixon_k("XXOXO")  # = -k("OOXOX")
    0.439
    """
    seq = normalise_sequence(sequence)
    if not seq or set(seq) - {"X", "O"}:
        raise InputError(field, sequence, _ALLOWED)
    first = seq[0]
    run = len(seq) - len(seq.lstrip(first))
    if run == len(seq):
        return None
    second = seq[run:]
    if len(second) > MAX_SECOND_PART:
        raise InputError(field, sequence, _ALLOWED)
    sign = 1.0
    if first == "X":
        second, sign = second.translate(_SWAP), -1.0
    return sign * DIXON_K[second][min(run, MAX_FIRST_RUN) - 1]


def handle_to_g(handle: float) -> float:
    """Force (g) of a von Frey filament from its handle number :math:`\\log_{10}(10\\,000\\,F)`."""
    return 10.0**handle / 10_000.0


def g_to_handle(grams: float) -> float:
    """Handle number :math:`X = \\log_{10}(10\\,000\\,F)` of a filament of force ``F`` (g)."""
    return math.log10(grams * 10_000.0)


def chaplan_threshold(
    sequence: str, final_g: float, step: float = CHAPLAN_STEP, field: str = "sequence"
) -> tuple[float, bool]:
    """50 % withdrawal threshold (g) from an up-down sequence by Chaplan's formula.

    .. math::

        T = 10^{X_f + k\\delta} / 10\\,000, \\qquad X_f = \\log_{10}(10\\,000 \\cdot F_\\text{final})

    Parameters
    ----------
    sequence
        X/O responses in order (see :func:`dixon_k`).
    final_g
        Force (g) of the final filament applied (the last response of the sequence).
    step
        Mean log10 distance δ between successive filaments of the set (Chaplan: 0.224).
    field
        Name used in error messages.

    Returns
    -------
    tuple of (float, bool)
        The threshold in g and whether it is censored (no change in the responses: the final filament is
        returned as the bound, as Chaplan did).

    Examples
    --------
    >>> t, censored = chaplan_threshold("OXOXOX", handle_to_g(4.56))
    >>> round(t, 3), censored
    (2.805, False)
    """
    k = dixon_k(sequence, field)
    if k is None:
        return float(final_g), True
    return 10.0 ** (g_to_handle(final_g) + k * step) / 10_000.0, False
