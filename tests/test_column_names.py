"""Any column name works: spaces, dots, dashes, accents, case-only twins, LightGBM collisions.

A flat export whose columns LightGBM would rename (``Lead Origin`` -> ``Lead_Origin``,
clashing with a real ``Lead_Origin``) or refuse (``Tags: A,B [x]``) trains, scores,
explains, reports and serves with the user's names in every message and text.
"""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from leadml.config import RunConfig
from leadml.features.column_names import is_safe_name, name_token, safe_names

AS_OF = pd.Timestamp("2026-01-01")
# Every way a CRM export's header can surprise a tree library.
ORIGIN, ORIGIN_TWIN = "Lead Origin", "Lead_Origin"
TIME_ON_SITE = "Total Time Spent on Website"
DOTTED, DASHED, ACCENTED = "visits.per.week", "pages-viewed", "Durée (s)"
LOWER, UPPER = "score", "Score"
JSONISH = "Tags: A,B [x]"
LABEL, ID = "Converted?", "Prospect ID"


def test_safe_names_keep_safe_spellings_and_separate_collisions() -> None:
    names = safe_names([ORIGIN, ORIGIN_TWIN, LOWER, UPPER, ACCENTED, JSONISH, DOTTED])
    assert names == {
        ORIGIN: "Lead_Origin_2",
        ORIGIN_TWIN: "Lead_Origin",
        LOWER: "score",
        UPPER: "Score_2",
        ACCENTED: "Duree_s",
        JSONISH: "Tags_A_B_x",
        DOTTED: DOTTED,
    }
    assert all(is_safe_name(n) for n in names.values())
    assert len({n.lower() for n in names.values()}) == len(names)
    assert name_token("   ") == "column"
    with pytest.raises(ValueError, match=r"repeated: \['a'\]"):
        safe_names(["a", "a"])


def _export(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    origin = rng.choice(["API", "Landing Page", "Lead Add Form", "Import"], n)
    twin = rng.choice(["x", "y"], n)
    minutes = rng.gamma(2.0, 300.0, n).round()
    visits = rng.poisson(3, n).astype(float)
    pages = rng.poisson(4, n)
    duree = rng.exponential(60, n).round(1)
    low = rng.normal(size=n).round(3)
    high = rng.normal(size=n).round(3)
    tags = rng.choice(["Will revert", "Ringing", "Closed by Horizzon"], n)
    logit = (
        -2.2
        + 0.0022 * minutes
        + 1.3 * (origin == "Lead Add Form")
        - 0.8 * (origin == "API")
        + 0.9 * (tags == "Will revert")
        + 0.004 * duree
    )
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            ID: [f"P-{i:05d}" for i in range(n)],
            ORIGIN: origin,
            ORIGIN_TWIN: twin,
            TIME_ON_SITE: minutes,
            DOTTED: visits,
            DASHED: pages,
            ACCENTED: duree,
            LOWER: low,
            UPPER: high,
            JSONISH: tags,
            LABEL: np.where(converted, "Yes", "No"),
        }
    )


