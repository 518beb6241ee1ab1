"""Point-in-time features: the numba kernels against a plain pandas reference, and the
properties that make leakage impossible (future rows and row order never matter)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadml.config import ICP, EventDataset, FeatureSettings, Vocabularies
from leadml.data.io import Tables
from leadml.features import FeatureSpec, SpecError, build_features, event_catalogue
from leadml.features.fit import region_of

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2024-01-01")
EVENT_TYPES = (
    "pricing_view",
    "email_open",
    "demo_request",
    "sales_touch",
    "unsubscribe",
    "meeting",
)
SIGNAL_TYPES = ("funding_round", "hiring_surge")


def make_dataset(**features) -> EventDataset:
    tables = {
        name: {"file": name} for name in ("accounts", "leads", "events", "intent", "outcomes")
    }
    return EventDataset(
        tables=tables,
        vocabularies=Vocabularies(event_types=EVENT_TYPES, signal_types=SIGNAL_TYPES),
        icp=ICP(
            employees_min=200,
            employees_max=5000,
            industries=("software", "manufacturing"),
            target_seniority=("c_level", "vp"),
            target_departments=("it",),
            decision_maker_seniority=("c_level", "vp", "director"),
        ),
        features=FeatureSettings(**features),
    )


DATASET = make_dataset()


def _times(rng: np.random.Generator, n: int, days: float = 200) -> pd.Series:
    # whole minutes, so that coincidences (ties, exact window edges) happen
    minutes = rng.integers(0, int(days * 24 * 60), n)
    return pd.Series(T0 + pd.to_timedelta(minutes, unit="min")).astype("datetime64[us]")


def random_tables(
    seed: int, n_leads: int = 8, n_accounts: int = 3, n_events: int = 80, n_intent: int = 12
) -> Tables:
    """Small typed tables like ``leadml.data.schema.load_tables`` returns them."""
    rng = np.random.default_rng(seed)
    accounts = pd.DataFrame(
        {
            "account_id": np.arange(100, 100 + n_accounts, dtype=np.int64),
            "industry": pd.Series(
                rng.choice(["software", "retail", "Manufacturing", None], n_accounts), dtype="str"
            ),
            "employees": rng.choice([10.0, 250.0, 5000.0, 9000.0, np.nan], n_accounts),
            "annual_revenue": rng.choice([1e6, 2.5e7, np.nan], n_accounts),
            "country": pd.Series(
                rng.choice(["FR", "US", "JP", "Atlantis", None], n_accounts), dtype="str"
            ),
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": np.arange(1, n_leads + 1, dtype=np.int64),
            # one lead may point at an account that is not in the accounts table
            "account_id": rng.choice(np.arange(100, 101 + n_accounts), n_leads).astype(np.int64),
            "created_at": _times(rng, n_leads, days=120),
            "source": pd.Series(rng.choice(["referral", "outbound", None], n_leads), dtype="str"),
            "seniority": pd.Series(
                rng.choice(["c_level", "vp", "manager", None], n_leads), dtype="str"
            ),
            "department": pd.Series(rng.choice(["it", "finance", None], n_leads), dtype="str"),
            "email_status": pd.Series(rng.choice(["valid", "invalid", None], n_leads), dtype="str"),
        }
    )
    events = pd.DataFrame(
        {
            # lead 0 does not exist: its events must be ignored
            "lead_id": rng.integers(0, n_leads + 1, n_events).astype(np.int64),
            "ts": _times(rng, n_events),
            "event_type": pd.Series(rng.choice([*EVENT_TYPES, "mystery"], n_events), dtype="str"),
        }
    )
    intent = pd.DataFrame(
        {
            "account_id": rng.choice(np.arange(100, 100 + n_accounts), n_intent).astype(np.int64),
            "ts": _times(rng, n_intent),
            "signal_type": pd.Series(rng.choice(SIGNAL_TYPES, n_intent), dtype="str"),
            "strength": rng.uniform(0, 1, n_intent),
        }
    )
    outcomes = pd.DataFrame(
        {
            "lead_id": np.arange(1, n_leads + 1, dtype=np.int64)[: max(1, n_leads // 3)],
            "stage": pd.Series(["sql"] * max(1, n_leads // 3), dtype="str"),
            "ts": _times(rng, max(1, n_leads // 3)),
        }
    )
    return Tables(accounts=accounts, leads=leads, events=events, intent=intent, outcomes=outcomes)


def random_snapshots(tables: Tables, seed: int, n: int = 12) -> pd.DataFrame:
    """Snapshots at random times, at exact event times and exactly a window after an event."""
    rng = np.random.default_rng(seed + 1)
    leads = tables.leads["lead_id"].to_numpy()
    as_of = list(_times(rng, n // 2, days=230))
    known = tables.events[tables.events["lead_id"] > 0]
    for _ in range(n - len(as_of) if len(known) else 0):
        event = known.iloc[int(rng.integers(len(known)))]
        as_of.append(event["ts"] + DAY * int(rng.choice([0, 7, 30, 90])))
    lead_ids = rng.choice(leads, len(as_of))
    # some snapshots of the same lead at several as_of values
    return pd.DataFrame(
        {"lead_id": lead_ids.astype(np.int64), "as_of": pd.Series(as_of).astype("datetime64[us]")}
    )


# --- the plain pandas reference ------------------------------------------------------
def reference_features(
    tables: Tables, snapshots: pd.DataFrame, dataset: EventDataset
) -> pd.DataFrame:
    """Obvious, slow, per-snapshot pandas: what the kernels must reproduce."""
    fs = dataset.features
    engaging = [
        t
        for t in dataset.vocabularies.event_types
        if t not in {"unsubscribe", "email_bounce", fs.sales_touch_event}
    ]
    leads, events, intent, accounts = tables.leads, tables.events, tables.intent, tables.accounts
    rows = []
    for lead_id, as_of in zip(snapshots["lead_id"], snapshots["as_of"], strict=True):
        lead = leads[leads["lead_id"] == lead_id].iloc[0]
        created = lead["created_at"]
        past = events[(events["lead_id"] == lead_id) & (events["ts"] < as_of)]
        age = (as_of - past["ts"]) / DAY
        row: dict[str, float] = {}
        for t in dataset.vocabularies.event_types:
            a = age[past["event_type"] == t]
            for w in fs.event_windows_days:
                row[f"n_{t}_{w}d"] = int((a <= w).sum())
            row[f"days_since_{t}"] = a.min() if len(a) else np.nan
        is_engaging = past["event_type"].isin(engaging)
        a = age[is_engaging]
        row["active_days_90d"] = past["ts"][is_engaging & (age <= 90)].dt.floor("D").nunique()
        row["engagement_decayed"] = float(np.exp(-math.log(2) * a / fs.half_life_days).sum())
        row["engagement_trend"] = (a <= 7).sum() - ((a > 7) & (a <= 30)).sum() * 7 / 23
        row["lead_age_days"] = (as_of - created) / DAY
        touches = past["ts"][past["event_type"] == fs.sales_touch_event]
        row["hours_to_first_touch"] = (
            (touches.min() - created) / pd.Timedelta(hours=1) if len(touches) else np.nan
        )
        row["days_since_last_activity"] = a.min() if len(a) else np.nan
        account = lead["account_id"]
        signals = intent[(intent["account_id"] == account) & (intent["ts"] < as_of)]
        s_age = (as_of - signals["ts"]) / DAY
        for t in dataset.vocabularies.signal_types:
            a = s_age[signals["signal_type"] == t]
            for w in fs.intent_windows_days:
                row[f"n_{t}_{w}d"] = int((a <= w).sum())
            row[f"days_since_{t}"] = a.min() if len(a) else np.nan
        buying = s_age[~signals["signal_type"].isin(fs.passive_signals)]
        row["days_since_intent"] = buying.min() if len(buying) else np.nan
        if account in set(accounts["account_id"]):
            others = leads[
                (leads["account_id"] == account)
                & (leads["lead_id"] != lead_id)
                & (leads["created_at"] < as_of)
            ]
            theirs = events[
                events["lead_id"].isin(others["lead_id"])
                & (events["ts"] < as_of)
                & (events["ts"] >= as_of - 30 * DAY)
            ]
            row["account_other_leads"] = len(others)
            row["account_other_events_30d"] = len(theirs)
        else:
            row["account_other_leads"] = np.nan
            row["account_other_events_30d"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _assert_same(mine: pd.DataFrame, theirs: pd.DataFrame) -> None:
    for column in theirs.columns:
        np.testing.assert_allclose(
            mine[column].to_numpy(dtype=float),
            theirs[column].to_numpy(dtype=float),
            rtol=1e-9,
            atol=1e-9,
            equal_nan=True,
            err_msg=column,
        )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_leads=st.integers(1, 10), n_events=st.integers(0, 120))
def test_kernels_equal_the_pandas_reference(seed: int, n_leads: int, n_events: int) -> None:
    tables = random_tables(seed, n_leads=n_leads, n_events=n_events)
    if n_events == 0:
        tables = tables.replace(events=tables.events.iloc[:0])
    snapshots = random_snapshots(
        random_tables(seed, n_leads=n_leads, n_events=max(n_events, 1)), seed
    )
    mine = build_features(tables, snapshots, DATASET)
    _assert_same(mine, reference_features(tables, snapshots, DATASET))


def test_kernels_equal_the_reference_with_other_windows_and_half_life() -> None:
    dataset = make_dataset(
        event_windows_days=(1, 14), intent_windows_days=(365,), half_life_days=3.5
    )
    tables = random_tables(3, n_leads=12, n_events=300)
    snapshots = random_snapshots(tables, 3, n=30)
    mine = build_features(tables, snapshots, dataset)
    assert "n_pricing_view_14d" in mine and "n_funding_round_365d" in mine
    _assert_same(mine, reference_features(tables, snapshots, dataset))


def test_passive_signals_keep_their_counts_but_not_the_days_since_a_buying_signal() -> None:
    dataset = make_dataset(passive_signals=("hiring_surge",))
    tables = random_tables(5, n_leads=20, n_events=400)
    snapshots = random_snapshots(tables, 5, n=40)
    mine = build_features(tables, snapshots, dataset)
    _assert_same(mine, reference_features(tables, snapshots, dataset))
    everything = build_features(tables, snapshots, DATASET)
    # the passive type's own features are untouched ...
    passive = [c for c in mine if "hiring_surge" in c]
    assert len(passive) == 4
    pd.testing.assert_frame_equal(mine[passive], everything[passive])
    # ... and the days since a buying signal are those of the one buying type
    np.testing.assert_array_equal(mine["days_since_intent"], mine["days_since_funding_round"])
    later = mine["days_since_intent"].fillna(np.inf)  # no buying signal yet: never
    assert (later >= everything["days_since_intent"].fillna(np.inf)).all()
    assert (later > everything["days_since_intent"].fillna(np.inf)).any()


def test_parallel_kernels_equal_the_serial_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """Big inputs take the parallel twins; they must give the very same numbers."""
    from leadml.features import _kernels

    tables = random_tables(21, n_leads=40, n_accounts=6, n_events=2_000, n_intent=100)
    snapshots = random_snapshots(tables, 21, n=200)
    serial = build_features(tables, snapshots, DATASET)
    monkeypatch.setattr(_kernels, "PARALLEL_MIN_ITEMS", 0)
    pd.testing.assert_frame_equal(serial, build_features(tables, snapshots, DATASET))


@pytest.mark.parametrize("n", [1, 3, 200])
def test_a_few_rows_built_from_columns_equal_the_frames_path(
    monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    """Up to FEW_ROWS snapshots (a served lead) the output is put together from single
    columns: the very frame (dtypes, categories, order) the modules' frames give."""
    from leadml.features import build

    tables = random_tables(23, n_leads=40, n_accounts=6, n_events=2_000, n_intent=100)
    snapshots = random_snapshots(tables, 23, n=n)
    few = build_features(tables, snapshots, DATASET)
    monkeypatch.setattr(build, "FEW_ROWS", 0)
    pd.testing.assert_frame_equal(few, build_features(tables, snapshots, DATASET), check_exact=True)


