"""Raw leads in, scores out: what the served model does with a lead as the data contract describes it.

A posted lead is read, checked and turned into features by the batch job's own
code, so a lead scored here at ``as_of`` gets the probability, points and
reasons ``leadml score`` gives it at the same ``as_of``:

* **event mode**: the five contract tables, in one of two shapes (columns named
  as the export names them, mapped by the dataset config, or by their contract
  names):

  - *tables*: a mapping ``{"leads": ..., "accounts": ..., "events": ...,
    "intent": ..., "outcomes": ..., "as_of": ...}`` of DataFrames or lists of
    records (only ``leads`` is required);
  - *lead rows*: one row per lead with the lead's and its account's fields and
    the lists ``events`` (``ts``, ``event_type``), ``intent`` (the account's
    ``ts``, ``signal_type``, ``strength``) and ``outcomes`` (``stage``, ``ts``),
    the shape of a REST ``dataframe_records`` payload.

  Leads of the same account in one request are each other's colleagues (the
  account features count them), as they are in the batch job's tables.
* **flat mode**: rows of the flat export's columns (no label needed).

Every lead asked about comes back: scored, or with ``reject_reason`` saying
why not (a value the contract refuses, too many categories unseen at
training, not open at ``as_of``). Only a request that breaks the contract as a
whole (a required column missing) raises :class:`~leadml.data.schema.DataValidationError`.

>>> scorer = leadml.load_model("models:/leadml-sql@champion")  # doctest: +SKIP
>>> RawLeadScorer(scorer).score({"leads": leads, "accounts": accounts}, as_of="2026-01-01")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from leadml.config import EventDataset, FlatDataset, RunConfig
from leadml.data.io import Tables, contract_columns
from leadml.data.schema import CONTRACT, DataValidationError, check_tables, validate_flat
from leadml.modeling.scorer import LeadScorer
from leadml.pointintime.sets import utc_naive

__all__ = ["NESTED_TABLES", "RawLeadScorer", "example_lead", "lead_records", "tables_from_payload"]

# The lists a lead row carries, and the key that ties their items to it.
NESTED_TABLES: dict[str, str] = {"events": "lead_id", "intent": "account_id", "outcomes": "lead_id"}
TABLE_NAMES = ("accounts", "leads", "events", "intent", "outcomes")


def _records(value: Any, table: str) -> pd.DataFrame:
    if isinstance(value, pd.DataFrame):
        return value
    if value is None:
        return pd.DataFrame()
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return pd.DataFrame(list(value))
    raise TypeError(
        f"{table}: expected a DataFrame or a list of records (objects), got {type(value).__name__}"
    )


def _empty_table(table: str, dataset: EventDataset) -> pd.DataFrame:
    """A table with no rows and its required columns (as the export names them)."""
    spec = dataset.tables[table]
    return pd.DataFrame(
        {
            spec.source_column(c.name): pd.Series([], dtype=object)
            for c in CONTRACT[table]
            if c.required
        }
    )


def _account_columns(dataset: EventDataset) -> set[str]:
    """Account fields in a lead row: contract names and the export's names."""
    spec = dataset.tables["accounts"]
    names = {c.name for c in CONTRACT["accounts"] if c.name != "account_id"}
    return names | {spec.source_column(n) for n in names}


def _nested_rows(leads: pd.DataFrame, column: str, key: str, key_values: np.ndarray) -> list[dict]:
    """The items of the list column ``column``, each with ``key`` set to its row's value."""
    rows: list[dict] = []
    for value, items in zip(key_values, leads[column].tolist(), strict=True):
        if items is None or (isinstance(items, float) and np.isnan(items)):
            continue
        if isinstance(items, Mapping) or not isinstance(items, Sequence | np.ndarray):
            raise TypeError(
                f"leads.{column}: expected a list of objects per lead, got {type(items).__name__}"
            )
        for item in items:
            if not isinstance(item, Mapping):
                raise TypeError(
                    f"leads.{column}: expected objects in the list, got {type(item).__name__}"
                )
            rows.append({**item, key: value})
    return rows


# How a value of each type keys a row (anything else: pandas decides): as it is, NaN as
# missing, exact integers only (a column of ints and floats loses digits beyond 2**53).
_AS_IS, _FLOAT, _INT, _MISSING = range(4)
_KEY_KINDS: dict[type, int] = {
    str: _AS_IS,
    bool: _AS_IS,
    np.bool_: _AS_IS,
    float: _FLOAT,
    np.float64: _FLOAT,
    np.float32: _FLOAT,
    int: _INT,
    np.int64: _INT,
    np.int32: _INT,
    type(None): _MISSING,
}
_EXACT_INT = 2**53
_ABSENT = object()


