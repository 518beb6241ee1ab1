"""CRM picklists as the contract reads them: placeholders, yes/no text, value maps.

A CRM export writes "no value" as ``Select``, ``--None--``, ``-`` or ``N/A``,
booleans as ``Yes``/``No`` or ``true``/``false``, and funnel stages and
sources in its own words (``Closed Won``, ``Web``). :func:`apply_value_rules`
turns them into what the contract expects, column by column, as declared in
the dataset config (:class:`leadml.config.ValueRules`), right after a table is
read and before anything checks or types it.

Each rule is decided once per distinct value (Arrow dictionary encoding), so
cleaning a 50M-row events table costs about as much as reading its column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadml.config import ValueRules
from leadml.data.validation import plural

__all__ = ["FALSE_TEXT", "TRUE_TEXT", "ValueRuleError", "apply_value_rules"]

# Compared trimmed and case-insensitively.
TRUE_TEXT: tuple[str, ...] = ("yes", "y", "true", "t", "1", "1.0", "on", "oui", "vrai")
FALSE_TEXT: tuple[str, ...] = ("no", "n", "false", "f", "0", "0.0", "off", "non", "faux")
_EXAMPLES = 5


class ValueRuleError(ValueError):
    """A column's values do not fit the rule declared for it (e.g. boolean text)."""


def _rule_columns(
    rules: ValueRules, frame: pd.DataFrame, renamed: Mapping[str, str]
) -> tuple[dict[str, tuple[str, ...]], list[str], dict[str, dict[str, Any]]]:
    """Rules keyed by the frame's column names (a rule may name a column as exported)."""

    def here(name: str) -> str | None:
        if name in frame.columns:
            return name
        return renamed.get(name) if renamed.get(name) in frame.columns else None

    everywhere = rules.missing.get("*", ())
    missing: dict[str, tuple[str, ...]] = {}
    if everywhere:
        for column in frame.columns:
            if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column].dtype):
                missing[str(column)] = tuple(everywhere)
    for name, tokens in rules.missing.items():
        column = here(name) if name != "*" else None
        if column is not None:
            missing[column] = (*missing.get(column, ()), *tokens)
    boolean = [c for c in (here(n) for n in rules.boolean) if c is not None]
    values = {c: m for n, m in rules.values.items() if (c := here(n)) is not None}
    return missing, boolean, values


def _dictionary(values: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """Distinct values (as text) and each row's position among them (-1 = missing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = pa.array([str(c) for c in values.cat.categories], pa.string())
        return categories, values.cat.codes.to_numpy().astype(np.int64)
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        values = (
            values.astype(object)
            .where(values.notna(), None)
            .map(
                lambda v: None if v is None else (str(int(v)) if float(v).is_integer() else str(v))
            )
        )
    array = pa.array(
        values.astype(object).where(values.notna(), None), pa.string(), from_pandas=True
    )
    encoded = pc.dictionary_encode(array)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    codes = np.where(encoded.indices.is_valid().to_numpy(zero_copy_only=False), indices, -1)
    return encoded.dictionary, codes.astype(np.int64)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _from_dictionary(dictionary: list[Any], codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Rebuild a column from its (rewritten) distinct values; ``None`` is missing."""
    present = [v for v in dictionary if v is not None]
    if present and all(isinstance(v, str) for v in present):
        taken = pc.take(pa.array(dictionary, pa.string()), pa.array(codes, mask=codes < 0))
        return pd.Series(
            pd.array(taken, dtype=pd.StringDtype("pyarrow", na_value=np.nan)), index=index
        )
    objects = np.array([*dictionary, None], dtype=object)
    return pd.Series(objects[codes], index=index)


def _boolean(
    distinct: list[str | None], *, table: str, column: str, codes: np.ndarray, where: str
) -> np.ndarray:
    true, false = set(TRUE_TEXT), set(FALSE_TEXT)
    out = np.full(len(distinct) + 1, np.nan)
    bad = []
    for i, value in enumerate(distinct):
        if value is None:
            continue
        key = value.strip().lower()
        if key in true:
            out[i] = 1.0
        elif key in false:
            out[i] = 0.0
        elif key:
            bad.append(i)
    if bad:
        counts = np.bincount(codes[codes >= 0], minlength=len(distinct))
        bad.sort(key=lambda i: (-counts[i], str(distinct[i])))
        shown = ", ".join(
            f"{distinct[i]!r} ({plural(int(counts[i]), 'row')})" for i in bad[:_EXAMPLES]
        )
        raise ValueRuleError(
            f"{table}.{column}: {len(bad)} value{'s' if len(bad) > 1 else ''} {'are' if len(bad) > 1 else 'is'} "
            f"not yes/no text: {shown}{', ...' if len(bad) > _EXAMPLES else ''}; expected one of "
            f"{'/'.join(TRUE_TEXT)} or {'/'.join(FALSE_TEXT)} (any case), or list the value under "
            f"{where}.missing.{column} if it means 'unknown'"
        )
    return out[:-1]


def apply_value_rules(
    frame: pd.DataFrame,
    rules: ValueRules,
    *,
    table: str,
    where: str = "the dataset config",
    renamed: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """``frame`` with the rules applied: placeholders -> missing, yes/no -> 1.0/0.0, values mapped.

    ``renamed`` maps a column's exported name to its name in ``frame`` (after the
    contract mapping), so a rule may use either. Rules naming a column the frame
    does not have are skipped (the contract check reports missing columns). The
    argument is not modified.

    >>> rules = ValueRules(missing={"Lead Source": ("Select",)}, values={"Lead Source": {"Web": "web"}})
    >>> apply_value_rules(pd.DataFrame({"Lead Source": ["Web", "Select"]}), rules, table="leads")
    """
    if rules.empty:
        return frame
    missing, boolean, values = _rule_columns(rules, frame, renamed or {})
    changed: dict[str, pd.Series] = {}
    for column in dict.fromkeys([*missing, *boolean, *values]):
        source = frame[column]
        numeric = pd.api.types.is_numeric_dtype(source.dtype) and not pd.api.types.is_bool_dtype(
            source.dtype
        )
        if numeric and column not in boolean and column not in values:
            # a numeric placeholder (-1, 999) masks the number; the column stays numeric
            tokens = {t.strip() for t in missing[column]}
            placeholders = [float(t) for t in tokens if _is_number(t)]
            if placeholders:
                changed[column] = source.mask(source.isin(placeholders))
            continue
        dictionary, codes = _dictionary(source)
        distinct: list[Any] = dictionary.to_pylist()
        tokens = {t.strip().lower() for t in missing.get(column, ())}
        if tokens:
            distinct = [None if v is None or v.strip().lower() in tokens else v for v in distinct]
        if column in boolean:
            points = _boolean(distinct, table=table, column=column, codes=codes, where=where)
            changed[column] = pd.Series(
                np.append(points, np.nan)[codes], index=frame.index, dtype=np.float64
            )
            continue
        mapping = values.get(column, {})
        if mapping:
            lookup = {str(k).strip(): v for k, v in mapping.items()}
            distinct = [
                None if v is None else lookup.get(v.strip(), lookup.get(v, v)) for v in distinct
            ]
        if not tokens and not mapping:
            continue
        changed[column] = _from_dictionary(distinct, codes, frame.index)
    return frame.assign(**changed) if changed else frame
