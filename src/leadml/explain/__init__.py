"""Explanations: SHAP contributions in points, grouped by signal and family, and reason texts in words (EN/FR)."""
