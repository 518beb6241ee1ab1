import pandas as pd
import pytest

from leadml.data.io import atomic_path, write_frame_atomic, write_json_atomic


def test_a_crash_mid_write_leaves_the_previous_file_intact(tmp_path):
    target = tmp_path / "scores.parquet"
    write_frame_atomic(pd.DataFrame({"lead_id": [1, 2]}), target)
    with pytest.raises(RuntimeError, match="killed"), atomic_path(target) as tmp:
        tmp.write_bytes(b"half a parquet file")
        raise RuntimeError("killed")
    assert pd.read_parquet(target)["lead_id"].tolist() == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["scores.parquet"]


def test_json_is_written_sorted(tmp_path):
    path = write_json_atomic(tmp_path / "m.json", {"b": 1, "a": 2})
    assert path.read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'


def test_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(ValueError, match=".parquet or .csv"):
        write_frame_atomic(pd.DataFrame({"a": [1]}), tmp_path / "x.txt")
