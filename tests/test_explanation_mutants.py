"""Hand-worked cases that kill mutants of the explanation code (make mutate)."""
