"""The hand-tuned point grid, read from YAML and wrapped as a scikit-learn classifier.

A grid is a list of rules ("pricing page visit: +25") and two thresholds on
the sum (nurture < ``mql`` ≤ MQL < ``sales`` ≤ hand to sales). The points need
no fitting; ``fit`` only learns the map from points to a probability on the
training rows, so the grid goes through the same evaluation as the model.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from leadml.config import ConfigError, yaml_document
from leadml.modeling.calibration import PlattCalibration, fit_platt

__all__ = [
    "OPS",
    "GridThresholds",
    "PointGrid",
    "PointGridClassifier",
    "Rule",
    "load_point_grid",
    "rule_points",
]

Op = Literal[">=", ">", "<=", "<", "==", "!=", "in", "not_in", "between", "is_missing"]
OPS: tuple[str, ...] = (">=", ">", "<=", "<", "==", "!=", "in", "not_in", "between", "is_missing")
ORDER_OPS = frozenset({">=", ">", "<=", "<", "between"})
TIERS: tuple[str, str, str] = ("nurture", "mql", "sales")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rule(_Frozen):
    """One line of the grid: when ``feature op value`` holds, the lead gets ``points``."""

    name: str = Field(min_length=1)
    feature: str = Field(min_length=1)
    op: Op
    value: Any = None
    points: float
    description: str | None = None

    @field_validator("op", mode="before")
    @classmethod
    def _known_op(cls, op: Any, info: ValidationInfo) -> Any:
        if op not in OPS:
            name = info.data.get("name", "?")
            raise ValueError(f"rule {name!r}: unknown op {op!r}; expected one of {', '.join(OPS)}")
        return op

    @model_validator(mode="after")
    def _value_fits_op(self) -> Rule:
        value, op, where = self.value, self.op, f"rule {self.name!r} ({self.feature} {self.op})"
        if op in (">=", ">", "<=", "<") and not _is_number(value):
            raise ValueError(f"{where}: value must be a number; got {value!r}")
        if op in ("==", "!=") and not _is_scalar(value):
            raise ValueError(f"{where}: value must be one number or string; got {value!r}")
        if op in ("in", "not_in"):
            if not isinstance(value, (list, tuple)) or not value:
                raise ValueError(
                    f"{where}: value must be a non-empty list, e.g. [invalid, bounced]; got {value!r}"
                )
            if not (all(_is_number(v) for v in value) or all(isinstance(v, str) for v in value)):
                raise ValueError(
                    f"{where}: value must list only numbers or only strings; got {list(value)!r}"
                )
        if op == "between":
            if not (
                isinstance(value, (list, tuple))
                and len(value) == 2
                and all(_is_number(v) for v in value)
            ):
                raise ValueError(f"{where}: value must be [low, high], two numbers; got {value!r}")
            if value[0] > value[1]:
                raise ValueError(
                    f"{where}: value must be [low, high] with low <= high; got {list(value)!r}"
                )
        if op == "is_missing" and value not in (None, True, False):
            raise ValueError(
                f"{where}: value must be true (missing earns the points), false or omitted; got {value!r}"
            )
        return self

    @property
    def values(self) -> tuple[Any, ...]:
        """The rule's value(s) as a tuple, for membership tests."""
        return tuple(self.value) if isinstance(self.value, (list, tuple)) else (self.value,)


class GridThresholds(_Frozen):
    """Points at which a lead becomes an MQL and is handed to sales."""

    mql: float
    sales: float

    @model_validator(mode="after")
    def _in_order(self) -> GridThresholds:
        if not self.mql < self.sales:
            raise ValueError(
                f"thresholds must satisfy mql < sales; got mql={self.mql:g}, sales={self.sales:g}"
            )
        return self


class PointGrid(_Frozen):
    """A named list of rules and the thresholds on their sum."""

    name: str = "point grid"
    description: str | None = None
    thresholds: GridThresholds
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> PointGrid:
        names = [r.name for r in self.rules]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"rule names must be unique; repeated: {duplicated}")
        return self

    @property
    def features(self) -> tuple[str, ...]:
        """The features the rules read, in first-use order."""
        return tuple(dict.fromkeys(r.feature for r in self.rules))

    def renamed(self, names: Mapping[str, str]) -> PointGrid:
        """The grid with rule features renamed (the user's column names -> internal names)."""
        rules = tuple(
            r.model_copy(update={"feature": names.get(r.feature, r.feature)}) for r in self.rules
        )
        return self.model_copy(update={"rules": rules})

    def check_features(self, columns: Iterable[str]) -> None:
        """Raise ``ValueError`` naming every rule whose feature is not among ``columns``, with close matches."""
        available = [str(c) for c in columns]
        known = set(available)
        problems = []
        for rule in self.rules:
            if rule.feature not in known:
                close = difflib.get_close_matches(rule.feature, available, n=3, cutoff=0.6)
                hint = (
                    f"close matches: {close}"
                    if close
                    else f"no close match among {len(available)} columns"
                )
                problems.append(f"  rule {rule.name!r}: unknown feature {rule.feature!r}; {hint}")
        if problems:
            raise ValueError(
                f"point grid {self.name!r}: features missing from the data:\n" + "\n".join(problems)
            )

    def table(self) -> pd.DataFrame:
        """The grid as a table: ``rule, feature, op, value, points, description``."""
        return pd.DataFrame(
            [
                {
                    "rule": r.name,
                    "feature": r.feature,
                    "op": r.op,
                    "value": r.value,
                    "points": r.points,
                    "description": r.description,
                }
                for r in self.rules
            ],
            columns=["rule", "feature", "op", "value", "points", "description"],
        )


