"""Snapshots: when leads are looked at, and only while they are open."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.pointintime.snapshots import first_closed_at, scoring_snapshots, training_snapshots

DAY = pd.Timedelta(days=1)


def _leads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": np.array([1, 2, 3], dtype=np.int64),
            "account_id": np.array([10, 10, 11], dtype=np.int64),
            "created_at": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-03-01"]).astype(
                "datetime64[us]"
            ),
        }
    )


def _outcomes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": np.array([1, 1, 2], dtype=np.int64),
            # lead 1: MQL (still open) then SQL exactly at age 7 days; lead 2 lost at age 20
            "stage": pd.Series(["mql", "sql", "lost"], dtype="str"),
            "ts": pd.to_datetime(["2024-01-02", "2024-01-08", "2024-01-21"]).astype(
                "datetime64[us]"
            ),
        }
    )


def test_training_snapshots_stop_when_the_lead_closes_and_before_the_data_end() -> None:
    snaps = training_snapshots(
        _leads(), _outcomes(), ages_days=(0, 3, 7, 14, 30, 60), data_end=pd.Timestamp("2024-03-20")
    )
    ages = snaps.groupby("lead_id")["age_days"].apply(list).to_dict()
    # lead 1: the SQL at exactly age 7 is not known at as_of (ts < as_of is what is known):
    # the age-7 snapshot exists and its label window [as_of, as_of + H) holds the SQL
    assert ages[1] == [0.0, 3.0, 7.0]
    # lead 2: lost at age 20, so ages 0..14
    assert ages[2] == [0.0, 3.0, 7.0, 14.0]
    # lead 3: created 2024-03-01, data ends 2024-03-20 (as_of must be before it)
    assert ages[3] == [0.0, 3.0, 7.0, 14.0]
    row = snaps[(snaps["lead_id"] == 1) & (snaps["age_days"] == 7)].iloc[0]
    assert row["as_of"] == pd.Timestamp("2024-01-08")
    assert str(snaps["as_of"].dtype) == "datetime64[us]"


def test_scoring_snapshots_are_the_open_leads_that_exist() -> None:
    at = pd.Timestamp("2024-01-08")
    snaps = scoring_snapshots(_leads(), _outcomes(), as_of=at)
    # 1 closes exactly at as_of -> still open; 2 open; 3 not created yet
    assert snaps["lead_id"].tolist() == [1, 2]
    assert (snaps["as_of"] == at).all()
    later = scoring_snapshots(_leads(), _outcomes(), as_of=at + pd.Timedelta(microseconds=1))
    assert later["lead_id"].tolist() == [2]
    # a lead exists from its creation instant on, like the age-0 training snapshot
    assert scoring_snapshots(_leads(), _outcomes(), as_of="2024-03-01")["lead_id"].tolist() == [3]


def test_scoring_as_of_with_a_time_zone_is_read_as_utc() -> None:
    paris = pd.Timestamp("2024-01-08 01:00", tz="Europe/Paris")  # 2024-01-08 00:00 UTC
    snaps = scoring_snapshots(_leads(), _outcomes(), as_of=paris)
    assert snaps["lead_id"].tolist() == [1, 2]
    assert snaps["as_of"].iloc[0] == pd.Timestamp("2024-01-08")


def test_closed_stages_are_configurable() -> None:
    snaps = scoring_snapshots(_leads(), _outcomes(), as_of="2024-02-01", closed_stages=("won",))
    assert snaps["lead_id"].tolist() == [1, 2]
    closed = first_closed_at(_leads(), _outcomes())
    assert closed.tolist()[:2] == [pd.Timestamp("2024-01-08"), pd.Timestamp("2024-01-21")]
    assert pd.isna(closed.iloc[2])


def test_bad_ages_are_refused() -> None:
    with pytest.raises(ValueError, match="ages_days must be >= 0"):
        training_snapshots(
            _leads(), _outcomes(), ages_days=(-1,), data_end=pd.Timestamp("2025-01-01")
        )


def test_refusals_give_the_whole_message() -> None:
    with pytest.raises(
        ValueError,
        match=r"^snapshots\.ages_days is empty: give at least one age, e\.g\. \[0, 7, 30\]$",
    ):
        training_snapshots(_leads(), _outcomes(), ages_days=(), data_end=pd.Timestamp("2025-01-01"))
    with pytest.raises(ValueError, match=r"^snapshots\.ages_days must be >= 0; got \[3, -1\]$"):
        training_snapshots(
            _leads(), _outcomes(), ages_days=(3, -1), data_end=pd.Timestamp("2025-01-01")
        )


def test_ages_are_deduplicated_sorted_and_may_be_fractional() -> None:
    snaps = training_snapshots(
        _leads().iloc[:1],
        _outcomes().iloc[:0],
        ages_days=(3, 0.5, 0, 3),
        data_end=pd.Timestamp("2025-01-01"),
    )
    assert snaps["age_days"].tolist() == [0.0, 0.5, 3.0]
    assert snaps["as_of"].tolist() == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-01-01 12:00"),
        pd.Timestamp("2024-01-04"),
    ]
    assert list(snaps.columns) == ["lead_id", "as_of", "age_days"]
    assert snaps["lead_id"].dtype == np.int64


def test_a_snapshot_exactly_at_the_data_end_is_not_taken() -> None:
    end = pd.Timestamp("2024-03-15")  # lead 3 (created 03-01) reaches age 14 exactly at the end
    snaps = training_snapshots(_leads(), _outcomes(), ages_days=(0, 14), data_end=end)
    assert snaps[snaps["lead_id"] == 3]["age_days"].tolist() == [0.0]
    later = training_snapshots(
        _leads(), _outcomes(), ages_days=(0, 14), data_end=end + pd.Timedelta(microseconds=1)
    )
    assert later[later["lead_id"] == 3]["age_days"].tolist() == [0.0, 14.0]


def test_leads_without_creation_time_and_outcomes_of_unknown_leads_are_ignored() -> None:
    leads = _leads()
    leads.loc[1, "created_at"] = pd.NaT
    outcomes = pd.concat(
        [
            _outcomes(),
            pd.DataFrame(
                {
                    "lead_id": np.array([99, 3], dtype=np.int64),
                    "stage": pd.Series(["sql", "won"], dtype="str"),
                    "ts": pd.Series([pd.Timestamp("2024-01-02"), pd.NaT]).astype("datetime64[us]"),
                }
            ),
        ],
        ignore_index=True,
    )
    snaps = training_snapshots(
        leads, outcomes, ages_days=(0, 30), data_end=pd.Timestamp("2024-06-01")
    )
    assert snaps.groupby("lead_id")["age_days"].apply(list).to_dict() == {1: [0.0], 3: [0.0, 30.0]}
    scoring = scoring_snapshots(leads, outcomes, as_of="2024-03-02")
    assert scoring["lead_id"].tolist() == [3]
    closed = first_closed_at(leads, outcomes)
    assert closed.name == "closed_at" and list(closed.index) == list(leads.index)
    assert pd.isna(closed.iloc[2])  # a won stage without a time closes nothing


def test_the_first_closed_stage_wins_and_open_stages_never_close() -> None:
    outcomes = pd.DataFrame(
        {
            "lead_id": np.array([1, 1, 1, 2], dtype=np.int64),
            "stage": pd.Series(["won", "sql", "mql", "mql"], dtype="str"),
            "ts": pd.to_datetime(["2024-02-01", "2024-01-10", "2024-01-02", "2024-01-02"]).astype(
                "datetime64[us]"
            ),
        }
    )
    closed = first_closed_at(_leads(), outcomes)
    assert closed.iloc[0] == pd.Timestamp("2024-01-10")
    assert pd.isna(closed.iloc[1]) and pd.isna(closed.iloc[2])
    assert str(closed.dtype) == "datetime64[us]"
    # no outcomes at all: every lead open
    none = first_closed_at(_leads(), outcomes.iloc[:0])
    assert none.isna().all()
    assert scoring_snapshots(_leads(), outcomes.iloc[:0], as_of="2024-06-01")[
        "lead_id"
    ].tolist() == [1, 2, 3]


def test_integer_ages_still_give_float_ages_and_bad_times_name_their_column() -> None:
    snaps = training_snapshots(
        _leads(), _outcomes(), ages_days=(0, 3), data_end=pd.Timestamp("2025-01-01")
    )
    assert snaps["age_days"].dtype == np.float64
    bad = _leads().astype({"created_at": object})
    bad.loc[0, "created_at"] = "soon"
    message = (
        r"^leads\.created_at: expected timestamps, got values such as "
        r"\['soon', '2024-01-01 00:00:00', '2024-03-01 00:00:00'\]$"
    )
    with pytest.raises(ValueError, match=message):
        training_snapshots(bad, _outcomes(), ages_days=(0,), data_end=pd.Timestamp("2025-01-01"))
    with pytest.raises(ValueError, match=message):
        scoring_snapshots(bad, _outcomes(), as_of="2024-06-01")
    outcomes = _outcomes().astype({"ts": object})
    outcomes.loc[1, "ts"] = "later"
    with pytest.raises(
        ValueError,
        match=r"^outcomes\.ts: expected timestamps, got values such as "
        r"\['later', '2024-01-21 00:00:00'\]$",
    ):
        first_closed_at(_leads(), outcomes)


def test_one_closing_outcome_closes_its_lead_and_results_follow_the_leads_index() -> None:
    leads = _leads().set_axis([10, 20, 30])
    one = _outcomes().iloc[[1]]  # lead 1's SQL on 2024-01-08, nothing else
    closed = first_closed_at(leads, one)
    assert list(closed.index) == [10, 20, 30]
    assert closed.loc[10] == pd.Timestamp("2024-01-08") and closed.loc[[20, 30]].isna().all()
    later = scoring_snapshots(leads, one, as_of="2024-01-09")
    assert later["lead_id"].tolist() == [2]
