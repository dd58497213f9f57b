"""eihlab: a virtual laboratory for exercise-induced hypoalgesia."""

from eihlab.errors import EihlabError as EihlabError
from eihlab.errors import InputError as InputError

__version__ = "0.1.0"
