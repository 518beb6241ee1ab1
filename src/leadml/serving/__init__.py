"""The MLflow "models from code" entry point lives in ``model_code.py`` (loaded by MLflow, not imported)."""
