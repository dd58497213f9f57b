"""``python -m eihlab``."""

from eihlab.cli.main import app

app()
