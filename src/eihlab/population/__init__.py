"""eihlab.population."""
