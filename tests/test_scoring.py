"""The batch job: nothing lost, nothing half-written, reproducible, drift reported, Dask = single process."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import TRAINING

from leadml.config import RunConfig, load_dataset_config
from leadml.scoring.batch import run_scoring

AS_OF = pd.Timestamp("2026-01-01")
MODEL = "models:/leadml-sql@champion"


@pytest.fixture(scope="module")
def dataset_config():
    return RunConfig(dataset=load_dataset_config(TRAINING / "dataset.yaml"))


def _score(data, out, config, tracking_uri, **kwargs):
    return run_scoring(
        data,
        config=config,
        model_uri=MODEL,
        as_of=AS_OF,
        out_dir=out,
        tracking_uri=tracking_uri,
        progress=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def first_run(champion, demo_data, dataset_config, tracking_uri, tmp_path_factory):
    out = tmp_path_factory.mktemp("scores")
    manifest = _score(demo_data, out, dataset_config, tracking_uri, fmt="both")
    return out, manifest


def test_every_open_lead_is_scored_once_with_reasons_that_add_up(first_run):
    out, manifest = first_run
    scores = pd.read_parquet(out / "scores.parquet")
    counts = manifest["counts"]
    assert counts["in"] == counts["scored"] + counts["rejected"] == len(scores)
    assert scores["lead_id"].is_unique
    assert (out / "_SUCCESS").exists()
    assert (
        json.loads((out / "manifest.json").read_text())["files"]["scores.parquet"]
        == manifest["files"]["scores.parquet"]
    )
    for row in scores.sample(200, random_state=0).itertuples():
        reasons = json.loads(row.reasons)
        assert row.base_points + sum(
            r["points"] for r in reasons
        ) + row.other_points == pytest.approx(row.points, abs=1e-6)
        assert (
            row.base_points
            + row.score_fit
            + row.score_persona
            + row.score_behaviour
            + row.score_intent
            == pytest.approx(row.points, abs=1e-6)
        )
    assert set(scores["tier"]) <= {"hot", "warm", "cold"}
    assert manifest["tiers"] == {
        t: int((scores["tier"] == t).sum()) for t in ("hot", "warm", "cold")
    }
    assert manifest["expected_conversions"] == pytest.approx(scores["probability"].sum())
    csv = pd.read_csv(out / "scores.csv")
    np.testing.assert_allclose(csv["probability"], scores["probability"])


def test_a_rerun_gives_identical_rows_apart_from_scored_at(
    first_run, demo_data, dataset_config, tracking_uri, tmp_path
):
    out, _ = first_run
    _score(demo_data, tmp_path, dataset_config, tracking_uri, log_to_mlflow=False)
    a = pd.read_parquet(out / "scores.parquet").drop(columns="scored_at")
    b = pd.read_parquet(tmp_path / "scores.parquet").drop(columns="scored_at")
    pd.testing.assert_frame_equal(a, b)


def test_bad_rows_are_rejected_with_their_reason_and_no_lead_is_lost(
    champion, demo_data, dataset_config, tracking_uri, tmp_path
):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("accounts", "intent", "outcomes"):
        shutil.copy(demo_data / f"{name}.parquet", data)
    leads = pd.read_parquet(demo_data / "leads.parquet")
    events = pd.read_parquet(demo_data / "events.parquet")
    from leadml.pointintime.snapshots import scoring_snapshots

    outcomes = pd.read_parquet(demo_data / "outcomes.parquet")
    still_open = scoring_snapshots(
        leads, outcomes, as_of=AS_OF, closed_stages=dataset_config.dataset.closed_stages
    )["lead_id"].to_numpy()  # the unseen values only matter on a lead that is scored
    old = leads[leads["created_at"] < AS_OF - pd.Timedelta(days=400)]["lead_id"].to_numpy()
    bad_date, bad_event = int(old[0]), int(old[1])
    unseen = int(next(i for i in still_open if i not in (bad_date, bad_event)))
    leads = leads.astype({"created_at": object, "source": object, "seniority": object})
    leads.loc[leads["lead_id"] == bad_date, "created_at"] = "not a date"
    leads.loc[leads["lead_id"] == unseen, ["source", "seniority"]] = [
        "carrier_pigeon",
        "galactic_emperor",
    ]
    leads.to_csv(data / "leads.csv", index=False)
    typo = pd.DataFrame(
        {"lead_id": [bad_event], "ts": [pd.Timestamp("2025-06-01")], "event_type": ["pricng_view"]}
    )
    orphan = pd.DataFrame(
        {
            "lead_id": [99_999_999],
            "ts": [pd.Timestamp("2025-06-01")],
            "event_type": ["pricing_view"],
        }
    )
    pd.concat([events, typo, orphan]).to_parquet(data / "events.parquet")
    # the vocabulary of the unseen lead's seniority is not declared strictly, so it reaches the model
    config = RunConfig(
        dataset=dataset_config.dataset.model_copy(
            update={
                "vocabularies": dataset_config.dataset.vocabularies.model_copy(
                    update={"seniority": None, "source": None}
                )
            }
        )
    )
    manifest = _score(data, tmp_path / "out", config, tracking_uri, log_to_mlflow=False)
    rejects = pd.read_parquet(tmp_path / "out" / "rejects.parquet")
    scores = pd.read_parquet(tmp_path / "out" / "scores.parquet")
    assert manifest["counts"]["in"] == len(scores) + len(rejects)
    reasons = dict(zip(rejects["lead_id"].astype(int), rejects["reason"], strict=True))
    assert set(reasons) == {bad_date, bad_event, unseen}
    assert "created_at" in reasons[bad_date]
    assert "events.event_type" in reasons[bad_event] and "vocabulary" in reasons[bad_event]
    assert "carrier_pigeon" in reasons[unseen] and "unseen at training" in reasons[unseen]
    assert not scores["lead_id"].isin([bad_date, bad_event, unseen]).any()


def test_a_crash_while_writing_leaves_the_previous_output_intact(
    first_run, demo_data, dataset_config, tracking_uri, tmp_path, monkeypatch
):
    """A folder from an older leadml is moved aside and stays whole until a run completes
    (kills at every write step: tests/test_faults.py)."""
    out = tmp_path / "out"
    shutil.copytree(first_run[0], out)
    before = (out / "scores.parquet").read_bytes()

    import leadml.scoring.publish as publish

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing the manifest")

    monkeypatch.setattr(publish, "write_json_atomic", crash)
    with pytest.raises(KeyboardInterrupt):
        _score(demo_data, out, dataset_config, tracking_uri, log_to_mlflow=False)
    assert (out / "_SUCCESS").exists()  # still the previous, whole run
    assert (out / "scores.parquet").read_bytes() == before
    assert not list((tmp_path / "out.runs").glob("*.staging"))


def test_the_population_the_model_was_trained_up_to_shows_no_drift(first_run):
    _, manifest = first_run
    # AS_OF is the end of the demo data: the drift reference is this very population
    drift = manifest["drift"]
    assert drift["score_psi"] < 0.01
    assert drift["flagged"] == []
    assert max(drift["features"].values()) < 0.01


def test_drift_is_reported_for_a_shifted_input(
    champion, demo_data, dataset_config, tracking_uri, tmp_path, capsys
):
    data = tmp_path / "shifted"
    shutil.copytree(demo_data, data)
    accounts = pd.read_parquet(data / "accounts.parquet")
    accounts["employees"] = accounts["employees"] * 40
    accounts.to_parquet(data / "accounts.parquet")
    manifest = _score(data, tmp_path / "out", dataset_config, tracking_uri, log_to_mlflow=False)
    assert "employees" in manifest["drift"]["flagged"]
    assert manifest["drift"]["features"]["employees"] > 0.2
    assert "drift: feature 'employees'" in capsys.readouterr().err


def test_dask_local_cluster_gives_the_same_rows(
    first_run, demo_data, dataset_config, tracking_uri, tmp_path
):
    _score(
        demo_data, tmp_path, dataset_config, tracking_uri, scheduler="local", log_to_mlflow=False
    )
    a = pd.read_parquet(first_run[0] / "scores.parquet").drop(columns="scored_at")
    b = pd.read_parquet(tmp_path / "scores.parquet").drop(columns="scored_at")
    pd.testing.assert_frame_equal(a, b)


def test_drift_warnings_name_the_worst_features_first_and_count_the_rest():
    from leadml.scoring.open_leads import drift_warnings

    drift = {
        "score_psi": 0.5,
        "features": {f"f{i}": 0.21 + i / 100 for i in range(12)},
        "flagged": [f"f{i}" for i in range(12)],
    }
    lines = drift_warnings(drift, max_features=3)
    assert lines[0].startswith("drift: score PSI 0.500 > 0.2")
    assert lines[1:4] == [
        f"drift: feature 'f{i}' PSI {0.21 + i / 100:.3f} > 0.2 vs the reference"
        for i in (11, 10, 9)
    ]
    assert lines[4] == "drift: 9 more features above PSI 0.2 (all in manifest.json, under drift)"
    assert drift_warnings(None) == []
