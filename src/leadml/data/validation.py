"""Vectorised column checks: typing raw columns and describing what is wrong with them.

The building blocks under :mod:`leadml.data.schema`. Each parser turns one raw
column into its contract type plus two row masks (``missing``: no value in
the input; ``invalid``: a value that cannot be typed). :class:`KeyIndex` maps
references onto a key column without a join. The ``*_examples`` helpers turn
the offending rows into the few values a person needs to see, with counts.

Everything works on whole columns (numpy, pandas and pyarrow kernels): 50M
events are checked in seconds, and only the offending rows ever reach Python.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "MAX_EXAMPLES",
    "Issue",
    "KeyIndex",
    "ParsedColumn",
    "Severity",
    "close_matches",
    "Examples",
    "format_timestamp",
    "format_value",
    "ids_as_text",
    "jsonable",
    "parse_ids",
    "parse_numbers",
    "parse_timestamps",
    "plural",
    "text_column",
    "unknown_in_vocabulary",
    "value_examples",
    "vocabulary_codes",
]

MAX_EXAMPLES = 5
Severity = Literal["error", "warning"]
STRING = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's default ``str``


@dataclass(frozen=True)
class Issue:
    """One thing wrong with the input, for a person and for a JSON report.

    ``n_rows`` counts the offending rows (leads, for stage-order issues);
    ``examples`` holds at most five offending values with their row counts;
    ``lead_ids`` names the input leads this issue makes unscorable, when the
    issue is a row-level error that can be pinned on leads.
    """

    table: str
    column: str | None
    check: str
    severity: Severity
    n_rows: int
    examples: list[dict[str, Any]] = field(default_factory=list, hash=False)
    message: str = ""
    lead_ids: tuple = ()

    def to_dict(self) -> dict[str, Any]:
        """The issue as JSON-serialisable data (lead ids as a count only)."""
        return {
            "table": self.table,
            "column": self.column,
            "check": self.check,
            "severity": self.severity,
            "n_rows": int(self.n_rows),
            "n_leads": len(self.lead_ids),
            "examples": list(self.examples),
            "message": self.message,
        }


# --- values for people and for JSON ----------------------------------------------
def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def jsonable(value: Any) -> Any:
    """A plain Python value for JSON: numpy scalars unboxed, timestamps as ISO text, missing as None."""
    if _is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)


def format_value(value: Any) -> str:
    """How a value reads in a message: text quoted, numbers plain, missing as ``<missing>``."""
    if _is_missing(value):
        return "<missing>"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, pd.Timestamp):
        return format_timestamp(value)
    return str(value)


def format_timestamp(value: pd.Timestamp) -> str:
    """``2024-03-01`` at midnight, ``2024-03-01 09:30:00`` otherwise."""
    return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``1,200 rows``."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def _sort_key(value: Any) -> tuple[int, Any]:
    if _is_missing(value):
        return (2, "")
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


@dataclass(frozen=True)
class Examples:
    """The most frequent offending values, as ``(value, rows)`` pairs, and how many there were."""

    n_distinct: int
    pairs: tuple[tuple[Any, int], ...]

    def to_json(self, key: str = "value") -> list[dict[str, Any]]:
        return [{key: jsonable(v), "rows": n} for v, n in self.pairs]

    def text(self) -> str:
        """``'a' (2 rows), 'b' (1 row)``, ending in ``, ...`` when values were left out."""
        shown = ", ".join(f"{format_value(v)} ({plural(n, 'row')})" for v, n in self.pairs)
        return shown + (", ..." if self.n_distinct > len(self.pairs) else "")


def value_examples(values: pd.Series, limit: int = MAX_EXAMPLES) -> Examples:
    """The top ``limit`` distinct values (missing counts as one) with their row counts.

    Sorted by frequency, then by value, so reports are stable from run to run.
    """
    counts = values.value_counts(dropna=False, sort=True)
    counts = counts[counts > 0]  # a categorical lists its unused categories too
    if counts.empty:
        return Examples(0, ())
    # Only values tied with the limit-th count can still make the cut.
    cut = counts.iloc[min(limit, len(counts)) - 1]
    head = [(value, int(n)) for value, n in counts[counts >= cut].items()]
    head.sort(key=lambda vn: (-vn[1], _sort_key(vn[0])))
    return Examples(len(counts), tuple(head[:limit]))


def close_matches(name: str, candidates: Iterable[str]) -> list[str]:
    """Likely intended names for ``name`` (case and separators ignored first)."""
    candidates = [str(c) for c in candidates]

    def norm(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    exact = [c for c in candidates if norm(c) == norm(name) and c != name]
    if exact:
        return exact[:1]
    return difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)


# --- typing raw columns -------------------------------------------------------------
@dataclass(frozen=True)
class ParsedColumn:
    """A column in its contract type, with the rows that had no value or a bad one.

    ``kind`` is ``"int"`` or ``"str"`` for ids, else the dtype's family.
    """

    values: pd.Series
    missing: np.ndarray
    invalid: np.ndarray
    kind: str = ""

    @property
    def usable(self) -> np.ndarray:
        return ~(self.missing | self.invalid)


def _series(data: Any, like: pd.Series) -> pd.Series:
    """``data`` as a Series shaped like ``like``, without pandas 3's defensive copy (50M rows: seconds)."""
    return pd.Series(data, index=like.index, name=like.name, copy=False)


