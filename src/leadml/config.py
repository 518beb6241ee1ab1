"""Typed, frozen configuration parsed once from ``training/*.yaml``.

Two files describe a run:

* a **dataset config** (``training/dataset.yaml`` for event mode, or a flat
  section for one-row-per-lead exports) maps the user's columns onto the data
  contract and declares the vocabularies;
* a **run config** (``training/sql.yaml``, ``training/won.yaml``,
  ``training/bank_marketing.yaml``) names the target, the snapshots, the split,
  the model, the points scale, the tiers and the promotion gate. Its
  ``dataset:`` key is a path (relative to the run config) or an inline mapping.

Every model is frozen: a config read once is passed down explicitly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from leadml.vocabulary import FAMILIES

__all__ = [
    "AuditSpec",
    "BacktestSpec",
    "ConfigError",
    "EventDataset",
    "FeatureSettings",
    "FlatDataset",
    "ICP",
    "ModelSpec",
    "PointsSpec",
    "PromotionSpec",
    "RefitSpec",
    "RunConfig",
    "SmallDataSpec",
    "SnapshotSpec",
    "SplitSpec",
    "TableSpec",
    "TargetSpec",
    "ValueRules",
    "TierSpec",
    "Vocabularies",
    "load_config",
    "load_dataset_config",
    "load_run_config",
]

TABLES: tuple[str, ...] = ("accounts", "leads", "events", "intent", "outcomes")
CLOSED_STAGES: tuple[str, ...] = ("sql", "opportunity", "won", "lost", "disqualified")


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or inconsistent."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ValueRules(_Frozen):
    """How a CRM's picklists read: placeholders, yes/no text, its own names for contract values.

    Keys are column names (the contract's name, or the column as exported):

    * ``missing``: values that mean "no value" (``Select``, ``-``, ``N/A``...); ``"*"``
      applies to every column;
    * ``boolean``: columns of yes/no text (``Yes``/``No``, ``true``/``false``, ``1``/``0``...)
      read as 1.0 / 0.0;
    * ``values``: a map from the CRM's values to the contract's vocabulary
      (``stage: {Qualified: sql, "Closed Won": won}``); values left out of the map
      pass unchanged, so the contract check still names any the map forgot.
    """

    missing: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    boolean: tuple[str, ...] = ()
    values: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _boolean_not_mapped(self) -> ValueRules:
        both = sorted(set(self.boolean) & set(self.values))
        if both:
            raise ValueError(f"columns both boolean and value-mapped: {both}; choose one")
        return self

    @property
    def empty(self) -> bool:
        return not (self.missing or self.boolean or self.values)


class TableSpec(ValueRules):
    """Where a table lives, how its columns map onto the contract and how its values read.

    ``file`` names a file in the data folder; with a database source, ``query``
    is a SQL query or a table name (``query: Lead`` or ``query: "select ... from Lead"``).
    """

    file: str | None = None
    query: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_a_source(self) -> TableSpec:
        if self.file is None and self.query is None:
            raise ValueError("give a file (a table in the data folder) or a query (a database)")
        return self

    def source_column(self, contract_name: str) -> str:
        """The user's column name for a contract column (itself when unmapped)."""
        return self.columns.get(contract_name, contract_name)


class CsvOptions(_Frozen):
    sep: str = ","
    encoding: str = "utf-8"

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(
                f"csv.encoding: {encoding!r} is not a known encoding (e.g. utf-8, latin-1, cp1252)"
            ) from None
        return encoding


class Vocabularies(_Frozen):
    event_types: tuple[str, ...]
    signal_types: tuple[str, ...]
    stages: tuple[str, ...] = ("mql", "sql", "opportunity", "won", "lost", "disqualified")
    email_status: tuple[str, ...] | None = None
    seniority: tuple[str, ...] | None = None
    source: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _types_name_features(self) -> Vocabularies:
        # Event and signal types become parts of feature names (n_<type>_7d): they are the
        # contract's identifiers; a CRM's own words reach them through a value map.
        from leadml.features.column_names import is_safe_name, name_token  # features import config

        for field, table, column in (
            ("event_types", "events", "event_type"),
            ("signal_types", "intent", "signal_type"),
        ):
            bad = [t for t in getattr(self, field) if not is_safe_name(t)]
            if bad:
                examples = ", ".join(f"{b!r} -> {name_token(b).lower()!r}" for b in bad[:3])
                raise ValueError(
                    f"{field}: {bad} are not plain names (letters, digits, '_', '.', '-'), and each "
                    f"type names features; use plain names ({examples}) and map the CRM's "
                    f"values onto them under tables.{table}.values.{column}"
                )
        return self


class ICP(_Frozen):
    """The ideal customer profile behind the fit indicators."""

    employees_min: float = 200
    employees_max: float = 5000
    industries: tuple[str, ...] = ()
    target_seniority: tuple[str, ...] = ()
    target_departments: tuple[str, ...] = ()
    decision_maker_seniority: tuple[str, ...] = ("c_level", "vp", "director")

    @model_validator(mode="after")
    def _range_in_order(self) -> ICP:
        if self.employees_min > self.employees_max:
            raise ValueError(
                f"icp: employees_min must not exceed employees_max; got "
                f"employees_min={self.employees_min}, employees_max={self.employees_max}"
            )
        return self


class FeatureSettings(_Frozen):
    event_windows_days: tuple[int, ...] = (7, 30, 90)
    intent_windows_days: tuple[int, ...] = (30, 90, 180)
    half_life_days: float = Field(14.0, gt=0)
    sales_touch_event: str = "sales_touch"
    # Event types tracked but not the lead's own buying engagement (blog reading, say): they
    # keep their own counts and recency but feed neither the activity, decay, trend and
    # inactivity features nor the dormant status.
    passive_events: tuple[str, ...] = ()
    # Intent signal types tracked but not buying signals: they keep their own counts and
    # recency but do not feed ``days_since_intent`` (the days since the last buying signal).
    passive_signals: tuple[str, ...] = ()


class EventDataset(_Frozen):
    """Event mode: accounts, leads, events, intent, outcomes."""

    mode: Literal["events"] = "events"
    tables: dict[str, TableSpec]
    csv: CsvOptions = CsvOptions()
    vocabularies: Vocabularies
    icp: ICP = ICP()
    features: FeatureSettings = FeatureSettings()
    closed_stages: tuple[str, ...] = CLOSED_STAGES

    @model_validator(mode="after")
    def _all_tables_declared(self) -> EventDataset:
        missing = [t for t in TABLES if t not in self.tables]
        unknown = [t for t in self.tables if t not in TABLES]
        if missing or unknown:
            raise ValueError(
                f"tables: expected exactly {list(TABLES)}; missing {missing}, unknown {unknown}"
            )
        bad = [s for s in self.closed_stages if s not in self.vocabularies.stages]
        if bad:
            raise ValueError(
                f"closed_stages {bad} are not in vocabularies.stages {list(self.vocabularies.stages)}"
            )
        for field, vocabulary in (
            ("passive_events", "event_types"),
            ("passive_signals", "signal_types"),
        ):
            known = getattr(self.vocabularies, vocabulary)
            unknown = [t for t in getattr(self.features, field) if t not in known]
            if unknown:
                raise ValueError(
                    f"features.{field} {unknown} are not in vocabularies.{vocabulary} {list(known)}"
                )
        return self


class FlatFeature(_Frozen):
    """How a flat column reads in explanations."""

    family: str = "fit"
    group: str | None = None
    label: str | None = None
    direction: Literal["+", "-"] | None = None

    @field_validator("family")
    @classmethod
    def _known_family(cls, family: str) -> str:
        if family not in FAMILIES:
            raise ValueError(f"family {family!r} is not one of {list(FAMILIES)}")
        return family


class FlatDataset(ValueRules):
    """Flat mode: one row per lead with a converted flag already set.

    ``missing``, ``boolean`` and ``values`` (see :class:`ValueRules`) clean the
    export's picklists before anything reads it; ``query`` reads it from a database.
    """

    mode: Literal["flat"]
    file: str | None = None
    query: str | None = None
    sep: str = ","
    id: str | None = None
    label: str
    positive: tuple[Any, ...] = (1, "1", "yes", True)
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    post_outcome: tuple[str, ...] = ()
    time: str | None = None
    features: dict[str, FlatFeature] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _columns_disjoint(self) -> FlatDataset:
        both = sorted(set(self.numeric) & set(self.categorical))
        if both:
            raise ValueError(f"columns declared both numeric and categorical: {both}")
        if self.label in self.numeric or self.label in self.categorical:
            raise ValueError(f"the label column {self.label!r} cannot also be a feature")
        return self

    @property
    def feature_columns(self) -> tuple[str, ...]:
        """Declared features minus the excluded ones, in declaration order."""
        excluded = set(self.exclude)
        return tuple(c for c in (*self.numeric, *self.categorical) if c not in excluded)


# The dataset's kind is its `mode:` key; leadml.pointintime.dataset.dataset_for acts on it.
DatasetConfig = Annotated[EventDataset | FlatDataset, Field(discriminator="mode")]


class TargetSpec(_Frozen):
    name: str = "sql"
    stages: tuple[str, ...] = ("sql", "opportunity", "won")
    horizon_days: int = Field(90, gt=0)


class SnapshotSpec(_Frozen):
    ages_days: tuple[int, ...] = (0, 3, 7, 14, 30, 60)


class SplitSpec(_Frozen):
    train: float = 0.55
    valid: float = 0.15
    calib: float = 0.10
    test: float = 0.20
    purge_days: int | None = None

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> SplitSpec:
        total = self.train + self.valid + self.calib + self.test
        if abs(total - 1.0) > 1e-6 or min(self.train, self.valid, self.calib, self.test) <= 0:
            raise ValueError(
                "split: train, valid, calib and test must be positive and sum to 1; got "
                f"{self.train}, {self.valid}, {self.calib}, {self.test} (sum {total:.3f})"
            )
        return self


def _lightgbm_names() -> dict[str, str]:
    """Every LightGBM parameter name and alias -> its main name (from LightGBM itself)."""
    from lightgbm.basic import _ConfigAliases

    return {
        alias: name
        for name, aliases in _ConfigAliases._get_all_param_aliases().items()
        for alias in (name, *aliases)
    }


def _check_lightgbm_params(params: dict[str, Any]) -> None:
    """Unknown names (with the nearest known one) and values LightGBM refuses, before training."""
    import difflib

    import lightgbm as lgb
    import numpy as np

    known = _lightgbm_names()
    unknown = [k for k in params if k not in known]
    if unknown:
        hints = [
            f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            for k in unknown
            for close in [difflib.get_close_matches(k, list(known), n=1)]
        ]
        raise ValueError(
            f"model.params: {', '.join(hints)} not a LightGBM parameter; see "
            "https://lightgbm.readthedocs.io/en/latest/Parameters.html"
        )
    # LightGBM parses every value when a booster is built: a wrong type fails here, in
    # milliseconds, instead of after the training set is built
    rng = np.random.default_rng(0)
    data = lgb.Dataset(rng.random((1000, 2)), label=np.arange(1000) % 2, params={"verbose": -1})
    # LightGBM prints "[LightGBM] [Fatal] ..." on the process's stderr before raising:
    # the message below says it once
    import os
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            lgb.Booster(params={**params, "verbose": -1}, train_set=data)
    except (lgb.basic.LightGBMError, ValueError, TypeError) as exc:
        raise ValueError(f"model.params: LightGBM refuses them: {str(exc)[:200]}") from exc
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class SelectionSpec(_Frozen):
    """Reason groups kept only when the valid part confirms them (see
    :mod:`leadml.modeling.selection`): after a first fit, each group's columns are shuffled
    together ``repeats`` times over the valid part; a group is kept when the mean log-loss
    increase exceeds ``min_loss_increase`` × the valid log-loss and ``z`` standard errors of
    its shuffles, or when it is listed in ``keep``. Then the model is fitted again on the kept
    groups' features. Holdout fits only (small data has no valid part: nothing is dropped).
    """

    enabled: bool = False
    min_loss_increase: float = Field(0.003, ge=0, lt=1)
    z: float = Field(2.0, ge=0)
    repeats: int = Field(5, ge=2, le=100)
    keep: tuple[str, ...] = ()


class ModelSpec(_Frozen):
    registered_name: str = "leadml-sql"
    params: dict[str, Any] = Field(default_factory=dict)
    num_boost_round: int = Field(2000, gt=0)
    early_stopping_rounds: int = Field(100, gt=0)
    # Declared directions (the feature catalogue's, replaced per feature by ``directions``:
    # "+", "-" or "none") become LightGBM monotone constraints: every declared one
    # (``monotone: true``), or only those of the counts of actions (``monotone: counts``).
    monotone: bool | Literal["counts"] = False
    directions: dict[str, Literal["+", "-", "none"]] = Field(default_factory=dict)
    selection: SelectionSpec = Field(default_factory=SelectionSpec)

    @field_validator("registered_name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        # it becomes part of models:/<name>@alias URIs, where '/' and '@' have a meaning
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}", name):
            raise ValueError(
                f"model.registered_name: {name[:80]!r} must be letters, digits, '_', '.', '-' "
                "(it is used in models:/<name>@champion), e.g. leadml-sql"
            )
        return name

    @field_validator("params")
    @classmethod
    def _known_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        _check_lightgbm_params(params)
        return params


class RefitSpec(_Frozen):
    """The production model: refit on every labelled snapshot once the evaluation model has
    given its out-of-time evidence.

    ``rounds_exponent``: boosting rounds for ``n`` rows are ``best_iteration · (n / n_es)^exponent``,
    where early stopping found ``best_iteration`` on ``n_es`` training rows (1 = linear, 0 = same).
    ``calibration_folds``: time blocks of the cross-fitting whose out-of-fold margins fit Platt.
    ``cross_fitting``: ``both_ways`` (each block scored by a model of the blocks before and
    after it; every row gets a margin, and the blocks' models are nearly as large as the
    refit) or ``forward`` (by a model of the blocks before it only, a forecast as the deployed
    model's are; the first block only trains). Forward for data that drift between blocks.
    """

    enabled: bool = True
    rounds_exponent: float = Field(1.0, ge=0.0, le=2.0)
    calibration_folds: int = Field(4, ge=2, le=20)
    cross_fitting: Literal["forward", "both_ways"] = "both_ways"


class SmallDataSpec(_Frozen):
    """Below ``max_rows`` labelled snapshots, no valid or calib part is carved out: early
    stopping and Platt use ``folds`` purged, time-blocked cross-fitting inside the training window."""

    max_rows: int = Field(50_000, ge=0)
    folds: int = Field(5, ge=2, le=20)
    cross_fitting: Literal["forward", "both_ways"] = "both_ways"


class BacktestSpec(_Frozen):
    """Rolling-origin backtest: ``folds`` test blocks of equal size after the first
    ``initial_fraction`` of the labelled rows; each fold trains on the rows before it (purged),
    all of them (``expanding``) or the most recent ``initial_fraction`` (``sliding``)."""

    folds: int = Field(4, ge=1, le=50)
    window: Literal["expanding", "sliding"] = "expanding"
    initial_fraction: float = Field(0.4, gt=0.0, lt=1.0)


class PointsSpec(_Frozen):
    base: float = 50.0
    pdo: float = Field(20.0, gt=0)  # points to double the odds: 0 would flatten every score
    top_reasons: int = Field(3, ge=0)


class TierSpec(_Frozen):
    """Hot / warm / cold from probability thresholds or from capacity."""

    hot: float = 0.30
    warm: float = 0.10
    hot_top_n: int | None = None
    hot_top_pct: float | None = None
    mql_probability: float = 0.10
    # A lead with no engagement for this many days is dormant: flagged in the scores, never
    # hot, hidden from the reps' queue by default (None: no lead is dormant).
    dormant_days: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> TierSpec:
        if not 0 <= self.warm <= self.hot <= 1:
            raise ValueError(
                f"tiers: expected 0 <= warm <= hot <= 1; got warm={self.warm}, hot={self.hot}"
            )
        return self


class PromotionSpec(_Frozen):
    """Margins a challenger must clear on its own out-of-time test part.

    Both gains must be strictly positive and at least the margin (default 0.002 over
    the champion), so a retrain on the same data (the same trees, gain 0) never
    replaces the champion, even with a margin set to 0.
    """

    metric: Literal["roc_auc", "pr_auc"] = "roc_auc"
    min_gain_over_champion: float = Field(0.002, ge=0)
    min_gain_over_baseline: float = Field(0.02, ge=0)
    max_ece: float = 0.05


class AuditSpec(_Frozen):
    threshold: float = 0.85


class RunConfig(_Frozen):
    dataset: DatasetConfig
    target: TargetSpec = TargetSpec()
    snapshots: SnapshotSpec = SnapshotSpec()
    split: SplitSpec = SplitSpec()
    model: ModelSpec = ModelSpec()
    points: PointsSpec = PointsSpec()
    tiers: TierSpec = TierSpec()
    promotion: PromotionSpec = PromotionSpec()
    audit: AuditSpec = AuditSpec()
    refit: RefitSpec = RefitSpec()
    small_data: SmallDataSpec = SmallDataSpec()
    backtest: BacktestSpec = BacktestSpec()
    point_grid: str | None = None
    seed: int = 42
    source: str | None = None  # the file this config was read from

    @model_validator(mode="after")
    def _target_stages_known(self) -> RunConfig:
        if isinstance(self.dataset, EventDataset):
            known = self.dataset.vocabularies.stages
            unknown = [s for s in self.target.stages if s not in known]
            if unknown:
                raise ValueError(
                    f"target.stages: {unknown} not in the stage vocabulary {list(known)} "
                    "(vocabularies.stages in the dataset config)"
                )
        return self

    @property
    def purge_days(self) -> int:
        """Gap between split parts: the label horizon unless set."""
        return (
            self.split.purge_days if self.split.purge_days is not None else self.target.horizon_days
        )

    def resolve(self, relative: str | None) -> Path | None:
        """A path from this config, relative to the config file's folder."""
        if relative is None:
            return None
        path = Path(relative)
        if path.is_absolute() or self.source is None:
            return path
        return Path(self.source).parent / path


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping: plain YAML keeps the
    last one silently, so a line added by hand above an existing one would do nothing."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                # `<<: *anchor` merges another mapping (the keys written here override its
                # own): YAML's loader resolves it, and it has no constructor of its own
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} is written twice in this mapping (lines {seen[key]} and "
                    f"{key_node.start_mark.line + 1}); keep one",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def yaml_document(text: str) -> Any:
    """A YAML document read safely, a key written twice in one mapping refused
    (``yaml.YAMLError`` naming both lines)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml_document(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _shown(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return (
        text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters)"
    )


def _nearest_key(model: type[BaseModel], loc: tuple) -> str:
    """' (did you mean 'tables'?)' for an unknown key, from the fields where it was written."""
    import difflib

    fields: Any = model
    for part in loc[:-1]:
        field = getattr(fields, "model_fields", {}).get(part)
        annotation = getattr(field, "annotation", None)
        if not isinstance(annotation, type) or not issubclass(annotation, BaseModel):
            return ""
        fields = annotation
    names = list(getattr(fields, "model_fields", {}))
    close = difflib.get_close_matches(str(loc[-1]), names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _explain(path: Path, exc: ValidationError, model: type[BaseModel] | None = None) -> ConfigError:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        given = err.get("input")
        if err["type"] == "extra_forbidden":
            hint = _nearest_key(model, err["loc"]) if model is not None else ""
            lines.append(f"  {where}: unknown key{hint}")
            continue
        shown = "" if isinstance(given, dict) else f" (given: {_shown(given)})"
        message = err["msg"].removeprefix("Value error, ")
        said = message.startswith((f"{where}:", f"{str(err['loc'][-1]) if err['loc'] else ''}:"))
        lines.append(f"  {message}{shown}" if said else f"  {where}: {message}{shown}")
    return ConfigError(f"{path}: invalid configuration:\n" + "\n".join(lines))


def load_dataset_config(path: str | Path) -> EventDataset | FlatDataset:
    """Parse a dataset config (event or flat mode)."""
    path = Path(path)
    data = _read_yaml(path)
    kind = FlatDataset if data.get("mode", "events") == "flat" else EventDataset
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc, kind) from exc


def load_run_config(path: str | Path) -> RunConfig:
    """Parse a run config; a string ``dataset:`` is read relative to it."""
    path = Path(path)
    data = _read_yaml(path)
    dataset = data.get("dataset", "dataset.yaml")
    if isinstance(dataset, str):
        dataset_path = Path(dataset) if Path(dataset).is_absolute() else path.parent / dataset
        dataset = load_dataset_config(dataset_path).model_dump()
    try:
        return RunConfig.model_validate({**data, "dataset": dataset, "source": str(path)})
    except ValidationError as exc:
        raise _explain(path, exc, RunConfig) from exc


def load_config(path: str | Path) -> RunConfig:
    """A run config file, or the run defaults around a bare dataset config file.

    The file is a dataset config when its top level has no ``dataset:`` key but
    declares ``tables:`` (event mode) or ``mode: flat``.

    Parameters
    ----------
    path : str or Path
        A run config (``training/sql.yaml``: target, split, model…) or a
        dataset config alone (``training/dataset.yaml``, or a flat one).

    Returns
    -------
    RunConfig
        Frozen; pass it to every step.

    Raises
    ------
    ConfigError
        When the file is missing or invalid; the message names each bad key
        and the value given.
    """
    path = Path(path)
    data = _read_yaml(path)
    if "dataset" not in data and ("tables" in data or data.get("mode") == "flat"):
        return RunConfig(dataset=load_dataset_config(path), source=str(path))
    known = set(RunConfig.model_fields) | set(EventDataset.model_fields)
    unknown = [k for k in data if k not in known]
    if "dataset" not in data and unknown:
        import difflib

        hints = [
            f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            for k in unknown
            for close in [difflib.get_close_matches(str(k), sorted(known), n=1)]
        ]
        raise ConfigError(
            f"{path}: unknown top-level keys {', '.join(hints)}; a run config has "
            f"{sorted(RunConfig.model_fields)}, a dataset config has tables:, vocabularies:, …"
        )
    return load_run_config(path)
