"""Explanations on the default demo data and on the bank data (the leakage canary)."""

import json
import math

import pandas as pd
import pytest
from conftest import BANK_CSV, TRAINING

# truth.json driver -> the reason groups that carry it
DRIVER_GROUPS = {
    "demo_request": {"demo_request"},
    "pricing_interest": {"pricing_interest"},
    "engagement": {
        "engagement",
        "email_engagement",
        "inactivity",
        "product_interest",
        "demo_page_interest",
        "content_download",
        "webinar",
    },
    "source": {"source"},
    "company_size": {"company_size"},
    "authority": {"authority"},
    "intent": {"recent_funding", "hiring_surge", "new_executive", "intent_recency"},
    "email_status": {"email_validity"},
    "unsubscribe": {"unsubscribe"},
    "speed_to_lead": {"speed_to_lead"},
}
NO_EFFECT_GROUPS = {
    "country": "geography",
    "blog_view": "blog_reading",
    "technology_change": "technology_change",
}


def test_true_drivers_lead_and_no_effect_attributes_stay_near_zero(champion, demo_data):
    truth = json.loads((demo_data / "truth.json").read_text())
    assert {d["name"] for d in truth["drivers"]} == set(DRIVER_GROUPS)
    # a group model.selection dropped gets no points at all
    dropped = champion["evaluation_model"]["feature_selection"]["dropped_groups"]
    mean_abs = pd.concat(
        [pd.Series(champion["mean_abs_points_by_group"]), pd.Series(0.0, index=list(dropped))]
    ).sort_values(ascending=False)
    driver_groups = set().union(*DRIVER_GROUPS.values())
    # Thresholds are relative (to the number of true drivers, to the strongest group), not
    # figures read off one seed's run.
    # The strongest signals are true drivers (lead age carries the timing of the buying
    # cycle): the top half as many groups as there are drivers.
    top = list(mean_abs.index[: len(truth["drivers"]) // 2])
    assert set(top) <= driver_groups | {"lead_age"}, top
    strongest = mean_abs.iloc[0]
    for attribute, group in NO_EFFECT_GROUPS.items():
        assert attribute in truth["no_effect"]
        # a no-effect attribute moves a score by at most a tenth of what the strongest group does
        assert mean_abs[group] < 0.1 * strongest, (group, mean_abs[group], strongest)
    # every true driver outranks every no-effect attribute
    noise = max(mean_abs[group] for group in NO_EFFECT_GROUPS.values())
    # ... except the unsubscribe: it lowers p_sql from creation on but shows ~30 days later, when
    # most SQLs have happened, and the silence it causes is read as (lack of) email engagement
    below = {
        driver: mean_abs.reindex(list(groups)).max()
        for driver, groups in DRIVER_GROUPS.items()
        if driver != "unsubscribe" and not mean_abs.reindex(list(groups)).max() > noise
    }
    assert not below, (below, noise)


def test_a_demo_request_yesterday_is_the_top_positive_reason(champion, demo_data, tracking_uri):
    """The true effect of a demo request (truth.json, on logit p_sql) sets the bar in points."""
    from leadml.config import RunConfig, load_dataset_config
    from leadml.data.schema import load_tables
    from leadml.pointintime.trainingset import build_scoring_set
    from leadml.tracking import load_scorer

    as_of = pd.Timestamp("2026-01-01")
    config = RunConfig(dataset=load_dataset_config(TRAINING / "dataset.yaml"))
    scorer, _ = load_scorer("models:/leadml-sql@champion", uri=tracking_uri)
    tables, _ = load_tables(demo_data, config.dataset, as_of=as_of)
    leads = tables.leads
    recent = leads[
        (leads["created_at"] > as_of - pd.Timedelta(days=20)) & (leads["email_status"] == "valid")
    ]
    lead_ids = recent["lead_id"].to_numpy()[:25]
    demo = pd.DataFrame(
        {"lead_id": lead_ids, "ts": as_of - pd.Timedelta(days=1), "event_type": "demo_request"}
    )
    events = pd.concat(
        [tables.events, demo.astype({"ts": tables.events["ts"].dtype})], ignore_index=True
    )
    frame = build_scoring_set(
        config, None, as_of=as_of, spec=scorer.spec, tables=tables.replace(events=events)
    ).frame
    scored = scorer.score_frame(frame[frame["lead_id"].isin(lead_ids)])
    assert len(scored) >= 10
    reasons = [json.loads(text) for text in scored["reasons"]]
    top = [lead[0] for lead in reasons]
    # the demo request leads for (nearly) every lead; a lead already in a burst of email
    # engagement may have that first, with the demo request a close second
    assert sum(r["group"] == "demo_request" for r in top) >= 0.8 * len(top)
    truth = json.loads((demo_data / "truth.json").read_text())
    effect = next(d for d in truth["drivers"] if d["name"] == "demo_request")["effect"]["logit"]
    # the true effect on the points scale (PDO points per doubling of the odds); the model sees
    # it through a 90-day window and shares it with correlated groups, so at least a quarter
    true_points = scorer.scale.pdo / math.log(2) * effect
    for lead in reasons:
        demo = next(r for r in lead[:2] if r["group"] == "demo_request")
        assert 0.25 * true_points < demo["points"] < 2 * true_points, (demo, true_points)
        assert demo["text"] == "Requested a demo yesterday"
        assert demo["text_fr"] == "A demandé une démo hier"


@pytest.mark.slow
def test_bank_duration_left_in_is_the_top_group():
    from leadml.config import load_run_config
    from leadml.modeling.training_run import run_training

    config = load_run_config(TRAINING / "bank_marketing.yaml")
    leaky = config.model_copy(
        update={
            "dataset": config.dataset.model_copy(
                update={"exclude": tuple(c for c in config.dataset.exclude if c != "duration")}
            )
        }
    )
    report = run_training(leaky, BANK_CSV, log_to_mlflow=False)
    honest = run_training(config, BANK_CSV, log_to_mlflow=False)
    mean_abs = pd.Series(report["mean_abs_points_by_group"]).sort_values(ascending=False)
    assert mean_abs.index[0] == "duration"
    # forward holdout (training/bank_marketing.yaml): 13.6 points against 8.6 for the next group
    assert mean_abs.iloc[0] > 1.5 * mean_abs.iloc[1]
    # the leak makes it look (too) good: out of time, about 0.78 against 0.70 without it
    # (a random split would show 0.93; the call durations of 2010 differ from 2008's)
    assert report["model"]["roc_auc"] > honest["model"]["roc_auc"] + 0.04


def test_explanation_fidelity_against_the_truth_is_reported(champion, tracking_uri):
    """Reasons checked against truth.parquet / truth.json (train report and MLflow run)."""
    from mlflow import MlflowClient

    fidelity = champion["explanation_fidelity"]
    assert set(fidelity["spearman"]) == {"source", "company_size", "authority", "email_status"}
    # each static driver's reason group ranks the leads as the truth's part of logit(p_sql)
    # does (figures on this seed: source 0.85, authority 0.87, size 0.73, email 0.6; see the
    # closing note of issue 15 for why size and email fall short of 0.9)
    assert all(value > 0.5 for value in fidelity["spearman"].values()), fidelity["spearman"]
    # a shown reason about the last 30 days' activity points the way truth.json says
    assert fidelity["sign_agreement"] >= 0.99
    assert fidelity["sign_agreement_counts"]["shown"]["shown"] > 1000
    assert fidelity["sign_agreement_unfiltered"] < fidelity["sign_agreement"]
    assert set(fidelity["no_effect_mean_abs_points"]) >= {"country", "industry", "blog_view"}
    metrics = (
        MlflowClient(tracking_uri, registry_uri=tracking_uri)
        .get_run(champion["mlflow"]["run_id"])
        .data.metrics
    )
    assert metrics["fidelity_sign_agreement"] == pytest.approx(fidelity["sign_agreement"])
    assert metrics["fidelity_spearman_source"] == pytest.approx(fidelity["spearman"]["source"])
