"""eihlab.model."""
