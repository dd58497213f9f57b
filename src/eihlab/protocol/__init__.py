"""eihlab.protocol."""