# --- point in time ----------------------------------------------------------------------
def _future_rows(tables: Tables, at: pd.Timestamp, seed: int) -> Tables:
    """Rows at or after ``at`` in every table, and a new lead created then (with past events)."""
    rng = np.random.default_rng(seed)

    def later(n: int) -> pd.Series:
        minutes = rng.integers(0, 100_000, n)
        return pd.Series(at + pd.to_timedelta(minutes, unit="min")).astype("datetime64[us]")

    lead_ids = tables.leads["lead_id"].to_numpy()
    new_lead = pd.DataFrame(
        {
            "lead_id": np.array([999], dtype=np.int64),
            "account_id": tables.leads["account_id"].iloc[:1].to_numpy(),
            "created_at": later(1),
            "source": pd.Series(["referral"], dtype="str"),
            "seniority": pd.Series(["vp"], dtype="str"),
            "department": pd.Series(["it"], dtype="str"),
            "email_status": pd.Series(["valid"], dtype="str"),
        }
    )
    events = pd.DataFrame(
        {
            "lead_id": np.concatenate([rng.choice(lead_ids, 20), [999, 999]]).astype(np.int64),
            "ts": pd.concat(
                [later(20), pd.Series([at - DAY, at - 2 * DAY])], ignore_index=True
            ).astype("datetime64[us]"),
            "event_type": pd.Series(rng.choice(EVENT_TYPES, 22), dtype="str"),
        }
    )
    intent = pd.DataFrame(
        {
            "account_id": rng.choice(tables.accounts["account_id"], 5).astype(np.int64),
            "ts": later(5),
            "signal_type": pd.Series(rng.choice(SIGNAL_TYPES, 5), dtype="str"),
            "strength": np.ones(5),
        }
    )
    outcomes = pd.DataFrame(
        {
            "lead_id": rng.choice(lead_ids, 3).astype(np.int64),
            "stage": pd.Series(["won", "lost", "sql"], dtype="str"),
            "ts": pd.concat([later(2), pd.Series([at - DAY])], ignore_index=True).astype(
                "datetime64[us]"
            ),
        }
    )
    return tables.replace(
        leads=pd.concat([tables.leads, new_lead], ignore_index=True),
        events=pd.concat([tables.events, events], ignore_index=True),
        intent=pd.concat([tables.intent, intent], ignore_index=True),
        outcomes=pd.concat([tables.outcomes, outcomes], ignore_index=True),
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), which=st.integers(0, 11))
def test_rows_at_or_after_as_of_never_change_features(seed: int, which: int) -> None:
    tables = random_tables(seed)
    snapshot = random_snapshots(tables, seed).iloc[[which]].reset_index(drop=True)
    before = build_features(tables, snapshot, DATASET)
    after = build_features(_future_rows(tables, snapshot["as_of"].iloc[0], seed), snapshot, DATASET)
    pd.testing.assert_frame_equal(before, after)


