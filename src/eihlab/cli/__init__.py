"""eihlab.cli."""
