"""Hand-worked cases that kill mutants of the calibration code (make mutate)."""
