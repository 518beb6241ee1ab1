"""Hand-worked cases that kill mutants of the batch code (make mutate)."""
