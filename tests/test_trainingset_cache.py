"""joblib.Memory keeps built training sets, keyed by the input bytes, the settings and the code."""

import numpy as np
import pandas as pd
import pytest
from conftest import TRAINING

from leadml.config import load_run_config
from leadml.pointintime.trainingset_cache import (
    cached_training_set,
    inputs_sha256,
    training_set_key,
)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    from leadml.synth import SynthSpec, write_demo_data

    out = tmp_path_factory.mktemp("cache") / "data"
    write_demo_data(out, SynthSpec(n_leads=1500, seed=5))
    return out


@pytest.fixture(scope="module")
def config():
    return load_run_config(TRAINING / "sql.yaml")


def test_a_second_build_on_unchanged_data_comes_from_the_cache(config, small_data, tmp_path):
    first, record = cached_training_set(config, small_data, cache_dir=tmp_path)
    again, record_again = cached_training_set(config, small_data, cache_dir=tmp_path)
    assert record["hit"] is False and record_again["hit"] is True
    assert (
        record["key"] == record_again["key"] == training_set_key(config, inputs_sha256(small_data))
    )
    pd.testing.assert_frame_equal(first.frame, again.frame)
    assert first.spec == again.spec and first.summary == again.summary
    np.testing.assert_array_equal(first.part("test")[1], again.part("test")[1])


def test_the_key_follows_the_data_and_the_settings_not_the_model_params(
    config, small_data, tmp_path
):
    key = training_set_key(config, inputs_sha256(small_data))
    tuned = config.model_copy(
        update={"model": config.model.model_copy(update={"params": {"num_leaves": 7}})}
    )
    assert training_set_key(tuned, inputs_sha256(small_data)) == key
    longer = config.model_copy(
        update={"target": config.target.model_copy(update={"horizon_days": 120})}
    )
    assert training_set_key(longer, inputs_sha256(small_data)) != key
    # the small-data switch decides the parts: another training set
    holdout = config.model_copy(
        update={"small_data": config.small_data.model_copy(update={"max_rows": 0})}
    )
    assert training_set_key(holdout, inputs_sha256(small_data)) != key
    # one more byte in the data folder is other data
    copy = tmp_path / "data"
    copy.mkdir()
    for path in small_data.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    assert training_set_key(config, inputs_sha256(copy)) == key
    with open(copy / "events.parquet", "ab") as handle:
        handle.write(b"\0")
    assert training_set_key(config, inputs_sha256(copy)) != key


def test_without_a_cache_dir_the_set_is_built_and_still_keyed(config, small_data):
    built, record = cached_training_set(config, small_data, cache_dir=None)
    assert record["hit"] is False and len(record["key"]) == 64
    assert len(built.frame) > 0
