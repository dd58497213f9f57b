"""One error hierarchy for eihlab.

Every mistake a user can make (a bad experiment file, an unknown site, an intensity out of range) raises a
subclass of :class:`EihlabError` whose message names the field, the value and what is allowed. The CLI
prints that message on one line and exits with status 2.
"""

from __future__ import annotations

from collections.abc import Iterable


class EihlabError(Exception):
    """Base class of every error eihlab raises on purpose."""


class InputError(EihlabError, ValueError):
    """A user-supplied value is invalid.

    Parameters
    ----------
    field
        Dotted path of the offending field (``arms[0].events[2].intensity.value``).
    value
        The value that was given.
    allowed
        What would have been accepted, in words (``"a number in [0, 100]"``) or as a list of names.
    """

    def __init__(self, field: str, value: object, allowed: str | Iterable[str]) -> None:
        if not isinstance(allowed, str):
            allowed = "one of " + ", ".join(sorted(str(a) for a in allowed))
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}: got {value!r}; allowed: {allowed}")


class ModelError(EihlabError):
    """The model was asked for something it does not contain (an unknown node, edge or parameter)."""


class SimulationError(EihlabError, RuntimeError):
    """The numerical integration produced non-finite values or otherwise failed."""
