"""Serving: the MLflow pyfunc loader (:mod:`leadml.serving.pyfunc`); the store holds only data."""
