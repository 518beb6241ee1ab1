"""The array layer under the feature builders: codes, CSR layouts and numba kernels.

Everything here works on plain numpy arrays. Times are ``int64`` microseconds
since the epoch (the contract's ``datetime64[us]`` viewed as integers), so
"strictly before as_of" is an exact integer comparison; ages are turned into
float days only for the outputs.

Layout: rows are grouped by an integer code (a lead or an account) in CSR form
-- ``offsets[g]:offsets[g + 1]`` are the rows of group ``g``, sorted by time.
The kernels then loop over snapshots in parallel; each snapshot finds the end
of "its" rows (``ts < as_of``) by binary search and walks back from there.
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit, prange

from leadml.data.timestamps import naive_utc, naive_utc_series

__all__ = [
    "DAY_US",
    "HOUR_US",
    "Csr",
    "account_kernel",
    "as_category",
    "both",
    "codes_for",
    "csr_by",
    "event_kernel",
    "membership",
    "next_time_kernel",
    "signal_kernel",
    "take_category",
    "take_float",
    "text_categories",
    "timestamp_us",
    "timestamps_us",
    "vocab_codes",
]

DAY_US = 86_400_000_000
# Below this many items a kernel runs serially: waking a thread pool costs
# milliseconds, more than the work itself on small inputs (tests, single leads).
PARALLEL_MIN_ITEMS = 200_000
HOUR_US = 3_600_000_000
_NAT = np.iinfo(np.int64).min
# snapshots per parallel work item: outputs are written column by column, and
# neighbouring snapshots share cache lines
_CHUNK = 512


def _parallel(size_arg: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Compile a kernel twice: parallel for big inputs, serial when positional arg ``size_arg`` is small.

    The serial twin is a renamed copy of the function, so each has its own
    on-disk cache; ``prange`` is a plain ``range`` in the serial one.
    """

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        parallel = njit(parallel=True, cache=True)(fn)
        twin = types.FunctionType(
            fn.__code__, fn.__globals__, f"{fn.__name__}_serial", fn.__defaults__, fn.__closure__
        )
        twin.__qualname__ = f"{fn.__qualname__}_serial"
        twin.__module__ = fn.__module__
        serial = njit(cache=True)(twin)

        @functools.wraps(fn)
        def call(*args: Any) -> Any:
            big = args[size_arg].size >= PARALLEL_MIN_ITEMS
            return (parallel if big else serial)(*args)

        call.parallel = parallel  # type: ignore[attr-defined]
        call.serial = serial  # type: ignore[attr-defined]
        return call

    return wrap


# --- frames -> arrays ---------------------------------------------------------
def timestamps_us(values: pd.Series | pd.Index | np.ndarray, *, what: str) -> np.ndarray:
    """``int64`` microseconds since the epoch (naive UTC); missing → ``INT64_MIN``.

    Accepts the contract's ``datetime64[us]`` (zero copy), other units,
    tz-aware values (converted to UTC) and ISO strings.
    """
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = naive_utc_series(series)
    elif not pd.api.types.is_datetime64_dtype(series.dtype):
        try:
            series = naive_utc_series(pd.to_datetime(series, utc=True))
        except (ValueError, TypeError) as exc:
            examples = series.dropna().astype(str).unique()[:3].tolist()
            raise ValueError(f"{what}: expected timestamps, got values such as {examples}") from exc
    return np.ascontiguousarray(series.to_numpy(dtype="datetime64[us]").view(np.int64))


def timestamp_us(value: pd.Timestamp | str) -> int:
    """One instant as ``int64`` microseconds since the epoch (tz-aware -> UTC; naive = UTC)."""
    stamp = naive_utc(value)
    # Timestamp.value is nanoseconds whatever the unit: go through numpy instead
    return int(np.datetime64(stamp.to_datetime64(), "us").astype(np.int64))


