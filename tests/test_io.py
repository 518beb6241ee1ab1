import hashlib
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from leadml.config import CsvOptions
from leadml.data.io import (
    atomic_path,
    file_sha256,
    find_table_file,
    read_flat,
    read_raw_tables,
    write_frame_atomic,
    write_json_atomic,
    write_text_atomic,
)

TRAINING = Path(__file__).resolve().parents[1] / "training"


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


def test_sha256_of_a_file_matches_the_published_test_vector(tmp_path):
    path = tmp_path / "abc.txt"
    path.write_bytes(b"abc")  # FIPS 180-2 test vector
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    big = tmp_path / "big.bin"
    big.write_bytes(b"a" * (3 * (1 << 20) + 5))  # crosses the 1 MiB read blocks
    assert file_sha256(big) == hashlib.sha256(b"a" * (3 * (1 << 20) + 5)).hexdigest()


def test_atomic_writes_create_folders_and_files_readable_like_any_other(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_text_atomic(tmp_path / "a" / "b" / "note.txt", "é\n")
    finally:
        os.umask(old)
    assert path == tmp_path / "a" / "b" / "note.txt"
    assert path.read_bytes() == "é\n".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["note.txt"]


def test_frames_are_written_by_suffix_without_the_index(tmp_path):
    frame = pd.DataFrame({"lead_id": [3, 1], "p": [0.5, 0.25]}, index=[10, 11])
    csv = write_frame_atomic(frame, tmp_path / "s.csv")
    assert csv.read_text() == "lead_id,p\n3,0.5\n1,0.25\n"
    parquet = write_frame_atomic(frame, tmp_path / "s.parquet")
    back = pd.read_parquet(parquet)
    assert back.to_dict("list") == {"lead_id": [3, 1], "p": [0.5, 0.25]}
    assert list(back.index) == [0, 1]


def test_json_keeps_non_ascii_readable_and_stringifies_other_types(tmp_path):
    path = write_json_atomic(tmp_path / "m.json", {"when": pd.Timestamp("2026-01-01")})
    assert path.read_text() == '{\n  "when": "2026-01-01 00:00:00"\n}\n'


def test_a_table_file_is_found_by_suffix_and_two_candidates_are_refused(tmp_path):
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "leads.csv.gz", index=False)
    assert find_table_file(tmp_path, "leads") == tmp_path / "leads.csv.gz"
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "leads.csv", index=False)
    with pytest.raises(FileNotFoundError, match="both leads.csv and leads.csv.gz"):
        find_table_file(tmp_path, "leads")
    (tmp_path / "leads.csv.gz").unlink()
    assert find_table_file(tmp_path, "leads") == tmp_path / "leads.csv"
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "leads.parquet")
    with pytest.raises(FileNotFoundError, match="both leads.parquet and leads.csv.*remove"):
        find_table_file(tmp_path, "leads")
    # a stem that names its file keeps it
    assert find_table_file(tmp_path, "leads.csv") == tmp_path / "leads.csv"


def test_text_that_is_not_utf8_is_named_by_file_and_column(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from leadml.data.io import _read_any

    titles = pa.array([b"CEO", b"\xff\xfeCTO"], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"lead_id": [1, 2], "job_title": titles}), tmp_path / "leads.parquet")
    with pytest.raises(
        ValueError, match=r"leads.parquet: column 'job_title' holds text that is not"
    ):
        _read_any(tmp_path / "leads.parquet")
    (tmp_path / "leads.csv").write_bytes(b"lead_id,job_title\n1,CEO\n2,\xff\xfeCTO\n")
    with pytest.raises(ValueError, match=r"leads.csv: not valid utf-8 text .*csv.encoding"):
        _read_any(tmp_path / "leads.csv")
    assert _read_any(tmp_path / "leads.csv", encoding="latin-1")["job_title"].iloc[1] == "ÿþCTO"
    with pytest.raises(ValueError, match="'utf-99' is not a known encoding"):
        CsvOptions(encoding="utf-99")


def test_a_missing_table_names_what_the_folder_holds(tmp_path):
    (tmp_path / "leads.csv").write_text("a\n1\n")
    (tmp_path / "events.txt").write_text("")
    with pytest.raises(
        FileNotFoundError,
        match=r"table 'intent': no intent.parquet or intent.csv in .*\(found: \['events.txt', 'leads.csv'\]\)",
    ):
        find_table_file(tmp_path, "intent")
    with pytest.raises(FileNotFoundError, match=r"\(found: no such folder\)"):
        find_table_file(tmp_path / "nope", "intent")
    (tmp_path / "intent.json").write_text("")
    with pytest.raises(FileNotFoundError, match="table 'intent.json'"):
        find_table_file(tmp_path, "intent.json")


def test_raw_tables_are_renamed_onto_the_contract_and_keep_extra_columns(tmp_path):
    from leadml.config import load_dataset_config

    dataset = load_dataset_config(TRAINING / "dataset.yaml")
    tables = dataset.tables | {
        "leads": dataset.tables["leads"].model_copy(
            update={"columns": {"lead_id": "LeadId", "created_at": "Created"}}
        )
    }
    dataset = dataset.model_copy(update={"tables": tables, "csv": CsvOptions(sep=";")})
    for name in ("accounts", "events", "intent", "outcomes"):
        pd.DataFrame({"x": [1], "y": ["é"]}).to_csv(tmp_path / f"{name}.csv", sep=";", index=False)
    pd.DataFrame({"LeadId": [7], "Created": ["2024-01-01"], "lead_id": [0], "extra": [1]}).to_csv(
        tmp_path / "leads.csv", sep=";", index=False
    )
    raw = read_raw_tables(tmp_path, dataset)
    # a mapped source column is renamed; a column already named like the contract is kept
    assert list(raw.leads.columns) == ["lead_id", "created_at", "lead_id", "extra"]
    assert raw.leads.iloc[0, 0] == 7
    assert raw.events.to_dict("list") == {"x": [1], "y": ["é"]}
    assert [name for name, _ in raw.items()] == [
        "accounts",
        "leads",
        "events",
        "intent",
        "outcomes",
    ]
    swapped = raw.replace(events=raw.leads)
    assert swapped.events is raw.leads and swapped.accounts is raw.accounts


def test_a_flat_file_is_read_with_its_separator(tmp_path):
    from leadml.config import FlatDataset

    dataset = FlatDataset(mode="flat", label="y", sep=";", file="some/where/bank.csv")
    (tmp_path / "bank.csv").write_text("age;y\n30;no\n41;yes\n")
    assert read_flat(tmp_path / "bank.csv", dataset).to_dict("list") == {
        "age": [30, 41],
        "y": ["no", "yes"],
    }
    # a folder: the config's file name is read there
    assert len(read_flat(tmp_path, dataset)) == 2
    pd.DataFrame({"age": [1]}).to_parquet(tmp_path / "b.parquet")
    assert read_flat(tmp_path / "b.parquet", dataset)["age"].tolist() == [1]
    with pytest.raises(
        FileNotFoundError, match="is a folder and the flat dataset config names no file"
    ):
        read_flat(tmp_path, dataset.model_copy(update={"file": None}))
    with pytest.raises(FileNotFoundError, match=r"flat dataset file not found: .*missing.csv"):
        read_flat(tmp_path / "missing.csv", dataset)
