"""CRM picklists: placeholders, yes/no text and value maps, in dataset.yaml and flat configs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.config import EventDataset, FlatDataset, RunConfig, ValueRules
from leadml.data.picklists import ValueRuleError, apply_value_rules


def test_placeholders_become_missing_per_column_and_everywhere() -> None:
    frame = pd.DataFrame(
        {
            "Lead Source": ["Web", "Select", "-", None, "Partner"],
            "City": ["Select", "Paris", "N/A", "Lyon", "select "],
            "Visits": [3, -1, 2, 5, -1],
        }
    )
    rules = ValueRules(
        missing={
            "*": ("N/A",),
            "Lead Source": ("Select", "-"),
            "City": ("Select",),
            "Visits": ("-1",),
        }
    )
    out = apply_value_rules(frame, rules, table="flat")
    assert out["Lead Source"].isna().tolist() == [False, True, True, True, False]
    # compared trimmed and without case; "*" adds N/A to every text column
    assert out["City"].tolist()[1::2] == ["Paris", "Lyon"] and out["City"].isna().sum() == 3
    assert out["Visits"].dtype == np.float64 and out["Visits"].isna().sum() == 2
    assert frame["Lead Source"].tolist()[1] == "Select"  # the argument is not modified


def test_yes_no_text_reads_as_one_and_zero_and_names_unreadable_values() -> None:
    frame = pd.DataFrame({"Do Not Email": ["Yes", "no", "TRUE", "0", None, "Select"]})
    rules = ValueRules(boolean=("Do Not Email",), missing={"Do Not Email": ("Select",)})
    out = apply_value_rules(frame, rules, table="flat")
    assert out["Do Not Email"].tolist()[:4] == [1.0, 0.0, 1.0, 0.0]
    assert out["Do Not Email"].isna().tolist()[4:] == [True, True]
    with pytest.raises(
        ValueRuleError,
        match=r"leads\.Do Not Email: 2 values are not yes/no text: 'Maybe' \(2 rows\), '\?' \(1 row\); "
        r"expected one of yes/y/true.*or list the value under tables\.leads\.missing\.Do Not Email",
    ):
        apply_value_rules(
            pd.DataFrame({"Do Not Email": ["Maybe", "yes", "Maybe", "?"]}),
            ValueRules(boolean=("Do Not Email",)),
            table="leads",
            where="tables.leads",
        )


def test_value_maps_turn_crm_names_into_the_contract_vocabulary() -> None:
    frame = pd.DataFrame(
        {"StageName": pd.Categorical(["Qualified", "Closed Won", "Nurturing", None])}
    )
    rules = ValueRules(values={"stage": {"Qualified": "sql", "Closed Won": "won"}})
    out = apply_value_rules(
        frame.rename(columns={"StageName": "stage"}),
        rules,
        table="outcomes",
        renamed={"StageName": "stage"},
    )
    # unmapped values pass through, so the contract check still names them
    assert out["stage"].tolist()[:3] == ["sql", "won", "Nurturing"] and pd.isna(out["stage"][3])
    # a rule may name the column as exported
    by_export_name = ValueRules(values={"StageName": {"Qualified": "sql"}})
    out = apply_value_rules(
        frame.rename(columns={"StageName": "stage"}),
        by_export_name,
        table="outcomes",
        renamed={"StageName": "stage"},
    )
    assert out["stage"].tolist()[0] == "sql"


def test_a_column_cannot_be_both_boolean_and_mapped() -> None:
    with pytest.raises(ValueError, match=r"both boolean and value-mapped: \['x'\]"):
        ValueRules(boolean=("x",), values={"x": {"a": "b"}})


def _event_dataset(**outcomes) -> EventDataset:
    from conftest import TRAINING

    from leadml.config import load_dataset_config

    base = load_dataset_config(TRAINING / "dataset.yaml").model_dump()
    base["tables"]["outcomes"] |= outcomes
    return EventDataset.model_validate(base)


def test_unmapped_stages_still_get_the_contract_error_with_where_to_map_them(tmp_path) -> None:
    from leadml.data.schema import load_tables
    from leadml.synth import SynthSpec, write_demo_data

    write_demo_data(tmp_path, SynthSpec(n_leads=300, seed=3))
    outcomes = pd.read_parquet(tmp_path / "outcomes.parquet")
    crm_words = {"sql": "Qualified", "won": "Closed Won", "mql": "Marketing Qualified"}
    outcomes["stage"] = outcomes["stage"].astype(str).replace(crm_words)
    outcomes.loc[outcomes.index[:2], "stage"] = "Nurturing"
    outcomes.to_parquet(tmp_path / "outcomes.parquet")
    mapped = _event_dataset(values={"stage": {v: k for k, v in crm_words.items()}})
    tables, report = load_tables(tmp_path, mapped)
    assert "Qualified" not in set(tables.outcomes["stage"].dropna())
    vocabulary = [i for i in report.errors if i.check == "vocabulary"]
    assert len(vocabulary) == 1 and vocabulary[0].n_rows == 2
    assert vocabulary[0].message.startswith(
        "outcomes.stage: 1 value not in the vocabulary: 'Nurturing' (2 rows); expected one of: mql, sql"
    )
    assert vocabulary[0].message.endswith(
        "map it under tables.outcomes.values.stage in training/dataset.yaml"
    )


def test_a_flat_export_with_placeholders_and_yes_no_text_trains_on_clean_values() -> None:
    from leadml.pointintime.trainingset import build_training_set

    rng = np.random.default_rng(0)
    n = 400
    raw = pd.DataFrame(
        {
            "Lead Source": rng.choice(["Google", "Direct Traffic", "Select", "google"], n),
            "Do Not Email": rng.choice(["Yes", "No"], n),
            "Converted": rng.choice([0, 1], n),
        }
    )
    dataset = FlatDataset(
        mode="flat",
        label="Converted",
        positive=(1,),
        numeric=("Do Not Email",),
        categorical=("Lead Source",),
        missing={"Lead Source": ("Select",)},
        boolean=("Do Not Email",),
        values={"Lead Source": {"google": "Google"}},
    )
    ts = build_training_set(RunConfig(dataset=dataset), raw)
    spec = ts.spec
    assert spec["Lead_Source"].categories == ("Direct Traffic", "Google")
    assert spec["Lead_Source"].source == "Lead Source"
    assert set(ts.frame["Do_Not_Email"].unique()) == {0.0, 1.0}
    assert len(ts.frame) == n
    assert int(ts.frame["Lead_Source"].isna().sum()) == int((raw["Lead Source"] == "Select").sum())


def test_event_types_must_be_plain_names_and_the_error_points_to_the_value_map(tmp_path) -> None:
    import yaml
    from conftest import TRAINING

    from leadml.config import ConfigError, load_dataset_config

    config = yaml.safe_load((TRAINING / "dataset.yaml").read_text())
    config["vocabularies"]["event_types"] = ["Web Visit: Pricing", "email_open"]
    path = tmp_path / "dataset.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as caught:
        load_dataset_config(path)
    message = str(caught.value)
    assert "event_types: ['Web Visit: Pricing'] are not plain names" in message
    assert "'Web Visit: Pricing' -> 'web_visit_pricing'" in message
    assert "map the CRM's values onto them under tables.events.values.event_type" in message