@_parallel(0)
def _dense_lookup(keys: np.ndarray, table: np.ndarray, lo: int) -> np.ndarray:
    out = np.empty(keys.size, dtype=np.int64)
    span = table.size
    for i in prange(keys.size):
        k = keys[i] - lo
        out[i] = table[k] if 0 <= k < span else -1
    return out


def codes_for(keys: pd.Series | np.ndarray, universe: pd.Series | np.ndarray) -> np.ndarray:
    """Position of each key in ``universe`` (``-1`` when absent), as ``int64``.

    Integer ids over a dense range use a direct lookup table (50M keys in a
    fraction of a second); anything else goes through a hash index.
    """
    keys_arr = np.asarray(keys) if not isinstance(keys, pd.Series) else keys.to_numpy()
    uni_arr = np.asarray(universe) if not isinstance(universe, pd.Series) else universe.to_numpy()
    if (
        keys_arr.dtype.kind in "iu"
        and uni_arr.dtype.kind in "iu"
        and uni_arr.size
        and keys_arr.size
    ):
        lo = int(uni_arr.min())
        hi = int(uni_arr.max())
        if hi - lo <= 4 * uni_arr.size + 1_000_000:
            table = np.full(hi - lo + 1, -1, dtype=np.int64)
            table[uni_arr.astype(np.int64) - lo] = np.arange(uni_arr.size, dtype=np.int64)
            return _dense_lookup(keys_arr.astype(np.int64, copy=False), table, lo)
    index = pd.Index(uni_arr)
    if keys_arr.dtype.kind in "iu" and index.dtype.kind not in "iu":
        index = pd.Index(uni_arr.astype(str))
        keys_arr = keys_arr.astype(str)
    elif keys_arr.dtype.kind not in "iu" and index.dtype.kind in "iu":
        index = pd.Index(uni_arr.astype(str))
        keys_arr = pd.Series(keys_arr).astype(str).to_numpy()
    return index.get_indexer(keys_arr).astype(np.int64)