def test_future_rows_change_nothing_for_a_whole_batch_of_as_of_values() -> None:
    tables = random_tables(11, n_leads=10, n_events=200)
    snapshots = random_snapshots(tables, 11, n=40)
    before = build_features(tables, snapshots, DATASET)
    after = build_features(_future_rows(tables, snapshots["as_of"].max(), 11), snapshots, DATASET)
    pd.testing.assert_frame_equal(before, after)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), shuffle_seed=st.integers(0, 10_000))
def test_shuffling_the_rows_of_any_table_never_changes_features(
    seed: int, shuffle_seed: int
) -> None:
    tables = random_tables(seed)
    snapshots = random_snapshots(tables, seed)
    rng = np.random.default_rng(shuffle_seed)
    shuffled = Tables(
        **{
            name: frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
            for name, frame in tables.items()
        }
    )
    pd.testing.assert_frame_equal(
        build_features(tables, snapshots, DATASET), build_features(shuffled, snapshots, DATASET)
    )


def test_window_edges_are_exact() -> None:
    """An event exactly 7 days before as_of is in the 7-day window; one at as_of is not seen."""
    tables = random_tables(0, n_leads=2, n_events=0)
    as_of = pd.Timestamp("2024-06-01 12:00")
    events = pd.DataFrame(
        {
            "lead_id": np.array([1, 1, 1, 1], dtype=np.int64),
            "ts": pd.Series(
                [
                    as_of - 7 * DAY,
                    as_of - 7 * DAY - pd.Timedelta(microseconds=1),
                    as_of,
                    as_of + DAY,
                ]
            ).astype("datetime64[us]"),
            "event_type": pd.Series(["pricing_view"] * 4, dtype="str"),
        }
    )
    tables = tables.replace(
        events=events, leads=tables.leads.assign(created_at=pd.Timestamp("2024-01-01"))
    )
    row = build_features(tables, pd.DataFrame({"lead_id": [1], "as_of": [as_of]}), DATASET).iloc[0]
    assert row["n_pricing_view_7d"] == 1
    assert row["n_pricing_view_30d"] == 2
    assert row["days_since_pricing_view"] == 7.0


