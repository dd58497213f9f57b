"""eihlab.engine."""
