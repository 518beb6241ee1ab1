"""Hand-worked cases that kill mutants of the open_leads code (make mutate)."""
