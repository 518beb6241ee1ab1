"""Hand-worked cases that kill mutants of the config code (make mutate)."""
