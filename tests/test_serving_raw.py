"""The served model takes raw leads: the batch job's validation, features and numbers.

A small demo CRM (2,500 leads) and a quickly trained scorer (no refit, 80 rounds at
most), logged to a fresh MLflow store as a registered pyfunc model: the same leads scored
by ``leadml score`` (``run_scoring``) and by the served model, from lead rows or from
tables, get the same probability, points and reasons.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TRAINING
from test_serving import _free_port, _wait

import leadml
from leadml.config import FlatDataset, ModelSpec, RunConfig, TierSpec, load_run_config
from leadml.data.io import read_raw_tables
from leadml.data.schema import coerce_tables
from leadml.modeling.scorer import ARTIFACT_FILES, CHECKSUMS_FILE, LeadScorer
from leadml.modeling.train import train_scorer
from leadml.pointintime.trainingset import build_training_set
from leadml.scoring.batch import run_scoring
from leadml.serving.pyfunc import LeadScorerModel, _load_pyfunc
from leadml.serving.raw_leads import RawLeadScorer, example_lead, lead_records

AS_OF = pd.Timestamp("2026-01-01")
MODEL = "leadml-raw"


def _quick_config() -> RunConfig:
    config = load_run_config(TRAINING / "sql.yaml")
    return config.model_copy(
        update={
            "refit": config.refit.model_copy(update={"enabled": False}),
            "model": config.model.model_copy(
                update={
                    "registered_name": MODEL,
                    "num_boost_round": 80,
                    "early_stopping_rounds": 20,
                    "monotone": False,
                }
            ),
            "small_data": config.small_data.model_copy(update={"folds": 2}),
        }
    )


@pytest.fixture(scope="module")
def served(small_demo_data, tmp_path_factory):
    """(config, scorer, tracking URI, batch scores at AS_OF) with the scorer registered as
    ``models:/leadml-raw/1``."""
    import mlflow

    from leadml.tracking import log_servable_model

    config = _quick_config()
    scorer = train_scorer(build_training_set(config, small_demo_data), config).scorer
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow_raw') / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)  # leadml sets both: an earlier test may have left another
    example = example_lead({"industry": "software"}, scorer.dataset, as_of=AS_OF)
    with mlflow.start_run():
        log_servable_model(scorer, input_example=example, registered_model_name=MODEL)
    out = tmp_path_factory.mktemp("raw_scores")
    run_scoring(
        small_demo_data,
        config=config,
        model_uri=f"models:/{MODEL}/1",
        as_of=AS_OF,
        out_dir=out,
        tracking_uri=uri,
        progress=False,
        log_to_mlflow=False,
    )
    batch = pd.read_parquet(out / "scores.parquet").set_index("lead_id")
    return config, scorer, uri, batch


def _accounts_with_open_leads(batch: pd.DataFrame, tables, n: int) -> pd.DataFrame:
    """Every lead (open or not) of ``n`` accounts that have an open lead: each lead's
    colleagues come along, as the batch job sees them."""
    rng = np.random.default_rng(3)
    open_leads = tables.leads[tables.leads["lead_id"].isin(batch.index)]
    accounts = rng.choice(open_leads["account_id"].unique(), n, replace=False)
    return tables.leads[tables.leads["account_id"].isin(accounts)]


def _assert_same_as_batch(answer: pd.DataFrame, batch: pd.DataFrame) -> pd.DataFrame:
    scored = answer[answer["reject_reason"].isna()].set_index("lead_id")
    expected = batch.loc[scored.index]
    np.testing.assert_allclose(scored["probability"], expected["probability"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(scored["points"], expected["points"], rtol=0, atol=1e-12)
    assert scored["reasons"].tolist() == expected["reasons"].tolist()
    assert scored["dormant"].tolist() == expected["dormant"].tolist()
    return scored


def test_lead_rows_through_the_pyfunc_score_as_leadml_score_does(served, small_demo_data):
    import mlflow

    config, _, uri, batch = served
    tables = coerce_tables(read_raw_tables(small_demo_data, config.dataset), config.dataset)
    leads = _accounts_with_open_leads(batch, tables, 12)
    rows = pd.DataFrame(lead_records(tables, leads["lead_id"], config.dataset))
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)  # leadml sets both: an earlier test may have left another
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/1")
    answer = model.predict(rows, params={"as_of": "2026-01-01"})

    assert answer["lead_id"].tolist() == rows["lead_id"].tolist()  # every lead, in order
    assert answer["lead_id"].dtype == np.int64
    scored = _assert_same_as_batch(answer, batch)
    open_here = sorted(set(leads["lead_id"]) & set(batch.index))
    assert sorted(scored.index) == open_here and len(open_here) >= 12
    closed = answer[answer["reject_reason"].notna()]
    assert len(closed) == len(leads) - len(open_here)
    assert closed["reject_reason"].str.match(r"not open at as_of 2026-01-01: reached \w+ on ").all()
    assert set(answer["as_of"]) == {"2026-01-01T00:00:00"}
    # one lead is tiered by the thresholds, never by the batch's capacity (hot_top_n)
    expected_tier = np.where(
        scored["dormant"],
        np.where(scored["probability"] >= 0.10, "warm", "cold"),
        np.where(
            scored["probability"] >= 0.30,
            "hot",
            np.where(scored["probability"] >= 0.10, "warm", "cold"),
        ),
    )
    assert scored["tier"].tolist() == expected_tier.tolist()


def test_tables_of_dataframes_score_as_leadml_score_does(served, small_demo_data):
    config, scorer, _, batch = served
    raw = read_raw_tables(small_demo_data, config.dataset)
    leads = _accounts_with_open_leads(batch, raw, 20)
    ids, accounts = leads["lead_id"], leads["account_id"].unique()
    payload = {
        "leads": leads,
        "accounts": raw.accounts[raw.accounts["account_id"].isin(accounts)],
        "events": raw.events[raw.events["lead_id"].isin(ids)],
        "intent": raw.intent[raw.intent["account_id"].isin(accounts)],
        "outcomes": raw.outcomes[raw.outcomes["lead_id"].isin(ids)],
        "as_of": "2026-01-01",
    }
    answer = LeadScorerModel(scorer).predict(payload)
    scored = _assert_same_as_batch(answer, batch)
    one = LeadScorerModel(scorer).predict({**payload, "leads": leads.head(1)})
    assert one["lead_id"].dtype == np.int64 and len(one) == 1
    assert sorted(scored.index) == sorted(set(ids) & set(batch.index))
    assert len(scored) >= 20
    # records (JSON) instead of DataFrames: the same answer
    as_json = {
        k: v.to_dict("records") if isinstance(v, pd.DataFrame) else v for k, v in payload.items()
    }
    again = RawLeadScorer(scorer).score(json.loads(json.dumps(as_json, default=str)))
    pd.testing.assert_frame_equal(again, answer)


def test_a_lead_the_contract_refuses_comes_back_with_its_reason(served, small_demo_data):
    config, scorer, _, batch = served
    tables = coerce_tables(read_raw_tables(small_demo_data, config.dataset), config.dataset)
    # leads alone at their account: no colleague changes their account features
    alone = tables.leads.groupby("account_id")["lead_id"].transform("size") == 1
    ids = [i for i in tables.leads.loc[alone, "lead_id"] if i in batch.index][:6]
    rows = lead_records(tables, ids, config.dataset)
    bad = copy.deepcopy(rows)
    bad[0]["created_at"] = None
    bad[1]["events"].append({"ts": "2025-06-01T00:00:00", "event_type": "tiktok_view"})
    bad[2] |= {"country": "Atlantis", "industry": "piracy"}
    bad[3]["created_at"] = "2026-03-01T00:00:00"
    bad[4]["employees"] = -5.0
    answer = LeadScorerModel(scorer).predict(pd.DataFrame(bad), params={"as_of": "2026-01-01"})
    reasons = dict(zip(answer["lead_id"], answer["reject_reason"], strict=True))
    assert reasons == {
        ids[0]: "leads.created_at: missing value",
        ids[1]: "events.event_type: value not in the vocabulary",
        ids[2]: "2 categorical values unseen at training (tolerance 1): industry='piracy', "
        "country='Atlantis'",
        ids[3]: "not open at as_of 2026-01-01: created on 2026-03-01, after it",
        ids[4]: "accounts.employees: value out of range",
        ids[5]: None,
    }
    assert answer["probability"].iloc[:5].isna().all()
    assert answer["probability"].iloc[5] == pytest.approx(
        batch.loc[ids[5], "probability"], abs=1e-12
    )


def test_a_request_the_model_cannot_read_is_one_line(served):
    from mlflow.exceptions import MlflowException

    _, scorer, _, _ = served
    model = LeadScorerModel(scorer)
    rows, _ = example_lead({}, scorer.dataset, as_of=AS_OF)
    with pytest.raises(MlflowException, match=r"as_of is missing: pass it \(params.as_of"):
        model.predict(rows)
    with pytest.raises(MlflowException, match="expected the tables .* got keys .*'lead'"):
        model.predict({"lead": [], "as_of": "2026-01-01"})
    with pytest.raises(MlflowException, match="no account_id column") as caught:
        model.predict(rows.drop(columns="account_id"), params={"as_of": "2026-01-01"})
    assert "\n" not in str(caught.value)


def test_the_signature_states_the_required_inputs_and_requirements_are_pinned(served):
    import mlflow
    from mlflow.types.schema import Array

    _, _, uri, _ = served
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)  # leadml sets both: an earlier test may have left another
    info = mlflow.models.get_model_info(f"models:/{MODEL}/1")
    inputs = info.signature.inputs
    assert [c.name for c in inputs.inputs if c.required] == ["lead_id", "account_id", "created_at"]
    assert {c.name: c.type for c in inputs.inputs}["lead_id"].name == "long"
    lists = {c.name: c.type for c in inputs.inputs if isinstance(c.type, Array)}
    assert sorted(lists) == ["events", "intent", "outcomes"]
    assert [p.name for p in info.signature.params.params] == ["as_of", "top_reasons"]
    folder = Path(mlflow.artifacts.download_artifacts(f"models:/{MODEL}/1"))
    requirements = (folder / "requirements.txt").read_text().split()
    for package in ("lightgbm", "pandas", "numpy", "shap"):
        assert f"{package}=={version(package)}" in requirements
    assert f"leadml=={leadml.__version__}" in requirements
    data = folder / "data" / "leadml_model"
    listed = json.loads((data / CHECKSUMS_FILE).read_text())
    assert ARTIFACT_FILES["dataset"] in listed  # the dataset config is checksummed too


def test_a_model_saved_before_takes_feature_rows(served, small_demo_data, tmp_path):
    """A model without the dataset config (leadml before this) loads and scores feature rows;
    sent raw leads, it says why it cannot."""
    from mlflow.exceptions import MlflowException

    config, scorer, _, batch = served
    old = dataclasses.replace(scorer, dataset=None)
    old.save(tmp_path / "old")
    assert not (tmp_path / "old" / ARTIFACT_FILES["dataset"]).exists()
    model = _load_pyfunc(str(tmp_path / "old"))
    from leadml.pointintime.trainingset import build_scoring_set

    rows = build_scoring_set(config, small_demo_data, as_of=AS_OF, spec=scorer.spec).frame.head(5)
    answer = model.predict(rows[list(scorer.spec.names)])
    np.testing.assert_allclose(
        answer["probability"], batch.loc[rows["lead_id"], "probability"], rtol=0, atol=1e-12
    )
    raw, params = example_lead({}, scorer.dataset, as_of=AS_OF)
    with pytest.raises(MlflowException, match="saved without its dataset config"):
        model.predict(raw, params=params)
    assert LeadScorer.load(tmp_path / "old").dataset is None


def test_flat_rows_are_scored_and_a_bad_row_is_rejected():
    rng = np.random.default_rng(0)
    n = 600
    visits = rng.integers(0, 10, n)
    export = pd.DataFrame(
        {
            "id": [f"L{i}" for i in range(n)],
            "visits": visits,
            "plan": rng.choice(["free", "pro"], n),
            "converted": np.where(rng.random(n) < visits / 10, "yes", "no"),
        }
    )
    config = RunConfig(
        dataset=FlatDataset(
            mode="flat",
            id="id",
            label="converted",
            positive=("yes",),
            numeric=("visits",),
            categorical=("plan",),
        ),
        model=ModelSpec(
            registered_name="tiny-flat",
            params={"min_child_samples": 10, "min_gain_to_split": 0.0, "num_leaves": 4},
            num_boost_round=20,
            early_stopping_rounds=20,
        ),
        tiers=TierSpec(hot=0.6, warm=0.3, hot_top_n=1),
    )
    scorer = train_scorer(build_training_set(config, export), config).scorer
    rows = export.drop(columns="converted").head(4).astype({"visits": object})
    rows.loc[1, "visits"] = "lots"
    answer = LeadScorerModel(scorer).predict(rows, params={"as_of": "2026-01-01"})
    assert answer["lead_id"].tolist() == ["L0", "L1", "L2", "L3"]
    assert (
        answer["reject_reason"].iloc[1].startswith("flat.visits: 1 value is not a number: 'lots'")
    )
    batch = leadml.score_leads(export.drop(columns="converted"), scorer, config=config, as_of=AS_OF)
    expected = batch.scores.set_index("lead_id").loc[["L0", "L2", "L3"]]
    good = answer.drop(index=1)
    np.testing.assert_allclose(good["probability"], expected["probability"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(good["points"], expected["points"], rtol=0, atol=1e-12)
    assert good["reasons"].tolist() == expected["reasons"].tolist()


@pytest.mark.slow
def test_rest_round_trip_with_raw_leads(served, small_demo_data):
    """`mlflow models serve` (what `make serve` runs) answers a raw lead as the batch job."""
    config, _, uri, batch = served
    tables = coerce_tables(read_raw_tables(small_demo_data, config.dataset), config.dataset)
    leads = _accounts_with_open_leads(batch, tables, 3)
    payload = {
        "dataframe_records": lead_records(tables, leads["lead_id"], config.dataset),
        "params": {"as_of": "2026-01-01"},
    }
    port = _free_port()
    bindir = str(Path(sys.executable).parent)  # uvicorn, which mlflow runs, lives beside python
    env = {
        **os.environ,
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        "MLFLOW_TRACKING_URI": uri,
    }
    proc = subprocess.Popen(
        [
            str(Path(bindir) / "mlflow"),
            *("models", "serve", "-m", f"models:/{MODEL}/1", "--env-manager", "local"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def post(body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    try:
        _wait(f"http://127.0.0.1:{port}/ping", proc, timeout=120)
        status, reply = post(payload)
        bad_status, bad_reply = post({"dataframe_records": payload["dataframe_records"]})
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert status == 200
    answer = pd.DataFrame(reply["predictions"])
    assert answer["lead_id"].tolist() == leads["lead_id"].tolist()
    _assert_same_as_batch(answer, batch)
    assert answer["reject_reason"].isna().sum() == len(set(leads["lead_id"]) & set(batch.index))
    assert bad_status == 400
    assert "as_of is missing" in bad_reply["message"]


@pytest.mark.parametrize(
    "items",
    [
        [{"ts": "2025-01-01", "event_type": "demo_request", "lead_id": np.int64(7)}] * 3,
        [{"ts": "2025-01-01", "event_type": "pricing_page_view", "lead_id": 7}]
        + [{"ts": f"2025-01-0{d}", "event_type": "demo_request", "lead_id": 7} for d in (1, 2)],
        # missing = missing: None, NaN and an absent key are one value to pandas
        [{"a": "x", "b": None}, {"a": "x", "b": float("nan")}, {"a": "x"}],
        [{"a": "x", "b": None}, {"a": "y"}],
        # 1, 1.0 and True are equal, "1" is not
        [{"a": 1, "b": "1"}, {"a": 1.0, "b": "1"}, {"a": True, "b": "1"}, {"a": 1, "b": 1}],
        [{"strength": 1}, {"strength": 1.0}, {"strength": 2.5}],
        [{"strength": np.float64(0.5), "ok": np.bool_(True)}, {"strength": 0.5, "ok": True}],
        # values pandas types itself: timestamps, integers beyond float precision
        [{"ts": pd.Timestamp("2025-01-01")}, {"ts": np.datetime64("2025-01-01T00:00")}],
        [{"id": 2**53 + 1, "v": 1.5}, {"id": 2**53, "v": 1.5}, {"id": 1.0, "v": 1.5}],
        [{"a": 0.0}, {"a": -0.0}],
        [{}, {}],
        [],
    ],
)
def test_distinct_items_are_what_pandas_drop_duplicates_keeps(items):
    from leadml.serving.raw_leads import _distinct_items

    got = _distinct_items(list(items))
    if not items:
        assert got is None
        return
    pd.testing.assert_frame_equal(got, pd.DataFrame(items).drop_duplicates(ignore_index=True))


@pytest.mark.parametrize("n", [0, 1, 3])
@pytest.mark.parametrize("as_of", [AS_OF, pd.NaT])
def test_an_answer_of_scored_leads_only_is_the_merged_answer(n, as_of):
    """Every lead scored, once: the answer is built from the scores' columns in one frame,
    the very frame concatenating, deduplicating and reordering gives."""
    from types import SimpleNamespace

    asked = [30, 10, 20][:n]
    scores = pd.DataFrame(
        {
            "lead_id": np.array(sorted(asked), dtype=np.int64),
            "as_of": pd.Series([AS_OF] * n, dtype="datetime64[us]"),
            "probability": np.linspace(0.1, 0.3, n),
            "tier": pd.Series(["cold", "warm", "hot"][:n], dtype="str"),
            "mql": np.array([False, True, True][:n]),
            "reasons": pd.Series(['[{"group": "g"}]'] * n, dtype="str"),
            "model_name": pd.Series(["m"] * n, dtype="str"),
            "model_version": pd.Series(["3"] * n, dtype="str"),
        }
    )
    raw = SimpleNamespace(scorer=SimpleNamespace(name=MODEL))
    position = {lead_id: i for i, lead_id in enumerate(asked)}
    stamp = None if pd.isna(as_of) else as_of.isoformat()
    fast = RawLeadScorer._scored_answer(raw, scores, position, stamp, len(asked))
    merged = RawLeadScorer._merged_answer(raw, scores, [], position, stamp, len(asked))
    pd.testing.assert_frame_equal(fast, merged, check_exact=True)
    assert fast["lead_id"].tolist() == asked
