"""The data contract: what each table must hold, the validation report, the typed tables.

``validate_tables`` checks the five event-mode tables and returns a
:class:`ValidationReport`; ``coerce_tables`` returns the typed copy every
later command reads; ``load_tables`` reads, checks and types in one pass.
Flat mode (one row per lead) has its own, smaller check: ``validate_flat``.

Typed tables keep the contract's column names and these types:

* ids keep their type (``int64`` or ``str``); a reference (``leads.account_id``,
  ``events.lead_id``…) has the dtype of the key it points at: when the two
  differ, both become ``str``;
* timestamps are naive UTC ``datetime64[us]`` (tz-aware input is converted to
  UTC first; text must be ISO 8601);
* ``employees``, ``annual_revenue`` and ``strength`` are ``float64``; text
  columns are pandas ``str`` (missing stays missing);
* optional columns absent from the file are added, all missing; extra
  columns are kept.

Rows that cannot be typed (no id, an unparseable timestamp, no event type…)
are dropped, and so are repeated keys after their first row; the report
lists them all. Rows that are typed but wrong (an unknown event type, a
stage out of order) are kept: the report's ``rejected_leads()`` names the
leads they make unscorable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

import numpy as np
import pandas as pd
import pyarrow as pa

from leadml.config import EventDataset, FlatDataset
from leadml.data.io import Tables, read_raw_tables
from leadml.data.timestamps import naive_utc
from leadml.data.validation import (
    STRING,
    Examples,
    Issue,
    KeyIndex,
    ParsedColumn,
    Severity,
    close_matches,
    format_timestamp,
    format_value,
    ids_as_text,
    jsonable,
    parse_ids,
    parse_numbers,
    parse_timestamps,
    plural,
    text_column,
    unknown_in_vocabulary,
    value_examples,
    vocabulary_codes,
)

__all__ = [
    "CONTRACT",
    "ColumnContract",
    "DataValidationError",
    "Issue",
    "TableChecks",
    "ValidationReport",
    "check_tables",
    "coerce_tables",
    "load_tables",
    "validate_flat",
    "validate_tables",
]

ColumnKind = Literal["id", "timestamp", "number", "category", "text"]
FutureRows = Literal["error", "warning", "ignore"]


class TableChecks(TypedDict, total=False):
    """How :func:`validate_tables` and :func:`load_tables` judge the event tables.

    ``as_of``: timestamps after it are reported with severity ``future_rows`` (``"error"``
    by default, ``"warning"`` or ``"ignore"``). ``config_file`` (default
    ``training/dataset.yaml``) is only named in messages ("map it in … under
    tables.leads.columns").
    """

    as_of: pd.Timestamp | None
    future_rows: FutureRows
    config_file: str


@dataclass(frozen=True)
class ColumnContract:
    """One contract column: its type, whether it is required, its vocabulary (a ``Vocabularies`` field)."""

    name: str
    kind: ColumnKind
    required: bool = False
    vocabulary: str | None = None


def _columns(*specs: tuple) -> tuple[ColumnContract, ...]:
    return tuple(ColumnContract(*spec) for spec in specs)


CONTRACT: dict[str, tuple[ColumnContract, ...]] = {
    "accounts": _columns(
        ("account_id", "id", True),
        ("name", "text"),
        ("industry", "category"),
        ("employees", "number"),
        ("annual_revenue", "number"),
        ("country", "category"),
    ),
    "leads": _columns(
        ("lead_id", "id", True),
        ("account_id", "id", True),
        ("created_at", "timestamp", True),
        ("source", "category", False, "source"),
        ("first_name", "text"),
        ("last_name", "text"),
        ("job_title", "text"),
        ("seniority", "category", False, "seniority"),
        ("department", "category"),
        ("email_status", "category", False, "email_status"),
        ("owner", "text"),
    ),
    "events": _columns(
        ("lead_id", "id", True),
        ("ts", "timestamp", True),
        ("event_type", "category", True, "event_types"),
    ),
    "intent": _columns(
        ("account_id", "id", True),
        ("ts", "timestamp", True),
        ("signal_type", "category", True, "signal_types"),
        ("strength", "number"),
    ),
    "outcomes": _columns(
        ("lead_id", "id", True),
        ("stage", "category", True, "stages"),
        ("ts", "timestamp", True),
    ),
}
KEYS: dict[str, str] = {"accounts": "account_id", "leads": "lead_id"}
REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("leads", "account_id", "accounts"),
    ("events", "lead_id", "leads"),
    ("intent", "account_id", "accounts"),
    ("outcomes", "lead_id", "leads"),
)
NON_NEGATIVE: tuple[tuple[str, str], ...] = (
    ("accounts", "employees"),
    ("accounts", "annual_revenue"),
    ("intent", "strength"),
)
# The funnel runs mql < sql < opportunity < won; lost and disqualified end it.
FUNNEL: tuple[str, ...] = ("mql", "sql", "opportunity", "won")
TERMINAL_STAGES: tuple[str, ...] = ("lost", "disqualified")
# Unknown values of these make rows unusable (errors); the lead attributes only warn.
STRICT_VOCABULARIES = frozenset({"event_types", "signal_types", "stages"})
ISO_HINT = "expected ISO 8601 such as '2024-03-01' or '2024-03-01T09:30:00Z'"
# What a rejected lead's reason says, by check.
REASONS: dict[str, str] = {
    "missing": "missing value",
    "type": "unreadable value",
    "unique": "duplicate id",
    "foreign_key": "unknown id",
    "vocabulary": "value not in the vocabulary",
    "range": "value out of range",
    "stage_order": "stages out of order",
    "future": "after as_of",
}
_NAT = np.iinfo(np.int64).min
_NEVER = np.iinfo(np.int64).max


# --- the report -----------------------------------------------------------------------
@dataclass(frozen=True)
class ValidationReport:
    """Every issue found, and the row count of each table read."""

    issues: tuple[Issue, ...] = ()
    row_counts: dict[str, int] = field(default_factory=dict, hash=False)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable: counts, row counts and each issue (lead ids as a count)."""
        return {
            "ok": self.ok,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "n_rejected_leads": int(len(self.rejected_leads())),
            "row_counts": {k: int(v) for k, v in self.row_counts.items()},
            "issues": [i.to_dict() for i in self.issues],
        }

    def summary(self) -> str:
        """Human lines: row counts, totals, then one line per issue (errors first)."""
        lines = ["rows: " + " · ".join(f"{t} {n:,}" for t, n in self.row_counts.items())]
        if not self.issues:
            return "\n".join([*lines, "no issues found"])
        n_rejected = len(self.rejected_leads())
        totals = f"{plural(len(self.errors), 'error')}, {plural(len(self.warnings), 'warning')}"
        if n_rejected:
            totals += f"; {plural(n_rejected, 'lead')} cannot be scored"
        lines.append(totals)
        lines += [f"{i.severity:<8} {i.message}" for i in (*self.errors, *self.warnings)]
        return "\n".join(lines)

    def raise_for_errors(self) -> None:
        """Raise :class:`DataValidationError` when there is any error."""
        if self.errors:
            raise DataValidationError(self)

    def rejected_leads(self) -> pd.DataFrame:
        """One row per lead made unscorable by a row-level error: ``lead_id``, ``reason`` ("; "-joined)."""
        reasons: dict[Any, list[str]] = {}
        for issue in self.errors:
            reason = f"{issue.table}.{issue.column}: {REASONS.get(issue.check, issue.check)}"
            for lead_id in issue.lead_ids:
                held = reasons.setdefault(lead_id, [])
                if reason not in held:
                    held.append(reason)
        ids = sorted(reasons, key=lambda v: (isinstance(v, str), v))
        return pd.DataFrame({"lead_id": ids, "reason": ["; ".join(reasons[i]) for i in ids]})


class DataValidationError(ValueError):
    """The input tables break the contract; ``report`` holds every issue."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        errors = report.errors
        lines = [f"data validation failed with {plural(len(errors), 'error')}:"]
        lines += [f"  - {i.message}" for i in errors]
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes (Dask)
        return (type(self), (self.report,))


# --- event mode -------------------------------------------------------------------------
class _Inspection:
    """One pass over the raw tables: typed columns, key positions, then checks or typed tables."""

    def __init__(
        self,
        raw: Tables,
        dataset: EventDataset,
        *,
        as_of: pd.Timestamp | None = None,
        future_rows: FutureRows = "error",
        config_file: str = "training/dataset.yaml",
    ) -> None:
        if future_rows not in ("error", "warning", "ignore"):
            raise ValueError(
                f"future_rows={future_rows!r}; expected 'error', 'warning' or 'ignore'"
            )
        self.raw = dict(raw.items())
        self.dataset = dataset
        self.as_of = _naive_utc(as_of)
        self.future_rows = future_rows
        self.config_file = config_file
        self.issues: list[Issue] = []
        self.column_of: dict[tuple[str, str], pd.Series] = {}
        self.parsed: dict[tuple[str, str], ParsedColumn] = {}
        self.index: dict[str, KeyIndex] = {}
        self.pos: dict[tuple[str, str], np.ndarray] = {}
        self._find_columns()
        self._parse()
        self._index_keys()

    # -- setup -----------------------------------------------------------------------------
    def _find_columns(self) -> None:
        for table, frame in self.raw.items():
            spec = self.dataset.tables[table]
            names = [str(c) for c in frame.columns.tolist()]
            series = [column for _, column in frame.items()]  # (by position: names may repeat)
            contract = {c.name: c for c in CONTRACT[table]}
            spare = [c for c in names if c not in contract]
            for name in dict.fromkeys(names):
                where = [i for i, c in enumerate(names) if c == name]
                if len(where) > 1:
                    self._add(
                        table,
                        name,
                        "columns",
                        "error",
                        0,
                        [],
                        (
                            f"{table}: column {name!r} appears {len(where)} times (after mapping "
                            f"tables.{table}.columns in {self.config_file}); keep one"
                        ),
                    )
                self.column_of[(table, name)] = series[where[0]]
            for name in [*contract, *(c for c in spec.columns if c not in contract)]:
                if name in names:
                    continue
                source = spec.source_column(name)
                mapped = f" (mapped from {source!r})" if source != name else ""
                match = close_matches(source, spare) or close_matches(name, spare)
                hint = f"did you mean {match[0]!r}? " if match else ""
                where = f"(map it in {self.config_file} under tables.{table}.columns)"
                if name in contract and contract[name].required:
                    self._add(
                        table,
                        name,
                        "columns",
                        "error",
                        len(frame),
                        [],
                        (
                            f"{table}: required column {name!r} is missing{mapped}; found columns: {names}; "
                            f"{hint}{where}{self._origin(table)}"
                        ),
                    )
                else:
                    self._add(
                        table,
                        name,
                        "columns",
                        "warning",
                        0,
                        [],
                        (
                            f"{table}: optional column {name!r} is missing{mapped}; features that use it "
                            f"will be missing" + (f"; {hint}{where}" if match else "")
                        ),
                    )

    def _parse(self) -> None:
        parsers = {"id": parse_ids, "timestamp": parse_timestamps, "number": parse_numbers}
        for table, columns in CONTRACT.items():
            for col in columns:
                if col.kind in parsers and (table, col.name) in self.column_of:
                    self.parsed[(table, col.name)] = parsers[col.kind](
                        self.column_of[(table, col.name)]
                    )
        # A key and its references must share a dtype: text on all sides if any is text.
        self.key_kind: dict[str, str] = {}
        for key_table, key in KEYS.items():
            family = [(key_table, key)] + [
                (t, c) for t, c, target in REFERENCES if target == key_table
            ]
            present = [m for m in family if m in self.parsed]
            kind = "str" if any(self.parsed[m].kind == "str" for m in present) else "int"
            for m in present:
                self.parsed[m] = ids_as_text(self.parsed[m]) if kind == "str" else self.parsed[m]
            self.key_kind[key_table] = kind

    def _index_keys(self) -> None:
        for key_table, key in KEYS.items():
            if (key_table, key) in self.parsed:
                self.index[key_table] = KeyIndex(self.parsed[(key_table, key)])
                self.pos[(key_table, key)] = self.index[key_table].positions(
                    self.parsed[(key_table, key)]
                )
        for table, column, target in REFERENCES:
            if target in self.index and (table, column) in self.parsed:
                self.pos[(table, column)] = self.index[target].positions(
                    self.parsed[(table, column)]
                )

    def _origin(self, table: str) -> str:
        """`` (table from query '...' on ...)`` for a table read from a database, else ''."""
        origin = self.raw[table].attrs.get("origin")
        return f" (the {table} table comes from {origin})" if origin else ""

    # -- attribution -----------------------------------------------------------------------
    def _lead_ids(self, table: str, rows: np.ndarray) -> tuple:
        """The input leads that the flagged rows of ``table`` make unscorable."""
        if "leads" not in self.index:
            return ()
        if table in ("accounts", "intent"):
            accounts, lead_accounts = (
                self.pos.get((table, "account_id")),
                self.pos.get(("leads", "account_id")),
            )
            if accounts is None or lead_accounts is None:
                return ()
            hit = np.unique(accounts[rows])
            hit = hit[hit >= 0]
            if not hit.size:
                return ()
            positions = self.pos[("leads", "lead_id")][np.isin(lead_accounts, hit)]
        elif (table, "lead_id") in self.pos:
            positions = self.pos[(table, "lead_id")][rows]
        else:
            return ()
        return self._ids_at(positions)

    def _ids_at(self, positions: np.ndarray) -> tuple:
        positions = np.unique(positions[positions >= 0])
        ids = self.index["leads"].keys.to_numpy()[positions].tolist()
        return tuple(sorted(jsonable(v) for v in ids))

    def _add(
        self,
        table: str,
        column: str | None,
        check: str,
        severity: Severity,
        n_rows: int,
        examples: list[dict[str, Any]],
        message: str,
        rows: np.ndarray | None = None,
        lead_ids: tuple = (),
    ) -> None:
        if severity == "error" and rows is not None:
            lead_ids = self._lead_ids(table, rows)
        self.issues.append(
            Issue(
                table,
                column,
                check,
                severity,
                int(n_rows),
                examples,
                message,
                lead_ids if severity == "error" else (),
            )
        )

    def _add_values(
        self,
        table: str,
        column: str,
        check: str,
        severity: Severity,
        examples: Examples,
        message: str,
        *,
        n_rows: int,
        rows: np.ndarray | None = None,
    ) -> None:
        """An issue about some values of a column, a few of them (``examples``) shown."""
        self._add(table, column, check, severity, n_rows, examples.to_json(), message, rows=rows)

    # -- checks ----------------------------------------------------------------------------
    def report(self) -> ValidationReport:
        """Run every check, in the order a person would fix them."""
        self._check_missing_values()
        self._check_types()
        self._check_unique_keys()
        self._check_references()
        self._check_vocabularies()
        self._check_ranges()
        self._check_future_rows()
        self._check_stage_order()
        self._check_before_created()
        counts = {table: len(frame) for table, frame in self.raw.items()}
        return ValidationReport(tuple(self.issues), counts)

    def _check_missing_values(self) -> None:
        for table, columns in CONTRACT.items():
            for col in columns:
                if not col.required or (table, col.name) not in self.column_of:
                    continue
                if col.kind == "id" and KEYS.get(table) != col.name:
                    continue  # a reference without a value is reported as an unknown reference
                missing = self._missing(table, col.name)
                n = int(missing.sum())
                if n:
                    self._add(
                        table,
                        col.name,
                        "missing",
                        "error",
                        n,
                        [],
                        f"{table}.{col.name}: {plural(n, 'row')} {_has(n)} no {col.name}",
                        rows=missing,
                    )

    def _check_types(self) -> None:
        for (table, column), parsed in self.parsed.items():
            n_rows = int(parsed.invalid.sum())
            if not n_rows:
                continue
            raw = self.column_of[(table, column)]
            ex = value_examples(raw[parsed.invalid])
            k = ex.n_distinct
            if parsed.kind == "timestamp":
                hint = ISO_HINT
                if pd.api.types.is_numeric_dtype(raw.dtype):
                    hint = "numbers are not read as timestamps (epoch?): write ISO 8601 text or a datetime type"
                message = (
                    f"{table}.{column}: {plural(k, 'value')} {_are(k)} not "
                    f"{'a parseable timestamp' if k == 1 else 'parseable timestamps'}: {ex.text()}; {hint}"
                    f"{self._origin(table)}"
                )
                self._add_values(
                    table, column, "type", "error", ex, message, n_rows=n_rows, rows=parsed.invalid
                )
            else:
                message = (
                    f"{table}.{column}: {plural(k, 'value')} {_are(k)} not {'a number' if k == 1 else 'numbers'}: "
                    f"{ex.text()}; {'it is' if k == 1 else 'they are'} read as missing{self._origin(table)}"
                )
                self._add_values(table, column, "type", "warning", ex, message, n_rows=n_rows)

    def _check_unique_keys(self) -> None:
        for table, key in KEYS.items():
            parsed = self.parsed.get((table, key))
            if parsed is None:
                continue
            present = np.flatnonzero(~parsed.missing)
            repeated = parsed.values.iloc[present].duplicated(keep=False).to_numpy()
            if not repeated.any():
                continue
            rows = np.zeros(len(parsed.values), dtype=bool)
            rows[present[repeated]] = True
            ex = value_examples(parsed.values[rows])
            k, n_rows = ex.n_distinct, int(rows.sum())
            message = (
                f"{table}.{key}: {plural(k, key)} {'appears' if k == 1 else 'appear'} more than once "
                f"({plural(n_rows, 'row')}): {ex.text()}; each {key} must be unique"
            )
            self._add_values(table, key, "unique", "error", ex, message, n_rows=n_rows, rows=rows)

    def _check_references(self) -> None:
        for table, column, target in REFERENCES:
            positions = self.pos.get((table, column))
            if positions is None:
                continue
            unknown = positions < 0
            n_rows = int(unknown.sum())
            if not n_rows:
                continue
            parsed = self.parsed[(table, column)]
            shown = parsed.values[unknown]
            if parsed.kind == "int" and parsed.missing[unknown].any():
                shown = shown.astype("Int64").mask(parsed.missing[unknown])
            ex = value_examples(shown)
            message = (
                f"{table}.{column}: {plural(n_rows, 'row')} {'references' if n_rows == 1 else 'reference'} "
                f"{plural(ex.n_distinct, KEYS[target])} not in {target}: {ex.text()}"
            )
            self._add_values(
                table, column, "foreign_key", "error", ex, message, n_rows=n_rows, rows=unknown
            )

    def _check_vocabularies(self) -> None:
        for table, columns in CONTRACT.items():
            for col in columns:
                if col.vocabulary is None or (table, col.name) not in self.column_of:
                    continue
                vocabulary = getattr(self.dataset.vocabularies, col.vocabulary)
                if vocabulary is None:
                    continue
                raw = self.column_of[(table, col.name)]
                unknown = unknown_in_vocabulary(raw, vocabulary)
                if not unknown.any():
                    continue
                ex = value_examples(raw[unknown])
                hints = [
                    f"{m[0]!r} for {v!r}"
                    for v, _ in ex.pairs
                    if isinstance(v, str) and (m := close_matches(v, vocabulary))
                ]
                spec = self.dataset.tables[table]
                mapped = col.name in spec.values or spec.source_column(col.name) in spec.values
                where = f"tables.{table}.values.{col.name} in {self.config_file}"
                fix = f"; map {'them' if ex.n_distinct > 1 else 'it'} under {where}"
                severity: Severity = "error" if col.vocabulary in STRICT_VOCABULARIES else "warning"
                message = (
                    f"{table}.{col.name}: {plural(ex.n_distinct, 'value')} not in the vocabulary: {ex.text()}; "
                    f"expected one of: {', '.join(vocabulary)}"
                    + (f"; did you mean {', '.join(hints)}?" if hints else "")
                    + (fix if mapped or col.vocabulary in STRICT_VOCABULARIES else "")
                )
                self._add_values(
                    table,
                    col.name,
                    "vocabulary",
                    severity,
                    ex,
                    message,
                    n_rows=int(unknown.sum()),
                    rows=unknown,
                )

    def _check_ranges(self) -> None:
        for table, column in NON_NEGATIVE:
            parsed = self.parsed.get((table, column))
            if parsed is None:
                continue
            values = parsed.values.to_numpy()
            for rows, severity, what, expected in (
                (values < 0, "error", "negative", "expected a number >= 0"),
                (
                    values > 1 if column == "strength" else None,
                    "warning",
                    "above 1",
                    "expected a strength within [0, 1]",
                ),
            ):
                if rows is None or not rows.any():
                    continue
                ex = value_examples(parsed.values[rows])
                k = ex.n_distinct
                message = f"{table}.{column}: {plural(k, 'value')} {_are(k)} {what}: {ex.text()}; {expected}"
                self._add_values(
                    table, column, "range", severity, ex, message, n_rows=int(rows.sum()), rows=rows
                )

    def _check_future_rows(self) -> None:
        if self.as_of is None or self.future_rows == "ignore":
            return
        limit = int(np.datetime64(self.as_of.to_datetime64(), "us").astype(np.int64))
        for table, columns in CONTRACT.items():
            for col in columns:
                parsed = self.parsed.get((table, col.name))
                if parsed is None or col.kind != "timestamp":
                    continue
                after = _micros(parsed) > limit
                n_rows = int(after.sum())
                if n_rows:
                    ex = value_examples(parsed.values[after].dt.normalize())
                    message = (
                        f"{table}.{col.name}: {plural(n_rows, 'row')} {_are(n_rows)} after as_of "
                        f"{format_timestamp(self.as_of)}: {ex.text()}"
                    )
                    self._add_values(
                        table, col.name, "future", self.future_rows, ex, message, n_rows=n_rows
                    )

    def _check_stage_order(self) -> None:
        positions, ts = self.pos.get(("outcomes", "lead_id")), self.parsed.get(("outcomes", "ts"))
        if positions is None or ts is None or ("outcomes", "stage") not in self.column_of:
            return
        vocabulary = self.dataset.vocabularies.stages
        funnel = [s for s in FUNNEL if s in vocabulary]
        terminal = [s for s in TERMINAL_STAGES if s in vocabulary]
        stages = [*funnel, *terminal]
        codes = vocabulary_codes(self.column_of[("outcomes", "stage")], stages)
        usable = (positions >= 0) & (codes >= 0) & ts.usable
        if not usable.any():
            return
        # First and last time each lead reached each stage, as a (lead x stage) grid.
        n_stages = len(stages)
        key = positions[usable] * n_stages + codes[usable]
        # each (lead, stage) key's earliest and latest time: sorted by key, then time
        micros = _micros(ts)[usable]
        order = np.lexsort((micros, key))
        key, micros = key[order], micros[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ends = np.r_[starts[1:], key.size] - 1
        group = key[starts]
        leads, row = np.unique(group // n_stages, return_inverse=True)
        first = np.full((len(leads), n_stages), _NEVER, dtype=np.int64)
        last = np.full((len(leads), n_stages), _NAT, dtype=np.int64)
        first[row, group % n_stages] = micros[starts]
        last[row, group % n_stages] = micros[ends]
        for i, later in enumerate(funnel):
            for j, earlier in enumerate(funnel[:i]):
                bad = (
                    (first[:, i] != _NEVER) & (first[:, j] != _NEVER) & (first[:, i] < first[:, j])
                )
                self._add_stage_order(
                    leads[bad],
                    (later, first[bad, i]),
                    (earlier, first[bad, j]),
                    f"reach{{es}} {later!r} before {earlier!r}",
                )
        for t, end in enumerate(terminal, start=len(funnel)):
            for s, stage in enumerate(stages):
                if s == t:
                    continue
                bad = (first[:, t] != _NEVER) & (last[:, s] > first[:, t])
                self._add_stage_order(
                    leads[bad],
                    (end, first[bad, t]),
                    (stage, last[bad, s]),
                    f"reach{{es}} {stage!r} after {end!r}, which ends the funnel",
                )

    def _add_stage_order(
        self, positions: np.ndarray, a: tuple[str, np.ndarray], b: tuple[str, np.ndarray], what: str
    ) -> None:
        if not positions.size:
            return
        keys = self.index["leads"].keys.to_numpy()[positions]
        order = np.argsort(keys, kind="stable")[:5]
        examples = [
            {"lead_id": jsonable(keys[o]), a[0]: _iso(a[1][o]), b[0]: _iso(b[1][o])} for o in order
        ]
        shown = ", ".join(
            f"{format_value(keys[o])} ({a[0]} {format_timestamp(_ts(a[1][o]))}, "
            f"{b[0]} {format_timestamp(_ts(b[1][o]))})"
            for o in order
        ) + (", ..." if positions.size > len(order) else "")
        n = int(positions.size)
        self._add(
            "outcomes",
            "stage",
            "stage_order",
            "error",
            n,
            examples,
            f"outcomes.stage: {plural(n, 'lead')} {what.format(es='es' if n == 1 else '')}: {shown}",
            lead_ids=self._ids_at(positions),
        )

    def _check_before_created(self) -> None:
        created = self.parsed.get(("leads", "created_at"))
        if created is None or "leads" not in self.index:
            return
        index = self.index["leads"]
        created_at = np.append(_micros(created)[index.first_row], _NAT)  # position -1 -> NaT
        for table in ("events", "outcomes"):
            positions, ts = self.pos.get((table, "lead_id")), self.parsed.get((table, "ts"))
            if positions is None or ts is None:
                continue
            micros = _micros(ts)
            # NaT is the smallest int64: a lead without created_at is never "after" a row.
            early = micros < created_at[positions]
            early &= micros != _NAT
            n_rows = int(early.sum())
            if not n_rows:
                continue
            ex = value_examples(pd.Series(index.keys.to_numpy()[positions[early]], copy=False))
            self._add(
                table,
                "ts",
                "before_created",
                "warning",
                n_rows,
                ex.to_json("lead_id"),
                (
                    f"{table}.ts: {plural(n_rows, 'row')} of {plural(ex.n_distinct, 'lead')} {_are(n_rows)} "
                    f"before the lead's created_at: {ex.text()}"
                ),
            )

    def _missing(self, table: str, column: str) -> np.ndarray:
        if (table, column) in self.parsed:
            return self.parsed[(table, column)].missing
        return self.column_of[(table, column)].isna().to_numpy()

    # -- typed tables ----------------------------------------------------------------------
    def typed(self) -> Tables:
        """The typed copy: contract dtypes, missing optional columns added, untypable rows dropped."""
        return Tables(**{table: self._typed_table(table) for table in self.raw})

    def _typed_table(self, table: str) -> pd.DataFrame:
        frame = self.raw[table]
        n = len(frame)
        keep = np.ones(n, dtype=bool)
        columns: dict[str, Any] = {}
        for col in CONTRACT[table]:
            here = (table, col.name) in self.column_of
            if not here:
                columns[col.name] = self._empty(col, table, n)
                if col.required:
                    keep[:] = False
            elif (table, col.name) in self.parsed:
                parsed = self.parsed[(table, col.name)]
                columns[col.name] = parsed.values.array
                if col.required:
                    keep &= parsed.usable
            else:
                columns[col.name] = text_column(self.column_of[(table, col.name)]).array
                if col.required:
                    keep &= ~self._missing(table, col.name)
        if table in self.index:
            first = np.zeros(n, dtype=bool)
            first[self.index[table].first_row] = True
            keep &= first
        for i, name in enumerate(frame.columns):
            if str(name) not in columns:
                columns[str(name)] = frame.iloc[:, i].array
        typed = pd.DataFrame(columns, copy=False)  # (arrays: a range index already)
        return typed if keep.all() else typed[keep].reset_index(drop=True)

    def _empty(self, col: ColumnContract, table: str, n: int) -> Any:
        if col.kind == "id":
            family = (
                table if table in KEYS and KEYS[table] == col.name else _target(table, col.name)
            )
            kind = self.key_kind.get(family, "int")
            return np.zeros(n, dtype=np.int64) if kind == "int" else _no_text(n)
        if col.kind == "timestamp":
            return np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        if col.kind == "number":
            return np.full(n, np.nan)
        return _no_text(n)


def _no_text(n: int) -> pd.api.extensions.ExtensionArray:
    return pd.array(pa.nulls(n, pa.string()), dtype=STRING)


def _target(table: str, column: str) -> str:
    return next(target for t, c, target in REFERENCES if (t, c) == (table, column))


def _naive_utc(when: pd.Timestamp | str | None) -> pd.Timestamp | None:
    if when is None:
        return None
    return naive_utc(when)


def _micros(parsed: ParsedColumn) -> np.ndarray:
    """Timestamps as int64 microseconds (NaT is the smallest int64)."""
    return parsed.values.to_numpy().view(np.int64)


def _ts(micros: int) -> pd.Timestamp:
    return pd.Timestamp(int(micros), unit="us")


def _iso(micros: int) -> str:
    return _ts(micros).isoformat()


def _has(n: int) -> str:
    return "has" if n == 1 else "have"


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def validate_tables(
    raw: Tables, dataset: EventDataset, **checks: Unpack[TableChecks]
) -> ValidationReport:
    """Check the raw tables (contract column names) against the contract (see :class:`TableChecks`)."""
    return _Inspection(raw, dataset, **checks).report()


def coerce_tables(raw: Tables, dataset: EventDataset) -> Tables:
    """The typed copy of the raw tables (see the module docstring); rows that cannot be typed are dropped."""
    return _Inspection(raw, dataset, future_rows="ignore").typed()


def load_tables(
    data_dir: str | Path, dataset: EventDataset, **checks: Unpack[TableChecks]
) -> tuple[Tables, ValidationReport]:
    """Read, check (see :class:`TableChecks`) and type the tables in one pass; the caller
    decides what errors mean.

    Example::

        tables, report = load_tables("demo/data", dataset, as_of=as_of)
        report.raise_for_errors()
    """
    return check_tables(read_raw_tables(data_dir, dataset), dataset, **checks)


def check_tables(
    raw: Tables, dataset: EventDataset, **checks: Unpack[TableChecks]
) -> tuple[Tables, ValidationReport]:
    """:func:`load_tables` for tables already in memory (contract column names, value rules
    applied: :func:`leadml.data.io.contract_columns`): the typed tables and the report.

    The served model checks a posted lead with it, as the batch job checks its files.
    """
    inspection = _Inspection(raw, dataset, **checks)
    report = inspection.report()
    return inspection.typed(), report


# --- flat mode ------------------------------------------------------------------------------
def _is_positive(value: Any, positive: tuple[Any, ...]) -> bool:
    # 'Yes', 'TRUE' and 1.0 are as positive as 'yes', True and 1.
    return any(value == p or str(value).strip().lower() == str(p).lower() for p in positive)


def validate_flat(
    frame: pd.DataFrame,
    dataset: FlatDataset,
    *,
    require_label: bool = True,
    config_file: str = "the flat dataset config",
) -> ValidationReport:
    """Check a one-row-per-lead table: declared columns present, label values known,
    numeric columns numeric, the time column parseable, ids unique.

    ``require_label=False`` for scoring files, which have no label yet.
    """
    issues: list[Issue] = []
    names = [str(c) for c in frame.columns.tolist()]

    def add(
        column: str | None,
        check: str,
        severity: Severity,
        n_rows: int,
        examples: list[dict[str, Any]],
        message: str,
    ) -> None:
        issues.append(Issue("flat", column, check, severity, int(n_rows), examples, message))

    declared = [
        (dataset.id, "id", True),
        (dataset.label, "label", require_label),
        (dataset.time, "time", True),
        *((c, "numeric", True) for c in dataset.numeric),
        *((c, "categorical", True) for c in dataset.categorical),
        *((c, "exclude", False) for c in dataset.exclude),
        *((c, "post_outcome", False) for c in dataset.post_outcome),
    ]
    declared_names = {name for name, _, _ in declared if name is not None}
    undeclared = [c for c in names if c not in declared_names]
    for name, role, required in declared:
        if name is None or name in names:
            continue
        match = close_matches(name, undeclared)
        add(
            name,
            "columns",
            "error" if required else "warning",
            len(frame) if required else 0,
            [],
            (
                f"flat: declared {role} column {name!r} is missing; in the file but not in the config: "
                f"{undeclared}"
                + (f"; did you mean {match[0]!r}?" if match else "")
                + f" (fix it in {config_file})"
            ),
        )

    if dataset.label in names:
        label = frame[dataset.label]
        n_missing = int(label.isna().sum())
        if n_missing:
            add(
                dataset.label,
                "missing",
                "error",
                n_missing,
                [],
                f"flat.{dataset.label}: {plural(n_missing, 'row')} {_has(n_missing)} no label",
            )
        ex = value_examples(label.dropna())
        positive = [_is_positive(v, dataset.positive) for v, _ in ex.pairs]
        expected = f"positive values are {list(dataset.positive)} (set 'positive' in {config_file})"
        if ex.n_distinct > 2:
            add(
                dataset.label,
                "label",
                "error",
                len(label),
                ex.to_json(),
                (
                    f"flat.{dataset.label}: the label has {ex.n_distinct} distinct values: {ex.text()}; "
                    f"expected two, one positive and one negative; {expected}"
                ),
            )
        elif ex.n_distinct and not any(positive):
            add(
                dataset.label,
                "label",
                "error",
                len(label),
                ex.to_json(),
                f"flat.{dataset.label}: no label value is positive: {ex.text()}; {expected}",
            )
        elif ex.n_distinct and all(positive):
            add(
                dataset.label,
                "label",
                "error",
                len(label),
                ex.to_json(),
                f"flat.{dataset.label}: every label value is positive: {ex.text()}; {expected}",
            )

    checks = [
        (c, parse_numbers, "a number", "numbers", "declared numeric") for c in dataset.numeric
    ]
    if dataset.time is not None:
        checks.append(
            (
                dataset.time,
                parse_timestamps,
                "a parseable timestamp",
                "parseable timestamps",
                ISO_HINT,
            )
        )
    for column, parse, one, many, expected in checks:
        if column not in names:
            continue
        parsed = parse(frame[column])
        if parsed.invalid.any():
            ex = value_examples(frame[column][parsed.invalid])
            k = ex.n_distinct
            add(
                column,
                "type",
                "error",
                int(parsed.invalid.sum()),
                ex.to_json(),
                f"flat.{column}: {plural(k, 'value')} {_are(k)} not {one if k == 1 else many}: {ex.text()}; {expected}",
            )

    if dataset.id is not None and dataset.id in names:
        ids = frame[dataset.id]
        repeated = ids.duplicated(keep=False) & ids.notna()
        if repeated.any():
            ex = value_examples(ids[repeated])
            k, n_rows = ex.n_distinct, int(repeated.sum())
            add(
                dataset.id,
                "unique",
                "error",
                n_rows,
                ex.to_json(),
                (
                    f"flat.{dataset.id}: {plural(k, 'id')} {'appears' if k == 1 else 'appear'} more than once "
                    f"({plural(n_rows, 'row')}): {ex.text()}; each {dataset.id} must be unique"
                ),
            )
    return ValidationReport(tuple(issues), {"flat": len(frame)})
