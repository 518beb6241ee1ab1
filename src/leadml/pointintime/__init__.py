"""Point in time: snapshots (lead, as_of), label windows, purged out-of-time splits, training and scoring sets."""
