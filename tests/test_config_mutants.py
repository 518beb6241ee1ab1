"""Config loading and its messages, case by case, with every expected message written out.

These pin what ``test_config.py`` leaves loose (``make mutate``'s survivors in
``leadml.config``): the nearest-key hint for nested keys and when there is none, messages
that already name their key, the LightGBM parameter check's silence and its message, a
flat dataset file read as a run config, long values cut in messages, YAML's own readings.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from leadml.config import (
    ConfigError,
    FlatDataset,
    ModelSpec,
    load_config,
    load_dataset_config,
    load_run_config,
    yaml_document,
)

TRAINING = Path(__file__).resolve().parents[1] / "training"


@pytest.fixture(scope="module")
def dataset_dict() -> dict:
    return yaml.safe_load((TRAINING / "dataset.yaml").read_text())


def _refusal(path: Path, load=load_run_config) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return str(caught.value).split("\n")


# --- unknown keys: the nearest valid one, from the section where the key was written ------
def test_a_misspelt_nested_key_is_matched_against_its_own_section(tmp_path, dataset_dict):
    path = tmp_path / "run.yaml"
    path.write_text(
        yaml.safe_dump({"dataset": "dataset.yaml", "model": {"selection": {"keeep": ["x"]}}})
    )
    (tmp_path / "dataset.yaml").write_text(yaml.safe_dump(dataset_dict))
    assert _refusal(path) == [
        f"{path}: invalid configuration:",
        "  model.selection.keeep: unknown key (did you mean 'keep'?)",
    ]


def test_a_key_with_no_near_name_and_a_key_inside_the_dataset_union_get_no_hint(
    tmp_path, dataset_dict
):
    # `dataset` is a union (events or flat), not one section: no names to match against
    inline = {**dataset_dict, "tabels": {}}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"dataset": inline, "points": {"zzzz": 1}}))
    assert _refusal(path) == [
        f"{path}: invalid configuration:",
        "  dataset.events.tabels: unknown key",
        "  points.zzzz: unknown key",
    ]


def test_every_error_is_listed_after_an_unknown_key_and_a_dataset_file_gets_hints(
    tmp_path, dataset_dict
):
    path = tmp_path / "dataset.yaml"
    bad = {**dataset_dict, "tabels": dataset_dict["tables"], "seed": 1}
    del bad["tables"]
    path.write_text(yaml.safe_dump(bad))
    assert _refusal(path, load_dataset_config) == [
        f"{path}: invalid configuration:",
        "  tables: Field required",
        "  seed: unknown key",
        "  tabels: unknown key (did you mean 'tables'?)",
    ]


def test_a_message_that_names_its_own_key_is_not_prefixed_twice(tmp_path, dataset_dict):
    # inline, the ICP check's error sits at dataset.events.icp; its message names `icp:`
    inline = {**dataset_dict, "icp": {**dataset_dict["icp"], "employees_min": 9000}}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"dataset": inline, "tiers": {"hot": 0.1, "warm": 0.2}}))
    assert _refusal(path) == [
        f"{path}: invalid configuration:",
        "  icp: employees_min must not exceed employees_max; got employees_min=9000.0, "
        "employees_max=5000.0",
        "  tiers: expected 0 <= warm <= hot <= 1; got warm=0.2, hot=0.1",
    ]


# --- load_config: a run config or a bare dataset config -----------------------------------
def test_a_flat_dataset_file_alone_is_a_run_config_with_defaults(tmp_path):
    path = tmp_path / "flat.yaml"
    path.write_text(yaml.safe_dump({"mode": "flat", "label": "converted", "file": "x.csv"}))
    config = load_config(path)
    assert isinstance(config.dataset, FlatDataset)
    assert config.dataset.label == "converted" and config.source == str(path)
    assert config.model.num_boost_round == 2000  # the run defaults around it


def test_a_run_config_with_a_stray_tables_key_is_read_as_a_run_config(tmp_path, dataset_dict):
    (tmp_path / "dataset.yaml").write_text(yaml.safe_dump(dataset_dict))
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"dataset": "dataset.yaml", "tables": {}}))
    assert _refusal(path, load_config) == [
        f"{path}: invalid configuration:",
        "  tables: unknown key",
    ]


def test_unknown_top_level_keys_are_listed_each_with_its_hint_or_none(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump({"zzzz": 1, "tagret": {}}))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(
        f"{path}: unknown top-level keys 'tagret' (did you mean 'target'?), 'zzzz'; "
        "a run config has ['audit', "
    )


# --- model.params: LightGBM's own check, silent, its message whole -----------------------
def test_unknown_lightgbm_params_are_listed_with_the_documentation_link():
    with pytest.raises(ValueError) as caught:
        ModelSpec(params={"zzzz": 1, "num_leavs": 8})
    message = str(caught.value)
    assert (
        "model.params: 'zzzz', 'num_leavs' (did you mean 'num_leaves'?) not a LightGBM "
        "parameter; see https://lightgbm.readthedocs.io/en/latest/Parameters.html"
    ) in message


def test_objectives_lightgbm_accepts_on_a_zero_one_target_pass_the_check():
    # the check builds a throwaway booster on a 0/1 label: a Poisson target must not sum to
    # zero, a cross-entropy one must lie in [0, 1]
    for objective in ("poisson", "cross_entropy"):
        assert ModelSpec(params={"objective": objective}).params == {"objective": objective}


def test_the_params_check_prints_nothing_and_gives_stderr_back(capfd):
    ModelSpec(params={"num_leaves": 8})
    with pytest.raises(ValueError, match="LightGBM refuses them"):
        ModelSpec(params={"num_leaves": "abc"})
    os.write(2, b"stderr is back\n")
    assert capfd.readouterr() == ("", "stderr is back\n")


def test_lightgbm_s_refusal_is_cut_at_200_characters():
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        ModelSpec(params={"num_leaves": "x" * 300})
    message = caught.value.errors()[0]["msg"]
    head = "Value error, model.params: LightGBM refuses them: "
    said = 'Parameter num_leaves should be of type int, got "'
    assert message == head + said + "x" * (200 - len(said))


# --- values shown in messages ----------------------------------------------------------
def test_a_given_value_is_shown_whole_up_to_80_characters_then_cut():
    from leadml.config import _shown

    assert _shown("a" * 78) == repr("a" * 78)  # 80 characters with the quotes
    assert _shown("a" * 79) == "'" + "a" * 79 + "… (1 more characters)"
    assert _shown(list(range(1000)))[-25:] == "… (4,810 more characters)"


# --- YAML: plain YAML's readings kept, a key written twice refused with its place -------------
def test_yaml_documents_read_as_plain_yaml_does():
    # merge keys (`<<: *b`) were refused until session 5 (no constructor for their tag)
    text = "base: &b {x: 1, y: [1, 2]}\nother:\n  <<: *b\n  y: 3\nloop: &r {self: *r}\n"
    read = yaml_document(text)
    assert read["other"] == {"x": 1, "y": 3} and read["base"] == {"x": 1, "y": [1, 2]}
    assert read["loop"]["self"] is read["loop"]  # a recursive node, as yaml.safe_load reads it


def test_a_key_written_twice_after_a_merge_key_is_refused_too():
    with pytest.raises(yaml.YAMLError, match="key 'y' is written twice in this mapping"):
        yaml_document("base: &b {x: 1}\nother:\n  <<: *b\n  y: 1\n  y: 2\n")


def test_a_key_written_twice_names_where_in_the_text():
    with pytest.raises(yaml.YAMLError) as caught:
        yaml_document("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert str(caught.value).split("\n")[:2] == [
        "key 'c' is written twice in this mapping (lines 3 and 4); keep one",
        '  in "<unicode string>", line 4, column 3:',
    ]
