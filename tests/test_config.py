"""Config validation: documented defaults, and each refusal names the key, the value and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from leadml.config import (
    ICP,
    ConfigError,
    EventDataset,
    FlatDataset,
    RunConfig,
    SplitSpec,
    TableSpec,
    TargetSpec,
    TierSpec,
    load_dataset_config,
    load_run_config,
)

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "training"


@pytest.fixture(scope="module")
def dataset_dict() -> dict:
    return yaml.safe_load((TRAINING / "dataset.yaml").read_text())


def _flat(**overrides) -> FlatDataset:
    return FlatDataset(**{"mode": "flat", "label": "y", **overrides})


# --- documented defaults (the values are the documentation's, not read from the code)


def test_default_purge_gap_is_the_label_horizon_as_documented():
    # training/sql.yaml and won.yaml: "purge_days (default: the horizon, 90|180)"
    assert load_run_config(TRAINING / "sql.yaml").purge_days == 90
    assert load_run_config(TRAINING / "won.yaml").purge_days == 180
    flat = RunConfig(dataset=_flat())
    assert flat.purge_days == 90  # the default horizon of 90 days
    assert RunConfig(dataset=_flat(), target=TargetSpec(horizon_days=30)).purge_days == 30
    assert RunConfig(dataset=_flat(), split=SplitSpec(purge_days=7)).purge_days == 7
    # an explicit 0 is a choice, not "unset"
    assert RunConfig(dataset=_flat(), split=SplitSpec(purge_days=0)).purge_days == 0


def test_run_configs_read_their_targets_and_dataset():
    sql = load_run_config(TRAINING / "sql.yaml")
    assert (sql.target.name, sql.target.horizon_days) == ("sql", 90)
    assert sql.target.stages == ("sql", "opportunity", "won")
    assert isinstance(sql.dataset, EventDataset)
    assert sql.source == str(TRAINING / "sql.yaml")
    bank = load_run_config(TRAINING / "bank_marketing.yaml")
    assert isinstance(bank.dataset, FlatDataset)


# --- loading files


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.yaml"):
        load_run_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="config file not found"):
        load_dataset_config(tmp_path / "nope.yaml")


def test_invalid_yaml_and_a_non_mapping_are_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        load_run_config(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(
        ConfigError, match=r"list\.yaml: expected a mapping at the top level, got list"
    ):
        load_run_config(listed)


def test_validation_errors_name_the_key_and_the_given_value(tmp_path, dataset_dict):
    path = tmp_path / "run.yaml"
    path.write_text(
        yaml.safe_dump({"dataset": dataset_dict, "target": {"horizon_days": -5}, "seed": "x"})
    )
    with pytest.raises(ConfigError) as caught:
        load_run_config(path)
    assert str(caught.value).split("\n") == [
        f"{path}: invalid configuration:",
        "  target.horizon_days: Input should be greater than 0 (given: -5)",
        "  seed: Input should be a valid integer, unable to parse string as an integer (given: 'x')",
    ]


def test_a_mapping_input_is_not_echoed_and_top_level_errors_are_labelled(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"dataset": {"mode": "flat"}}))
    with pytest.raises(ConfigError) as caught:
        load_run_config(path)
    lines = str(caught.value).splitlines()[1:]
    assert lines == ["  dataset.flat.label: Field required"]


def test_the_dataset_path_is_relative_to_the_run_config(tmp_path, dataset_dict):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.yaml").write_text(yaml.safe_dump(dataset_dict))
    run = tmp_path / "run.yaml"
    run.write_text(yaml.safe_dump({"dataset": "sub/data.yaml", "seed": 3}))
    config = load_run_config(run)
    assert config.seed == 3 and isinstance(config.dataset, EventDataset)
    # an absolute path is used as it is
    run.write_text(yaml.safe_dump({"dataset": str(tmp_path / "sub" / "data.yaml")}))
    assert isinstance(load_run_config(run).dataset, EventDataset)
    # no dataset key: dataset.yaml beside the run config
    (tmp_path / "dataset.yaml").write_text(yaml.safe_dump(dataset_dict))
    run.write_text(yaml.safe_dump({"seed": 5}))
    assert load_run_config(run).dataset.tables["leads"].file == "leads"


def test_a_flat_dataset_file_is_read_as_flat(tmp_path):
    path = tmp_path / "flat.yaml"
    path.write_text(yaml.safe_dump({"mode": "flat", "label": "y", "numeric": ["age"]}))
    dataset = load_dataset_config(path)
    assert isinstance(dataset, FlatDataset) and dataset.numeric == ("age",)
    path.write_text(yaml.safe_dump({"mode": "flat", "numeric": ["age"]}))
    with pytest.raises(
        ConfigError, match=r"flat\.yaml: invalid configuration:\n  label: Field required"
    ):
        load_dataset_config(path)


def test_an_event_dataset_with_a_bad_table_is_explained(tmp_path, dataset_dict):
    broken = {
        **dataset_dict,
        "tables": {k: v for k, v in dataset_dict["tables"].items() if k != "intent"},
    }
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(ConfigError) as caught:
        load_dataset_config(path)
    assert str(caught.value) == (
        f"{path}: invalid configuration:\n  (top level): tables: expected exactly "
        "['accounts', 'leads', 'events', 'intent', 'outcomes']; missing ['intent'], unknown []"
    )


def test_resolve_reads_paths_relative_to_the_config_file(tmp_path):
    config = RunConfig(dataset=_flat(), source=str(tmp_path / "conf" / "run.yaml"))
    assert config.resolve("grid.yaml") == tmp_path / "conf" / "grid.yaml"
    assert config.resolve("/abs/grid.yaml") == Path("/abs/grid.yaml")
    assert config.resolve(None) is None
    assert RunConfig(dataset=_flat()).resolve("grid.yaml") == Path("grid.yaml")


# --- validators


def test_split_fractions_must_be_positive_and_sum_to_one():
    assert SplitSpec(train=0.7, valid=0.1, calib=0.1, test=0.1).train == 0.7
    SplitSpec(train=0.55 + 5e-7, valid=0.15, calib=0.10, test=0.20)  # within 1e-6
    with pytest.raises(ValueError) as caught:
        SplitSpec(train=0.5)
    assert caught.value.errors()[0]["msg"] == (
        "Value error, split: train, valid, calib and test must be positive and sum to 1; "
        "got 0.5, 0.15, 0.1, 0.2 (sum 0.950)"
    )
    with pytest.raises(ValueError, match="sum 1.000"):
        SplitSpec(train=0.75, valid=0.15, calib=0.10, test=0.0)
    with pytest.raises(ValueError, match="positive and sum to 1"):
        SplitSpec(train=0.55 + 2e-6)
    with pytest.raises(ValueError, match="positive and sum to 1"):
        SplitSpec(train=0.65, valid=-0.1, calib=0.25, test=0.2)


def test_tiers_must_be_ordered():
    assert TierSpec(hot=0.3, warm=0.3).warm == 0.3
    TierSpec(hot=1.0, warm=0.0)
    with pytest.raises(ValueError, match="expected 0 <= warm <= hot <= 1; got warm=0.5, hot=0.4"):
        TierSpec(hot=0.4, warm=0.5)
    with pytest.raises(ValueError, match="got warm=-0.1, hot=0.3"):
        TierSpec(warm=-0.1)
    with pytest.raises(ValueError, match="got warm=0.1, hot=1.2"):
        TierSpec(hot=1.2)


def test_icp_employee_range_must_be_in_order():
    assert ICP(employees_min=10, employees_max=10).employees_min == 10
    with pytest.raises(ValueError) as caught:
        ICP(employees_min=500, employees_max=100)
    assert caught.value.errors()[0]["msg"] == (
        "Value error, icp: employees_min must not exceed employees_max; got "
        "employees_min=500.0, employees_max=100.0"
    )


def test_event_tables_must_be_exactly_the_five(dataset_dict):
    tables = dict(dataset_dict["tables"])
    with pytest.raises(
        ValueError,
        match=r"tables: expected exactly \['accounts', 'leads', 'events', 'intent', 'outcomes'\]; "
        r"missing \[\], unknown \['calls'\]",
    ):
        EventDataset.model_validate({**dataset_dict, "tables": {**tables, "calls": {"file": "c"}}})
    del tables["outcomes"]
    with pytest.raises(ValueError, match=r"missing \['outcomes'\], unknown \[\]"):
        EventDataset.model_validate({**dataset_dict, "tables": tables})


def test_closed_stages_must_be_in_the_stage_vocabulary(dataset_dict):
    with pytest.raises(
        ValueError, match=r"closed_stages \['churned'\] are not in vocabularies.stages"
    ):
        EventDataset.model_validate({**dataset_dict, "closed_stages": ["won", "churned"]})
    ok = EventDataset.model_validate({**dataset_dict, "closed_stages": ["won", "lost"]})
    assert ok.closed_stages == ("won", "lost")


def test_flat_columns_cannot_be_both_kinds_nor_the_label():
    with pytest.raises(
        ValueError, match=r"columns declared both numeric and categorical: \['a', 'b'\]"
    ):
        _flat(numeric=("b", "a", "c"), categorical=("a", "b"))
    with pytest.raises(ValueError, match="the label column 'y' cannot also be a feature"):
        _flat(numeric=("y",))
    with pytest.raises(ValueError, match="the label column 'y' cannot also be a feature"):
        _flat(categorical=("y",))


def test_flat_feature_columns_keep_declaration_order_minus_excluded():
    dataset = _flat(numeric=("n1", "n2"), categorical=("c1", "c2"), exclude=("n2", "c1"))
    assert dataset.feature_columns == ("n1", "c2")


def test_a_table_column_maps_to_itself_unless_mapped():
    table = TableSpec(file="leads", columns={"lead_id": "LeadId"})
    assert table.source_column("lead_id") == "LeadId"
    assert table.source_column("created_at") == "created_at"


def test_configs_are_frozen_and_refuse_unknown_keys():
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        SplitSpec(holdout=0.1)
    spec = SplitSpec()
    with pytest.raises(ValueError, match="frozen"):
        spec.train = 0.9


# --- values that make no sense are refused when the config is read (issue 16) -------------
@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("points", {"pdo": 0}, "points.pdo: Input should be greater than 0"),
        ("points", {"top_reasons": -1}, "points.top_reasons: Input should be greater than or"),
        ("model", {"params": {"num_leavs": 8}}, "'num_leavs' \\(did you mean 'num_leaves'\\?\\)"),
        ("model", {"params": {"num_leaves": "abc"}}, "num_leaves should be of type int"),
        ("model", {"registered_name": "leadml/sql"}, "registered_name: 'leadml/sql' must be"),
        ("target", {"stages": ["wonn"]}, "target.stages: \\['wonn'\\] not in the stage vocabulary"),
    ],
)
def test_a_run_config_value_that_makes_no_sense_is_refused(tmp_path, section, values, message):
    (tmp_path / "dataset.yaml").write_text((TRAINING / "dataset.yaml").read_text())
    (tmp_path / "run.yaml").write_text(yaml.safe_dump({"dataset": "dataset.yaml", section: values}))
    with pytest.raises(ConfigError, match=message):
        load_run_config(tmp_path / "run.yaml")


def test_a_zero_half_life_and_event_type_names_with_spaces_are_refused(tmp_path, dataset_dict):
    bad = {**dataset_dict, "features": {**dataset_dict["features"], "half_life_days": 0}}
    (tmp_path / "d.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError, match="features.half_life_days: Input should be greater"):
        load_dataset_config(tmp_path / "d.yaml")
    vocab = dataset_dict["vocabularies"]
    for name in ("page view", "web:visit"):
        bad = {
            **dataset_dict,
            "vocabularies": {**vocab, "event_types": [*vocab["event_types"], name]},
        }
        (tmp_path / "d.yaml").write_text(yaml.safe_dump(bad))
        with pytest.raises(ConfigError, match="not plain names"):
            load_dataset_config(tmp_path / "d.yaml")


def test_a_misspelt_top_level_key_is_named_with_the_nearest_valid_one(tmp_path, dataset_dict):
    from leadml.config import load_config

    typo = {("tabels" if k == "tables" else k): v for k, v in dataset_dict.items()}
    (tmp_path / "d.yaml").write_text(yaml.safe_dump(typo))
    with pytest.raises(ConfigError, match="'tabels' \\(did you mean 'tables'\\?\\)"):
        load_config(tmp_path / "d.yaml")
    (tmp_path / "r.yaml").write_text(yaml.safe_dump({"dataset": dataset_dict, "pionts": {}}))
    with pytest.raises(ConfigError, match="pionts: unknown key \\(did you mean 'points'\\?\\)"):
        load_config(tmp_path / "r.yaml")


def test_passive_events_must_be_event_types(tmp_path):
    from leadml.config import load_dataset_config

    text = (
        (TRAINING / "dataset.yaml")
        .read_text()
        .replace("passive_events: [blog_view]", "passive_events: [blog_visit]")
    )
    path = tmp_path / "dataset.yaml"
    path.write_text(text)
    with pytest.raises(
        ConfigError, match=r"passive_events \['blog_visit'\] are not in vocabularies"
    ):
        load_dataset_config(path)


def test_passive_signals_must_be_signal_types(tmp_path):
    from leadml.config import load_dataset_config

    text = (
        (TRAINING / "dataset.yaml")
        .read_text()
        .replace(
            "passive_signals: [technology_change, topic_surge]",
            "passive_signals: [tech_install]",
        )
    )
    assert "passive_signals: [tech_install]" in text
    path = tmp_path / "dataset.yaml"
    path.write_text(text)
    with pytest.raises(
        ConfigError,
        match=r"passive_signals \['tech_install'\] are not in vocabularies.signal_types",
    ):
        load_dataset_config(path)


def test_a_key_written_twice_is_refused_with_both_lines(tmp_path):
    from leadml.config import load_dataset_config

    text = (TRAINING / "dataset.yaml").read_text()
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if "passive_signals:" in line) + 1
    text = text.replace(
        "passive_events: [blog_view]",
        "passive_events: [blog_view]\n  passive_signals: [funding_round]",
    )
    added = next(i for i, line in enumerate(text.splitlines()) if "[funding_round]" in line) + 1
    path = tmp_path / "dataset.yaml"
    path.write_text(text)
    with pytest.raises(
        ConfigError,
        match=rf"key 'passive_signals' is written twice in this mapping \(lines {added} and "
        rf"{first + 1}\); keep one",
    ):
        load_dataset_config(path)