def _false(n: int) -> np.ndarray:
    return np.zeros(n, dtype=bool)


def _arrow(values: pd.Series) -> pa.ChunkedArray | pa.Array:
    """The Arrow string array behind a column (zero copy for pandas' ``str``)."""
    inner = getattr(values.array, "_pa_array", None)
    if inner is None or not (
        pa.types.is_string(inner.type) or pa.types.is_large_string(inner.type)
    ):
        inner = text_column(values).array._pa_array
    return inner


def _value_set(values: pd.Series) -> pa.Array:
    inner = _arrow(values)
    return inner.combine_chunks() if isinstance(inner, pa.ChunkedArray) else inner


def text_column(values: pd.Series) -> pd.Series:
    """The column as pandas ``str`` (Arrow-backed, missing stays NaN), cheaply when possible."""
    if values.dtype == STRING:
        return values
    if isinstance(values.dtype, pd.CategoricalDtype):
        # ``astype(str)`` on a categorical goes through Python objects (~20 s for
        # 50M rows); Arrow's take on the categories does it in a few seconds.
        categories = pa.array(values.cat.categories.astype(STRING).array._pa_array)
        codes = values.cat.codes.to_numpy()
        taken = pc.take(categories, pa.array(codes, mask=codes < 0))
        return pd.Series(pd.array(taken, dtype=STRING), index=values.index, name=values.name)
    if pd.api.types.is_float_dtype(values.dtype):
        # 3.0 reads as '3' not '3.0' when a CSV column of codes picked up a gap.
        whole = values.dropna()
        if len(whole) and (whole == np.floor(whole)).all():
            # Beyond 2**53 a float is no exact integer (1e22 overflows int64): those
            # cells keep their float text, the others read as integers.
            exact = values.isna() | (values.abs() < 2**53)
            if exact.all():
                return values.astype("Int64").astype(STRING)
            text = values.astype(STRING)
            text[exact] = values[exact].astype("Int64").astype(STRING)
            return text
    return values.astype(STRING)


def parse_ids(values: pd.Series) -> ParsedColumn:
    """Ids as ``int64`` (integer-valued numbers) or ``str`` (anything else).

    Rows without an id hold 0 / NaN in ``values`` and are flagged ``missing``.
    """
    n = len(values)
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(values.cat.categories.dtype)
    missing = values.isna().to_numpy()
    dtype = values.dtype
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        ints = (
            values.to_numpy(dtype=np.int64, na_value=0)
            if missing.any()
            else values.to_numpy(np.int64)
        )
        return ParsedColumn(_series(ints, values), missing, _false(n), "int")
    if pd.api.types.is_float_dtype(dtype):
        floats = values.to_numpy(dtype=np.float64, na_value=np.nan)
        present = floats[~missing]
        if (
            np.all(np.isfinite(present))
            and np.all(present == np.floor(present))
            and np.all(np.abs(present) < 2**53)
        ):
            ints = np.where(missing, 0, np.nan_to_num(floats)).astype(np.int64)
            return ParsedColumn(_series(ints, values), missing, _false(n), "int")
    return ParsedColumn(text_column(values), missing, _false(n), "str")


def ids_as_text(column: ParsedColumn) -> ParsedColumn:
    """Integer ids as text (``17`` -> ``'17'``), for keys whose references are text."""
    if column.kind == "str":
        return column
    arr = pa.array(column.values.to_numpy(), mask=column.missing if column.missing.any() else None)
    text = pd.Series(
        pd.array(pc.cast(arr, pa.string()), dtype=STRING),
        index=column.values.index,
        name=column.values.name,
    )
    return ParsedColumn(text, column.missing, column.invalid, "str")