def test_first_touch_is_missing_until_it_happens() -> None:
    tables = random_tables(0, n_leads=1, n_events=0)
    created = pd.Timestamp("2024-02-01 09:00")
    touch = created + pd.Timedelta(hours=63)
    tables = tables.replace(
        leads=tables.leads.assign(created_at=created),
        events=pd.DataFrame(
            {
                "lead_id": np.array([1], dtype=np.int64),
                "ts": pd.Series([touch]).astype("datetime64[us]"),
                "event_type": pd.Series(["sales_touch"], dtype="str"),
            }
        ),
    )
    snaps = pd.DataFrame({"lead_id": [1, 1], "as_of": [touch, touch + pd.Timedelta(seconds=1)]})
    out = build_features(tables, snaps, DATASET)
    assert np.isnan(out["hours_to_first_touch"].iloc[0])
    assert out["hours_to_first_touch"].iloc[1] == pytest.approx(63.0)
    # the rep's touch is not the lead's engagement
    assert np.isnan(out["days_since_last_activity"].iloc[1])
    assert out["engagement_decayed"].iloc[1] == 0


def test_fit_and_persona_flags_follow_the_icp() -> None:
    tables = random_tables(0, n_leads=3, n_accounts=3, n_events=0)
    accounts = tables.accounts.assign(
        industry=pd.Series(["Software", "retail", None], dtype="str"),
        employees=[1200.0, 10.0, np.nan],
        country=pd.Series(["FR", "us", None], dtype="str"),
    )
    leads = tables.leads.assign(
        account_id=np.array([100, 101, 102], dtype=np.int64),
        seniority=pd.Series(["c_level", "director", None], dtype="str"),
        department=pd.Series(["it", "it", "it"], dtype="str"),
    )
    tables = tables.replace(accounts=accounts, leads=leads)
    snaps = pd.DataFrame({"lead_id": [1, 2, 3], "as_of": [pd.Timestamp("2025-01-01")] * 3})
    out = build_features(tables, snaps, DATASET)
    assert out["size_in_range"].tolist()[:2] == [1.0, 0.0] and np.isnan(
        out["size_in_range"].iloc[2]
    )
    assert out["industry_match"].tolist()[:2] == [1.0, 0.0]
    assert out["icp_match"].tolist()[:2] == [1.0, 0.0] and np.isnan(out["icp_match"].iloc[2])
    assert out["log_employees"].iloc[0] == pytest.approx(math.log1p(1200))
    assert out["region"].tolist()[:2] == ["europe", "north_america"]
    assert out["decision_maker"].tolist()[:2] == [1.0, 1.0] and np.isnan(
        out["decision_maker"].iloc[2]
    )
    # director decides, but is not a target seniority
    assert out["persona_match"].tolist()[:2] == [1.0, 0.0]
    assert str(out["industry"].dtype) == "category"


