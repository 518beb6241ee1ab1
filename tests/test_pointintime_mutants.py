"""Hand-worked cases that kill mutants of the pointintime code (make mutate)."""