def _config() -> RunConfig:
    return RunConfig.model_validate(
        {
            "dataset": {
                "mode": "flat",
                "file": "leads.csv",
                "id": ID,
                "label": LABEL,
                "positive": ["Yes"],
                "numeric": [TIME_ON_SITE, DOTTED, DASHED, ACCENTED, LOWER, UPPER],
                "categorical": [ORIGIN, ORIGIN_TWIN, JSONISH],
                "features": {
                    TIME_ON_SITE: {"family": "behaviour", "label": "Time on the website (min)"},
                    JSONISH: {"family": "behaviour"},
                },
            },
            "target": {"name": "converted", "stages": ["won"]},
            "split": {"train": 0.6, "valid": 0.15, "calib": 0.1, "test": 0.15},
            # the holdout split even on 4,000 rows: compared below with a plain LightGBM
            # stopped on the same valid part
            "small_data": {"max_rows": 0},
            "model": {
                "registered_name": "leadml-oddnames",
                "params": {"min_child_samples": 40, "min_gain_to_split": 0.0},
                "num_boost_round": 300,
                "early_stopping_rounds": 30,
            },
            "promotion": {"min_gain_over_baseline": 0.0, "max_ece": 0.2},
        }
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Train on a 4,000-row export with odd column names; the model is registered as champion."""
    from leadml.modeling.training_run import run_training
    from leadml.tracking import promote

    root = tmp_path_factory.mktemp("oddnames")
    data = root / "data"
    data.mkdir()
    _export(4000, seed=1).to_csv(data / "leads.csv", index=False)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    config = _config()
    report = run_training(config, data, tracking_uri=uri)
    decision = promote("leadml-oddnames", uri=uri, margins=config.promotion)
    assert decision.promoted, decision.message()
    return {"root": root, "data": data, "uri": uri, "config": config, "report": report}


@pytest.mark.slow
def test_training_on_odd_names_matches_a_plain_lightgbm_and_keeps_the_users_names(trained):
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score

    from leadml.modeling.train import booster_params
    from leadml.pointintime.trainingset import build_training_set
    from leadml.tracking import load_scorer

    report = trained["report"]
    assert 0.70 <= report["model"]["roc_auc"] <= 0.90
    # A plain LightGBM on the same split, columns renamed by hand, does no better.
    ts = build_training_set(trained["config"], trained["data"])
    by_hand = {c: c.replace(" ", "_").replace(":", "").replace(",", "") for c in ts.spec.names}
    parts = {p: ts.part(p) for p in ("train", "valid", "test")}
    plain = lgb.train(
        booster_params(trained["config"]),
        lgb.Dataset(parts["train"][0].rename(columns=by_hand), parts["train"][1]),
        num_boost_round=300,
        valid_sets=[lgb.Dataset(parts["valid"][0].rename(columns=by_hand), parts["valid"][1])],
        callbacks=[lgb.early_stopping(30, verbose=False)],
    )
    X_test, y_test = parts["test"]
    plain_auc = roc_auc_score(y_test, plain.predict(X_test.rename(columns=by_hand)))
    assert report["model"]["roc_auc"] == pytest.approx(plain_auc, abs=0.01)
    scorer, _ = load_scorer("models:/leadml-oddnames@champion", uri=trained["uri"])
    assert list(scorer.booster.feature_name()) == list(scorer.catalogue.features)
    shown = scorer.spec.display_names
    assert shown["Lead_Origin_2"] == ORIGIN and shown["Lead_Origin"] == ORIGIN_TWIN
    assert shown["Score_2"] == UPPER and shown["score"] == LOWER
    assert shown["Duree_s"] == ACCENTED and shown["Tags_A_B_x"] == JSONISH
    assert shown[DOTTED] == DOTTED and shown[DASHED] == DASHED


def _score(trained, new: pd.DataFrame, folder, **options) -> dict:
    """Score ``new`` (written as the export's CSV) with the odd-names champion into ``folder``/scores."""
    from leadml.scoring.batch import run_scoring

    (folder / "in").mkdir()
    new.to_csv(folder / "in" / "leads.csv", index=False)
    return run_scoring(
        folder / "in",
        config=trained["config"],
        model_uri="models:/leadml-oddnames@champion",
        as_of=AS_OF,
        out_dir=folder / "scores",
        tracking_uri=trained["uri"],
        progress=False,
        log_to_mlflow=False,
        **options,
    )


@pytest.mark.slow
def test_scores_reasons_report_and_served_model_round_trip_with_odd_names(trained, tmp_path):
    from leadml.report import build_report

    new = _export(300, seed=2).drop(columns=LABEL)
    manifest = _score(trained, new, tmp_path)
    assert manifest["counts"] == {"in": 300, "scored": 300, "rejected": 0}
    scores = pd.read_parquet(tmp_path / "scores" / "scores.parquet")
    assert sorted(scores["lead_id"]) == sorted(new[ID])
    texts = [r["text"] for cell in scores["reasons"] for r in json.loads(cell)]
    assert any(t.startswith("Time on the website (min): ") for t in texts)
    assert any(t.startswith(f"{ORIGIN}: ") for t in texts)  # the label is the user's column

    leads = new.rename(columns={ID: "lead_id"})
    page = build_report(scores, leads, pd.DataFrame(), pd.DataFrame(), manifest=manifest)
    assert f"{ORIGIN}: " in page and "Lead_Origin_2" not in page.replace('"group"', "")

    # The served model takes rows as the user's columns are named and answers like the batch.
    served = mlflow.pyfunc.load_model("models:/leadml-oddnames@champion")
    input_names = [c.name for c in served.metadata.get_input_schema().inputs]
    assert ORIGIN in input_names and JSONISH in input_names and "Lead_Origin_2" not in input_names
    rows = new.head(25).drop(columns=ID).astype({DASHED: float})  # the schema wants doubles
    predicted = served.predict(rows)
    expected = scores.set_index("lead_id").loc[new[ID].head(25)]
    np.testing.assert_allclose(predicted["probability"], expected["probability"], atol=1e-12)
    assert list(predicted["reasons"]) == list(expected["reasons"])


@pytest.mark.slow
def test_an_unseen_value_is_reported_under_the_users_column_name(trained, tmp_path):
    new = _export(20, seed=3).drop(columns=LABEL)
    new.loc[[0, 1], ORIGIN] = "Walk-in"
    manifest = _score(trained, new, tmp_path, tolerance=0)
    assert manifest["counts"] == {"in": 20, "scored": 18, "rejected": 2}
    assert manifest["unseen_categories"][ORIGIN]["rows"] == 2
    rejects = pd.read_parquet(tmp_path / "scores" / "rejects.parquet")
    assert rejects["reason"].str.contains(f"{ORIGIN}='Walk-in'", regex=False).all()


# --- event mode: the five tables under a CRM's own column names -------------------------
ODD_COLUMNS = {
    "accounts": {
        "account_id": "Account.Id",
        "industry": "Secteur d'activité",
        "employees": "No. of Employees",
    },
    "leads": {
        "lead_id": "Lead ID",
        "account_id": "account-id",
        "created_at": "Créé le",
        "source": "Lead Source",
        "seniority": "SENIORITY",
    },
    "events": {"lead_id": "Lead ID", "ts": "Activity Date/Time", "event_type": "Type: Activity"},
    "intent": {"account_id": "Account.Id", "ts": "Signal [date]", "signal_type": "signal type"},
    "outcomes": {"lead_id": "Lead ID", "stage": "Status", "ts": "Changed At"},
}


@pytest.fixture(scope="module")
def event_folders(tmp_path_factory):
    """The same small CRM twice: contract names, and the CRM's own names plus case twins."""
    from leadml.synth import SynthSpec, write_demo_data

    root = tmp_path_factory.mktemp("odd_events")
    plain, odd = root / "plain", root / "odd"
    write_demo_data(plain, SynthSpec(n_leads=2500, seed=11))
    odd.mkdir()
    for table, columns in ODD_COLUMNS.items():
        frame = pd.read_parquet(plain / f"{table}.parquet").rename(columns=columns)
        if table == "leads":  # extra columns that differ only by case pass through
            frame = frame.assign(Email=frame["Lead ID"].astype(str) + "@x.org", email="-")
        frame.to_csv(odd / f"{table}.csv", index=False)
    return plain, odd


def _odd_config(sql_config) -> RunConfig:
    dataset = sql_config.dataset.model_dump()
    for table, columns in ODD_COLUMNS.items():
        dataset["tables"][table]["columns"] |= columns
    return sql_config.model_copy(
        update={"dataset": type(sql_config.dataset).model_validate(dataset)}
    )


@pytest.mark.slow
def test_event_tables_under_any_column_names_score_like_the_contract_names(
    event_folders, sql_config
):
    from leadml.modeling.train import train_scorer
    from leadml.pointintime.trainingset import build_scoring_set, build_training_set

    plain, odd = event_folders
    config = sql_config.model_copy(
        update={"model": sql_config.model.model_copy(update={"num_boost_round": 60})}
    )
    odd_config = _odd_config(config)
    ts_plain = build_training_set(config, plain)
    ts_odd = build_training_set(odd_config, odd)
    assert ts_odd.spec.names == ts_plain.spec.names
    pd.testing.assert_frame_equal(ts_odd.frame, ts_plain.frame, check_dtype=False)
    scorer = train_scorer(ts_odd, odd_config).scorer
    scoring = build_scoring_set(odd_config, odd, as_of=AS_OF, spec=scorer.spec)
    expected = build_scoring_set(config, plain, as_of=AS_OF, spec=scorer.spec)
    assert scoring.n_open_leads == expected.n_open_leads > 0
    np.testing.assert_array_equal(
        scorer.probability(scoring.frame), scorer.probability(expected.frame)
    )


@pytest.mark.slow
def test_an_audit_column_with_an_odd_name_is_readmitted_and_named_as_written(
    event_folders, sql_config
):
    from leadml.modeling.audit import audit_features
    from leadml.pointintime.trainingset import build_training_set

    _, odd = event_folders
    leads = pd.read_csv(odd / "leads.csv")
    leads["Score (rep)"] = leads["Lead ID"] % 7
    leads.to_csv(odd / "leads.csv", index=False)
    ts = build_training_set(_odd_config(sql_config), odd, include=["Score (rep)"])
    assert "Score_rep" in ts.spec.names and ts.spec.display_names["Score_rep"] == "Score (rep)"
    audit = audit_features(ts, threshold=0.85)
    names = [f["name"] for f in audit["features"]]
    assert "Score (rep)" in names and "Score_rep" not in names
