"""Labels: exact window edges, censoring, and nothing but the stage history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadml.data.io import Tables
from leadml.pointintime.labels import data_end_of, label_snapshots

DAY = pd.Timedelta(days=1)
US = pd.Timedelta(microseconds=1)
AS_OF = pd.Timestamp("2024-01-10")
STAGES = ("sql", "opportunity", "won")
END = pd.Timestamp("2025-01-01")


def _label(sql_at: pd.Timestamp, *, horizon: int = 90, end: pd.Timestamp = END) -> int:
    snaps = pd.DataFrame({"lead_id": [1], "as_of": [AS_OF]})
    outcomes = pd.DataFrame({"lead_id": [1], "stage": ["sql"], "ts": [sql_at]})
    frame = label_snapshots(
        snaps, outcomes, stages=STAGES, horizon_days=horizon, data_end=end
    ).frame
    return int(frame["label"].iloc[0])


def test_window_is_half_open_at_as_of_inside_at_as_of_plus_h_outside() -> None:
    assert _label(AS_OF) == 1
    assert _label(AS_OF + 90 * DAY - US) == 1
    assert _label(AS_OF + 90 * DAY) == 0
    assert _label(AS_OF - US) == 0  # before as_of: the lead was not open; never a positive


def test_only_target_stages_count_and_other_leads_never_do() -> None:
    snaps = pd.DataFrame({"lead_id": [1, 2], "as_of": [AS_OF, AS_OF]})
    outcomes = pd.DataFrame(
        {
            "lead_id": [1, 1, 3],
            "stage": ["mql", "lost", "sql"],
            "ts": [AS_OF + DAY, AS_OF + 2 * DAY, AS_OF + DAY],
        }
    )
    frame = label_snapshots(
        snaps, outcomes, stages=STAGES, horizon_days=90, data_end=AS_OF + 365 * DAY
    ).frame
    assert frame["label"].tolist() == [0, 0]
    assert frame["label"].dtype == np.int8
    won = label_snapshots(
        snaps,
        outcomes.assign(stage=["mql", "won", "sql"]),
        stages=("won",),
        horizon_days=180,
        data_end=AS_OF + 365 * DAY,
    ).frame
    assert won["label"].tolist() == [1, 0]


def test_censored_snapshots_are_dropped_and_counted_never_negative() -> None:
    snaps = pd.DataFrame(
        {"lead_id": [1, 2, 3], "as_of": [AS_OF, AS_OF + 10 * DAY, AS_OF + 11 * DAY]}
    )
    outcomes = pd.DataFrame({"lead_id": [3], "stage": ["sql"], "ts": [AS_OF + 12 * DAY]})
    end = AS_OF + 100 * DAY  # 1's window ends 10 days before; 2's exactly at the end; 3's after
    out = label_snapshots(snaps, outcomes, stages=STAGES, horizon_days=90, data_end=end)
    assert out.frame["lead_id"].tolist() == [1, 2]
    assert (
        out.censored == 1
    )  # lead 3 is censored although it did convert: no peeking at the survivors


def test_data_end_is_the_latest_timestamp_of_any_table() -> None:
    t = lambda *xs: pd.Series(pd.to_datetime(list(xs))).astype("datetime64[us]")  # noqa: E731
    tables = Tables(
        accounts=pd.DataFrame({"account_id": [1]}),
        leads=pd.DataFrame({"lead_id": [1], "account_id": [1], "created_at": t("2024-01-01")}),
        events=pd.DataFrame({"lead_id": [1], "ts": t("2024-05-01"), "event_type": ["blog_view"]}),
        intent=pd.DataFrame(
            {"account_id": [1], "ts": t("2024-06-01 12:00"), "signal_type": ["funding_round"]}
        ),
        outcomes=pd.DataFrame({"lead_id": [1], "stage": ["sql"], "ts": t("2024-02-01")}),
    )
    assert data_end_of(tables) == pd.Timestamp("2024-06-01 12:00")


@settings(max_examples=40, deadline=None)
@given(
    as_of_days=st.lists(st.integers(0, 400), min_size=1, max_size=30),
    sql_days=st.lists(st.integers(0, 500), max_size=30),
    end_days=st.integers(0, 500),
    horizon=st.integers(1, 200),
)
def test_censored_snapshots_never_appear(as_of_days, sql_days, end_days, horizon) -> None:
    n = len(as_of_days)
    snaps = pd.DataFrame(
        {"lead_id": np.arange(n) % 5, "as_of": [AS_OF + d * DAY for d in as_of_days]}
    )
    outcomes = pd.DataFrame(
        {
            "lead_id": np.arange(len(sql_days)) % 5,
            "stage": ["sql"] * len(sql_days),
            "ts": pd.Series([AS_OF + d * DAY for d in sql_days], dtype="datetime64[us]"),
        }
    )
    end = AS_OF + end_days * DAY
    out = label_snapshots(snaps, outcomes, stages=STAGES, horizon_days=horizon, data_end=end)
    assert (out.frame["as_of"] + horizon * DAY <= end).all()
    assert len(out.frame) + out.censored == n
    # every label agrees with a direct reading of the window
    for _, row in out.frame.iterrows():
        theirs = outcomes[(outcomes["lead_id"] == row["lead_id"])]["ts"]
        expected = bool(((theirs >= row["as_of"]) & (theirs < row["as_of"] + horizon * DAY)).any())
        assert row["label"] == expected


def test_horizon_must_be_positive() -> None:
    with pytest.raises(ValueError, match="horizon_days must be positive"):
        label_snapshots(
            pd.DataFrame({"lead_id": [1], "as_of": [AS_OF]}),
            pd.DataFrame({"lead_id": [], "stage": [], "ts": []}),
            stages=STAGES,
            horizon_days=0,
            data_end=AS_OF,
        )


def test_reached_at_is_the_first_target_time_at_or_after_as_of() -> None:
    snaps = pd.DataFrame({"lead_id": [1, 1, 2], "as_of": [AS_OF, AS_OF + 5 * DAY, AS_OF]})
    outcomes = pd.DataFrame(
        {
            "lead_id": [1, 1, 1, 2],
            "stage": ["sql", "won", "mql", "lost"],
            "ts": pd.Series(
                [AS_OF - DAY, AS_OF + 3 * DAY, AS_OF + DAY, AS_OF + DAY], dtype="datetime64[us]"
            ),
        }
    )
    out = label_snapshots(snaps, outcomes, stages=STAGES, horizon_days=4, data_end=END)
    assert out.frame["reached_at"].tolist() == [AS_OF + 3 * DAY, pd.NaT, pd.NaT]
    assert out.frame["label"].tolist() == [1, 0, 0]
    assert str(out.frame["reached_at"].dtype) == "datetime64[us]"
    assert out.censored == 0 and out.data_end == END
    # the snapshots' own columns and order are kept
    assert list(out.frame.columns) == ["lead_id", "as_of", "label", "reached_at"]


def test_a_fractional_horizon_is_exact_to_the_microsecond() -> None:
    half_day = 0.5
    assert _label(AS_OF + pd.Timedelta(hours=12) - US, horizon=half_day) == 1
    assert _label(AS_OF + pd.Timedelta(hours=12), horizon=half_day) == 0


def test_no_outcomes_at_all_gives_all_negatives() -> None:
    snaps = pd.DataFrame({"lead_id": [1, 2], "as_of": [AS_OF, AS_OF]})
    empty = pd.DataFrame(
        {
            "lead_id": pd.Series([], dtype=np.int64),
            "stage": [],
            "ts": pd.Series([], dtype="datetime64[us]"),
        }
    )
    out = label_snapshots(snaps, empty, stages=STAGES, horizon_days=90, data_end=END)
    assert out.frame["label"].tolist() == [0, 0]
    assert out.frame["reached_at"].isna().all()
    # outcomes, none of them a target stage
    mql = pd.DataFrame({"lead_id": [1], "stage": ["mql"], "ts": [AS_OF]})
    assert label_snapshots(snaps, mql, stages=STAGES, horizon_days=90, data_end=END).frame[
        "label"
    ].tolist() == [0, 0]


def test_a_missing_stage_is_not_a_target() -> None:
    snaps = pd.DataFrame({"lead_id": [1], "as_of": [AS_OF]})
    outcomes = pd.DataFrame(
        {"lead_id": [1], "stage": pd.Series([None], dtype="str"), "ts": [AS_OF]}
    )
    assert label_snapshots(snaps, outcomes, stages=STAGES, horizon_days=90, data_end=END).frame[
        "label"
    ].tolist() == [0]


def test_refusals_give_the_whole_message() -> None:
    with pytest.raises(ValueError, match=r"^target\.horizon_days must be positive; got -3$"):
        label_snapshots(
            pd.DataFrame({"lead_id": [1], "as_of": [AS_OF]}),
            pd.DataFrame({"lead_id": [], "stage": [], "ts": []}),
            stages=STAGES,
            horizon_days=-3,
            data_end=AS_OF,
        )
    empty = Tables(
        accounts=pd.DataFrame({"account_id": []}),
        leads=pd.DataFrame({"lead_id": [], "created_at": []}),
        events=pd.DataFrame({"lead_id": []}),  # no ts column at all
        intent=pd.DataFrame({"account_id": [], "ts": []}),
        outcomes=pd.DataFrame({"lead_id": [], "ts": []}),
    )
    with pytest.raises(
        ValueError,
        match=r"^cannot tell where the data ends: every table is empty or has no timestamps$",
    ):
        data_end_of(empty)


def test_data_end_ignores_tables_without_rows_or_timestamps() -> None:
    t = lambda *xs: pd.Series(pd.to_datetime(list(xs))).astype("datetime64[us]")  # noqa: E731
    tables = Tables(
        accounts=pd.DataFrame({"account_id": [1]}),
        leads=pd.DataFrame({"lead_id": [1, 2], "created_at": t("2024-01-01", "2024-03-05")}),
        events=pd.DataFrame({"lead_id": [1]}),
        intent=pd.DataFrame({"account_id": [], "ts": t()}),
        outcomes=pd.DataFrame({"lead_id": [1], "ts": t("2024-02-01")}),
    )
    assert data_end_of(tables) == pd.Timestamp("2024-03-05")


def test_bad_times_name_their_table_and_column() -> None:
    snaps = pd.DataFrame({"lead_id": [1], "as_of": ["whenever"]})
    outcomes = pd.DataFrame({"lead_id": [1], "stage": ["sql"], "ts": [AS_OF]})
    with pytest.raises(
        ValueError,
        match=r"^snapshots\.as_of: expected timestamps, got values such as \['whenever'\]$",
    ):
        label_snapshots(snaps, outcomes, stages=STAGES, horizon_days=90, data_end=END)
    snaps = pd.DataFrame({"lead_id": [1], "as_of": [AS_OF]})
    outcomes = pd.DataFrame({"lead_id": [1], "stage": ["sql"], "ts": ["soon"]})
    with pytest.raises(
        ValueError, match=r"^outcomes\.ts: expected timestamps, got values such as \['soon'\]$"
    ):
        label_snapshots(snaps, outcomes, stages=STAGES, horizon_days=90, data_end=END)
    tables = Tables(
        accounts=pd.DataFrame({"account_id": [1]}),
        leads=pd.DataFrame({"lead_id": [1], "created_at": [AS_OF]}),
        events=pd.DataFrame({"lead_id": [1], "ts": ["nope"]}),
        intent=pd.DataFrame({"account_id": [], "ts": []}),
        outcomes=pd.DataFrame({"lead_id": [], "ts": []}),
    )
    with pytest.raises(
        ValueError, match=r"^events\.ts: expected timestamps, got values such as \['nope'\]$"
    ):
        data_end_of(tables)