def _no_repeats(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bool:
    """True when no two ``rows`` hold equal values in ``columns`` (missing = missing), as
    ``pd.DataFrame(rows)[columns].duplicated()`` would find; False when some do, or when a
    value is not a plain JSON scalar (pandas decides then, on its typed columns)."""
    seen = set()
    for row in rows:
        key = []
        for column in columns:
            value = row.get(column)
            kind = _KEY_KINDS.get(type(value))
            if kind is None:
                return False
            if kind == _MISSING or (kind == _FLOAT and value != value):
                value = _ABSENT
            elif kind == _INT and not -_EXACT_INT < value < _EXACT_INT:
                return False
            key.append(value)
        key_tuple = tuple(key)
        if key_tuple in seen:
            return False
        seen.add(key_tuple)
    return True


def _distinct_items(items: list[dict]) -> pd.DataFrame | None:
    """``pd.DataFrame(items).drop_duplicates(ignore_index=True)``; None for no items.

    A payload's lists seldom repeat an item (an account's intent sent with two of its
    leads): items checked in Python skip pandas' hashing of every column, ~0.5 ms a
    table (tested equal to pandas' path).
    """
    if not items:
        return None
    frame = pd.DataFrame(items)
    if _no_repeats(items, frame.columns.tolist()):
        return frame
    return frame.drop_duplicates(ignore_index=True)


def _tables_from_lead_rows(rows: pd.DataFrame, dataset: EventDataset) -> dict[str, pd.DataFrame]:
    """Lead rows (lead and account fields, lists of events, intent, outcomes) -> five tables."""
    lead_spec = dataset.tables["leads"]
    lead_key = next(
        (c for c in (lead_spec.source_column("lead_id"), "lead_id") if c in rows.columns), None
    )
    account_key = next(
        (c for c in (lead_spec.source_column("account_id"), "account_id") if c in rows.columns),
        None,
    )
    if lead_key is None or account_key is None:
        missing = [c for c, k in (("lead_id", lead_key), ("account_id", account_key)) if k is None]
        raise ValueError(
            f"leads: the lead rows have no {' and no '.join(missing)} column; got "
            f"{sorted(map(str, rows.columns))[:12]}; each lead needs its lead_id and account_id"
        )
    lead_ids = rows[lead_key].to_numpy()
    account_ids = rows[account_key].to_numpy()
    frames: dict[str, pd.DataFrame] = {}
    for table, key in NESTED_TABLES.items():
        if table in rows.columns:
            spec = dataset.tables[table]
            values = account_ids if key == "account_id" else lead_ids
            distinct = _distinct_items(_nested_rows(rows, table, spec.source_column(key), values))
            if distinct is not None:
                frames[table] = distinct
    accounts_spec = dataset.tables["accounts"]
    account_columns = _account_columns(dataset)
    account_fields = [c for c in rows.columns.tolist() if c in account_columns]
    accounts = rows[[account_key, *account_fields]]
    if account_key != accounts_spec.source_column("account_id"):
        accounts = accounts.rename(columns={account_key: accounts_spec.source_column("account_id")})
    account_id = accounts_spec.source_column("account_id")
    frames["accounts"] = (
        accounts.reset_index(drop=True)
        if _no_repeats([{account_id: a} for a in account_ids.tolist()], [account_id])
        else accounts.drop_duplicates(subset=account_id, ignore_index=True)
    )
    frames["leads"] = rows.drop(columns=[*account_fields, *NESTED_TABLES], errors="ignore")
    return frames


def tables_from_payload(payload: Any, dataset: EventDataset) -> tuple[Tables, pd.Timestamp | None]:
    """Five raw tables with contract column names (value rules applied) and the payload's ``as_of``.

    ``payload`` is a mapping of tables (``leads`` required) or lead rows (a
    DataFrame or a list of records); see the module docstring.
    """
    as_of = None
    if isinstance(payload, Mapping):
        unknown = sorted(set(payload) - {*TABLE_NAMES, "as_of"})
        if "leads" not in payload or unknown:
            raise ValueError(
                f"raw leads: expected the tables {list(TABLE_NAMES)} (leads required) and an "
                f"optional as_of; got keys {sorted(map(str, payload))}"
            )
        as_of = payload.get("as_of")
        frames = {t: _records(payload[t], t) for t in TABLE_NAMES if payload.get(t) is not None}
    else:
        frames = _tables_from_lead_rows(_records(payload, "leads"), dataset)
    tables = {}
    for table in TABLE_NAMES:
        frame = frames.get(table)
        if frame is None or frame.columns.empty:
            frame = _empty_table(table, dataset)
        tables[table] = contract_columns(frame, dataset.tables[table], table=table)
    return Tables(**tables), (None if as_of is None else utc_naive(as_of))


def _not_open_reasons(
    tables: Tables, lead_ids: Sequence[Any], as_of: pd.Timestamp, dataset: EventDataset
) -> list[str]:
    """Why each of these leads (typed, valid) is not open at ``as_of``."""
    if not lead_ids:
        return []
    created = tables.leads.set_index("lead_id")["created_at"]
    closed = tables.outcomes[
        tables.outcomes["stage"].isin(dataset.closed_stages) & (tables.outcomes["ts"] < as_of)
    ]
    first_closed = closed.sort_values("ts").drop_duplicates("lead_id").set_index("lead_id")
    reasons = []
    for lead_id in lead_ids:
        if lead_id in first_closed.index:
            row = first_closed.loc[lead_id]
            reasons.append(
                f"not open at as_of {as_of:%Y-%m-%d}: reached {row['stage']} on {row['ts']:%Y-%m-%d}"
            )
        else:
            reasons.append(
                f"not open at as_of {as_of:%Y-%m-%d}: created on {created.loc[lead_id]:%Y-%m-%d}, after it"
            )
    return reasons


class RawLeadScorer:
    """Scores raw leads with a :class:`~leadml.modeling.scorer.LeadScorer` that carries its dataset config.

    Parameters
    ----------
    scorer : LeadScorer
        A scorer saved with its dataset config (``scorer.dataset``).
    tolerance : int, default=1
        Categorical values unseen at training a lead may have and still be scored
        (the batch job's ``--tolerance``).
    """

    def __init__(self, scorer: LeadScorer, *, tolerance: int = 1) -> None:
        if scorer.dataset is None:
            raise ValueError(
                f"{scorer.name}: this model was saved without its dataset config, so it cannot "
                "build features from raw leads; send it feature rows, or retrain it with this "
                "leadml (`leadml train`)"
            )
        self.scorer = scorer
        self.tolerance = tolerance
        self.config = RunConfig(dataset=scorer.dataset)
        # one lead is tiered on its own: by the probability thresholds, never by the
        # batch's capacity (hot_top_n / hot_top_pct rank a whole run)
        self.tiers = scorer.tiers.model_copy(update={"hot_top_n": None, "hot_top_pct": None})

    @property
    def flat(self) -> bool:
        return isinstance(self.scorer.dataset, FlatDataset)

    def score(
        self,
        payload: Any,
        *,
        as_of: pd.Timestamp | str | None = None,
        top_reasons: int | None = None,
    ) -> pd.DataFrame:
        """One row per lead asked about, in the order given: scores, or ``reject_reason``.

        ``as_of`` (or the payload's ``as_of``) is required in event mode; flat rows are
        stamped with it when given.
        """
        if self.flat:
            frame = _records(payload, "flat")
            when = utc_naive(as_of) if as_of is not None else pd.NaT
            return self._score_flat(frame, when, top_reasons)
        tables, given = tables_from_payload(payload, self.scorer.dataset)
        when = utc_naive(as_of) if as_of is not None else given
        if when is None:
            raise ValueError(
                "raw leads: as_of is missing: pass it (params.as_of, or as_of in the tables "
                "payload), e.g. '2026-01-01'"
            )
        return self._score_events(tables, when, top_reasons)

    # --- event mode -------------------------------------------------------------------------
    def _score_events(
        self, raw: Tables, as_of: pd.Timestamp, top_reasons: int | None
    ) -> pd.DataFrame:
        from leadml.scoring.open_leads import score_open_leads

        dataset = self.scorer.dataset
        assert isinstance(dataset, EventDataset)
        asked = raw.leads["lead_id"].tolist()
        tables, report = check_tables(raw, dataset, as_of=as_of, future_rows="ignore")
        # the batch job's rule: row-level errors reject their leads, table-level ones stop it
        # (orphan events or intent lose no lead)
        fatal = [
            i
            for i in report.errors
            if not i.lead_ids and (i.check != "foreign_key" or i.table == "leads")
        ]
        if fatal:
            raise DataValidationError(report)
        invalid = report.rejected_leads() if report.errors else None
        if invalid is not None:
            tables = tables.without_leads(invalid["lead_id"].tolist())
        scores, unseen_rejects, _, _ = score_open_leads(
            tables,
            self.config,
            self.scorer,
            also=None,
            as_of=as_of,
            model_meta={"name": self.scorer.name},
            top_reasons=top_reasons,
            tolerance=self.tolerance,
            tiers=self.tiers,
            drift=False,
        )
        # the open leads are those score_open_leads built features for: scored or rejected
        open_ids = {*scores["lead_id"].tolist(), *unseen_rejects["lead_id"].tolist()}
        closed = [i for i in tables.leads["lead_id"].tolist() if i not in open_ids]
        rejects = [unseen_rejects] if invalid is None else [invalid, unseen_rejects]
        if closed:
            reasons = _not_open_reasons(tables, closed, as_of, dataset)
            rejects.append(pd.DataFrame({"lead_id": closed, "reason": reasons}))
        return self._answer(asked, scores, rejects, as_of)

    # --- flat mode --------------------------------------------------------------------------
    def _score_flat(
        self, frame: pd.DataFrame, as_of: pd.Timestamp, top_reasons: int | None
    ) -> pd.DataFrame:
        from leadml.pointintime.trainingset import build_scoring_set
        from leadml.scoring.open_leads import reject_unseen_categories, score_features

        dataset = self.scorer.dataset
        assert isinstance(dataset, FlatDataset)
        frame = frame.reset_index(drop=True)
        config = self.config
        if dataset.id and dataset.id not in frame.columns:
            # rows sent without their id are answered by position
            dataset = dataset.model_copy(update={"id": None})
            config = RunConfig(dataset=dataset)
        asked = list(frame[dataset.id] if dataset.id else frame.index)
        refused = self._refused_flat_rows(frame, dataset)
        kept_rows = frame.drop(index=refused.index)
        invalid = pd.DataFrame(
            {"lead_id": [asked[i] for i in refused.index], "reason": refused.to_list()}
        )
        stamp = as_of if not pd.isna(as_of) else pd.Timestamp(0)
        features = build_scoring_set(config, kept_rows, as_of=stamp, spec=self.scorer.spec).frame
        if not dataset.id:
            # row numbers of the request, not of the rows left after the refused ones
            features["lead_id"] = kept_rows.index.to_numpy()
        kept, unseen_rejects, _ = reject_unseen_categories(
            features, self.scorer, tolerance=self.tolerance
        )
        scores = score_features(
            kept,
            self.scorer,
            as_of=stamp,
            model_meta={"name": self.scorer.name},
            top_reasons=top_reasons,
            tiers=self.tiers,
        )
        return self._answer(asked, scores, [invalid, unseen_rejects], as_of)

    @staticmethod
    def _refused_flat_rows(frame: pd.DataFrame, dataset: FlatDataset) -> pd.Series:
        """Row position -> the flat contract's complaint about it (rows checked one by one
        when the whole fails); raises when every row fails (a column, not the rows)."""
        report = validate_flat(frame, dataset, require_label=False)
        if report.ok:
            return pd.Series([], dtype=object)
        reasons = {}
        for position in range(len(frame)):
            one = validate_flat(frame.iloc[[position]], dataset, require_label=False)
            if not one.ok:
                reasons[position] = "; ".join(i.message for i in one.errors)
        if len(reasons) == len(frame):
            raise DataValidationError(report)
        return pd.Series(reasons, dtype=object)

    # --- the answer -------------------------------------------------------------------------
    def _answer(
        self,
        asked: list[Any],
        scores: pd.DataFrame,
        rejects: list[pd.DataFrame],
        as_of: pd.Timestamp,
    ) -> pd.DataFrame:
        """Scores and rejects in the order the leads were asked about (each lead once)."""
        refused = [r.rename(columns={"reason": "reject_reason"}) for r in rejects if len(r)]
        position = {lead_id: i for i, lead_id in reversed(list(enumerate(asked)))}
        stamp = None if pd.isna(as_of) else as_of.isoformat()
        if not refused:
            ids = scores["lead_id"].tolist()
            if len(set(ids)) == len(ids):
                return self._scored_answer(scores, position, stamp, len(asked))
        return self._merged_answer(scores, refused, position, stamp, len(asked))

    def _merged_answer(
        self,
        scores: pd.DataFrame,
        refused: list[pd.DataFrame],
        position: dict[Any, int],
        stamp: str | None,
        n_asked: int,
    ) -> pd.DataFrame:
        """:meth:`_answer` in general: scores and refused leads concatenated, each lead once."""
        scores = scores.drop(columns=["model_version"], errors="ignore").assign(reject_reason=None)
        # (an empty frame in the concatenation would turn integer ids into floats)
        answer = pd.concat([scores, *refused], ignore_index=True).drop_duplicates("lead_id")
        answer["as_of"] = stamp
        order = answer["lead_id"].map(lambda v: position.get(v, n_asked))
        answer = answer.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
        answer["model_name"] = self.scorer.name
        return answer

    def _scored_answer(
        self, scores: pd.DataFrame, position: dict[Any, int], stamp: str | None, n_asked: int
    ) -> pd.DataFrame:
        """:meth:`_answer` when every lead was scored, once: one frame built from the scores'
        columns (a served lead: ~1 ms less than concatenating, deduplicating and reordering;
        tested equal)."""
        order = np.argsort(
            [position.get(v, n_asked) for v in scores["lead_id"].tolist()], kind="stable"
        )
        columns: dict[str, Any] = {
            name: scores[name].array.take(order)
            for name in scores.columns.tolist()
            if name != "model_version"
        }
        columns["as_of"] = stamp
        columns["model_name"] = self.scorer.name
        columns["reject_reason"] = None
        return pd.DataFrame(columns, index=pd.RangeIndex(len(order)))


def lead_records(
    tables: Tables, lead_ids: Sequence[Any], dataset: EventDataset
) -> list[dict[str, Any]]:
    """These leads as lead rows (the REST payload's ``dataframe_records``), JSON-ready.

    Each row holds the lead's and its account's fields and the lists ``events``,
    ``intent`` (its account's) and ``outcomes``, named as the export names them.
    """
    leads = tables.leads[tables.leads["lead_id"].isin(list(lead_ids))]
    accounts = tables.accounts.drop_duplicates("account_id").set_index("account_id")

    def named(table: str, row: Mapping[str, Any], skip: str | None = None) -> dict[str, Any]:
        spec = dataset.tables[table]
        return {spec.source_column(k): _json_value(v) for k, v in row.items() if k != skip}

    def items(frame: pd.DataFrame, key: str, value: Any, table: str) -> list[dict[str, Any]]:
        rows = frame[frame[key] == value].to_dict("records")
        return [named(table, r, skip=key) for r in rows]

    out = []
    for lead in leads.to_dict("records"):
        row = named("leads", lead)
        account = lead["account_id"]
        if account in accounts.index:
            row |= named("accounts", accounts.loc[account].to_dict())
        row["events"] = items(tables.events, "lead_id", lead["lead_id"], "events")
        row["intent"] = items(tables.intent, "account_id", account, "intent")
        row["outcomes"] = items(tables.outcomes, "lead_id", lead["lead_id"], "outcomes")
        out.append(row)
    return out


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if value is pd.NA:
        return None
    return value


def example_lead(
    typical: Mapping[str, Any],
    dataset: EventDataset | FlatDataset,
    *,
    as_of: pd.Timestamp,
    lead_id: Any = 1,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """A made-up lead and the params to score it: the served model's input example.

    ``typical`` holds typical feature values (medians and modes, by the names the user
    wrote); the lead takes those of its own fields, was created 30 days before ``as_of``,
    made two events of the vocabulary and its account one intent signal. No real lead's
    data leaves the run.
    """
    as_of = utc_naive(as_of)
    params = {"as_of": as_of.isoformat()}
    if isinstance(dataset, FlatDataset):
        row = {name: _json_value(value) for name, value in typical.items()}
        if dataset.id:
            row = {dataset.id: lead_id, **row}
        return pd.DataFrame([row]), params
    tables = dataset.tables
    row: dict[str, Any] = {
        tables["leads"].source_column("lead_id"): lead_id,
        tables["leads"].source_column("account_id"): lead_id,
        tables["leads"].source_column("created_at"): (as_of - pd.Timedelta(days=30)).isoformat(),
    }
    for table in ("leads", "accounts"):
        for column in CONTRACT[table]:
            value = typical.get(column.name)
            if column.kind in ("category", "number") and value is not None:
                row[tables[table].source_column(column.name)] = _json_value(value)
    events = tables["events"]
    row["events"] = [
        {
            events.source_column("ts"): (as_of - pd.Timedelta(days=days)).isoformat(),
            events.source_column("event_type"): event_type,
        }
        for days, event_type in zip((9, 2), dataset.vocabularies.event_types[:2], strict=False)
    ]
    intent = tables["intent"]
    row["intent"] = [
        {
            intent.source_column("ts"): (as_of - pd.Timedelta(days=20)).isoformat(),
            intent.source_column("signal_type"): dataset.vocabularies.signal_types[0],
            intent.source_column("strength"): 1.0,
        }
    ][: len(dataset.vocabularies.signal_types)]
    row["outcomes"] = []
    return pd.DataFrame([row]), params
