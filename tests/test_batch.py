"""The batch job's guards and publishing, on a tiny flat-mode scorer (fast, no MLflow).

``in = scored + rejected`` is checked before anything is written: a job that lost or
duplicated a lead raises :class:`CountMismatchError` and leaves the output folder as it
was. The unseen-category tolerance rejects a row only above the tolerance.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import leadml.scoring.batch as batch
import leadml.scoring.open_leads as scoring
import leadml.tracking as tracking
from leadml.config import FlatDataset, ModelSpec, RunConfig, TierSpec
from leadml.features.spec import FeatureColumn, FeatureSpec
from leadml.modeling.train import train_scorer
from leadml.pointintime.trainingset import build_training_set
from leadml.scoring.batch import CountMismatchError, run_scoring
from leadml.scoring.open_leads import reject_unseen_categories

ROOT = Path(__file__).resolve().parents[1]
AS_OF = pd.Timestamp("2026-01-01")
META = {"name": "tiny", "version": "7"}


def _export(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    visits = rng.integers(0, 10, n)
    plan = rng.choice(["free", "pro", "team"], n)
    p = 1 / (1 + np.exp(-(visits - 5) * 0.8 - (plan == "pro") * 1.0))
    return pd.DataFrame(
        {
            "visits": visits,
            "plan": plan,
            "region": rng.choice(["eu", "us"], n),
            "converted": np.where(rng.random(n) < p, "yes", "no"),
        }
    )


@functools.cache
def _tiny_scorer():
    """A flat config and a LeadScorer trained on 800 rows.

    Cached in the module, not only per pytest session: ``make mutate`` forks one pytest run
    per mutant from a process that already trained it, so a mutant of the job does not
    retrain (training is not what these tests check).
    """
    config = RunConfig(
        dataset=FlatDataset(
            mode="flat",
            label="converted",
            positive=("yes",),
            numeric=("visits",),
            categorical=("plan", "region"),
        ),
        model=ModelSpec(
            registered_name="tiny",
            params={"min_child_samples": 10, "min_gain_to_split": 0.0, "num_leaves": 4},
            num_boost_round=20,
            early_stopping_rounds=20,
        ),
        tiers=TierSpec(hot=0.6, warm=0.3, mql_probability=0.3),
    )
    scorer = train_scorer(build_training_set(config, _export(800, 0)), config).scorer
    return config, scorer


@pytest.fixture(scope="module")
def tiny():
    return _tiny_scorer()


@pytest.fixture
def scoring_file(tmp_path):
    frame = _export(40, 1).drop(columns="converted")
    frame.loc[3, "plan"] = "enterprise"  # one unseen value: within tolerance 1, scored
    frame.loc[5, ["plan", "region"]] = ["enterprise", "mars"]  # two: rejected
    path = tmp_path / "to_score.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def use_tiny(tiny, monkeypatch):
    config, scorer = tiny
    monkeypatch.setattr(tracking, "load_scorer", lambda model_uri, **kw: (scorer, META))
    return config, scorer


def _run(config, data, out, **kwargs):
    return run_scoring(
        data,
        config=config,
        model_uri="models:/tiny@champion",
        as_of=AS_OF,
        out_dir=out,
        log_to_mlflow=False,
        progress=False,
        **kwargs,
    )


def test_flat_job_scores_within_tolerance_rejects_above_and_counts_add_up(
    use_tiny, scoring_file, tmp_path
):
    config, scorer = use_tiny
    out = tmp_path / "out"
    manifest = _run(config, scoring_file, out, fmt="both")
    scores = pd.read_parquet(out / "scores.parquet")
    rejects = pd.read_parquet(out / "rejects.parquet")
    assert manifest["counts"] == {"in": 40, "scored": 39, "rejected": 1}
    assert rejects["lead_id"].tolist() == [5]
    assert rejects["reason"].tolist() == [
        "2 categorical values unseen at training (tolerance 1): plan='enterprise', region='mars'"
    ]
    assert 3 in set(scores["lead_id"]) and 5 not in set(scores["lead_id"])
    assert manifest["unseen_categories"] == {
        "plan": {"rows": 2, "examples": {"enterprise": None}},
        "region": {"rows": 1, "examples": {"mars": None}},
    }
    assert manifest["mode"] == "flat" and manifest["target"] == scorer.target
    assert manifest["models"]["main"] == {"uri": "models:/tiny@champion", **META}
    assert manifest["tiers"] == {
        t: int((scores["tier"] == t).sum()) for t in ("hot", "warm", "cold")
    }
    assert manifest["mql"] == int(scores["mql"].sum())
    assert manifest["expected_conversions"] == pytest.approx(scores["probability"].sum())
    assert set(manifest["files"]) == {
        "scores.parquet",
        "scores.csv",
        "rejects.parquet",
        "rejects.csv",
    }
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert (out / "_SUCCESS").read_text() == ""
    assert (scores["model_name"] == "tiny").all() and (scores["model_version"] == "7").all()


def test_a_tolerance_of_two_scores_the_row_with_two_unseen_values(use_tiny, scoring_file, tmp_path):
    config, _ = use_tiny
    manifest = _run(config, scoring_file, tmp_path / "out", tolerance=2)
    assert manifest["counts"] == {"in": 40, "scored": 40, "rejected": 0}


def test_flat_job_that_loses_a_row_raises_and_writes_nothing(
    use_tiny, scoring_file, tmp_path, monkeypatch
):
    config, _ = use_tiny
    real = scoring.score_features
    monkeypatch.setattr(scoring, "score_features", lambda *a, **k: real(*a, **k).iloc[1:])
    out = tmp_path / "out"
    with pytest.raises(CountMismatchError, match=r"rows in 40 ≠ scored 38 \+ rejected 1"):
        _run(config, scoring_file, out)
    assert not out.exists() or list(out.iterdir()) == []


# --- event mode: the guard itself, fed by stand-ins for the inputs and the per-partition work


def _scores(ids: list[int]) -> pd.DataFrame:
    probability = np.linspace(0.05, 0.9, len(ids)) if ids else np.empty(0)
    return pd.DataFrame(
        {
            "lead_id": ids,
            "probability": probability,
            "points": 50.0 + 10 * probability,
            "tier": "cold",
            "mql": probability >= 0.3,
        }
    )


def _rejects(ids: list[int], reason: str) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": ids, "reason": [reason] * len(ids)})


@pytest.fixture
def event_job(tiny, monkeypatch, sql_config):
    """run_scoring in event mode, with the inputs and the per-partition work stood in for.

    By default leads 1..6 are open and lead 9 failed validation: 7 leads in.
    """
    _, scorer = tiny
    event_config = sql_config
    scorer = dataclasses.replace(scorer, reference=None)
    monkeypatch.setattr(tracking, "load_scorer", lambda model_uri, **kw: (scorer, META))
    given: dict = {}

    def load_event_inputs(data, cfg, as_of):
        invalid = _rejects(given["invalid"], "events.ts: not a date")
        report = SimpleNamespace(rejected_leads=lambda: invalid)
        return None, invalid, pd.Series(given["open"]), report

    def score_open_leads(tables, cfg, scorer, **kwargs):
        return given["scores"], given["rejects"], {}, {}

    monkeypatch.setattr(batch, "_load_event_inputs", load_event_inputs)
    monkeypatch.setattr(batch, "score_open_leads", score_open_leads)

    def run(out, scores, rejects, *, open_ids=(1, 2, 3, 4, 5, 6), invalid=(9,)):
        given.update(
            scores=_scores(list(scores)),
            rejects=_rejects(list(rejects), "1 categorical values unseen"),
            open=list(open_ids),
            invalid=list(invalid),
        )
        return _run(event_config, "unused", out)

    return run


def test_event_job_publishes_when_every_lead_is_accounted_for(event_job, tmp_path):
    manifest = event_job(tmp_path / "out", [6, 2, 3, 4, 1], [5])
    assert manifest["counts"] == {"in": 7, "scored": 5, "rejected": 2}
    scores = pd.read_parquet(tmp_path / "out" / "scores.parquet")
    rejects = pd.read_parquet(tmp_path / "out" / "rejects.parquet")
    assert scores["lead_id"].tolist() == [1, 2, 3, 4, 6]  # sorted by lead
    assert rejects["lead_id"].tolist() == [5, 9]
    assert rejects["reason"].tolist() == ["1 categorical values unseen", "events.ts: not a date"]
    # tiers are assigned over the whole batch by the scorer's thresholds (hot 0.6, warm 0.3)
    expected = np.where(
        scores["probability"] >= 0.6, "hot", np.where(scores["probability"] >= 0.3, "warm", "cold")
    )
    assert scores["tier"].tolist() == expected.tolist()
    assert manifest["tiers"] == {t: int((expected == t).sum()) for t in ("hot", "warm", "cold")}
    assert manifest["mql"] == 3
    assert manifest["expected_conversions"] == pytest.approx(scores["probability"].sum())
    assert manifest["scheduler"] == "single-process"
    assert manifest["horizon_days"] == 90 and manifest["drift"] is None
    assert manifest["tier_thresholds"] == {
        "hot": 0.6,
        "warm": 0.3,
        "hot_top_n": None,
        "hot_top_pct": None,
        "dormant_days": None,
    }
    assert manifest["dormant"] == 0
    assert manifest["points_scale"]["pdo"] == 20.0
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["counts"]["in"] == 7
    assert (tmp_path / "out" / "_SUCCESS").exists()


@pytest.mark.parametrize(
    ("scored", "rejected", "invalid", "message"),
    [
        # a lead lost: 7 in, 4 scored + 2 rejected
        ([1, 2, 3, 4], [5], [9], r"open leads in 7 ≠ scored 4 \+ rejected 2; missing \[6\]"),
        # the right count, but a lead swapped for one that is not open
        ([1, 2, 3, 4, 8], [5], [9], r"in 7 ≠ scored 5 \+ rejected 2; missing \[6\], unexpected \[8\]"),
        # the right count, but lead 5 both scored and rejected and lead 6 never seen
        ([1, 2, 3, 4, 5], [5], [9], r"in 7 ≠ scored 5 \+ rejected 2; missing \[6\], unexpected \[\]"),
        # a lead that failed validation was scored as well: counts and ids both add up
        ([1, 2, 3, 4, 5, 6], [], [6], r"in 7 ≠ scored 6 \+ rejected 1; missing \[\], unexpected \[\]"),
        # a lead scored twice
        ([1, 1, 2, 3, 4, 6], [5], [9], r"in 7 ≠ scored 6 \+ rejected 2"),
    ],
)  # fmt: skip
def test_event_job_refuses_to_write_when_in_differs_from_scored_plus_rejected(
    event_job, tmp_path, scored, rejected, invalid, message
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "scores.parquet").write_bytes(b"previous run")
    with pytest.raises(CountMismatchError, match=message) as caught:
        event_job(out, scored, rejected, invalid=invalid)
    assert str(caught.value).endswith("; nothing was written")
    assert sorted(p.name for p in out.iterdir()) == ["scores.parquet"]
    assert (out / "scores.parquet").read_bytes() == b"previous run"


# --- the unseen-category tolerance, at its boundary


@pytest.fixture(scope="module")
def spec_scorer():
    spec = FeatureSpec(
        columns=(
            FeatureColumn("visits", "numeric", "float64"),
            FeatureColumn("plan", "categorical", "category", ("free", "pro")),
            FeatureColumn("region", "categorical", "category", ("eu", "us")),
            FeatureColumn("size", "categorical", "category", ("s", "m", "l")),
        )
    )
    return SimpleNamespace(spec=spec, model_matrix=spec.apply)


def _features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": [10, 11, 12, 13, 14],
            "visits": [1.0, 2.0, 3.0, 4.0, 5.0],
            # unseen values per row: 0, 1, 2, 3, and 0 (missing values are not unseen)
            "plan": ["free", "gold", "gold", "gold", None],
            "region": ["eu", "us", "mars", "mars", None],
            "size": ["s", "m", "l", "xl", None],
        }
    )


@pytest.mark.parametrize(
    ("tolerance", "kept", "rejected"),
    [(0, [10, 14], [11, 12, 13]), (1, [10, 11, 14], [12, 13]), (2, [10, 11, 12, 14], [13]),
     (3, [10, 11, 12, 13, 14], [])],
)  # fmt: skip
def test_a_row_is_rejected_only_above_the_tolerance(spec_scorer, tolerance, kept, rejected):
    features = _features()
    out, rejects, unseen = reject_unseen_categories(features, spec_scorer, tolerance=tolerance)
    assert out["lead_id"].tolist() == kept
    assert rejects["lead_id"].tolist() == rejected
    assert unseen == {
        "plan": {"rows": 3, "examples": {"gold": None}},
        "region": {"rows": 2, "examples": {"mars": None}},
        "size": {"rows": 1, "examples": {"xl": None}},
    }


def test_the_reject_reason_names_each_unseen_value_and_the_tolerance(spec_scorer):
    _, rejects, _ = reject_unseen_categories(_features(), spec_scorer, tolerance=1)
    assert rejects["reason"].tolist() == [
        "2 categorical values unseen at training (tolerance 1): plan='gold', region='mars'",
        "3 categorical values unseen at training (tolerance 1): plan='gold', region='mars', size='xl'",
    ]


def test_without_categorical_features_nothing_is_rejected():
    spec = FeatureSpec(columns=(FeatureColumn("visits", "numeric", "float64"),))
    scorer = SimpleNamespace(spec=spec, model_matrix=spec.apply)
    features = pd.DataFrame({"lead_id": [1, 2], "visits": [1.0, 2.0]})
    out, rejects, unseen = reject_unseen_categories(features, scorer, tolerance=0)
    assert out["lead_id"].tolist() == [1, 2]
    assert len(rejects) == 0 and list(rejects.columns) == ["lead_id", "reason"]
    assert unseen == {}


# --- publishing: write_outputs and score_features


def _outputs(tmp_path, fmt="parquet", manifest=None):
    scores = pd.DataFrame({"lead_id": [2, 1], "probability": [0.25, 0.5]})
    rejects = pd.DataFrame({"lead_id": [3], "reason": ["bad date"]})
    manifest = {"counts": {"in": 3}, "as_of": "2026-01-01"} if manifest is None else manifest
    return scoring.write_outputs(
        tmp_path / "out", scores=scores, rejects=rejects, manifest=manifest, fmt=fmt
    )


@pytest.mark.parametrize(
    ("fmt", "files"),
    [
        ("parquet", ["rejects.parquet", "scores.parquet"]),
        ("csv", ["rejects.csv", "scores.csv"]),
        ("both", ["rejects.csv", "rejects.parquet", "scores.csv", "scores.parquet"]),
    ],
)
def test_outputs_are_listed_with_their_sha256_in_the_manifest(tmp_path, fmt, files):
    given = {"counts": {"in": 3}, "as_of": "2026-01-01"}
    manifest = _outputs(tmp_path, fmt, given)
    out = tmp_path / "out"
    assert sorted(manifest["files"]) == files
    for name in files:
        assert manifest["files"][name] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert given == {"counts": {"in": 3}, "as_of": "2026-01-01"}  # the argument is not changed
    assert {k: v for k, v in manifest.items() if k not in {"files", "run_id"}} == given
    assert out.is_symlink() and out.resolve().name == manifest["run_id"]
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert sorted(p.name for p in out.iterdir()) == sorted([*files, "_SUCCESS", "manifest.json"])
    assert (out / "_SUCCESS").read_bytes() == b""
    if fmt != "parquet":
        assert (out / "scores.csv").read_text() == "lead_id,probability\n2,0.25\n1,0.5\n"
        assert (out / "rejects.csv").read_text() == "lead_id,reason\n3,bad date\n"


def test_outputs_are_written_scores_rejects_manifest_then_success(tmp_path, monkeypatch):
    import leadml.scoring.publish as publish

    written = []

    def spy_on(module, name):
        real = getattr(module, name)

        def spy(*args, _real=real, **kwargs):
            path = next(a for a in args if isinstance(a, Path | str))
            written.append(Path(path).name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)

    spy_on(scoring, "write_frame_atomic")
    spy_on(publish, "write_json_atomic")
    spy_on(publish, "write_text_atomic")
    _outputs(tmp_path, "both")
    assert written == [
        "scores.parquet",
        "scores.csv",
        "rejects.parquet",
        "rejects.csv",
        "manifest.json",
        "_SUCCESS",
    ]


def test_a_failed_write_leaves_the_previous_run_whole_and_published(tmp_path, monkeypatch):
    first = _outputs(tmp_path)
    out = tmp_path / "out"

    def crash(frame, path):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(scoring, "write_frame_atomic", crash)
    with pytest.raises(KeyboardInterrupt):
        _outputs(tmp_path)
    assert (out / "_SUCCESS").exists()
    assert json.loads((out / "manifest.json").read_text())["run_id"] == first["run_id"]
    assert not list((tmp_path / "out.runs").glob("*.staging"))  # the staging folder is gone


def test_tier_counts_list_every_tier():
    scores = pd.DataFrame({"tier": ["warm", "warm", "cold"]})
    assert scoring.tier_counts(scores) == {"hot": 0, "warm": 2, "cold": 1}


def test_scores_in_chunks_equal_scores_in_one_go(tiny):
    config, scorer = tiny
    features = build_training_set(config, _export(5, 3)).frame.drop(columns=["split", "label"])
    features = features.assign(lead_id=[50, 10, 40, 20, 30])
    seen = []
    chunked = scoring.score_features(
        features,
        scorer,
        as_of=AS_OF,
        model_meta=META,
        chunk_size=2,
        progress=seen.append,
    )
    whole = scoring.score_features(features, scorer, as_of=AS_OF, model_meta={})
    assert seen == [2, 2, 1]
    assert chunked["lead_id"].tolist() == [10, 20, 30, 40, 50]
    pd.testing.assert_frame_equal(
        chunked.drop(columns=["model_name", "model_version"]),
        whole.drop(columns=["model_name", "model_version"]),
    )
    assert list(chunked.columns[:6]) == ["lead_id", "as_of", "probability", "points", "tier", "mql"]
    assert (chunked["as_of"] == AS_OF).all()
    assert chunked["model_name"].tolist() == ["tiny"] * 5
    assert chunked["model_version"].tolist() == ["7"] * 5
    # without metadata: the scorer's own name and an empty version
    assert whole["model_name"].tolist() == [scorer.name] * 5
    assert whole["model_version"].tolist() == [""] * 5
    # a lead's row follows it through the sort: probability of lead 50 is the first row's
    alone = scorer.probability(features.iloc[:1])
    assert chunked.loc[chunked["lead_id"] == 50, "probability"].iloc[0] == pytest.approx(alone[0])


def test_tiers_are_set_over_the_whole_batch_and_a_second_model_adds_its_columns(tiny):
    config, scorer = tiny
    features = build_training_set(config, _export(30, 4)).frame.drop(columns=["split", "label"])
    everyone_hot = TierSpec(hot=0.0, warm=0.0)
    scored = scoring.score_features(
        features,
        scorer,
        as_of=7,
        also=scorer,
        model_meta=META,
        also_meta={"name": "won", "version": 3},
        tiers=everyone_hot,
        chunk_size=7,
    )
    assert scored["tier"].tolist() == ["hot"] * 30
    assert (scored["as_of"] == 7).all()  # flat mode: a row number, not a date
    np.testing.assert_allclose(scored["probability_won"], scored["probability"])
    assert scored["model_won_name"].tolist() == ["won"] * 30
    assert scored["model_won_version"].tolist() == ["3"] * 30
    capacity = scoring.score_features(
        features,
        scorer,
        as_of=AS_OF,
        model_meta=META,
        tiers=TierSpec(hot=0.99, warm=0.0, hot_top_n=4),
        chunk_size=7,
    )
    # the top 4 of the whole batch, not of each chunk of 7
    assert (capacity["tier"] == "hot").sum() == 4
    top4 = capacity.nlargest(4, "probability")["lead_id"]
    assert set(capacity.loc[capacity["tier"] == "hot", "lead_id"]) == set(top4)


def test_an_empty_batch_scores_to_an_empty_frame_with_the_columns(tiny):
    config, scorer = tiny
    features = build_training_set(config, _export(5, 3)).frame.drop(columns=["split", "label"])
    empty = scoring.score_features(
        features.iloc[:0], scorer, as_of=AS_OF, also=scorer, model_meta=META
    )
    assert len(empty) == 0
    assert {"lead_id", "as_of", "probability", "points", "tier", "probability_won"} <= set(
        empty.columns
    )


# --- the job's inputs: leads that fail validation become rejects, never silently dropped


def test_leads_failing_validation_are_rejected_and_their_rows_removed(tmp_path, capsys):
    from test_validate_cli import add, tables, write

    from leadml.config import load_dataset_config

    frames = tables()
    frames["leads"] = frames["leads"].astype({"created_at": object})
    frames["leads"].loc[frames["leads"]["lead_id"] == 11, "created_at"] = "not a date"
    frames = add(  # an orphan event: reported, loses no lead
        frames, "events", {"lead_id": [99], "ts": ["2024-01-09"], "event_type": ["email_open"]}
    )
    data = write(tmp_path / "data", frames, "csv")
    config = RunConfig(dataset=load_dataset_config(ROOT / "training" / "dataset.yaml"))
    tables_, rejects, open_ids, report = batch._load_event_inputs(
        data, config, pd.Timestamp("2024-06-01")
    )
    assert rejects["lead_id"].tolist() == [11]
    assert "leads.created_at" in rejects["reason"].iloc[0]
    assert tables_.leads["lead_id"].tolist() == [10, 12]
    assert 11 not in set(tables_.events["lead_id"]) and 11 not in set(tables_.outcomes["lead_id"])
    assert list(tables_.leads.index) == [0, 1]  # re-indexed
    # lead 10 reached sql before 2024-06-01: closed; 12 is the one open lead
    assert open_ids.tolist() == [12]
    assert report.rejected_leads()["lead_id"].tolist() == [11]
    err = capsys.readouterr().err
    assert "warning: events.lead_id: 1 row references 1 lead_id not in leads: 99 (1 row)" in err


def test_a_table_level_error_stops_the_job(tmp_path):
    from test_validate_cli import tables, write

    from leadml.config import load_dataset_config
    from leadml.data.schema import DataValidationError

    frames = tables()
    frames["leads"] = frames["leads"].rename(columns={"created_at": "created"})
    data = write(tmp_path / "data", frames, "csv")
    config = RunConfig(dataset=load_dataset_config(ROOT / "training" / "dataset.yaml"))
    with pytest.raises(DataValidationError, match="leads: required column 'created_at' is missing"):
        batch._load_event_inputs(data, config, pd.Timestamp("2024-06-01"))


def test_any_table_level_error_stops_the_job_and_a_lead_with_an_unknown_account_is_rejected(
    tmp_path, capsys
):
    from test_validate_cli import tables, write

    from leadml.config import load_dataset_config
    from leadml.data.schema import DataValidationError

    config = RunConfig(dataset=load_dataset_config(ROOT / "training" / "dataset.yaml"))
    frames = tables()
    frames["events"] = frames["events"].drop(columns="event_type")
    with pytest.raises(DataValidationError, match="events: required column 'event_type'"):
        batch._load_event_inputs(
            write(tmp_path / "a", frames, "csv"), config, pd.Timestamp("2024-06-01")
        )
    frames = tables()
    frames["leads"].loc[2, "account_id"] = 77  # lead 12's account is not in accounts
    tables_, rejects, open_ids, _ = batch._load_event_inputs(
        write(tmp_path / "b", frames, "csv"), config, pd.Timestamp("2024-06-01")
    )
    assert rejects.to_dict("list") == {
        "lead_id": [12],
        "reason": ["leads.account_id: unknown id"],
    }
    assert open_ids.tolist() == [11] and tables_.leads["lead_id"].tolist() == [10, 11]
    assert capsys.readouterr().err == ""  # a rejected lead is not also a warning


def test_partitions_are_merged_drift_counts_add_up_and_the_second_model_is_named(
    tiny, monkeypatch, tmp_path, sql_config
):
    """The Dask path's wiring with a stand-in for the cluster: two partitions come back."""
    import leadml.scoring.distributed as distributed

    config, scorer = tiny
    features = build_training_set(config, _export(60, 5)).frame.drop(columns=["split", "label"])
    X, _ = scorer.model_matrix(features)
    p = scorer.probability(features)
    halves = (slice(0, 25), slice(25, 60))
    calls = {}

    def on_dask(tables, cfg, *, scorer_dir, also_dir, as_of, scheduler, options):
        calls.update(scheduler=scheduler, options=options, as_of=as_of)
        calls["saved"] = sorted(q.name for q in scorer_dir.iterdir())
        calls["also_saved"] = sorted(q.name for q in also_dir.iterdir())
        return [
            (
                _scores(list(range(h.start, h.stop))).assign(probability=p[h]),
                _rejects([100 + i], "x"),
                {"plan": {"rows": 1 + i, "examples": {f"v{i}": None}}},
                scorer.reference.counts(X.iloc[h], p[h]),
            )
            for i, h in enumerate(halves)
        ]

    monkeypatch.setattr(distributed, "score_partitions_on_dask", on_dask)
    monkeypatch.setattr(tracking, "load_scorer", lambda model_uri, **kw: (scorer, META))
    monkeypatch.setattr(
        batch,
        "_load_event_inputs",
        lambda data, cfg, as_of: (
            "tables",
            _rejects([], ""),
            pd.Series([*range(60), 100, 101]),
            SimpleNamespace(rejected_leads=lambda: _rejects([], "")),
        ),
    )
    event_config = sql_config
    manifest = run_scoring(
        "unused",
        config=event_config,
        model_uri="models:/tiny@champion",
        also_uri="models:/won@champion",
        as_of=AS_OF,
        out_dir=tmp_path / "out",
        scheduler="tcp://scheduler:8786",
        chunk_size=500,
        top_reasons=2,
        tolerance=3,
        log_to_mlflow=False,
        progress=False,
    )
    assert calls["scheduler"] == "tcp://scheduler:8786" and calls["as_of"] == AS_OF
    assert (
        calls["saved"]
        == calls["also_saved"]
        == [
            "calibration.json",
            "checksums.json",
            "dataset_config.json",
            "drift_reference.json",
            "feature_spec.json",
            "model.txt",
            "reason_catalogue.json",
        ]
    )
    assert calls["options"] == {
        "model_meta": META,
        "also_meta": META,
        "top_reasons": 2,
        "chunk_size": 500,
        "tolerance": 3,
    }
    # the mode as the dataset names it (``leadml validate`` and the training summary too)
    assert manifest["mode"] == "events" and manifest["scheduler"] == "tcp://scheduler:8786"
    assert manifest["counts"] == {"in": 62, "scored": 60, "rejected": 2}
    assert manifest["models"]["also"] == {"uri": "models:/won@champion", **META}
    assert manifest["unseen_categories"] == {
        "plan": {"rows": 3, "examples": {"v0": None, "v1": None}}
    }
    # drift from the partitions' summed bin counts equals drift over all the rows at once
    whole = scorer.reference.compare(X, p)
    assert manifest["drift"]["score_psi"] == pytest.approx(whole["score_psi"])
    assert manifest["drift"]["features"] == pytest.approx(whole["features"])
    assert manifest["drift"]["flagged"] == whole["flagged"]


