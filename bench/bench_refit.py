"""Refit vs oldest part only: rolling-origin backtests on the demo (sql, won) and the bank data,
and the bank's out-of-time test before/after small-data cross-fitting.

    .venv/bin/python bench/bench_refit.py [--leads 20000] [--bank PATH] [--out DIR] [--folds 4]

Prints, per dataset and fold, the ROC-AUC / ECE of the model refit on the whole window and of
the model trained on the window's oldest part (early stopping and Platt on the newer parts),
beside the rule grid and the oracle; writes each backtest's JSON and figure and one figure of
refit vs not across datasets into --out. Then the bank's out-of-time test (the newest 20 % of
rows) with the forward holdout with and without the refit, and with small-data cross-fitting
(refused: the export drifts and the cross-fitted Platt slope comes out negative).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BANK = Path("/work/shared/data/uci_bank_marketing/bank-additional-full.csv")


def _table(name: str, report: dict) -> None:
    print(f"\n{name}: {report['n_labelled']:,} labelled rows, {report['window']} window, "
          f"purge gap {report['purge_gap']}, {report['seconds']:.0f} s")  # fmt: skip
    print(f"{'fold':>4} {'test from':>19} {'n_train':>8} {'refit':>13} {'oldest part':>13} "
          f"{'grid':>6} {'oracle':>6}   (ROC-AUC / ECE)")  # fmt: skip
    for fold in report["folds"]:

        def cell(arm: str, fold: dict = fold) -> str:
            m = fold.get(arm, {})
            return f"{m['roc_auc']:.3f}/{m['ece']:.4f}" if "roc_auc" in m else "—"

        oracle = fold.get("oracle", {}).get("roc_auc")
        print(f"{fold['fold']:>4} {str(fold['test_range'][0])[:19]:>19} {fold['n_train']:>8,} "
              f"{cell('refit'):>13} {cell('oldest_part'):>13} "
              f"{fold.get('baseline', {}).get('roc_auc', float('nan')):>6.3f} "
              f"{'' if oracle is None else f'{oracle:.3f}':>6}")  # fmt: skip
    for arm, m in report["pooled"].items():
        print(f"  pooled {arm:>11}: ROC-AUC {m['roc_auc']:.3f}  PR-AUC {m['pr_auc']:.3f}  "
              f"ECE {m['ece']:.4f}  lift@10% {m['lift_top_decile']:.2f}")  # fmt: skip
    print(f"  refit beats oldest part in every fold after the first: "
          f"{report['refit_beats_oldest_part_after_first_fold']}")  # fmt: skip


def _refit_vs_not_figure(reports: dict[str, dict], path: Path) -> None:
    from leadml.modeling.plots import _figure, save_figure

    fig = _figure(5 * len(reports), 4.2)
    axes = fig.subplots(1, len(reports), squeeze=False)[0]
    for ax, (name, report) in zip(axes, reports.items(), strict=True):
        folds = report["folds"]
        x = [f["fold"] for f in folds]
        for arm, colour, label in (("refit", "tab:blue", "refit on the whole window"),
                                   ("oldest_part", "tab:orange", "oldest part only"),
                                   ("baseline", "tab:gray", "hand-tuned grid")):  # fmt: skip
            ax.plot(x, [f.get(arm, {}).get("roc_auc", float("nan")) for f in folds],
                    marker="o", color=colour, label=label)  # fmt: skip
        ax.set_title(name)
        ax.set_xticks(x)
        ax.set_xlabel("fold")
        ax.set_ylabel("ROC-AUC on the fold's test rows")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle("Refit on everything before the fold vs the oldest part only (rolling origin)")
    save_figure(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--data", type=Path, help="an existing demo data folder")
    parser.add_argument("--bank", type=Path, default=BANK)
    parser.add_argument("--out", type=Path, default=Path("out/bench_refit"))
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--only", choices=("sql", "won", "bank"), action="append")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    from leadml.config import load_run_config
    from leadml.data.io import write_json_atomic
    from leadml.modeling.backtest import run_backtest
    from leadml.modeling.training_run import run_training
    from leadml.synth import SynthSpec, write_demo_data

    args.out.mkdir(parents=True, exist_ok=True)
    wanted = args.only or ["sql", "won", "bank"]
    reports: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None and ({"sql", "won"} & set(wanted)):
            data = Path(tmp) / "demo"
            write_demo_data(data, SynthSpec(n_leads=args.leads, seed=7))
        runs = [(t, ROOT / "training" / f"{t}.yaml", data) for t in ("sql", "won") if t in wanted]
        if "bank" in wanted and args.bank.is_file():
            runs.append(("bank", ROOT / "training" / "bank_marketing.yaml", args.bank))
        for name, config_path, path in runs:
            config = load_run_config(config_path)
            reports[name] = run_backtest(
                config,
                path,
                folds=args.folds,
                log_to_mlflow=False,
                report_path=args.out / f"backtest_{name}.json",
                figure_path=args.out / f"backtest_{name}.png",
            )
            _table(name, reports[name])
        if len(reports) > 1:
            _refit_vs_not_figure(reports, args.out / "refit_vs_oldest_part.png")

        if "bank" in wanted and args.bank.is_file():
            config = load_run_config(ROOT / "training" / "bank_marketing.yaml")
            holdout = config.model_copy(
                update={"refit": config.refit.model_copy(update={"enabled": False})}
            )
            crossfit = config.model_copy(
                update={"small_data": config.small_data.model_copy(update={"max_rows": 50_000})}
            )
            out = {}
            for label, run_config in (
                ("holdout, no refit", holdout),
                ("holdout + refit (shipped)", config),
                ("small-data cross-fitting", crossfit),
            ):
                started = time.perf_counter()
                try:
                    report = run_training(run_config, args.bank, log_to_mlflow=False)
                except ValueError as error:  # cross-fitted Platt refused (drift): say so
                    out[label] = {"refused": str(error)}
                    print(f"\nbank {label}: refused: {error}")
                    continue
                out[label] = {k: report[k] for k in ("model", "baseline", "sizes", "fit_mode")}
                out[label]["refit"] = report.get("refit")
                m = report["model"]
                refit = report.get("refit") or {}
                oof = refit.get("out_of_fold", {})
                print(f"\nbank {label}: test n {report['n_test']:,}  ROC-AUC {m['roc_auc']:.3f}  "
                      f"PR-AUC {m['pr_auc']:.3f}  ECE {m['ece']:.4f}  lift@10% "
                      f"{m['lift_top_decile']:.2f}  train rows {report['sizes']['train']['n']:,}"
                      + (f"  refit: {refit['n_rows']:,} rows, {refit['rounds']} rounds, "
                         f"out-of-fold ROC-AUC {oof.get('roc_auc', float('nan')):.3f} "
                         f"ECE {oof.get('ece', float('nan')):.4f}" if refit else "")
                      + f"  ({time.perf_counter() - started:.0f} s)")  # fmt: skip
            write_json_atomic(args.out / "bank_before_after.json", out)
    print(f"\nwritten to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