def _strings_to_timestamps(values: pd.Series) -> pd.Series:
    """ISO 8601 text to naive UTC ``datetime64[us]``; unparseable text becomes NaT."""
    arr = _arrow(values)
    # Arrow parses well-formed ISO 8601 an order of magnitude faster than pandas,
    # but all-or-nothing: naive text first, then text that all carries an offset.
    for target in (pa.timestamp("us"), pa.timestamp("us", tz="UTC")):
        try:
            parsed = pc.cast(arr, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        naive = parsed.cast(pa.timestamp("us")) if target.tz else parsed
        return _series(naive.to_numpy(), values)
    parsed = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
    return _series(parsed.array.asi8.view(f"datetime64[{parsed.dtype.unit}]"), values)


def parse_timestamps(values: pd.Series) -> ParsedColumn:
    """Naive UTC ``datetime64[us]``: tz-aware values are converted to UTC, text must be ISO 8601."""
    n = len(values)
    missing = values.isna().to_numpy()
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        typed = _series(values.array.asi8.view(f"datetime64[{dtype.unit}]"), values)  # UTC instants
    elif pd.api.types.is_datetime64_dtype(dtype):
        typed = values
    elif isinstance(dtype, pd.CategoricalDtype):
        categories = parse_timestamps(pd.Series(dtype.categories)).values.to_numpy()
        codes = values.cat.codes.to_numpy()
        typed = _series(
            np.where(codes >= 0, categories[np.maximum(codes, 0)], np.datetime64("NaT")), values
        )
    elif pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        # Epoch numbers are ambiguous (s? ms?): refuse them rather than guess.
        typed = _series(np.full(n, np.datetime64("NaT"), dtype="datetime64[us]"), values)
    elif pd.api.types.is_object_dtype(dtype):
        typed = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
        typed = _series(typed.array.asi8.view(f"datetime64[{typed.dtype.unit}]"), values)
    else:
        typed = _strings_to_timestamps(values)
    if typed.dtype != "datetime64[us]":
        # numpy's cast is ~5x faster than ``.dt.as_unit`` on tens of millions of rows.
        typed = _series(typed.to_numpy().astype("datetime64[us]"), values)
    invalid = typed.isna().to_numpy() & ~missing
    return ParsedColumn(typed.rename(values.name), missing, invalid, "timestamp")


def parse_numbers(values: pd.Series) -> ParsedColumn:
    """``float64``; text that is not a number is flagged ``invalid`` and becomes NaN."""
    n = len(values)
    missing = values.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        typed = values.astype(np.float64) if values.dtype != np.float64 else values
        return ParsedColumn(typed, missing, _false(n), "number")
    typed = pd.to_numeric(
        values.astype(object) if values.dtype == bool else values, errors="coerce"
    )
    typed = _series(typed.to_numpy(dtype=np.float64, na_value=np.nan), values)
    return ParsedColumn(typed, missing, typed.isna().to_numpy() & ~missing, "number")


def unknown_in_vocabulary(values: pd.Series, vocabulary: Sequence[str]) -> np.ndarray:
    """Rows whose value is present but not in ``vocabulary`` (missing rows are not flagged)."""
    if len(values) == 0:
        return _false(0)
    if isinstance(values.dtype, pd.CategoricalDtype):
        # Decide once per category, then spread over the integer codes.
        categories = pd.Index(values.cat.categories.astype(STRING))
        bad = np.append(~categories.isin(list(vocabulary)), False)  # code -1 (missing) -> False
        return bad[values.cat.codes.to_numpy()]
    arr = _arrow(text_column(values))
    known = pc.is_in(arr, value_set=pa.array(list(vocabulary), pa.string()))
    unknown = pc.and_not(pc.is_valid(arr), known)  # bitmaps: fast, and usually all false
    if not pc.any(unknown).as_py():
        return _false(len(values))
    unknown = unknown.combine_chunks() if isinstance(unknown, pa.ChunkedArray) else unknown
    return unknown.to_numpy(zero_copy_only=False)


def vocabulary_codes(values: pd.Series, vocabulary: Sequence[str]) -> np.ndarray:
    """Position of each value in ``vocabulary`` as ``int64``; -1 when unknown or missing."""
    if len(values) == 0:
        return np.empty(0, dtype=np.int64)
    if isinstance(values.dtype, pd.CategoricalDtype):
        mapping = pd.Index(list(vocabulary)).get_indexer(values.cat.categories.astype(STRING))
        return np.append(mapping, -1).astype(np.int64)[values.cat.codes.to_numpy()]
    found = pc.index_in(
        _arrow(text_column(values)), value_set=pa.array(list(vocabulary), pa.string())
    )
    if isinstance(found, pa.ChunkedArray):
        found = found.combine_chunks()
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


# --- keys ------------------------------------------------------------------------------
class KeyIndex:
    """Positions of references in a key column, without a join.

    ``first_row[p]`` is the key-table row of the p-th distinct key (its first
    occurrence); :meth:`positions` gives, for each reference, that ``p`` or -1.
    """

    def __init__(self, keys: ParsedColumn) -> None:
        values = keys.values
        present = np.flatnonzero(~keys.missing)
        first = ~values.iloc[present].duplicated(keep="first").to_numpy()
        self.first_row = present[first]
        self.kind = keys.kind
        self._keys = values.iloc[self.first_row].reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.first_row)

    @property
    def keys(self) -> pd.Series:
        """The distinct keys, in order of first occurrence."""
        return self._keys

    def positions(self, refs: ParsedColumn) -> np.ndarray:
        """``int64`` position of each reference among the distinct keys; -1 when unknown or missing."""
        if len(refs.values) == 0 or len(self) == 0:
            return np.full(len(refs.values), -1, dtype=np.int64)
        if self.kind == "int" and refs.kind == "int":
            out = self._int_positions(refs.values.to_numpy())
        elif self.kind == "str" and refs.kind == "str":
            out = self._text_positions(refs.values)
        else:
            raise TypeError(
                f"key kinds differ ({self.kind} vs {refs.kind}): convert both to text first"
            )
        out[refs.missing] = -1
        return out

    def _int_positions(self, refs: np.ndarray) -> np.ndarray:
        keys = self._keys.to_numpy()
        lo, hi = int(keys.min()), int(keys.max())
        if hi - lo <= 4 * len(keys) + 1_000_000:
            # Dense ids (the usual case): a lookup table beats hashing 10x.
            table = np.full(hi - lo + 1, -1, dtype=np.int64)
            table[keys - lo] = np.arange(len(keys), dtype=np.int64)
            if int(refs.min()) >= lo and int(refs.max()) <= hi:
                return table[refs - lo] if lo else table[refs]
            shifted = refs - lo
            inside = (shifted >= 0) & (shifted <= hi - lo)
            out = np.full(len(refs), -1, dtype=np.int64)
            out[inside] = table[shifted[inside]]
            return out
        return pd.Index(_mixed(keys)).get_indexer(_mixed(refs)).astype(np.int64)

    def _text_positions(self, refs: pd.Series) -> np.ndarray:
        key_words, ref_words = _fixed_width_words(self._keys), _fixed_width_words(refs)
        if (
            key_words is not None
            and ref_words is not None
            and key_words.shape[1] == ref_words.shape[1]
        ):
            out = _word_positions(key_words, ref_words)
            if out is not None:
                return out
        # Hashing tens of millions of strings in random order is cache-bound (~12 s
        # for 50M); the word path above avoids it for the usual fixed-width ids.
        found = pc.index_in(_arrow(refs), value_set=_value_set(self._keys))
        found = found.combine_chunks() if isinstance(found, pa.ChunkedArray) else found
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _fixed_width_words(values: pd.Series) -> np.ndarray | None:
    """Text of one byte width and no missing value as ``(n, k)`` uint64 words; else None.

    CRM ids usually have a fixed width ('00Q5e000001AbCdEAK', 'L0001234'), and
    then each id is k machine words that numpy can hash and compare.
    """
    arr = _arrow(values)
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    width, parts = None, []
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        if (
            chunk.null_count
            or not pa.types.is_string(chunk.type)
            and not pa.types.is_large_string(chunk.type)
        ):
            return None
        offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(chunk.buffers()[1], dtype=offset_type)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        lengths = np.diff(offsets)
        if lengths[0] == 0 or (lengths != lengths[0]).any() or width not in (None, int(lengths[0])):
            return None
        width = int(lengths[0])
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        parts.append(data.reshape(-1, width))
    if width is None:
        return None
    k = -(-width // 8)
    words = np.zeros((sum(len(p) for p in parts), 8 * k), dtype=np.uint8)
    start = 0
    for part in parts:
        words[start : start + len(part), :width] = part
        start += len(part)
    return words.view(np.uint64)


def _word_positions(key_words: np.ndarray, ref_words: np.ndarray) -> np.ndarray | None:
    """Positions of reference words among key words (exact); None on a key hash collision."""

    def hashed(words: np.ndarray) -> np.ndarray:
        h = words[:, 0].copy()
        for j in range(1, words.shape[1]):
            h *= np.uint64(0x9E3779B97F4A7C15)
            h ^= words[:, j]
        return _mixed(h)

    key_hash = pd.Index(hashed(key_words))
    if not key_hash.is_unique:
        return None
    out = key_hash.get_indexer(hashed(ref_words)).astype(np.int64)
    if key_words.shape[1] > 1:  # one word is the id itself; more need a check past the hash
        found = np.flatnonzero(out >= 0)
        same = (ref_words[found] == key_words[out[found]]).all(axis=1)
        out[found[~same]] = -1
    return out


def _mixed(values: np.ndarray) -> np.ndarray:
    """A bijection of 64-bit values (splitmix64's finaliser) that spreads every bit.

    pandas hashes integers by their low bits: ids that differ only in a few
    bytes (text read as words, structured CRM numbers) collide massively and
    a lookup of 50M takes 20 s instead of 2. Mixed first, they do not.
    """
    z = values.astype(np.uint64, copy=True)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z