def test_inputs_keep_their_columns_warn_of_future_rows_and_use_the_configs_closed_stages(
    tmp_path, capsys
):
    from test_validate_cli import add, tables, write

    from leadml.config import load_dataset_config

    frames = tables()
    frames["leads"] = frames["leads"].astype({"created_at": object})
    frames["leads"].loc[frames["leads"]["lead_id"] == 11, "created_at"] = "not a date"
    frames = add(  # an event after as_of: tolerated (features never read it), and said
        frames, "events", {"lead_id": [12], "ts": ["2024-07-01"], "event_type": ["meeting"]}
    )
    data = write(tmp_path / "data", frames, "csv")
    dataset = load_dataset_config(ROOT / "training" / "dataset.yaml")
    config = RunConfig(dataset=dataset)
    tables_, _, open_ids, _ = batch._load_event_inputs(data, config, pd.Timestamp("2024-06-01"))
    assert "warning: events.ts: 1 row is after as_of 2024-06-01" in capsys.readouterr().err
    assert "index" not in tables_.leads.columns and "level_0" not in tables_.leads.columns
    assert list(tables_.events.columns) == ["lead_id", "ts", "event_type"]
    assert list(tables_.outcomes.columns) == ["lead_id", "stage", "ts"]
    assert list(tables_.events.index) == list(range(len(tables_.events)))
    assert list(tables_.outcomes.index) == list(range(len(tables_.outcomes)))
    assert open_ids.tolist() == [12]
    # with only won and lost closing a lead, lead 10 (an SQL) is still open
    won_lost = RunConfig(dataset=dataset.model_copy(update={"closed_stages": ("won", "lost")}))
    _, _, open_ids, _ = batch._load_event_inputs(data, won_lost, pd.Timestamp("2024-06-01"))
    assert open_ids.tolist() == [10, 12]


