"""eihlab.experiment."""
