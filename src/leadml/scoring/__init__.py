"""Batch scoring: the ``leadml score`` job, the per-partition work of scoring open leads, and its Dask scale-out."""
