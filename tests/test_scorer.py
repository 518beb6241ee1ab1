"""The servable scorer keeps its word across versions and across save/load.

``tests/fixtures/models_f59be14`` holds two tiny scorers saved by leadml at
commit f59be14 (before the layout by stage and the single catalogue), made by
the ``make_fixture.py`` beside them, with the reasons that code gave.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadml.config import FlatDataset, RunConfig
from leadml.modeling.scorer import LeadScorer
from leadml.modeling.train import train_scorer
from leadml.pointintime.trainingset import build_training_set

SAVED = Path(__file__).parent / "fixtures" / "models_f59be14"
NNBSP = "\u202f"


def _expected(kind: str) -> dict:
    return json.loads((SAVED / kind / "expected.json").read_text())


def test_an_event_model_saved_before_the_change_gives_the_same_reasons_and_points(
    monkeypatch,
) -> None:
    from leadml.scorer import LeadScorer as OldPath  # what a registered model_code.py imports

    # the reasons were written when half a point was enough to be shown (1 point since)
    monkeypatch.setattr("leadml.explain.explanation.MIN_REASON_POINTS", 0.5)

    assert OldPath is LeadScorer
    scorer = OldPath.load(SAVED / "events")
    rows = pd.read_csv(SAVED / "events" / "rows.csv")
    expected = _expected("events")
    scores = scorer.score_frame(rows)
    assert rows["lead_id"].tolist() == expected["lead_id"]
    got = [json.loads(text) for text in scores["reasons"]]
    then = [json.loads(text) for text in expected["reasons"]]
    assert [[(r["group"], r["points"]) for r in lead] for lead in got] == [
        [(r["group"], r["points"]) for r in lead] for lead in then
    ]
    # the words are the same, except that an action older than 90 days is now told as the
    # silence since ("Viewed product pages 103 days ago" -> "No product page view for 3 months")
    old = re.compile(r"(\d+) days ago")
    for now, before in zip(sum(got, []), sum(then, []), strict=True):
        quiet = (m := old.search(before["text"])) is not None and int(m.group(1)) >= 90
        assert quiet or now["text"] == before["text"], (now, before)
    assert scores["points"].tolist() == expected["points"]
    first = json.loads(expected["reasons"][0])
    assert [r["text_fr"] for r in first][:2] == [
        "Entreprise de 733 salariés",
        "Premier contact commercial après 4 heures",
    ]


def test_a_flat_model_saved_before_the_change_now_reads_as_it_did_when_trained(
    monkeypatch,
) -> None:
    """Before the change a loaded flat scorer wrote "1 234.57" in French where the fresh one
    wrote "1 234,568"; the expected reasons are the fresh scorer's."""
    monkeypatch.setattr("leadml.explain.explanation.MIN_REASON_POINTS", 0.5)  # the rule then
    scorer = LeadScorer.load(SAVED / "flat")
    rows = pd.read_csv(SAVED / "flat" / "rows.csv")
    expected = _expected("flat")
    assert scorer.score_frame(rows)["reasons"].tolist() == expected["reasons"]
    texts = [r["text_fr"] for cell in expected["reasons"] for r in json.loads(cell)]
    assert f"Annual spend: 3{NNBSP}923,043" in texts


def _flat_export(n: int = 1200, seed: int = 5) -> tuple[pd.DataFrame, FlatDataset]:
    rng = np.random.default_rng(seed)
    visits = rng.integers(0, 12, n)
    member = rng.random(n) < 0.4
    plan = rng.choice(["free", "pro", "team"], n)
    logit = -2.5 + 0.25 * visits + 1.0 * member + 0.4 * (plan == "team")
    raw = pd.DataFrame(
        {
            "visits": visits,
            "revenue": np.round(rng.lognormal(7, 1.2, n), 4),
            "member": member,
            "plan": plan,
            "converted": np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no"),
        }
    )
    dataset = FlatDataset(
        mode="flat",
        label="converted",
        positive=("yes",),
        numeric=("visits", "revenue", "member"),
        categorical=("plan",),
        features={
            "visits": {"family": "behaviour", "label": "Website visits"},
            "revenue": {"family": "fit", "label": "Annual spend"},
            "member": {"family": "persona", "label": "Club member"},
            "plan": {"family": "fit", "label": "Plan"},
        },
    )
    return raw, dataset


@pytest.fixture(scope="module")
def flat_scorer_and_rows():
    raw, dataset = _flat_export()
    config = RunConfig(dataset=dataset)
    config = config.model_copy(
        update={
            "model": config.model.model_copy(
                update={
                    "params": {"num_leaves": 4, "min_child_samples": 20, "min_gain_to_split": 0.0},
                    "num_boost_round": 30,
                    "early_stopping_rounds": 30,
                }
            )
        }
    )
    training_set = build_training_set(config, raw)
    test = training_set.frame[training_set.frame["split"] == "test"]
    rows = test.drop(columns=["split", "label"]).reset_index(drop=True)
    return train_scorer(training_set, config).scorer, rows


