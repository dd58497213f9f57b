"""Published findings as experiments with statistical expectations, and the validation report."""

from eihlab.evidence.runner import EntryResult as EntryResult
from eihlab.evidence.runner import as_json as as_json
from eihlab.evidence.runner import load_entries as load_entries
from eihlab.evidence.runner import run_entries as run_entries
from eihlab.evidence.schema import Entry as Entry
from eihlab.evidence.schema import Expectation as Expectation