def test_region_of_codes_and_names() -> None:
    assert region_of("FR") == "europe"
    assert region_of("United States") == "north_america"
    assert region_of("Atlantis") == "other"
    assert region_of(None) is None


def test_output_columns_are_the_catalogue_in_order_and_rows_follow_snapshots() -> None:
    tables = random_tables(5)
    snapshots = random_snapshots(tables, 5).iloc[::-1].reset_index(drop=True)
    out = build_features(tables, snapshots, DATASET)
    assert list(out.columns) == ["lead_id", "as_of", *event_catalogue(DATASET).names]
    assert out["lead_id"].tolist() == snapshots["lead_id"].tolist()
    assert (out["as_of"] == snapshots["as_of"]).all()


def test_string_ids_work_like_integer_ids() -> None:
    tables = random_tables(7)
    as_text = Tables(
        accounts=tables.accounts.assign(account_id=tables.accounts["account_id"].astype(str)),
        leads=tables.leads.assign(
            lead_id="L" + tables.leads["lead_id"].astype(str),
            account_id=tables.leads["account_id"].astype(str),
        ),
        events=tables.events.assign(lead_id="L" + tables.events["lead_id"].astype(str)),
        intent=tables.intent.assign(account_id=tables.intent["account_id"].astype(str)),
        outcomes=tables.outcomes.assign(lead_id="L" + tables.outcomes["lead_id"].astype(str)),
    )
    snapshots = random_snapshots(tables, 7)
    numbers = build_features(tables, snapshots, DATASET).drop(columns="lead_id")
    text = build_features(
        as_text, snapshots.assign(lead_id="L" + snapshots["lead_id"].astype(str)), DATASET
    )
    pd.testing.assert_frame_equal(numbers, text.drop(columns="lead_id"))


def test_unknown_snapshot_leads_are_named() -> None:
    tables = random_tables(1)
    with pytest.raises(
        ValueError, match=r"snapshots: 1 lead_id values are not in the leads table, e\.g\. \[4242\]"
    ):
        build_features(tables, pd.DataFrame({"lead_id": [4242], "as_of": [T0]}), DATASET)


