"""Cross-fitting: out-of-fold margins, boosting rounds and Platt scaling without a held-out slice.

Every labelled row is held out once, in purged time blocks
(:func:`leadml.pointintime.split.cross_fitting_folds`); the block's model learns from
the other blocks. The pooled out-of-fold margins fit Platt scaling for a
model trained on *all* the rows, and (small data) each block's early
stopping gives the number of rounds. No labelled row is set aside.

Rounds follow the data size: a model on ``n`` rows boosts
``reference_rounds · (n / reference_rows) ** exponent`` rounds, where early
stopping found ``reference_rounds`` on ``reference_rows`` training rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadml.modeling.calibration import PlattCalibration, fit_platt
from leadml.pointintime.split import Fold, cross_fitting_folds

__all__ = ["CrossFit", "cross_fit", "require_increasing", "scaled_rounds"]


def scaled_rounds(
    reference_rounds: float, reference_rows: float, n_rows: int, *, exponent: float
) -> int:
    """Rounds for ``n_rows`` training rows, scaled from early stopping's ``reference_rounds``
    on ``reference_rows`` rows: ``round(reference_rounds · (n_rows / reference_rows) ** exponent)``.

    >>> scaled_rounds(100, 50_000, 100_000, exponent=1.0)
    200
    """
    if reference_rows <= 0 or reference_rounds <= 0:
        raise ValueError(
            f"rounds scaling needs positive reference rounds and rows; got "
            f"{reference_rounds} rounds on {reference_rows} rows"
        )
    return max(1, int(round(reference_rounds * (n_rows / reference_rows) ** exponent)))


def require_increasing(calibration: PlattCalibration) -> PlattCalibration:
    """``calibration`` if its slope is positive; otherwise a ``ValueError`` saying why.

    Blocks are cross-fitted both ways in time: when the rows drift between blocks, each
    block's model learns its neighbours' relation and the pooled out-of-fold margins can
    rank the labels backwards, so Platt's slope comes out negative and every calibrated
    score would be reversed.
    """
    if calibration.slope <= 0:
        raise ValueError(
            f"cross-fitting: Platt scaling on the out-of-fold margins has slope "
            f"{calibration.slope:.3f} <= 0, so calibrated scores would rank leads backwards; "
            "the rows drift between the time blocks (each block's model learns from its future "
            "as well as its past). Use a forward holdout instead: small_data: {max_rows: 0} for the "
            "evaluation model, refit: {enabled: false} for the production model"
        )
    return calibration


@dataclass(frozen=True)
class CrossFit:
    """Out-of-fold margins of every row, the Platt fitted on them, and the rounds for all rows."""

    margin: np.ndarray = field(repr=False)
    calibration: PlattCalibration
    rounds: int
    reference_rounds: float
    reference_rows: float
    folds: list[dict[str, Any]]

    def summary(self) -> dict[str, Any]:
        """JSON-ready: rounds, reference, calibration and the folds."""
        return {
            "rounds": self.rounds,
            "reference_rounds": self.reference_rounds,
            "reference_rows": self.reference_rows,
            "calibration": self.calibration.to_dict(),
            "folds": self.folds,
        }


def _both_classes(y: np.ndarray, rows: np.ndarray, what: str) -> None:
    positives = int(y[rows].sum())
    if len(rows) == 0 or positives in (0, len(rows)):
        raise ValueError(
            f"cross-fitting: {what} has {len(rows)} rows and {positives} positives; both "
            "classes are needed (fewer folds, a shorter purge gap or more data)"
        )


def cross_fit(
    X: pd.DataFrame,
    y: np.ndarray,
    order: pd.Series | np.ndarray,
    *,
    params: dict[str, Any],
    folds: int,
    gap: pd.Timedelta | int,
    exponent: float,
    rounds: int | None = None,
    num_boost_round: int = 2000,
    early_stopping_rounds: int = 100,
    forward: bool = False,
) -> CrossFit:
    """Cross-fit LightGBM over ``folds`` purged time blocks of ``X`` (ordered by ``order``).

    ``rounds`` given (refit of a large training set): every block's model boosts
    ``rounds`` scaled to its own size, no early stopping. ``rounds=None`` (small data):
    each block's model stops early on its block; the mean best iteration on the mean
    training size is the reference the rounds for all rows are scaled from. Either way a
    block's margins come from its model at the rounds for that model's size, and Platt is
    fitted on all the blocks' margins together.

    ``forward``: each block learns from the blocks before it only (its margins are
    forecasts, as the deployed model's are); the first block gets no margin (NaN) and
    Platt is fitted on the others.
    """
    y = np.asarray(y).astype(np.int8)
    if len(X) != len(y):
        raise ValueError(f"cross-fitting: X has {len(X)} rows but y has {len(y)}")
    layout: list[Fold] = cross_fitting_folds(order, folds=folds, gap=gap, forward=forward)
    data = lgb.Dataset(X, label=y, categorical_feature="auto", params=dict(params),
                       free_raw_data=False).construct()  # fmt: skip
    boosters: list[lgb.Booster] = []
    best: list[int] = []
    for fold in layout:
        _both_classes(y, fold.train, f"the training rows of block {fold.number}")
        _both_classes(y, fold.test, f"block {fold.number}")
        train_set = data.subset(fold.train)
        if rounds is None:
            valid_set = data.subset(fold.test)
            booster = lgb.train(
                dict(params),
                train_set,
                num_boost_round=num_boost_round,
                valid_sets=[valid_set],
                valid_names=["held_out"],
                callbacks=[lgb.early_stopping(early_stopping_rounds, verbose=False)],
            )
            best.append(max(1, booster.best_iteration))
        else:
            booster = lgb.train(
                dict(params),
                train_set,
                num_boost_round=scaled_rounds(rounds, len(X), len(fold.train), exponent=exponent),
            )
        boosters.append(booster)
    if rounds is None:
        reference_rounds = float(np.mean(best))
        reference_rows = float(np.mean([len(f.train) for f in layout]))
    else:
        reference_rounds, reference_rows = float(rounds), float(len(X))
    margin = np.full(len(X), np.nan)
    described = []
    for position, (fold, booster) in enumerate(zip(layout, boosters, strict=True)):
        used = min(
            scaled_rounds(reference_rounds, reference_rows, len(fold.train), exponent=exponent),
            booster.current_iteration(),
        )
        margin[fold.test] = booster.predict(X.iloc[fold.test], raw_score=True, num_iteration=used)
        described.append(
            fold.describe(order)
            | {"rounds": used}
            | ({"best_iteration": best[position]} if rounds is None else {})
        )
    held_out = ~np.isnan(margin)
    calibration = fit_platt(margin[held_out], y[held_out])
    return CrossFit(
        margin=margin,
        calibration=calibration,
        rounds=scaled_rounds(reference_rounds, reference_rows, len(X), exponent=exponent),
        reference_rounds=reference_rounds,
        reference_rows=reference_rows,
        folds=described,
    )