# --- operator defects (issue 16) ------------------------------------------------------------
def _geo_scorer():
    spec = FeatureSpec(
        columns=(
            FeatureColumn("country", "categorical", "category", ("FR", "US")),
            FeatureColumn("region", "categorical", "category", ("europe", "north_america")),
            FeatureColumn("plan", "categorical", "category", ("free", "pro")),
        )
    )
    return SimpleNamespace(spec=spec, model_matrix=spec.apply)


def test_an_unseen_country_counts_once_not_again_through_its_derived_region():
    features = pd.DataFrame(
        {
            "lead_id": [1, 2, 3],
            "country": ["Atlantis", "FR", "Atlantis"],
            "region": ["other", "europe", "other"],  # derived from the country
            "plan": ["free", "pro", "gold"],
        }
    )
    kept, rejects, _ = reject_unseen_categories(features, _geo_scorer(), tolerance=1)
    assert kept["lead_id"].tolist() == [1, 2]  # one unseen value each: within the tolerance
    assert rejects["lead_id"].tolist() == [3]  # country and plan: two
    assert "country='Atlantis'" in rejects["reason"].iloc[0]
    assert "region" not in rejects["reason"].iloc[0]


def test_lead_ids_above_2_to_the_53_keep_int64_in_rejects_empty_or_not():
    big = np.array([2**53 + 1, 2**53 + 3, 2**62 + 7], dtype=np.int64)
    leads = pd.Series(big)
    empty_float = pd.DataFrame({"lead_id": pd.Series([], dtype="float64"), "reason": []})
    some = pd.DataFrame({"lead_id": big[[2, 0]], "reason": ["a", "b"]})
    rejects = batch.concat_rejects([empty_float, some], like=leads)
    assert rejects["lead_id"].dtype == np.int64
    assert rejects["lead_id"].tolist() == [int(big[0]), int(big[2])]
    none = batch.concat_rejects([empty_float], like=leads)
    assert none["lead_id"].dtype == np.int64 and len(none) == 0
    features = pd.DataFrame({"lead_id": big, "visits": [1.0, 2.0, 3.0]})
    spec = FeatureSpec(columns=(FeatureColumn("visits", "numeric", "float64"),))
    _, no_rejects, _ = reject_unseen_categories(
        features, SimpleNamespace(spec=spec, model_matrix=spec.apply), tolerance=0
    )
    assert no_rejects["lead_id"].dtype == np.int64


