"""eihlab.stats."""
