"""The feature catalogue: names the lead and the grid author rely on, groups, the explainer's view."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from leadml.config import load_dataset_config, load_run_config
from leadml.explain.reasons import render_reason
from leadml.features import event_catalogue, flat_catalogue
from leadml.features.catalogue import FAMILIES, FeatureCatalogue, FeatureInfo

DATASET = load_dataset_config("training/dataset.yaml")

REQUIRED = {
    "industry": ("fit", "categorical"),
    "employees": ("fit", "numeric"),
    "log_employees": ("fit", "numeric"),
    "annual_revenue": ("fit", "numeric"),
    "country": ("fit", "categorical"),
    "region": ("fit", "categorical"),
    "size_in_range": ("fit", "numeric"),
    "industry_match": ("fit", "numeric"),
    "icp_match": ("fit", "numeric"),
    "seniority": ("persona", "categorical"),
    "department": ("persona", "categorical"),
    "decision_maker": ("persona", "numeric"),
    "persona_match": ("persona", "numeric"),
    "email_status": ("persona", "categorical"),
    "active_days_90d": ("behaviour", "numeric"),
    "engagement_decayed": ("behaviour", "numeric"),
    "engagement_trend": ("behaviour", "numeric"),
    "lead_age_days": ("behaviour", "numeric"),
    "source": ("behaviour", "categorical"),
    "hours_to_first_touch": ("behaviour", "numeric"),
    "days_since_last_activity": ("behaviour", "numeric"),
    "days_since_intent": ("intent", "numeric"),
    "account_other_leads": ("intent", "numeric"),
    "account_other_events_30d": ("intent", "numeric"),
}


def test_the_agreed_names_families_and_kinds_are_there() -> None:
    catalogue = event_catalogue(DATASET)
    for name, (family, kind) in REQUIRED.items():
        assert (catalogue[name].family, catalogue[name].kind) == (family, kind), name
    for event_type in DATASET.vocabularies.event_types:
        for w in (7, 30, 90):
            assert catalogue[f"n_{event_type}_{w}d"].family == "behaviour"
        assert f"days_since_{event_type}" in catalogue
    for signal_type in DATASET.vocabularies.signal_types:
        for w in (30, 90, 180):
            assert catalogue[f"n_{signal_type}_{w}d"].family == "intent"
        assert f"days_since_{signal_type}" in catalogue
    assert all(e.description for e in catalogue)


def test_variants_of_one_signal_share_a_readable_group() -> None:
    catalogue = event_catalogue(DATASET)
    assert {
        catalogue[n].group
        for n in ("n_pricing_view_7d", "n_pricing_view_90d", "days_since_pricing_view")
    } == {"pricing_interest"}
    assert catalogue["days_since_demo_request"].group == "demo_request"
    assert catalogue["employees"].group == catalogue["size_in_range"].group == "company_size"
    assert catalogue["days_since_funding_round"].group == "recent_funding"
    assert (
        catalogue["n_email_open_7d"].group
        == catalogue["n_email_click_30d"].group
        == "email_engagement"
    )
    for group in ("inactivity", "authority", "source", "speed_to_lead", "account_activity"):
        assert group in catalogue.groups
    assert set(catalogue.group_family.values()) <= set(FAMILIES)
    assert all(catalogue.group_label[g] for g in catalogue.groups)


def test_each_group_has_a_main_feature_of_its_own() -> None:
    catalogue = event_catalogue(DATASET)
    for group in catalogue.groups:
        assert catalogue.group_main_feature(group) in catalogue.group_features(group)
    assert catalogue.group_main_feature("company_size") == "employees"
    assert catalogue.group_main_feature("demo_request") == "days_since_demo_request"
    assert catalogue.group_main_feature("pricing_interest") == "n_pricing_view_30d"
    with pytest.raises(KeyError, match="group 'nope' is not in the catalogue"):
        catalogue.group_main_feature("nope")


def test_select_keeps_order_and_mains() -> None:
    catalogue = event_catalogue(DATASET).select(["n_pricing_view_7d", "employees", "size_in_range"])
    assert catalogue.names == ("n_pricing_view_7d", "employees", "size_in_range")
    assert (
        catalogue.group_main_feature("pricing_interest") == "n_pricing_view_7d"
    )  # the 30-day one is gone
    assert catalogue.groups == ("pricing_interest", "company_size")
    with pytest.raises(ValueError, match=r"features not in the catalogue: \['nope'\]"):
        catalogue.select(["nope"])


def test_round_trip_and_the_explainer_reads_it() -> None:
    catalogue = event_catalogue(DATASET)
    data = json.loads(json.dumps(catalogue.to_dict()))
    loaded = FeatureCatalogue.from_dict(data)
    assert loaded == catalogue
    assert (
        loaded.membership(loaded.groups, of="group")
        == catalogue.membership(catalogue.groups, of="group")
    ).all()
    assert (
        render_reason(loaded, "demo_request", {"days_since_demo_request": 2.5}, "en", 12.0)
        == "Requested a demo 2 days ago"
    )


def test_saved_entries_with_fields_added_or_dropped_since_still_load() -> None:
    data = event_catalogue(DATASET).to_dict()
    data["entries"][0] = {**data["entries"][0], "a_field_of_a_later_version": 1}
    del data["entries"][1]["description"]
    loaded = FeatureCatalogue.from_dict(data)
    assert loaded.names == event_catalogue(DATASET).names
    assert loaded["employees"].description == ""
    with pytest.raises(
        ValueError, match=r"no 'entries' in the saved catalogue; found keys \['features'\]"
    ):
        FeatureCatalogue.from_dict({"features": ["a"]})


def test_each_family_module_declares_the_features_it_computes() -> None:
    from leadml.features.account import account_catalogue
    from leadml.features.behaviour import behaviour_catalogue
    from leadml.features.fit import fit_catalogue
    from leadml.features.intent import intent_catalogue
    from leadml.features.persona import persona_catalogue

    parts = {
        "fit": fit_catalogue(DATASET),
        "persona": persona_catalogue(DATASET),
        "behaviour": behaviour_catalogue(DATASET),
        "intent": intent_catalogue(DATASET),
        "account": account_catalogue(),
    }
    assert sum((p.names for p in parts.values()), ()) == event_catalogue(DATASET).names
    assert parts["fit"].names[:3] == ("industry", "employees", "log_employees")
    assert parts["behaviour"]["source"].family == "behaviour"
    assert {e.family for e in parts["account"]} == {"intent"}
    assert "n_pricing_view_7d" in parts["behaviour"] and "days_since_intent" in parts["intent"]


def test_flat_catalogue_groups_are_columns_with_labels() -> None:
    config = load_run_config("training/bank_marketing.yaml")
    catalogue = flat_catalogue(config.dataset)
    assert "duration" not in catalogue
    assert catalogue["age"].family == "persona" and catalogue["age"].group == "age"
    assert catalogue["poutcome"].family == "behaviour"
    assert catalogue["job"].kind == "categorical"
    assert catalogue.group_label["pdays"] == "Days since previous campaign contact"
    assert render_reason(catalogue, "age", {"age": 41.0}, "en") == "Age: 41"
    readmitted = flat_catalogue(config.dataset, include=["duration", "euribor3m"])
    assert readmitted["duration"].description.endswith("(post-outcome: audit only)")
    assert readmitted["euribor3m"].family == "intent"
    assert readmitted.group_label["euribor3m"] == "Euribor 3 months"
    with pytest.raises(ValueError, match="cannot include 'y'"):
        flat_catalogue(config.dataset, include=["y"])


def test_bad_entries_are_refused() -> None:
    with pytest.raises(ValueError, match="family 'money' is not one of"):
        FeatureInfo("x", "money", "x", "numeric", "x")


def test_declared_directions_become_monotone_constraints_in_feature_order() -> None:
    catalogue = event_catalogue(DATASET)
    directions = catalogue.directions
    # more engagement never lowers a score, a bounce or an unsubscribe never raises it
    assert directions["n_pricing_view_7d"] == "+" and directions["days_since_pricing_view"] == "-"
    assert directions["n_email_bounce_30d"] == "-" and directions["n_unsubscribe_90d"] == "-"
    # no claim on what the truth says does nothing, nor on the rep's own touches
    assert "n_blog_view_30d" not in directions and "n_topic_surge_90d" not in directions
    assert "n_sales_touch_7d" not in directions and "industry" not in directions
    constraints = catalogue.monotone_constraints()
    assert len(constraints) == len(catalogue)
    assert constraints[catalogue.names.index("n_pricing_view_7d")] == 1
    assert constraints[catalogue.names.index("n_email_bounce_7d")] == -1
    assert constraints[catalogue.names.index("country")] == 0


def test_monotone_counts_keeps_event_counts_and_every_flat_direction() -> None:
    """The dataset says what ``monotone: counts`` constrains: the counts of actions of event
    features (not their recencies), every declared direction of a flat export's columns."""
    from leadml.modeling.train import booster_params

    events = load_run_config("training/sql.yaml")
    assert events.model.monotone == "counts"
    catalogue = event_catalogue(events.dataset)
    constraints = dict(
        zip(catalogue.names, booster_params(events, catalogue)["monotone_constraints"], strict=True)
    )
    assert constraints["n_pricing_view_7d"] == 1 and constraints["days_since_pricing_view"] == 0
    flat = load_run_config("training/bank_marketing.yaml")
    flat = flat.model_copy(update={"model": flat.model.model_copy(update={"monotone": "counts"})})
    columns = flat_catalogue(flat.dataset)
    constraints = dict(
        zip(columns.names, booster_params(flat, columns)["monotone_constraints"], strict=True)
    )
    assert constraints["campaign"] == -1 and constraints["previous"] == 1
    assert constraints["age"] == 0


