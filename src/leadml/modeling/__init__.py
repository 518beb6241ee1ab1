"""Modeling: LightGBM training, Platt calibration, the point-grid baseline, evaluation and figures, the learned grid, the model card, the leakage audit, the drift reference, the servable scorer."""