def _validation_message(path: Path, raw: Any, exc: ValidationError) -> str:
    """One line per problem, naming the rule by its name when the error sits inside a rule."""
    rules = raw.get("rules") if isinstance(raw, dict) else None
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if (
            len(loc) >= 2
            and loc[0] == "rules"
            and isinstance(loc[1], int)
            and isinstance(rules, list)
        ):
            entry = rules[loc[1]] if loc[1] < len(rules) else None
            name = (
                entry.get("name", f"#{loc[1] + 1}") if isinstance(entry, dict) else f"#{loc[1] + 1}"
            )
            where = f"rule {name!r}" + (
                f" field {'.'.join(str(p) for p in loc[2:])}" if loc[2:] else ""
            )
        message = str(err["msg"]).removeprefix("Value error, ")
        given = err.get("input")
        shown = (
            ""
            if isinstance(given, dict) or err["type"] == "value_error"
            else f" (given: {given!r})"
        )
        lines.append(f"  {where}: {message}{shown}")
    return f"{path}: invalid point grid:\n" + "\n".join(lines)


def load_point_grid(path: str | Path) -> PointGrid:
    """Parse a point grid YAML file; errors name the file, the rule and what is allowed."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"point grid file not found: {path}")
    try:
        raw = yaml_document(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(
            f'{path}: not valid YAML: {exc}\n(quote the operators: op: ">=", since YAML reads a bare > as text folding)'
        ) from exc
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: expected a mapping with thresholds and rules, got {type(raw).__name__}"
        )
    try:
        return PointGrid.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_validation_message(path, raw, exc)) from exc


# --------------------------------------------------------------------------- matching rules


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype)


def _check_rule_fits_column(rule: Rule, column: pd.Series) -> None:
    where = f"rule {rule.name!r} ({rule.feature} {rule.op} {rule.value!r})"
    numeric = _is_numeric(column)
    if rule.op in ORDER_OPS and not numeric:
        raise ValueError(
            f"{where}: op {rule.op!r} needs a numeric feature; {rule.feature} has dtype {column.dtype}"
        )
    if rule.op == "is_missing":
        return
    values = rule.values
    if (
        any(isinstance(v, bool) for v in values)
        and not pd.api.types.is_bool_dtype(column.dtype)
        and not numeric
    ):
        raise ValueError(
            f"{where}: value is a boolean but {rule.feature} holds text; YAML reads unquoted yes/no/on/off "
            'as booleans, so quote them: value: "no"'
        )
    if numeric and any(isinstance(v, str) for v in values):
        raise ValueError(
            f"{where}: {rule.feature} is numeric (dtype {column.dtype}); the value must be a number"
        )


def _warn_values_never_seen(grid: PointGrid, X: pd.DataFrame) -> None:
    """Warn when a text rule's value never occurs in the training rows and looks like a typo
    (a close match exists), or when none of its values occur (the rule never fires)."""
    for rule in grid.rules:
        column = X[rule.feature]
        if rule.op not in ("==", "!=", "in", "not_in") or _is_numeric(column):
            continue
        seen = sorted({str(v) for v in pd.unique(column.dropna().astype(str))})
        unseen = [v for v in rule.values if str(v) not in seen]
        close = sorted(
            {m for v in unseen for m in difflib.get_close_matches(str(v), seen, n=2, cutoff=0.8)}
        )
        if close or (unseen and len(unseen) == len(rule.values)):
            warnings.warn(
                f"rule {rule.name!r} ({rule.feature} {rule.op} {rule.value!r}): {unseen} never occur in "
                f"{rule.feature} on the training rows"
                + (f"; close matches: {close}" if close else f"; seen values: {seen[:10]}"),
                UserWarning,
                stacklevel=3,
            )


def _membership(column: pd.Series, values: tuple[Any, ...]) -> np.ndarray:
    """``column ∈ values`` as a bool array; a missing value is never a member."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        wanted = {str(v) for v in values}
        hit = np.array([str(c) in wanted for c in column.cat.categories] + [False])
        return hit[column.cat.codes.to_numpy()]  # code -1 (missing) picks the trailing False
    if _is_numeric(column):
        return np.isin(
            column.to_numpy(dtype=np.float64, na_value=np.nan), np.asarray(values, dtype=np.float64)
        )
    return _membership(
        column.astype("category"), values
    )  # text compared as text, as for categories