def test_a_constraints_method_without_constraints_is_dropped_not_crashed_on() -> None:
    """LightGBM 4.7 dies (segmentation fault) on ``monotone_constraints_method: advanced``
    with a categorical feature and no constraint: a config that sets the method in
    ``params`` but turns ``monotone`` off trains as if the method were not named."""
    import lightgbm as lgb

    from leadml.modeling.train import booster_params

    config = load_run_config("training/sql.yaml")
    model = config.model.model_copy(
        update={
            "monotone": False,
            "params": {**config.model.params, "monotone_constraints_method": "advanced"},
        }
    )
    params = booster_params(config.model_copy(update={"model": model}), event_catalogue(DATASET))
    assert "monotone_constraints" not in params and "monotone_constraints_method" not in params
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {"a": rng.normal(size=2_000), "c": pd.Categorical(rng.choice(list("xyz"), 2_000))}
    )
    y = (X["a"] + rng.normal(size=2_000) > 0).astype(float)
    small = {**params, "min_child_samples": 20, "min_gain_to_split": 0.0, "num_threads": 1}
    assert lgb.train(small, lgb.Dataset(X, y), num_boost_round=5).num_trees() == 5


def test_directions_are_overridden_per_feature_and_saved_with_the_model() -> None:
    catalogue = event_catalogue(DATASET)
    changed = catalogue.with_directions({"n_blog_view_30d": "+", "n_pricing_view_7d": "none"})
    assert changed["n_blog_view_30d"].direction == "+"
    assert changed["n_pricing_view_7d"].direction is None
    assert FeatureCatalogue.from_dict(json.loads(json.dumps(changed.to_dict()))) == changed
    with pytest.raises(
        ValueError, match=r"model.directions: \['no_such_feature'\] are not features"
    ):
        catalogue.with_directions({"no_such_feature": "+"})
    with pytest.raises(ValueError, match="direction 'up' is not"):
        FeatureInfo("x", "fit", "x", "numeric", direction="up")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a numeric feature"):
        FeatureInfo("x", "fit", "x", "categorical", direction="+")