# --- the feature spec ---------------------------------------------------------------------------
def _frame_for_spec() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": [1, 2, 3, 4],
            "as_of": pd.to_datetime(["2024-01-01"] * 4),
            "source": pd.Categorical(["referral", "outbound", "webinar", None]),
            "employees": [10, 200, np.nan, 4],
        }
    )


def _spec_catalogue():
    return event_catalogue(DATASET).select(["source", "employees"])


def test_spec_categories_come_from_the_train_rows_only_and_unseen_values_are_counted() -> None:
    frame = _frame_for_spec()
    spec = FeatureSpec.from_frame(
        frame, _spec_catalogue(), fit_rows=np.array([True, True, False, False])
    )
    assert spec["source"].categories == ("outbound", "referral")
    X, unseen = spec.apply(frame)
    assert list(X.columns) == ["source", "employees"]
    assert X["employees"].dtype == np.float64
    assert list(X["source"].cat.categories) == ["outbound", "referral"]
    assert X["source"].isna().tolist() == [False, False, True, True]
    assert unseen == {"source": {"count": 1, "examples": ["webinar"]}}


def test_spec_round_trips_through_json() -> None:
    spec = FeatureSpec.from_frame(_frame_for_spec(), _spec_catalogue(), fit_rows=slice(None))
    again = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    X1, _ = spec.apply(_frame_for_spec())
    X2, _ = again.apply(_frame_for_spec())
    pd.testing.assert_frame_equal(X1, X2)


def test_a_few_rows_model_matrix_equals_the_pieces_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to FEW_ROWS rows the model matrix is built from columns in spec order: the very
    frame (dtypes, categories, index) the concatenated pieces give, whatever the input dtypes."""
    from leadml.features import spec as spec_module

    catalogue = event_catalogue(DATASET).select(
        ["source", "employees", "seniority", "n_email_open_7d", "decision_maker", "log_employees"]
    )
    frame = pd.DataFrame(
        {
            "lead_id": [1, 2, 3, 4],
            "as_of": pd.to_datetime(["2024-01-01"] * 4),
            "source": pd.Categorical(["referral", "outbound", "webinar", None]),
            "employees": [10, 200, np.nan, 4],
            "seniority": pd.Series(["vp", None, "c_level", "intern"], dtype="str"),
            "n_email_open_7d": np.array([0, 3, 1, 2], dtype=np.int32),
            "decision_maker": pd.array([True, False, None, True], dtype="boolean"),
            "log_employees": ["1.5", None, "2", "x"],
        },
        index=[10, 11, 12, 13],
    )
    spec = FeatureSpec.from_frame(
        frame.assign(log_employees=1.0), catalogue, fit_rows=np.array([True, True, False, False])
    )
    rows = frame.assign(log_employees=["1.5", None, "2", "2.5"])
    for part in (rows, rows.iloc[[2]]):
        few, few_unseen = spec.apply(part)
        monkeypatch.setattr(spec_module, "FEW_ROWS", 0)
        pieces, pieces_unseen = spec.apply(part)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(few, pieces, check_exact=True)
        assert few_unseen == pieces_unseen
    assert few_unseen["source"] == {"count": 1, "examples": ["webinar"]}
    with pytest.raises(SpecError, match="log_employees"):
        spec.apply(frame)


def test_spec_errors_show_a_diff_of_the_column_names() -> None:
    spec = FeatureSpec.from_frame(_frame_for_spec(), _spec_catalogue(), fit_rows=slice(None))
    frame = _frame_for_spec().drop(columns="employees").assign(headcount=1)
    with pytest.raises(
        SpecError, match=r"missing \(1\): \['employees'\]\n  unexpected \(1\): \['headcount'\]"
    ):
        spec.apply(frame)
    spec.apply(_frame_for_spec().assign(extra=1))  # extra columns are ignored unless strict
    with pytest.raises(SpecError, match=r"unexpected \(1\): \['extra'\]"):
        spec.apply(_frame_for_spec().assign(extra=1), strict=True)


def test_spec_rejects_text_in_a_numeric_feature() -> None:
    spec = FeatureSpec.from_frame(_frame_for_spec(), _spec_catalogue(), fit_rows=slice(None))
    with pytest.raises(
        SpecError, match=r"feature 'employees' must be numeric; 1 values are not, e\.g\. \['many'\]"
    ):
        spec.apply(_frame_for_spec().assign(employees=["1", "2", "many", None]))
