"""Built training sets kept on disk with ``joblib.Memory``, keyed by the data and the settings.

Building a point-in-time training set (reading and validating the tables,
snapshots, labels, features for every snapshot) is the slow part of a
retrain on unchanged data and of every tuning study. The key is the SHA-256
of the input files' bytes plus the settings that shape the set (the dataset
mapping, target, snapshot ages, split, seed), never the LightGBM parameters,
so a retrain with other trees or a tuning study reuses it. A changed byte in
any input file, or a changed setting, is a new key.

The cache holds pickles written by this process for itself (joblib's format);
nothing on the scoring path reads them.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from leadml.config import RunConfig
from leadml.data.sources import is_database, redact
from leadml.pointintime.trainingset import TrainingSet, build_training_set
from leadml.progress import say

__all__ = [
    "DEFAULT_CACHE_DIR",
    "cache_dir_from_env",
    "cached_training_set",
    "code_sha256",
    "input_files",
    "inputs_sha256",
    "training_set_key",
]

DEFAULT_CACHE_DIR = ".leadml-cache"
# Older entries go first once the cache holds more than this many training sets.
MAX_ENTRIES = 8


def cache_dir_from_env() -> Path:
    """``LEADML_CACHE_DIR``, else ``.leadml-cache`` in the working folder."""
    return Path(os.environ.get("LEADML_CACHE_DIR") or DEFAULT_CACHE_DIR)


def input_files(data: Path) -> list[Path]:
    """The files that define the data: a folder's files (not the synthetic truth), or one file."""
    files = sorted(p for p in data.iterdir() if p.is_file()) if data.is_dir() else [data]
    # the truth is for evaluation only; it never defines the data
    return [p for p in files if not p.name.startswith("truth")]


def inputs_sha256(data: str | Path) -> str:
    """SHA-256 over the names and bytes of the input files (a folder's files, or one file)."""
    data = Path(data)
    if not data.exists():
        raise FileNotFoundError(f"no data at {data}")
    digest = hashlib.sha256()
    for path in input_files(data):
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _build_settings(config: RunConfig) -> dict[str, Any]:
    """The parts of a run config that shape its training set (not the model's parameters)."""
    settings = config.model_dump(mode="json")
    return {
        key: settings[key]
        # small_data decides the parts, refit whether purged rows keep their features
        for key in ("dataset", "target", "snapshots", "split", "small_data", "refit", "seed")
        if key in settings
    }


def code_sha256() -> str:
    """SHA-256 of leadml's own source files: a new feature code is a new training set."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def training_set_key(config: RunConfig, data_sha256: str) -> str:
    """The training set's digest: its inputs' SHA-256, the settings that shape it, the code."""
    text = json.dumps(
        {
            "inputs_sha256": data_sha256,
            "settings": _build_settings(config),
            "code_sha256": code_sha256(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _build(key: str, config: RunConfig, data: str) -> TrainingSet:
    # `key` alone decides the cache entry; `config` and `data` are ignored by the hash
    return build_training_set(config, data)


def cached_training_set(
    config: RunConfig, data: str | Path, *, cache_dir: str | Path | None
) -> tuple[TrainingSet, dict[str, Any]]:
    """The training set of ``config`` over ``data``, from the cache when the key is there.

    Returns the set and a record: ``key`` (also the MLflow dataset digest),
    ``inputs_sha256``, ``hit`` and the seconds taken. ``cache_dir=None`` builds
    without a cache (the record still carries the key).
    """
    started = time.perf_counter()
    if is_database(data):
        # a database has no file bytes to fingerprint: built every time, keyed by nothing
        say(f"building the training set from {redact(str(data))} …")
        training_set = build_training_set(config, data)
        return training_set, {
            "key": None,
            "inputs_sha256": None,
            "cache_dir": None,
            "hit": False,
            "seconds": round(time.perf_counter() - started, 2),
        }
    data_sha = inputs_sha256(data)
    key = training_set_key(config, data_sha)
    record: dict[str, Any] = {"key": key, "inputs_sha256": data_sha, "cache_dir": None}
    if cache_dir is None:
        say(f"building the training set from {data} …")
        training_set = build_training_set(config, data)
        record |= {"hit": False, "seconds": round(time.perf_counter() - started, 2)}
        return training_set, record
    from joblib import Memory

    memory = Memory(location=str(cache_dir), verbose=0)
    build = memory.cache(_build, ignore=["config", "data"])
    hit = build.check_call_in_cache(key, config, str(data))
    say(
        f"training set {key[:12]} from the cache in {cache_dir}"
        if hit
        else f"building the training set from {data} (cached in {cache_dir}) …"
    )
    training_set = build(key, config, str(data))
    if not hit:
        memory.reduce_size(items_limit=MAX_ENTRIES)
    record |= {
        "hit": bool(hit),
        "cache_dir": str(cache_dir),
        "seconds": round(time.perf_counter() - started, 2),
    }
    return training_set, record