def test_expected_signs_follow_recent_activity() -> None:
    import numpy as np
    import pandas as pd

    catalogue = event_catalogue(DATASET)
    counts = [n for n in catalogue.names if n.startswith(("n_", "active_days"))]
    values = pd.DataFrame(0.0, index=range(3), columns=counts)
    values.loc[0, ["n_pricing_view_7d", "n_pricing_view_30d", "n_pricing_view_90d"]] = 2
    values.loc[1, "n_pricing_view_90d"] = 1  # only an older visit, in the 90-day window
    values.loc[0, "n_unsubscribe_30d"] = 1
    signs = catalogue.expected_signs(values)
    groups = list(catalogue.groups)
    np.testing.assert_array_equal(signs[:, groups.index("pricing_interest")], [1, 0, -1])
    np.testing.assert_array_equal(signs[:, groups.index("unsubscribe")], [-1, 1, 1])
    np.testing.assert_array_equal(signs[:, groups.index("blog_reading")], [0, 0, 0])


def test_expected_signs_of_a_few_rows_in_one_block_as_column_by_column(
    sql_training_set, monkeypatch
):
    """A few rows (a served lead) read their presence counts in one block, many column by
    column: the same signs."""
    import leadml.features.catalogue as module

    catalogue = sql_training_set.catalogue
    frame = sql_training_set.frame.sample(300, random_state=2)
    monkeypatch.setattr(module, "_BLOCK_ROWS", 0)
    by_column = catalogue.expected_signs(frame)
    monkeypatch.setattr(module, "_BLOCK_ROWS", len(frame))
    np.testing.assert_array_equal(catalogue.expected_signs(frame), by_column)
    assert set(np.unique(by_column)) == {-1, 0, 1}