def test_flat_reasons_read_the_same_in_english_and_french_after_save_and_load(
    flat_scorer_and_rows, tmp_path
) -> None:
    fresh, rows = flat_scorer_and_rows
    before = [json.loads(cell) for cell in fresh.score_frame(rows, top_reasons=4)["reasons"]]
    fresh.save(tmp_path / "model")
    loaded = LeadScorer.load(tmp_path / "model")
    after = [json.loads(cell) for cell in loaded.score_frame(rows, top_reasons=4)["reasons"]]
    for lang in ("text", "text_fr"):
        assert [[r[lang] for r in row] for row in after] == [
            [r[lang] for r in row] for row in before
        ]
    spend = [r for row in after for r in row if r["group"] == "revenue"]
    assert len(spend) > 20
    for reason in spend:
        # "Annual spend: 1,340.637" / "Annual spend: 1 340,637" (narrow no-break space)
        assert re.fullmatch(r"Annual spend: \d{1,3}(,\d{3})*(\.\d{1,3})?", reason["text"])
        assert re.fullmatch(
            rf"Annual spend: \d{{1,3}}({NNBSP}\d{{3}})*(,\d{{1,3}})?", reason["text_fr"]
        )
        assert reason["text_fr"] == reason["text"].replace(",", NNBSP).replace(".", ",")


# --- the artifact is data, checked on load -----------------------------------------------
def _tamper(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "edited":
        path.write_bytes(data.replace(b"0", b"1", 1) if b"0" in data else data + b" ")
    else:
        path.unlink()


@pytest.mark.parametrize("how", ["truncated", "edited", "removed"])
@pytest.mark.parametrize(
    "name",
    [
        "model.txt",
        "feature_spec.json",
        "calibration.json",
        "reason_catalogue.json",
        "drift_reference.json",
    ],
)
def test_a_tampered_artifact_file_is_refused_with_its_name(
    flat_scorer_and_rows, tmp_path, name, how
) -> None:
    from leadml.modeling.scorer import ModelArtifactError
    from leadml.serving.pyfunc import load_artifact_folder

    scorer, _ = flat_scorer_and_rows
    scorer.save(tmp_path / "model")
    if not (tmp_path / "model" / name).exists():
        pytest.skip(f"this scorer has no {name}")
    _tamper(tmp_path / "model" / name, how)
    with pytest.raises(ModelArtifactError, match=re.escape(name)):
        load_artifact_folder(tmp_path / "model")


def test_damaged_checksums_are_refused_and_required_for_registered_models(
    flat_scorer_and_rows, tmp_path
) -> None:
    from leadml.modeling.scorer import ModelArtifactError
    from leadml.serving.pyfunc import load_artifact_folder

    scorer, _ = flat_scorer_and_rows
    scorer.save(tmp_path / "model")
    checksums = tmp_path / "model" / "checksums.json"
    assert sorted(json.loads(checksums.read_text())) == sorted(
        p.name for p in (tmp_path / "model").iterdir() if p.name != "checksums.json"
    )
    checksums.write_text("{not json")
    with pytest.raises(ModelArtifactError, match="checksums.json: unreadable"):
        load_artifact_folder(tmp_path / "model")
    checksums.unlink()
    with pytest.raises(ModelArtifactError, match="checksums.json: missing"):
        load_artifact_folder(tmp_path / "model")


def test_a_truncated_model_without_checksums_is_refused_before_lightgbm_reads_it(
    flat_scorer_and_rows, tmp_path
) -> None:
    """A folder saved before checksums: LightGBM would abort the process (exit 134) on it."""
    from leadml.modeling.scorer import ModelArtifactError

    scorer, _ = flat_scorer_and_rows
    scorer.save(tmp_path / "model")
    (tmp_path / "model" / "checksums.json").unlink()
    _tamper(tmp_path / "model" / "model.txt", "truncated")
    with pytest.raises(ModelArtifactError, match="model.txt: not a complete LightGBM text model"):
        LeadScorer.load(tmp_path / "model")


def test_the_command_line_says_which_file_is_damaged_with_exit_7(
    flat_scorer_and_rows, tmp_path
) -> None:
    import subprocess
    import sys

    import yaml

    scorer, rows = flat_scorer_and_rows
    scorer.save(tmp_path / "model")
    _tamper(tmp_path / "model" / "calibration.json", "edited")
    raw, dataset = _flat_export(50, seed=9)
    raw.to_csv(tmp_path / "export.csv", index=False)
    (tmp_path / "flat.yaml").write_text(yaml.safe_dump(dataset.model_dump(mode="json")))
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "leadml"),
            "--quiet",
            "score",
            "--data",
            str(tmp_path / "export.csv"),
            "--config",
            str(tmp_path / "flat.yaml"),
            "--model",
            str(tmp_path / "model"),
            "--out",
            str(tmp_path / "scores"),
            "--no-mlflow",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 7
    assert done.stderr.count("\n") == 1
    assert "calibration.json: changed or damaged" in done.stderr
    assert not (tmp_path / "scores").exists()
