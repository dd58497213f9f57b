"""Virtual trials: power curves of an experiment's primary comparison, and global sensitivity analysis."""