@_parallel(0)
def _remap(codes: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    out = np.empty(codes.size, dtype=mapping.dtype)
    for i in prange(codes.size):
        c = codes[i]
        out[i] = mapping[c] if c >= 0 else -1
    return out


def vocab_codes(values: pd.Series, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Position of each value in the vocabulary (``-1`` for unknown or missing), as ``int8``/``int16``."""
    dtype = np.int8 if len(vocabulary) < 127 else np.int16
    if len(values) == 0:
        return np.empty(0, dtype=dtype)
    if isinstance(values.dtype, pd.CategoricalDtype):
        mapping = pd.Index(list(vocabulary)).get_indexer(values.cat.categories.astype(str))
        return _remap(values.cat.codes.to_numpy(), mapping.astype(dtype))
    pa_array = getattr(values.array, "_pa_array", None)
    if pa_array is None:
        text = values.astype("str")
        pa_array = getattr(text.array, "_pa_array", None)
        if pa_array is None:  # "str" backed by Python objects
            pa_array = pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.string())
    value_set = pa.array(list(vocabulary), type=pa.string())

    def codes(piece: pa.ChunkedArray | pa.Array) -> np.ndarray:
        index = pc.index_in(piece, value_set=value_set).fill_null(-1)
        return index.to_numpy().astype(dtype)

    # hashing tens of millions of strings is the slow part: pyarrow releases the
    # GIL, so slices are coded on all cores at once
    n_pieces = min(os.cpu_count() or 1, max(1, len(pa_array) // 1_000_000))
    if n_pieces == 1:
        return codes(pa_array)
    bounds = np.linspace(0, len(pa_array), n_pieces + 1).astype(np.int64)
    with ThreadPoolExecutor(max_workers=n_pieces) as pool:
        parts = pool.map(
            lambda i: codes(pa_array.slice(bounds[i], bounds[i + 1] - bounds[i])), range(n_pieces)
        )
        return np.concatenate(list(parts))


# --- CSR layout -----------------------------------------------------------------
class Csr:
    """Rows grouped by code and sorted by time: ``offsets`` plus the sorted columns."""

    __slots__ = ("offsets", "ts", "codes", "owner")

    def __init__(
        self, offsets: np.ndarray, ts: np.ndarray, codes: np.ndarray, owner: np.ndarray
    ) -> None:
        self.offsets = offsets
        self.ts = ts
        self.codes = codes
        self.owner = owner


@njit(cache=True)
def _counting_order(
    group: np.ndarray, ts: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Stable counting sort by group code; rows with code < 0 or no time are dropped."""
    counts = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(group.size):
        g = group[i]
        if g >= 0 and ts[i] != _NAT:
            counts[g + 1] += 1
    for g in range(n_groups):
        counts[g + 1] += counts[g]
    offsets = counts.copy()
    fill = counts[:-1].copy()
    order = np.empty(offsets[n_groups], dtype=np.int64)
    for i in range(group.size):
        g = group[i]
        if g >= 0 and ts[i] != _NAT:
            order[fill[g]] = i
            fill[g] += 1
    return order, offsets


@_parallel(1)
def _take(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty(order.size, dtype=values.dtype)
    for i in prange(order.size):
        out[i] = values[order[i]]
    return out


@_parallel(1)
def _sort_segments(
    offsets: np.ndarray, ts: np.ndarray, codes: np.ndarray, owner: np.ndarray
) -> None:
    """Sort each group's rows by time, in place (most inputs are already sorted).

    ``codes`` and ``owner`` follow the times; either may be empty (not carried).
    """
    n_groups = offsets.size - 1
    carry_codes = codes.size > 0
    carry_owner = owner.size > 0
    for g in prange(n_groups):
        lo = offsets[g]
        hi = offsets[g + 1]
        in_order = True
        for i in range(lo + 1, hi):
            if ts[i] < ts[i - 1]:
                in_order = False
                break
        if not in_order:
            idx = np.argsort(ts[lo:hi], kind="mergesort")
            ts[lo:hi] = ts[lo:hi][idx]
            if carry_codes:
                codes[lo:hi] = codes[lo:hi][idx]
            if carry_owner:
                owner[lo:hi] = owner[lo:hi][idx]


def csr_by(
    group: np.ndarray,
    n_groups: int,
    ts: np.ndarray,
    codes: np.ndarray | None = None,
    owner: np.ndarray | None = None,
) -> Csr:
    """Group rows by ``group`` (``-1`` and missing times dropped) and sort each group by time.

    ``codes`` (e.g. event types) and ``owner`` (e.g. lead codes) are carried
    along when given; otherwise the Csr holds empty arrays for them.
    """
    order, offsets = _counting_order(np.asarray(group, dtype=np.int64), ts, n_groups)
    sorted_ts = _take(ts, order)
    sorted_codes = _take(codes, order) if codes is not None else np.empty(0, dtype=np.int8)
    sorted_owner = (
        _take(np.asarray(owner, dtype=np.int64), order)
        if owner is not None
        else np.empty(0, dtype=np.int64)
    )
    _sort_segments(offsets, sorted_ts, sorted_codes, sorted_owner)
    return Csr(offsets, sorted_ts, sorted_codes, sorted_owner)


@njit(cache=True)
def _first_at_or_after(ts: np.ndarray, lo: int, hi: int, t: np.int64) -> int:
    """Smallest i in [lo, hi) with ts[i] >= t (hi when none): ``searchsorted(side='left')``."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if ts[mid] < t:
            lo = mid + 1
        else:
            hi = mid
    return lo


# Shared steps of the per-type kernels (events of a lead, signals of an account), inlined
# into each at compile time.
@njit(cache=True, inline="always")
def _rows_before(
    offsets: np.ndarray, ts: np.ndarray, g: int, a: np.int64, local: np.ndarray, recent: np.ndarray
) -> tuple[int, int]:
    """Group ``g``'s rows before ``a`` (``lo``, ``end``), with the snapshot's counts cleared."""
    local[:] = 0
    recent[:] = np.nan
    lo = offsets[g]
    return lo, _first_at_or_after(ts, lo, offsets[g + 1], a)


@njit(cache=True, inline="always")
def _count_type(
    local: np.ndarray, recent: np.ndarray, c: int, age: np.int64, windows_us: np.ndarray
) -> None:
    """A row of type ``c``, ``age`` µs old, walked most recent first: the type's recency
    (the first one seen) and its count in every window that holds it."""
    if np.isnan(recent[c]):
        recent[c] = age / DAY_US
    n_windows = windows_us.size
    if n_windows > 0 and age <= windows_us[n_windows - 1]:
        base = c * n_windows
        for w in range(n_windows):
            if age <= windows_us[w]:
                local[base + w] += 1


@njit(cache=True, inline="always")
def _store_types(
    counts: np.ndarray, days_since: np.ndarray, local: np.ndarray, recent: np.ndarray, s: int
) -> None:
    """Snapshot ``s``'s counts per type x window and recency per type, into the outputs."""
    for j in range(local.size):
        counts[j, s] = local[j]
    for j in range(recent.size):
        days_since[j, s] = recent[j]


# --- kernels ----------------------------------------------------------------------
@_parallel(4)
def event_kernel(
    offsets: np.ndarray,
    ev_ts: np.ndarray,
    ev_type: np.ndarray,
    snap_group: np.ndarray,
    snap_asof: np.ndarray,
    windows_us: np.ndarray,
    n_types: int,
    engaging: np.ndarray,
    touch_code: int,
    decay_per_day: float,
    counts: np.ndarray,
    days_since: np.ndarray,
    extra: np.ndarray,
) -> None:
    """One pass over each snapshot's past events (``ts < as_of``), most recent first.

    Outputs are feature-major (one row per feature, one column per snapshot:
    pandas' own block layout, so nothing is transposed later):
    ``counts[type * n_windows + w, s]`` (events with ``as_of - ts <= window``),
    ``days_since[type, s]`` (NaN if never) and ``extra[:, s]``:
    0 active days in 90 days, 1 decayed engagement, 2 engagement trend
    (n7 - n(7,30] * 7/23), 3 first sales touch (µs, NaN if none),
    4 days since the last engaging event.
    ``engaging[type]`` says which types count as the lead's own engagement.
    """
    n_counts = n_types * windows_us.size
    week = 7 * DAY_US
    month = 30 * DAY_US
    quarter = 90 * DAY_US
    n = snap_asof.size
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for chunk in prange(n_chunks):
        local = np.zeros(n_counts, dtype=np.int32)
        recent = np.empty(n_types)
        for s in range(chunk * _CHUNK, min(n, (chunk + 1) * _CHUNK)):
            g = snap_group[s]
            if g < 0:
                continue
            a = snap_asof[s]
            lo, end = _rows_before(offsets, ev_ts, g, a, local, recent)
            active_days = 0
            last_day = np.int64(_NAT)
            decayed = 0.0
            n7 = 0
            n23 = 0
            first_touch = np.int64(_NAT)
            last_engaged = -1.0
            for i in range(end - 1, lo - 1, -1):
                t = ev_ts[i]
                age = a - t
                c = ev_type[i]
                if c < 0:
                    continue
                _count_type(local, recent, c, age, windows_us)
                if c == touch_code:
                    first_touch = t
                if engaging[c]:
                    age_days = age / DAY_US
                    if last_engaged < 0:
                        last_engaged = age_days
                    decayed += np.exp(-decay_per_day * age_days)
                    if age <= week:
                        n7 += 1
                    elif age <= month:
                        n23 += 1
                    if age <= quarter:
                        day = t // DAY_US
                        if day != last_day:
                            active_days += 1
                            last_day = day
            _store_types(counts, days_since, local, recent, s)
            extra[0, s] = active_days
            extra[1, s] = decayed
            extra[2, s] = n7 - n23 * 7.0 / 23.0
            extra[3, s] = np.nan if first_touch == _NAT else float(first_touch)
            extra[4, s] = np.nan if last_engaged < 0 else last_engaged


@_parallel(4)
def signal_kernel(
    offsets: np.ndarray,
    sig_ts: np.ndarray,
    sig_type: np.ndarray,
    snap_group: np.ndarray,
    snap_asof: np.ndarray,
    windows_us: np.ndarray,
    counts: np.ndarray,
    days_since: np.ndarray,
    days_since_any: np.ndarray,
) -> None:
    """Intent signals of each snapshot's account before ``as_of``: counts per type x window, recency.

    Feature-major outputs like :func:`event_kernel`: ``counts[type * n_windows + w, s]``,
    ``days_since[type, s]``, ``days_since_any[s]``.
    """
    n_types = days_since.shape[0]
    n = snap_asof.size
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for chunk in prange(n_chunks):
        local = np.zeros(n_types * windows_us.size, dtype=np.int32)
        recent = np.empty(n_types)
        for s in range(chunk * _CHUNK, min(n, (chunk + 1) * _CHUNK)):
            g = snap_group[s]
            if g < 0:
                continue
            a = snap_asof[s]
            lo, end = _rows_before(offsets, sig_ts, g, a, local, recent)
            if end > lo:
                days_since_any[s] = (a - sig_ts[end - 1]) / DAY_US
            for i in range(end - 1, lo - 1, -1):
                age = a - sig_ts[i]
                c = sig_type[i]
                if c < 0:
                    continue
                _count_type(local, recent, c, age, windows_us)
            _store_types(counts, days_since, local, recent, s)


@_parallel(1)
def account_kernel(
    snap_lead: np.ndarray,
    snap_asof: np.ndarray,
    lead_account: np.ndarray,
    lead_created: np.ndarray,
    acc_offsets: np.ndarray,
    acc_leads: np.ndarray,
    ev_offsets: np.ndarray,
    ev_ts: np.ndarray,
    other_leads: np.ndarray,
    other_events: np.ndarray,
) -> None:
    """Other leads of the account created before ``as_of``, and their events in the last 30 days.

    ``acc_leads[acc_offsets[a]:acc_offsets[a + 1]]`` are the lead codes of
    account ``a`` by creation time; each one's events are found by binary
    search in the (lead, ts) layout, so an account costs O(its leads x log).
    """
    month = 30 * DAY_US
    for s in prange(snap_asof.size):
        lead = snap_lead[s]
        acc = lead_account[lead] if lead >= 0 else -1
        if acc < 0:
            other_leads[s] = np.nan
            other_events[s] = np.nan
            continue
        a = snap_asof[s]
        n_leads = 0
        n_events = 0
        for j in range(acc_offsets[acc], acc_offsets[acc + 1]):
            other = acc_leads[j]
            if lead_created[other] >= a:
                break
            if other == lead:
                continue
            n_leads += 1
            hi = ev_offsets[other + 1]
            start = _first_at_or_after(ev_ts, ev_offsets[other], hi, a - month)
            n_events += _first_at_or_after(ev_ts, start, hi, a) - start
        other_leads[s] = n_leads
        other_events[s] = n_events


# --- categoricals ---------------------------------------------------------------------
# Up to this many values, categories are found in Python: pandas' conversion to str and its
# factorize cost ~0.5 ms a column whatever the size, most of a served lead's feature time.
FEW_VALUES = 64


def as_category(values: pd.Series | None, n: int) -> pd.Categorical:
    """String categories (missing stays missing); an absent column is all-missing."""
    if values is None:
        return pd.Categorical.from_codes(
            np.full(n, -1, dtype=np.int8), categories=pd.Index([], dtype="str")
        )
    if isinstance(values.dtype, pd.CategoricalDtype):
        cat = values.array.rename_categories(values.cat.categories.astype("str"))  # type: ignore[union-attr]
        return cat.set_categories(sorted(cat.categories))
    if len(values) <= FEW_VALUES:
        return _few_as_category(values)
    return pd.Categorical(values.astype("str"))


def _few_as_category(values: pd.Series) -> pd.Categorical:
    """``pd.Categorical(values.astype("str"))`` for a few values, without pandas' fixed costs:
    each present value as ``str()``, categories sorted (tested equal to pandas' path)."""
    texts = [None if v is None or v is pd.NA or v != v else str(v) for v in values.tolist()]
    categories = sorted({t for t in texts if t is not None})
    code = {t: i for i, t in enumerate(categories)}
    codes = np.array([-1 if t is None else code[t] for t in texts], dtype=np.int8)
    return pd.Categorical.from_codes(codes, dtype=text_categories(tuple(categories)))


@functools.lru_cache(maxsize=256)
def text_categories(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    """The (unordered) dtype of these text categories, built once: pandas checks the
    categories every time a dtype is built (~0.2 ms), which a served lead paid for each of
    its categorical columns, request after request."""
    return pd.CategoricalDtype(pd.Index(list(categories), dtype="str"))


def take_category(cat: pd.Categorical, rows: np.ndarray) -> pd.Categorical:
    """``cat[rows]`` (``rows == -1`` gives a missing value), keeping only the categories present.

    Categories stay sorted; keeping only those present means the dtype never
    depends on rows outside ``rows`` (a lead created later adds no category).
    """
    codes = np.asarray(cat.codes).astype(np.int32)
    if codes.size == 0 or len(cat.categories) == 0:
        return pd.Categorical.from_codes(
            np.full(rows.size, -1, dtype=np.int32), categories=cat.categories[:0]
        )
    taken = np.where(rows >= 0, codes[np.maximum(rows, 0)], -1)
    used = np.bincount(taken[taken >= 0], minlength=len(cat.categories)) > 0
    remap = np.full(len(cat.categories), -1, dtype=np.int32)
    remap[used] = np.arange(int(used.sum()), dtype=np.int32)
    new = np.where(taken >= 0, remap[np.maximum(taken, 0)], -1)
    if used.all() and not cat.ordered:
        # all of them used (one lead takes its own values): the same, already checked, dtype
        return pd.Categorical.from_codes(new, dtype=cat.dtype)
    categories = cat.categories[used]
    if categories.dtype == "str" and len(categories) <= FEW_VALUES:
        return pd.Categorical.from_codes(new, dtype=text_categories(tuple(categories.tolist())))
    return pd.Categorical.from_codes(new, categories=categories)


def take_float(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values[rows]`` as float64 where ``rows == -1`` gives NaN."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return np.full(rows.size, np.nan)
    return np.where(rows >= 0, values[np.maximum(rows, 0)], np.nan)


def _norm(text: str) -> str:
    return str(text).strip().lower().replace(" ", "_").replace("-", "_")


def membership(cat: pd.Categorical, allowed: tuple[str, ...]) -> np.ndarray:
    """1.0 if the (normalised) value is in ``allowed``, 0.0 if not, NaN if missing."""
    allowed_norm = {_norm(a) for a in allowed}
    hits = np.array([_norm(c) in allowed_norm for c in cat.categories], dtype=np.float64)
    codes = np.asarray(cat.codes)
    if hits.size == 0:
        return np.full(codes.size, np.nan)
    return np.where(codes >= 0, hits[np.maximum(codes, 0)], np.nan)


def both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Three-valued AND: 0 if either is 0, 1 if both are 1, NaN otherwise."""
    out = np.where((a == 1) & (b == 1), 1.0, np.nan)
    return np.where((a == 0) | (b == 0), 0.0, out)


@_parallel(3)
def next_time_kernel(
    offsets: np.ndarray,
    ts: np.ndarray,
    snap_group: np.ndarray,
    snap_asof: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[s]`` = first time of group ``snap_group[s]`` at or after ``snap_asof[s]`` (INT64_MIN if none)."""
    for s in prange(snap_asof.size):
        g = snap_group[s]
        out[s] = _NAT
        if g < 0:
            continue
        hi = offsets[g + 1]
        i = _first_at_or_after(ts, offsets[g], hi, snap_asof[s])
        if i < hi:
            out[s] = ts[i]
