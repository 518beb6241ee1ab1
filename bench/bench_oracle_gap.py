"""How far can a model of the observable data get towards the synthetic CRM's oracle?

    .venv/bin/python bench/bench_oracle_gap.py [--data demo/data] [--config training/sql.yaml]
                                               [--leads 20000]

The oracle (``truth.parquet``) knows what no CRM records: each lead's latent interest,
whether its account is in market, its buying moment, the demo request and first touch
still to come. This prints, on the out-of-time test part of ``--config``'s training set
(``--data``: a demo CRM folder; default: a fresh ``--leads`` demo CRM, seed 7):

* the test ROC-AUC of the oracle, of the shipped parameters (trees on train, early
  stopping on valid: the booster ``leadml tune`` searches around), and of the
  **observable ceiling**: the same features and parameters trained on the oracle's own
  probability as soft labels (cross-entropy), i.e. a learner with noise-free labels and
  no sampling noise in its target -- what better parameters could at best approach;
* the same by lead age at the snapshot, with the ROC-AUC of the true *static* part of
  the logit (source, company size, authority, email status: all a CRM knows of a lead
  at creation, without noise), the ceiling of any model at age 0.

Prints figures only; nothing is registered.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadml.config import load_config
from leadml.modeling.train import booster_params, fit_booster
from leadml.pointintime.trainingset import build_training_set
from leadml.synth import SynthSpec, write_demo_data
from leadml.synth.oracle import oracle_probability

ROOT = Path(__file__).resolve().parents[1]
AGE_BINS = [-1, 0, 3, 7, 14, 30, 60, 90, 100_000]
STATIC_PARTS = ("logit_source", "logit_company_size", "logit_authority")


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if 0 < y.mean() < 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a demo CRM folder (with truth.parquet)")
    parser.add_argument("--config", type=Path, default=ROOT / "training" / "sql.yaml")
    parser.add_argument("--leads", type=int, default=20_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "crm"
            write_demo_data(data, SynthSpec(n_leads=args.leads, seed=7))
        run(data, args.config)


def run(data: Path, config_path: Path) -> None:
    config = load_config(config_path)
    started = time.perf_counter()
    training_set = build_training_set(config, data)
    truth = pd.read_parquet(data / "truth.parquet")
    created = pd.read_parquet(data / "leads.parquet", columns=["lead_id", "created_at"])
    created = created.set_index("lead_id")["created_at"]
    frame = training_set.frame
    parts = {name: frame[frame["split"] == name] for name in ("train", "valid", "test")}

    def oracle(rows: pd.DataFrame) -> np.ndarray:
        ids = rows["lead_id"].to_numpy()
        return oracle_probability(
            truth,
            ids,
            pd.to_datetime(rows["as_of"]).to_numpy(),
            created_at=pd.to_datetime(created.reindex(ids)).to_numpy(),
            target=config.target.name,
            horizon_days=config.target.horizon_days,
        )

    X = {name: training_set.part(name)[0] for name in parts}
    y = {name: np.asarray(training_set.part(name)[1], dtype=float) for name in parts}
    truth_p = {name: oracle(rows) for name, rows in parts.items()}
    params = booster_params(config, training_set.catalogue)
    shipped = fit_booster(
        X["train"], y["train"], X["valid"], y["valid"], params=params, limits=config.model
    )
    soft = {**params, "objective": "cross_entropy", "metric": "cross_entropy"}
    soft["min_gain_to_split"] = 0.0  # the gain scale of soft labels is not that of 0/1 ones
    ceiling = fit_booster(
        X["train"],
        np.clip(truth_p["train"], 0.0, 1.0),
        X["valid"],
        np.clip(truth_p["valid"], 0.0, 1.0),
        params=soft,
        limits=config.model.model_copy(update={"num_boost_round": 5_000}),
    )

    test = parts["test"]
    ids = test["lead_id"].to_numpy()
    lead_truth = truth.set_index("lead_id").reindex(ids)
    static = sum(lead_truth[c].to_numpy() for c in STATIC_PARTS)
    static = static + np.log(lead_truth["factor_email_status"].to_numpy())
    age = (pd.to_datetime(test["as_of"]) - pd.to_datetime(created.reindex(ids)).to_numpy()).dt
    scores = pd.DataFrame(
        {
            "y": y["test"],
            "oracle": truth_p["test"],
            "shipped": shipped.predict(X["test"], num_iteration=shipped.best_iteration),
            "observable_ceiling": ceiling.predict(X["test"], num_iteration=ceiling.best_iteration),
            "static_truth": static,
            "age": pd.cut(age.days.to_numpy(), AGE_BINS),
        }
    )
    arms = ["oracle", "observable_ceiling", "shipped", "static_truth"]
    print(
        f"{config.target.name}: {len(frame):,} snapshots, test part {len(test):,} rows, "
        f"{int(y['test'].sum()):,} positives ({time.perf_counter() - started:.0f} s)"
    )
    print(f"trees: shipped {shipped.best_iteration}, observable ceiling {ceiling.best_iteration}")
    overall = {arm: _auc(scores["y"].to_numpy(), scores[arm].to_numpy()) for arm in arms}
    for arm in arms:
        print(
            f"  test ROC-AUC {arm:20s} {overall[arm]:.4f}  "
            f"({overall[arm] / overall['oracle']:.3f} x the oracle)"
        )
    by_age = scores.groupby("age", observed=True).apply(
        lambda g: pd.Series(
            {"rows": len(g), "sql_rate": g["y"].mean()}
            | {arm: _auc(g["y"].to_numpy(), g[arm].to_numpy()) for arm in arms}
        ),
        include_groups=False,
    )
    print("test ROC-AUC by lead age (days) at the snapshot:")
    print(by_age.to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