def test_a_check_that_refuses_every_lead_stops_the_job_as_a_table_error():
    from leadml.data.validation import Issue

    issue = Issue(
        "leads", "created_at", "type", "error", 3, message="leads.created_at: 3 bad dates",
        lead_ids=(1, 2, 3),
    )  # fmt: skip
    report = SimpleNamespace(errors=[issue])
    with pytest.raises(batch.WholeTableError, match="leads.created_at: every one of the 3 leads"):
        batch._stop_on_whole_table_failures(report, n_leads=3)
    batch._stop_on_whole_table_failures(report, n_leads=4)  # some rows: they are rejected
    with pytest.raises(batch.WholeTableError, match="leads: the table has no rows"):
        batch._stop_on_whole_table_failures(SimpleNamespace(errors=[]), n_leads=0)


def test_the_flat_manifest_lists_the_second_model_and_the_scheduler(tiny, tmp_path):
    config, scorer = tiny
    folder = tmp_path / "model"
    scorer.save(folder)
    _export(40, 3).to_csv(tmp_path / "export.csv", index=False)
    manifest = run_scoring(
        tmp_path / "export.csv",
        config=config,
        model_uri=str(folder),
        also_uri=str(folder),
        as_of=AS_OF,
        out_dir=tmp_path / "out",
        scheduler="local",
        log_to_mlflow=False,
        progress=False,
    )
    assert set(manifest["models"]) == {"main", "also"}
    assert manifest["models"]["also"]["uri"] == str(folder)
    assert manifest["mode"] == "flat" and manifest["scheduler"] == "single-process"
    written = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert written["counts"] == {"in": 40, "scored": 40, "rejected": 0}


