"""``python -m eihlab``."""

from eihlab.cli.main import main

main()