def _matches(rule: Rule, column: pd.Series) -> np.ndarray:
    missing = column.isna().to_numpy()
    if rule.op == "is_missing":
        return missing if rule.value in (None, True) else ~missing
    if rule.op in ("in", "==", "not_in", "!="):
        member = _membership(column, rule.values)
        return member if rule.op in ("in", "==") else ~member & ~missing
    x = column.to_numpy(dtype=np.float64, na_value=np.nan)  # NaN compares False below
    if rule.op == "between":
        low, high = rule.value
        return (x >= low) & (x <= high)
    compare = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}[rule.op]
    return compare(x, rule.value)


def rule_points(grid: PointGrid, X: pd.DataFrame) -> pd.DataFrame:
    """The points each rule gives each row (0 where it does not match); one column per rule.

    A missing feature value never matches a comparison (only ``is_missing`` sees it).
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"the point grid reads named columns; expected a pandas DataFrame, got {type(X).__name__}"
        )
    grid.check_features(X.columns)
    out = {}
    for rule in grid.rules:
        column = X[rule.feature]
        _check_rule_fits_column(rule, column)
        out[rule.name] = np.where(_matches(rule, column), rule.points, 0.0)
    return pd.DataFrame(out, index=X.index, columns=[r.name for r in grid.rules])


# --------------------------------------------------------------------------- the estimator


class PointGridClassifier(ClassifierMixin, BaseEstimator):
    """The point grid as a classifier: points from the rules, a probability fitted on training rows.

    ``calibration="platt"`` maps points through a logistic curve (slope kept
    ≥ 0 so that more points never lower the probability); ``"isotonic"`` fits a
    non-decreasing step function. Either way ``predict_proba`` is monotone in
    the points, so the grid's own ranking is what gets evaluated.

    >>> clf = PointGridClassifier(grid=load_point_grid("training/point_grid.yaml"))  # doctest: +SKIP
    >>> clf.fit(X_train, y_train).predict_proba(X_test)[:, 1]  # doctest: +SKIP
    """

    def __init__(
        self, *, grid: PointGrid, calibration: Literal["isotonic", "platt"] = "platt"
    ) -> None:
        self.grid = grid
        self.calibration = calibration

    def fit(self, X: pd.DataFrame, y: Any) -> PointGridClassifier:
        """Learn the points → probability map on these (training) rows; returns ``self``."""
        if self.calibration not in ("platt", "isotonic"):
            raise ValueError(f"calibration={self.calibration!r}; expected 'platt' or 'isotonic'")
        points = self.decision_function(X)
        _warn_values_never_seen(self.grid, X)
        labels = np.asarray(y)
        if labels.ndim != 1 or labels.shape[0] != points.shape[0]:
            raise ValueError(
                f"y has shape {labels.shape}; expected one 0/1 label for each of the {len(X)} rows of X"
            )
        present = pd.unique(pd.Series(labels))
        if not set(present.tolist()) <= {0, 1}:
            raise ValueError(f"y must hold 0/1 labels; got {sorted(map(str, present))[:5]}")
        if len(present) < 2:
            raise ValueError(
                f"y holds only class {present.tolist()} in {labels.size} training rows; the points → probability "
                "map needs both converted and unconverted leads"
            )
        labels = labels.astype(np.int64)
        if self.calibration == "platt":
            platt = fit_platt(points, labels)
            # A grid that ranks backwards on these rows keeps its order: predict the base rate
            # rather than flip the ranking, which would credit the grid with the reverse order.
            if platt.slope < 0:
                base = labels.mean()
                platt = PlattCalibration(slope=0.0, intercept=float(np.log(base / (1.0 - base))))
            self.calibrator_: PlattCalibration | IsotonicRegression = platt
        else:
            self.calibrator_ = IsotonicRegression(
                y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip"
            ).fit(points, labels)
        self.classes_ = np.array([0, 1])
        self.features_ = self.grid.features
        self.base_rate_ = float(labels.mean())
        self.n_train_ = int(labels.size)
        return self

    def rule_matches(self, X: pd.DataFrame) -> pd.DataFrame:
        """The points each rule gave each row (for explanations); needs no fitting."""
        return rule_points(self.grid, X)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Each row's points: the sum of its matching rules; needs no fitting."""
        return rule_points(self.grid, X).to_numpy(dtype=np.float64).sum(axis=1)

    def tier(self, X: pd.DataFrame) -> np.ndarray:
        """``"nurture"`` below ``mql`` points, ``"mql"`` from ``mql``, ``"sales"`` from ``sales``."""
        points = self.decision_function(X)
        t = self.grid.thresholds
        return np.where(
            points >= t.sales, "sales", np.where(points >= t.mql, "mql", "nurture")
        ).astype(object)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``(n, 2)`` probabilities of class 0 and 1, non-decreasing in the points."""
        check_is_fitted(self, "calibrator_")
        points = self.decision_function(X)
        if isinstance(self.calibrator_, PlattCalibration):
            p1 = self.calibrator_.probability(points)
        else:
            p1 = np.clip(self.calibrator_.predict(points), 0.0, 1.0)
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 where the probability is at least 0.5 (use :meth:`tier` for the grid's own cut-offs)."""
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)]

    def grid_table(self) -> pd.DataFrame:
        """The grid's rules as a table (``rule, feature, op, value, points, description``)."""
        return self.grid.table()