def test_capacity_counts_only_leads_that_are_not_dormant():
    from leadml.modeling.scorer import assign_tiers, dormant_leads

    probability = np.array([0.9, 0.8, 0.7, 0.6, 0.05])
    eligible = np.array([False, True, True, True, True])
    tiers = TierSpec(hot=0.99, warm=0.1, hot_top_n=2, dormant_days=60)
    assert assign_tiers(probability, tiers, eligible=eligible).tolist() == [
        "warm", "hot", "hot", "warm", "cold",
    ]  # fmt: skip
    threshold = TierSpec(hot=0.65, warm=0.1)
    assert assign_tiers(probability, threshold, eligible=eligible).tolist() == [
        "warm", "hot", "hot", "warm", "cold",
    ]  # fmt: skip
    features = pd.DataFrame(
        {"days_since_last_activity": [3.0, 60.0, np.nan, np.nan], "lead_age_days": [90, 90, 61, 5]}
    )
    # quiet for 60 days or more; never active: since creation
    assert dormant_leads(features, tiers).tolist() == [False, True, True, False]
    # numbers in text (a flat export's columns) read as numbers, the rest as missing
    as_text = features.astype(str).assign(lead_age_days=["90", "90", "61", "x"])
    assert dormant_leads(as_text, tiers).tolist() == [False, True, True, False]
    assert not dormant_leads(features, TierSpec()).any()  # no dormant_days: nobody is dormant
    assert not dormant_leads(pd.DataFrame({"age": [1, 2]}), tiers).any()  # flat mode
