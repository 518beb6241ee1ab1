"""The batch job's wiring, checked against its parts called directly (``make mutate``'s
survivors in ``leadml.scoring.batch``).

An event-mode job on a small demo CRM must publish exactly what ``score_open_leads``
gives for the same tables, model, ``as_of`` and options, with the tiers, drift and
dormant count its own steps derive; the second model, the tracking URI and the logged
run are the ones the caller named. Messages and the small helpers are written out.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import io
import logging
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import leadml.scoring.batch as batch
import leadml.tracking as tracking
from leadml.scoring.batch import WholeTableError, concat_rejects, run_scoring

TRAINING = Path(__file__).resolve().parents[1] / "training"
AS_OF = pd.Timestamp("2025-12-01")
META = {"name": "ev", "version": "3"}
ALSO_META = {"name": "ev-won", "version": "8"}


@functools.cache
def _event_model():
    """A 600-lead demo CRM (seed 3) and a 20-round event model trained on it (no refit).

    Cached in the module: ``make mutate`` forks each mutant's run from the process that
    built it.
    """
    from leadml.config import load_run_config
    from leadml.modeling.train import train_scorer
    from leadml.pointintime.trainingset import build_training_set
    from leadml.synth import SynthSpec, write_demo_data

    folder = Path(tempfile.mkdtemp(prefix="leadml-batch-mutants-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    data = folder / "data"
    write_demo_data(data, SynthSpec(n_leads=600, seed=3))
    config = load_run_config(TRAINING / "sql.yaml")
    config = config.model_copy(
        update={
            "model": config.model.model_copy(
                update={"num_boost_round": 20, "early_stopping_rounds": 20}
            ),
            "refit": config.refit.model_copy(update={"enabled": False}),
        }
    )
    scorer = train_scorer(build_training_set(config, data), config).scorer
    return data, config, scorer


@pytest.fixture
def progress_lines():
    """The job's progress lines, as the command line would print them."""
    from leadml.progress import LOGGER_NAME, configure

    logger = logging.getLogger(LOGGER_NAME)
    level, propagate = logger.level, logger.propagate
    stream = io.StringIO()
    handler = configure(stream=stream).handlers[-1]
    yield lambda: [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.propagate = propagate


@pytest.fixture
def event_model(monkeypatch):
    data, config, scorer = _event_model()
    loaded = []

    def load_scorer(model_uri, **kwargs):
        loaded.append((model_uri, kwargs))
        return scorer, dict(ALSO_META if "won" in model_uri else META)

    monkeypatch.setattr(tracking, "load_scorer", load_scorer)
    return data, config, scorer, loaded


def test_an_event_job_publishes_what_its_parts_give(
    event_model, tmp_path, monkeypatch, progress_lines, capsys
):
    from leadml.modeling.scorer import assign_tiers
    from leadml.scoring.open_leads import drift_warnings, score_open_leads

    data, config, scorer, loaded = event_model
    logged = []
    monkeypatch.setattr(tracking, "log_scoring_run", lambda **kw: logged.append(kw))
    out = tmp_path / "out"
    manifest = run_scoring(
        data,
        config=config,
        model_uri="models:/ev@champion",
        also_uri="models:/ev-won@champion",
        as_of=AS_OF,
        out_dir=out,
        top_reasons=2,
        chunk_size=37,
        tolerance=1,
        tracking_uri="sqlite:///runs.db",
        progress=True,
    )
    err = capsys.readouterr().err.splitlines()

    # the parts, called directly on the same inputs
    tables, rejects, open_ids, _ = batch._load_event_inputs(data, config, AS_OF)
    scores, more_rejects, unseen, counts = score_open_leads(
        tables,
        config,
        scorer,
        also=scorer,
        as_of=AS_OF,
        model_meta=META,
        also_meta=ALSO_META,
        top_reasons=2,
        chunk_size=37,
        tolerance=1,
    )
    scores = scores.sort_values("lead_id", kind="stable", ignore_index=True)
    dormant = scores["dormant"].to_numpy(bool)
    assert dormant.sum() > 0 and (~dormant).sum() > 0  # both kinds of lead in the batch
    tiers = assign_tiers(scores["probability"].to_numpy(), scorer.tiers, eligible=~dormant)

    published = pd.read_parquet(out / "scores.parquet")
    assert published["lead_id"].tolist() == scores["lead_id"].tolist()
    assert published["tier"].tolist() == list(tiers)
    for column in ("probability", "points", "probability_won"):
        assert published[column].to_numpy() == pytest.approx(scores[column].to_numpy())
    assert published["reasons"].astype(str).tolist() == scores["reasons"].astype(str).tolist()
    assert (published["scored_at"].astype(str) == manifest["scored_at"]).all()
    assert str(pd.Timestamp(manifest["scored_at"]).date()) >= "2026-01-01"  # stamped now
    published_rejects = pd.read_parquet(out / "rejects.parquet")
    assert published_rejects["lead_id"].dtype == published["lead_id"].dtype
    n_in = len(open_ids) + len(rejects)
    assert manifest["counts"] == {
        "in": n_in,
        "scored": len(scores),
        "rejected": len(rejects) + len(more_rejects),
    }
    assert manifest["as_of"] == str(AS_OF) and manifest["dormant"] == int(dormant.sum())
    assert manifest["tiers"] == {t: int((tiers == t).sum()) for t in ("hot", "warm", "cold")}
    assert manifest["unseen_categories"] == unseen
    drift = scorer.reference.compare_counts(counts)
    assert manifest["drift"]["score_psi"] == pytest.approx(drift["score_psi"])
    assert manifest["drift"]["flagged"] == drift["flagged"]
    assert manifest["models"]["also"] == {"uri": "models:/ev-won@champion", **ALSO_META}

    # both models from the tracking URI given; the run logged there, under the main model
    assert loaded == [
        ("models:/ev@champion", {"uri": "sqlite:///runs.db"}),
        ("models:/ev-won@champion", {"uri": "sqlite:///runs.db"}),
    ]
    assert logged == [
        {
            "model_name": "ev",
            "model_version": "3",
            "manifest": manifest,
            "uri": "sqlite:///runs.db",
        }
    ]
    # what the command line shows, and the drift warnings on stderr
    lines = progress_lines()
    assert lines[0] == f"reading and validating the tables in {data} …"
    assert lines[1] == (
        f"{len(open_ids):,} open leads as of 2025-12-01 ({len(rejects):,} rejected by "
        "validation); building features and scoring …"
    )
    n = len(open_ids)
    done = [*range(37, n, 37), n]  # one line per chunk of 37 leads (each a 10 % step or more)
    assert [line.split(" (")[0] for line in lines[2:-1]] == [
        f"scoring: {k:,}/{n:,} leads" for k in done
    ]
    assert lines[-1] == (
        f"writing {len(scores):,} scores and {manifest['counts']['rejected']:,} rejects to {out} …"
    )
    warned = [f"warning: {line}" for line in drift_warnings(manifest["drift"])]
    assert warned and err[-len(warned) :] == warned  # after the tables' own warnings


def test_a_run_logged_for_a_model_without_name_or_version_uses_the_scorer_s(
    event_model, tmp_path, monkeypatch, progress_lines
):
    data, config, scorer, _ = event_model
    monkeypatch.setattr(tracking, "load_scorer", lambda model_uri, **kw: (scorer, {}))
    logged = []
    monkeypatch.setattr(tracking, "log_scoring_run", lambda **kw: logged.append(kw))
    run_scoring(
        data,
        config=config,
        model_uri="runs:/abc/model",
        as_of=AS_OF,
        out_dir=tmp_path / "out",
    )
    assert [(r["model_name"], r["model_version"], r["uri"]) for r in logged] == [
        (scorer.name, "", None)
    ]
    assert any(line.startswith("scoring: ") for line in progress_lines())  # on by default


def test_scores_published_to_a_database_are_the_files_scores(event_model, tmp_path, progress_lines):
    import duckdb

    data, config, _, _ = event_model
    files = run_scoring(
        data, config=config, model_uri="m", as_of=AS_OF, out_dir=tmp_path / "out",
        log_to_mlflow=False, progress=False,
    )  # fmt: skip
    url = f"duckdb://{tmp_path / 'scores.duckdb'}#lead_scores"
    manifest = run_scoring(
        data, config=config, model_uri="m", as_of=AS_OF, out_dir=url,
        log_to_mlflow=False, progress=False,
    )  # fmt: skip
    assert manifest["tables"]["scores"]["rows"] == files["counts"]["scored"]
    assert manifest["tables"]["rejects"]["rows"] == files["counts"]["rejected"]
    con = duckdb.connect(str(tmp_path / "scores.duckdb"), read_only=True)
    try:
        back = con.sql(
            f"select lead_id, probability from {manifest['tables']['scores']['name']} "
            "order by lead_id"
        ).to_df()
    finally:
        con.close()
    expected = pd.read_parquet(tmp_path / "out" / "scores.parquet")
    assert back["lead_id"].tolist() == expected["lead_id"].tolist()
    assert back["probability"].to_numpy() == pytest.approx(expected["probability"].to_numpy())
    assert not [line for line in progress_lines() if line.startswith("scoring: ")]


def test_the_dask_path_gets_the_job_s_tables_config_and_no_second_model(
    event_model, tmp_path, monkeypatch
):
    import leadml.scoring.distributed as distributed

    data, config, scorer, _ = event_model
    tables, rejects, open_ids, report = batch._load_event_inputs(data, config, AS_OF)
    monkeypatch.setattr(
        batch, "_load_event_inputs", lambda d, c, a: (tables, rejects, open_ids, report)
    )
    seen = {}

    def on_dask(tables_, cfg, *, scorer_dir, also_dir, as_of, scheduler, options):
        from leadml.scoring.open_leads import score_open_leads

        seen.update(tables=tables_, config=cfg, also_dir=also_dir)
        seen["saved"] = (scorer_dir / "model.txt").is_file()
        return [score_open_leads(tables_, cfg, scorer, also=None, as_of=as_of, **options)]

    monkeypatch.setattr(distributed, "score_partitions_on_dask", on_dask)
    manifest = run_scoring(
        data, config=config, model_uri="m", as_of=AS_OF, out_dir=tmp_path / "out",
        scheduler="local", log_to_mlflow=False, progress=False,
    )  # fmt: skip
    assert seen["tables"] is tables and seen["config"] is config
    assert seen["also_dir"] is None and seen["saved"]
    assert manifest["scheduler"] == "local" and manifest["counts"]["scored"] == len(open_ids)


# --- flat mode ----------------------------------------------------------------------------
def _flat_job(tmp_path, frame, **kwargs):
    from test_batch import _tiny_scorer

    config, scorer = _tiny_scorer()
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    return run_scoring(
        path,
        config=config,
        model_uri="m",
        as_of=AS_OF,
        out_dir=tmp_path / "out",
        log_to_mlflow=False,
        progress=False,
        **kwargs,
    ), scorer


def test_a_one_row_flat_export_is_scored_and_an_empty_one_refused(tmp_path, monkeypatch):
    from test_batch import _tiny_scorer

    config, scorer = _tiny_scorer()
    monkeypatch.setattr(tracking, "load_scorer", lambda model_uri, **kw: (scorer, META))
    one = pd.DataFrame({"visits": [7], "plan": ["pro"], "region": ["eu"]})
    manifest, _ = _flat_job(tmp_path, one)
    assert manifest["counts"] == {"in": 1, "scored": 1, "rejected": 0}
    assert manifest["as_of"] == "2025-12-01 00:00:00"
    path = tmp_path / "empty.csv"
    path.write_text("visits,plan,region\n")
    with pytest.raises(WholeTableError) as caught:
        run_scoring(
            path, config=config, model_uri="m", as_of=AS_OF, out_dir=tmp_path / "o2",
            log_to_mlflow=False, progress=False,
        )  # fmt: skip
    assert str(caught.value) == (
        f"{path}: the flat export has no rows: check --data and the dataset config's file; "
        "nothing was written"
    )


def test_a_flat_job_measures_drift_on_the_scored_rows_and_warns_about_a_scheduler(
    tmp_path, monkeypatch, capsys
):
    from test_batch import _export, _tiny_scorer

    _, scorer = _tiny_scorer()
    monkeypatch.setattr(tracking, "load_scorer", lambda model_uri, **kw: (scorer, META))
    frame = _export(50, 9).drop(columns="converted")
    frame.loc[0, ["plan", "region"]] = ["enterprise", "mars"]  # rejected: not in the drift
    manifest, _ = _flat_job(tmp_path, frame, scheduler="tcp://x:8786")
    kept = frame.drop(index=0).reset_index(drop=True)
    X, _ = scorer.model_matrix(kept)
    whole = scorer.reference.compare(X, scorer.probability(kept))
    assert manifest["drift"]["score_psi"] == pytest.approx(whole["score_psi"])
    assert manifest["drift"]["features"] == pytest.approx(whole["features"])
    assert manifest["scheduler"] == "single-process"
    assert manifest["as_of"] == "2025-12-01 00:00:00"
    err = capsys.readouterr().err
    assert (
        "warning: --scheduler tcp://x:8786: a flat export is scored in this process (its rows "
        "are already features; Dask partitions the event tables only)\n"
    ) in err


# --- helpers ---------------------------------------------------------------------------
def test_no_rejects_give_an_empty_frame_with_the_leads_id_type_and_text_reasons():
    empty = concat_rejects([pd.DataFrame(columns=["lead_id", "reason"])], like=pd.Series([5, 6]))
    assert list(empty.columns) == ["lead_id", "reason"] and len(empty) == 0
    assert empty["lead_id"].dtype == np.int64 and empty["reason"].dtype == object


def test_rejects_are_cast_to_integer_ids_sorted_stably_and_renumbered():
    parts = [
        pd.DataFrame({"lead_id": [3.0, 1.0], "reason": ["b", "a"]}),
        pd.DataFrame({"lead_id": [1.0], "reason": ["c"]}),
    ]
    out = concat_rejects(parts, like=pd.Series([1, 2, 3], dtype="uint32"))
    assert out["lead_id"].dtype == np.uint32
    assert out.to_dict("list") == {"lead_id": [1, 1, 3], "reason": ["a", "c", "b"]}
    assert list(out.index) == [0, 1, 2]
    # many ties, past numpy's small-array insertion sort: a stable sort keeps each lead's
    # reasons in the order the steps gave them
    ids = [(7 * i) % 5 for i in range(60)]
    many = concat_rejects(
        [pd.DataFrame({"lead_id": ids, "reason": [f"r{i}" for i in range(60)]})],
        like=pd.Series([0]),
    )
    by_lead = sorted(range(60), key=lambda i: ids[i])
    assert many["reason"].tolist() == [f"r{i}" for i in by_lead]
    text_ids = concat_rejects(parts, like=pd.Series(["x"]))
    assert text_ids["lead_id"].dtype == np.float64  # only integer ids are cast back


def test_whole_table_failures_are_named_with_the_check_s_message_cut_at_240():
    with pytest.raises(WholeTableError) as caught:
        batch._stop_on_whole_table_failures(SimpleNamespace(errors=[]), n_leads=0)
    assert str(caught.value) == (
        "leads: the table has no rows: check --data and tables.leads in the dataset config; "
        "nothing was written"
    )
    issue = SimpleNamespace(
        table="leads", column="created_at", lead_ids=[1, 2, 2], message="x" * 250
    )
    with pytest.raises(WholeTableError) as caught:
        batch._stop_on_whole_table_failures(SimpleNamespace(errors=[issue]), n_leads=2)
    assert str(caught.value) == (
        f"leads.created_at: every one of the 2 leads fails ({'x' * 240}… (10 more characters)); "
        "the column's format or mapping is wrong, not some rows: fix it in the data or the "
        "dataset config; nothing was written"
    )


def test_a_count_mismatch_lists_at_most_five_missing_and_five_unexpected_leads(
    tmp_path, monkeypatch
):
    from test_batch import _tiny_scorer

    config, scorer = _tiny_scorer()
    _, event_config, _ = _event_model()
    scorer = dataclasses.replace(scorer, reference=None)
    monkeypatch.setattr(tracking, "load_scorer", lambda model_uri, **kw: (scorer, META))
    none = pd.DataFrame({"lead_id": pd.Series([], dtype="int64"), "reason": []})
    monkeypatch.setattr(
        batch,
        "_load_event_inputs",
        lambda d, c, a: (
            None,
            none,
            pd.Series(range(1, 8)),
            SimpleNamespace(rejected_leads=lambda: none),
        ),
    )
    scored = pd.DataFrame({"lead_id": range(11, 18), "probability": 0.5, "mql": False})
    monkeypatch.setattr(batch, "score_open_leads", lambda *a, **k: (scored, none, {}, {}))
    with pytest.raises(batch.CountMismatchError) as caught:
        run_scoring(
            "unused", config=event_config, model_uri="m", as_of=AS_OF, out_dir=tmp_path / "o",
            log_to_mlflow=False, progress=False,
        )  # fmt: skip
    assert str(caught.value) == (
        "open leads in 7 ≠ scored 7 + rejected 0; missing [1, 2, 3, 4, 5], "
        "unexpected [11, 12, 13, 14, 15]; nothing was written"
    )


def test_a_flat_job_scores_with_the_second_model_reasons_and_chunks_asked_for(
    tmp_path, monkeypatch
):
    from test_batch import _export, _tiny_scorer

    from leadml.pointintime.trainingset import build_scoring_set
    from leadml.scoring.open_leads import score_features

    config, scorer = _tiny_scorer()
    monkeypatch.setattr(tracking, "load_scorer", lambda model_uri, **kw: (scorer, META))
    frame = _export(30, 4).drop(columns="converted")
    manifest, _ = _flat_job(
        tmp_path, frame, also_uri="models:/again@champion", top_reasons=1, chunk_size=7
    )
    features = build_scoring_set(config, tmp_path / "export.csv", as_of=AS_OF, spec=scorer.spec)
    expected = score_features(
        features.frame, scorer, as_of=AS_OF, also=scorer, model_meta=META, also_meta=META,
        top_reasons=1, chunk_size=7,
    )  # fmt: skip
    published = pd.read_parquet(tmp_path / "out" / "scores.parquet")
    assert list(published.columns) == [*expected.columns, "scored_at"]
    assert published["reasons"].astype(str).tolist() == expected["reasons"].astype(str).tolist()
    assert (published["as_of"] == AS_OF).all()
    assert manifest["models"]["also"] == {"uri": "models:/again@champion", **META}


def test_a_flat_scorer_without_a_drift_reference_reports_no_drift(tmp_path, monkeypatch):
    from test_batch import _export, _tiny_scorer

    _, scorer = _tiny_scorer()
    bare = dataclasses.replace(scorer, reference=None)
    monkeypatch.setattr(tracking, "load_scorer", lambda model_uri, **kw: (bare, META))
    manifest, _ = _flat_job(tmp_path, _export(20, 6).drop(columns="converted"))
    assert manifest["drift"] is None and manifest["counts"]["scored"] == 20
