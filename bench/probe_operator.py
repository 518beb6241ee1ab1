"""Probe leadml as an operator would: ~120 bad inputs, faults, kills, races and tampering.

Runs the ``leadml`` command on a demo CRM (the folder ``make demo`` writes, with its
MLflow store: sql and won champions registered) and classifies every case:

* ``clean``: the expected outcome, and a failure is one clear message (at most a few
  lines, no traceback) that names what the case broke;
* ``unclear``: exit 0 where a refusal was due (a silently wrong result), a refusal
  where success was due, or a message that does not name the culprit;
* ``traceback``: a Python traceback, a native abort, an unexpected signal, exit 70;
* ``lost``: the published output is not one whole run afterwards (mixed, missing);
* ``security``: code placed in the model store ran.

Usage::

    make demo DEMO_LEADS=3000 DEMO_DIR=/tmp/demo
    MLFLOW_TRACKING_URI=sqlite:////tmp/demo/mlflow.db python bench/probe_operator.py --demo /tmp/demo

Prints one line per case and the counts; ``--json FILE`` writes every case's result.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from leadml.scoring.publish import WRITE_STEPS

ROOT = Path(__file__).resolve().parents[1]
LEADML = str(Path(sys.executable).parent / "leadml")
TABLES = ("accounts", "leads", "events", "intent", "outcomes")
KEYS = {
    "accounts": "account_id",
    "leads": "lead_id",
    "events": "lead_id",
    "intent": "account_id",
    "outcomes": "lead_id",
}
TIMES = {"leads": "created_at", "events": "ts", "intent": "ts", "outcomes": "ts"}
TEXT = {
    "accounts": "name",
    "leads": "job_title",
    "events": "event_type",
    "intent": "signal_type",
    "outcomes": "stage",
}
AS_OF = "2026-01-01"
OLD_AS_OF = "2025-12-01"


@dataclass
class Case:
    """One probe: prepare inputs in ``work``, run ``leadml`` with ``args``, judge."""

    name: str
    args: Callable[[Path], list[str]]
    expect: str  # "ok", "fail" or "either" (no traceback, and a clear line when it fails)
    mention: tuple[str, ...] = ()
    prepare: Callable[[Path], None] | None = None
    check: Callable[[Path, subprocess.CompletedProcess], str | None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    codes: tuple[int, ...] = ()  # the expected exit codes of a failure, when known


@dataclass
class Probe:
    demo: Path
    work: Path
    uri: str
    store_folder: Path = Path()  # the champion's MLflow model folder in the artifact store
    others: list = field(default_factory=list)  # jobs started beside a case (races)

    # --- inputs ---------------------------------------------------------------------
    def data_copy(self, work: Path) -> Path:
        target = work / "data"
        shutil.copytree(self.demo / "data", target)
        return target

    def edit(self, work: Path, table: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
        data = work / "data"
        if not data.exists():
            self.data_copy(work)
        frame = pd.read_parquet(data / f"{table}.parquet")
        change(frame).to_parquet(data / f"{table}.parquet")

    def score_args(self, work: Path, *extra: str, data: Path | None = None) -> list[str]:
        return [
            "--quiet",
            "score",
            "--data",
            str(data or work / "data"),
            "--model",
            "models:/leadml-sql@champion",
            "--as-of",
            AS_OF,
            "--out",
            str(work / "out" / "scores"),
            "--no-mlflow",
            *extra,
        ]

    def publish_first(self, work: Path) -> None:
        """A first complete run (as of OLD_AS_OF) at work/out/scores, for the fault cases."""
        shutil.copytree(self.work / "first" / "out", work / "out", symlinks=True)

    # --- running --------------------------------------------------------------------
    def run(self, case: Case) -> dict:
        work = Path(tempfile.mkdtemp(prefix="probe-", dir=self.work))
        try:
            if case.prepare is not None:
                try:
                    case.prepare(work)
                except Exception as exc:  # the probe's own fault, not leadml's
                    return {"case": case.name, "verdict": "probe error", "exit": None,
                            "stderr": [f"{type(exc).__name__}: {exc}"[:300]], "seconds": 0}  # fmt: skip
            started = time.perf_counter()
            done = subprocess.run(
                [LEADML, *case.args(work)],
                capture_output=True,
                text=True,
                timeout=900,
                env={**os.environ, "MLFLOW_TRACKING_URI": self.uri, **case.env},
                cwd=ROOT,
            )
            verdict = judge(case, done)
            if verdict == "clean" and case.check is not None:
                verdict = case.check(work, done) or verdict
            if (self.work / "PWNED").exists():
                verdict = "security"
            return {
                "case": case.name,
                "verdict": verdict,
                "exit": done.returncode,
                "stderr": done.stderr.strip().splitlines()[-3:],
                "seconds": round(time.perf_counter() - started, 1),
            }
        finally:
            shutil.rmtree(work, ignore_errors=True)


def judge(case: Case, done: subprocess.CompletedProcess) -> str:
    err = done.stderr
    if "Traceback (most recent call last)" in err or done.returncode in (70, 134, 139):
        return "traceback"
    if done.returncode < 0 and not case.env.get("LEADML_FAULT"):
        return "traceback"
    if case.env.get("LEADML_FAULT"):
        return "clean"  # judged by the check: is the output whole?
    failed = done.returncode != 0
    if case.expect == "ok":
        return "unclear" if failed else "clean"
    if case.expect == "fail" and not failed:
        return "unclear"
    if not failed:
        return "clean"
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if not errors or len(err.strip().splitlines()) > 14:
        return "unclear"
    if case.codes and done.returncode not in case.codes:
        return "unclear"
    text = err.lower()
    if any(word.lower() not in text for word in case.mention):
        return "unclear"
    return "clean"


def output_whole(expected_as_of: str | tuple[str, ...]):
    """A check: the published output is one whole run as of one of ``expected_as_of``."""
    sys.path.insert(0, str(ROOT / "src"))
    from leadml.scoring.publish import verify_output_folder

    dates = (expected_as_of,) if isinstance(expected_as_of, str) else expected_as_of

    def check(work: Path, done: subprocess.CompletedProcess) -> str | None:
        out = work / "out" / "scores"
        manifest, problems = verify_output_folder(out)
        if problems:
            return "lost"
        scores = pd.read_parquet(out / "scores.parquet", columns=["as_of"])
        as_of = {str(pd.Timestamp(v).date()) for v in scores["as_of"]}
        if as_of != {str(pd.Timestamp(manifest["as_of"]).date())} or not as_of <= set(dates):
            return "lost"
        return None

    return check


# --- the cases ---------------------------------------------------------------------------
def data_cases(p: Probe) -> list[Case]:
    cases = []
    for table in TABLES:
        key, when, text = KEYS[table], TIMES.get(table), TEXT[table]

        def missing(work, table=table):
            p.data_copy(work)
            (work / "data" / f"{table}.parquet").unlink()

        cases.append(
            Case(f"{table}: file missing", p.score_args, "fail", (table,), missing, codes=(1,))
        )
        cases.append(
            Case(
                f"{table}: empty table",
                p.score_args,
                "fail" if table == "leads" else "either",
                (table,),
                lambda w, t=table: p.edit(w, t, lambda f: f.iloc[:0]),
                codes=(1,),
            )
        )
        cases.append(
            Case(
                f"{table}: key column {key} missing",
                p.score_args,
                "fail",
                (key,),
                lambda w, t=table, k=key: p.edit(w, t, lambda f: f.drop(columns=[k])),
                codes=(1,),
            )
        )

        def non_utf8_csv(work, table=table):
            p.data_copy(work)
            frame = pd.read_parquet(work / "data" / f"{table}.parquet")
            (work / "data" / f"{table}.parquet").unlink()
            frame.to_csv(work / "data" / f"{table}.csv", index=False)
            raw = (work / "data" / f"{table}.csv").read_bytes()
            cut = raw.index(b"\n") + 3
            (work / "data" / f"{table}.csv").write_bytes(raw[:cut] + b"\xff\xfe" + raw[cut:])

        cases.append(
            Case(
                f"{table}: CSV not UTF-8",
                p.score_args,
                "fail",
                (f"{table}.csv",),
                non_utf8_csv,
                codes=(1,),
            )
        )

        def non_utf8_parquet(work, table=table, text=text):
            p.data_copy(work)
            path = work / "data" / f"{table}.parquet"
            arrow = pq.read_table(path)
            i = arrow.schema.get_field_index(text)
            values = [("" if v is None else str(v)).encode() for v in arrow.column(i).to_pylist()]
            values[1] = b"\xff\xfe" + values[1]
            column = pa.array(values, pa.binary()).view(pa.string())
            pq.write_table(arrow.set_column(i, pa.field(text, pa.string()), column), path)

        cases.append(
            Case(
                f"{table}: Parquet text not UTF-8 ({text})",
                p.score_args,
                "fail",
                (text,),
                non_utf8_parquet,
                codes=(1,),
            )
        )

        def both(work, table=table):
            p.data_copy(work)
            pd.read_parquet(work / "data" / f"{table}.parquet").head(5).to_csv(
                work / "data" / f"{table}.csv", index=False
            )

        cases.append(
            Case(f"{table}: both .csv and .parquet", p.score_args, "fail", ("both",), both)
        )
        cases.append(
            Case(
                f"{table}: 10% duplicated rows",
                p.score_args,
                "either",
                (table,),
                lambda w, t=table: p.edit(
                    w, t, lambda f: pd.concat([f, f.sample(frac=0.1, random_state=0)])
                ),
            )
        )

        def truncated(work, table=table):
            p.data_copy(work)
            path = work / "data" / f"{table}.parquet"
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

        cases.append(
            Case(
                f"{table}: truncated Parquet",
                p.score_args,
                "fail",
                (f"{table}.parquet",),
                truncated,
            )
        )
        if when is not None:

            def garbage_dates(f, when=when):
                f = f.assign(**{when: f[when].astype(str)})
                f.loc[f.index[::10], when] = "not a date"
                return f

            cases.append(
                Case(
                    f"{table}: 10% unreadable {when}",
                    p.score_args,
                    "ok",
                    (),
                    lambda w, t=table, g=garbage_dates: p.edit(w, t, g),
                )
            )

            def integer_dates(f, when=when):
                return f.assign(**{when: pd.to_datetime(f[when]).astype("int64") // 10**9})

            cases.append(
                Case(
                    f"{table}: integer timestamps in {when}",
                    p.score_args,
                    "fail" if table == "leads" else "either",
                    (when,),
                    lambda w, t=table, g=integer_dates: p.edit(w, t, g),
                    codes=(1,),
                )
            )
            cases.append(
                Case(
                    f"{table}: {when} all empty",
                    p.score_args,
                    "fail" if table == "leads" else "either",
                    (when,),
                    lambda w, t=table, wh=when: p.edit(w, t, lambda f: f.assign(**{wh: pd.NaT})),
                    codes=(1,),
                )
            )
    return cases


def _first_huge(frame: pd.DataFrame) -> pd.DataFrame:
    """One 10 MB event type, in the first row (a column of them would be terabytes)."""
    frame.loc[frame.index[0], "event_type"] = "y" * 10**7
    return frame


def defect_cases(p: Probe) -> list[Case]:
    def unseen_country(work):
        def change(f):
            f = f.assign(country=f["country"].astype(str))
            f.loc[f.index[:300], "country"] = "Atlantis"
            return f

        p.edit(work, "accounts", change)

    def few_rejects(work, done):
        rejects = pd.read_parquet(work / "out" / "scores" / "rejects.parquet")
        return "unclear" if len(rejects) else None

    def big_ids(work):
        p.data_copy(work)
        for table in ("leads", "events", "outcomes"):
            path = work / "data" / f"{table}.parquet"
            frame = pd.read_parquet(path)
            frame["lead_id"] = frame["lead_id"].astype("int64") * 4 + 2**53
            frame.to_parquet(path)
        unseen_country(work)

    def ids_kept(work, done):
        out = work / "out" / "scores"
        rejects = pd.read_parquet(out / "rejects.parquet")
        scores = pd.read_parquet(out / "scores.parquet")
        ok = rejects["lead_id"].dtype == "int64" and scores["lead_id"].dtype == "int64"
        return None if ok and len(rejects) else "unclear"

    def huge_value(work):
        def change(f):
            f = f.assign(job_title=f["job_title"].astype(str))
            f.loc[f.index[0], "job_title"] = "x" * 10_000_000
            f.loc[f.index[1], "created_at"] = pd.NaT
            return f

        p.edit(work, "leads", change)
        p.edit(
            work,
            "events",
            lambda f: _first_huge(f.assign(event_type=f["event_type"].astype(str))),
        )

    def short_messages(work, done):
        return "unclear" if len(done.stderr) > 5_000 else None

    def event_type_space(work):
        p.data_copy(work)
        config = yaml.safe_load((ROOT / "training" / "dataset.yaml").read_text())
        config["vocabularies"]["event_types"].append("page view")
        (work / "bad.yaml").write_text(yaml.safe_dump(config))

    return [
        Case(
            "unseen country counted once (tolerance 1)",
            p.score_args,
            "ok",
            prepare=unseen_country,
            check=few_rejects,
        ),
        Case(
            "lead ids above 2^53 with rejects",
            lambda w: p.score_args(w, "--unseen-tolerance", "0"),
            "ok",
            prepare=big_ids,
            check=ids_kept,
        ),
        Case("10 MB values", p.score_args, "either", prepare=huge_value, check=short_messages),
        Case(
            "event type with a space in the config",
            lambda w: p.score_args(w, "--config", str(w / "bad.yaml")),
            "fail",
            ("page view",),
            event_type_space,
            codes=(2,),
        ),
        Case(
            "validate: non-UTF-8 Parquet column",
            lambda w: ["validate", "--data", str(w / "data")],
            "fail",
            ("job_title",),
            next(c for c in data_cases(p) if c.name.startswith("leads: Parquet text")).prepare,
        ),
    ]


def config_cases(p: Probe) -> list[Case]:
    sql = (ROOT / "training" / "sql.yaml").read_text()
    dataset = (ROOT / "training" / "dataset.yaml").read_text()
    variants = {
        "pdo 0": (sql.replace("pdo: 20", "pdo: 0"), "pdo"),
        "negative top_reasons": (sql.replace("top_reasons: 3", "top_reasons: -2"), "top_reasons"),
        "LightGBM parameter typo": (sql.replace("num_leaves: 31", "num_leavs: 31"), "num_leaves"),
        "LightGBM parameter of the wrong type": (
            sql.replace("num_leaves: 31", "num_leaves: abc"),
            "num_leaves",
        ),
        "target stage not in the vocabulary": (
            sql.replace("stages: [sql, opportunity, won]", "stages: [wonn]"),
            "wonn",
        ),
        "registered_name with a slash": (
            sql.replace("registered_name: leadml-sql", "registered_name: leadml/sql"),
            "registered_name",
        ),
        "tabels: typo": (dataset.replace("tables:", "tabels:", 1), "tables"),
        "half-life 0": (
            dataset.replace("half_life_days: 14", "half_life_days: 0"),
            "half_life_days",
        ),
        "unknown csv.encoding": (
            dataset.replace("encoding: utf-8", "encoding: utf-99", 1),
            "utf-99",
        ),
        "invalid YAML": ("points: [unclosed", "YAML"),
        "not a mapping": ("- a\n- b\n", "mapping"),
        "split fractions": (sql.replace("train: 0.55", "train: 0.9"), "split"),
    }
    cases = []
    for name, (text, word) in variants.items():

        def prepare(work, text=text):
            (work / "dataset.yaml").write_text(dataset)
            (work / "run.yaml").write_text(text)

        cases.append(
            Case(
                f"config: {name}",
                lambda w: [
                    "train",
                    "--data",
                    str(p.demo / "data"),
                    "--config",
                    str(w / "run.yaml"),
                ],
                "fail",
                (word,),
                prepare,
                codes=(2,),
            )
        )
    cases.append(
        Case(
            "config: file missing",
            lambda w: ["train", "--data", str(p.demo / "data"), "--config", str(w / "nope.yaml")],
            "fail",
            ("nope.yaml",),
            codes=(2,),
        )
    )
    return cases


def model_cases(p: Probe) -> list[Case]:
    uris = [
        "models:/nope@champion",
        "models:/leadml-sql@nope",
        "models:/leadml-sql/99",
        "models:/leadml-sql/abc",
        "models:/",
        "runs:/zzz/model",
        "foo",
        "models:/leadml-sql@champion/x",
    ]
    cases = [
        Case(
            f"model URI {uri}",
            lambda w, uri=uri: [
                "--quiet",
                "score",
                "--data",
                str(p.demo / "data"),
                "--model",
                uri,
                "--as-of",
                AS_OF,
                "--out",
                str(w / "out"),
                "--no-mlflow",
            ],
            "fail",
            codes=(4,),
        )
        for uri in uris
    ]
    cases.append(
        Case(
            "no store at --tracking-uri",
            lambda w: [*p.score_args(w, data=p.demo / "data"), "--tracking-uri", "sqlite:///x.db"],
            "fail",
            ("x.db",),
            codes=(4,),
        )
    )
    for version in ("99", "abc", "-1"):
        cases.append(
            Case(
                f"promote --version {version}",
                lambda w, v=version: ["promote", "--model", "leadml-sql", f"--version={v}"],
                "fail",
                (version,),
                codes=(4,),
            )
        )
    cases.append(
        Case(
            "promote an unknown model",
            lambda w: ["promote", "--model", "nope"],
            "fail",
            ("nope",),
            codes=(4,),
        )
    )
    return cases


def tamper_cases(p: Probe) -> list[Case]:
    files = (
        "model.txt",
        "feature_spec.json",
        "calibration.json",
        "reason_catalogue.json",
        "drift_reference.json",
    )
    cases = []
    for name in files:
        for how in ("truncated", "edited"):

            def prepare(work, name=name, how=how):
                shutil.copytree(p.work / "model", work / "model")
                path = work / "model" / name
                raw = path.read_bytes()
                path.write_bytes(
                    raw[: len(raw) // 2] if how == "truncated" else raw.replace(b"1", b"7", 3)
                )

            cases.append(
                Case(
                    f"artifact {name} {how}",
                    lambda w: [
                        *p.score_args(w, data=p.demo / "data")[:5],
                        str(w / "model"),
                        *p.score_args(w, data=p.demo / "data")[6:],
                    ],
                    "fail",
                    (name,),
                    prepare,
                    codes=(7,),
                )
            )

    def inject(work):
        """Code beside the registered data, named as the loader in MLmodel: never run."""
        store = p.store_folder
        (store / "evil_loader.py").write_text(
            f"open({str(p.work / 'PWNED')!r}, 'w').write('ran')\n"
            "def _load_pyfunc(path):\n    raise SystemExit(0)\n"
        )
        mlmodel = store / "MLmodel"
        shutil.copy(mlmodel, work / "MLmodel.orig")
        spec = yaml.safe_load(mlmodel.read_text())
        spec["flavors"]["python_function"]["loader_module"] = "evil_loader"
        spec["flavors"]["python_function"]["code"] = "."
        mlmodel.write_text(yaml.safe_dump(spec))

    def restore(work, done):
        shutil.copy(work / "MLmodel.orig", p.store_folder / "MLmodel")
        (p.store_folder / "evil_loader.py").unlink()
        return None

    cases.append(
        Case(
            "code injected into the model store",
            lambda w: p.score_args(w, data=p.demo / "data"),
            "ok",
            prepare=inject,
            check=restore,
        )
    )
    return cases


def fault_cases(p: Probe) -> list[Case]:
    cases = []
    for step in WRITE_STEPS:
        after = WRITE_STEPS.index(step) >= WRITE_STEPS.index("link_swapped")
        cases.append(
            Case(
                f"kill -9 at {step}",
                lambda w: p.score_args(w, data=p.demo / "data"),
                "either",
                prepare=p.publish_first,
                check=output_whole(AS_OF if after else OLD_AS_OF),
                env={"LEADML_FAULT": step},
            )
        )

    def out_is_file(work):
        (work / "out").mkdir()
        (work / "out" / "scores").write_text("keep")

    cases.append(
        Case(
            "--out is a file",
            lambda w: p.score_args(w, data=p.demo / "data"),
            "fail",
            ("not a folder",),
            out_is_file,
            codes=(8,),
        )
    )

    def parent_is_file(work):
        (work / "out").write_text("a file where a folder is expected")

    cases.append(
        Case(
            "--out under a file (unwritable)",
            lambda w: p.score_args(w, data=p.demo / "data"),
            "fail",
            ("--out",),
            parent_is_file,
            codes=(8,),
        )
    )

    def live_lock(work):
        p.publish_first(work)
        holder = {"pid": os.getpid(), "host": os.uname().nodename, "started": "now", "command": "x"}
        (work / "out" / "scores.lock").write_text(json.dumps(holder))

    cases.append(
        Case(
            "a second job while one holds the lock",
            lambda w: p.score_args(w, data=p.demo / "data"),
            "fail",
            (f"pid {os.getpid()}",),
            live_lock,
            check=output_whole(OLD_AS_OF),
            codes=(5,),
        )
    )

    def stale_lock(work):
        p.publish_first(work)
        holder = {"pid": 2**22 + 17, "host": os.uname().nodename, "started": "then", "command": "x"}
        (work / "out" / "scores.lock").write_text(json.dumps(holder))

    cases.append(
        Case(
            "a lock left by a killed job",
            lambda w: p.score_args(w, data=p.demo / "data"),
            "ok",
            prepare=stale_lock,
            check=output_whole(AS_OF),
        )
    )

    def concurrent(work):
        p.publish_first(work)
        other = subprocess.Popen(
            [LEADML, *p.score_args(work, data=p.demo / "data")[:7], "2025-12-15", "--out",
             str(work / "out" / "scores"), "--no-mlflow"],
            env={**os.environ, "MLFLOW_TRACKING_URI": p.uri},
            stderr=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        work.joinpath("other.pid").write_text(str(other.pid))
        p.others.append(other)

    def concurrent_whole(work, done):
        for other in p.others:
            other.wait(timeout=900)
        p.others.clear()
        return output_whole((AS_OF, "2025-12-15"))(work, done)

    cases.append(
        Case(
            "two jobs at once on one --out",
            lambda w: p.score_args(w, data=p.demo / "data"),
            "either",
            prepare=concurrent,
            check=concurrent_whole,
        )
    )

    def mixed(work):
        p.publish_first(work)
        real = (work / "out" / "scores").resolve()
        scores = pd.read_parquet(real / "scores.parquet")
        scores.assign(as_of=pd.Timestamp(AS_OF)).to_parquet(real / "scores.parquet")

    report = lambda w, *extra: [  # noqa: E731
        "report",
        "--scores",
        str(w / "out" / "scores"),
        "--data",
        str(p.demo / "data"),
        "--out",
        str(w / "cards.html"),
        *extra,
    ]
    cases.append(Case("report on a mixed folder", report, "fail", ("checksum",), mixed, codes=(6,)))
    cases.append(
        Case(
            "report --allow-incomplete on a mixed folder",
            lambda w: report(w, "--allow-incomplete"),
            "ok",
            prepare=mixed,
        )
    )

    def no_success(work):
        p.publish_first(work)
        ((work / "out" / "scores").resolve() / "_SUCCESS").unlink()

    cases.append(
        Case("report without _SUCCESS", report, "fail", ("_SUCCESS",), no_success, codes=(6,))
    )
    cases.append(Case("report on a missing folder", report, "fail", ("scores",), codes=(1,)))
    cases.append(Case("report on the published run", report, "ok", prepare=p.publish_first))
    return cases


def option_cases(p: Probe) -> list[Case]:
    def score(w, *extra):
        return p.score_args(w, *extra, data=p.demo / "data")

    return [
        Case("--as-of garbage", lambda w: score(w)[:7] + ["soon"] + score(w)[8:], "fail", ("--as-of",)),
        Case("--top-reasons -1", lambda w: score(w, "--top-reasons", "-1"), "fail", ("top-reasons",)),
        Case("--unseen-tolerance -1", lambda w: score(w, "--unseen-tolerance", "-1"), "fail", ("tolerance",)),
        Case("--chunk-size 0", lambda w: score(w, "--chunk-size", "0"), "fail", ("chunk-size",)),
        Case("--format xml", lambda w: score(w, "--format", "xml"), "fail", ("format",)),
        Case("--also unknown", lambda w: score(w, "--also", "models:/nope@champion"), "fail", ("nope",)),
        Case("--also won model", lambda w: score(w, "--also", "models:/leadml-won@champion", "--format", "both"), "ok"),
        Case("explain an unknown lead", lambda w: ["explain", "--lead-id", "99999999", "--data", str(p.demo / "data"), "--as-of", AS_OF], "fail", ("99999999",)),
        Case("--data missing folder", lambda w: score(w)[:3] + [str(w / "nope")] + score(w)[4:], "fail", ("nope",)),
        Case("a won model as main, report wording", lambda w: score(w, "--model", "models:/leadml-won@champion"), "ok"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=Path, required=True, help="folder written by make demo")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--only", default=None, help="run the cases whose name contains this")
    parser.add_argument("--start", type=int, default=0, help="skip the first N cases")
    parser.add_argument("--stop", type=int, default=None, help="stop before case N")
    args = parser.parse_args()
    uri = os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{args.demo / 'mlflow.db'}")
    work = Path(tempfile.mkdtemp(prefix="leadml-probe-"))
    probe = Probe(demo=args.demo, work=work, uri=uri)
    # a published first run, the champion's files as a local folder, the store's model folder
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    first = [*probe.score_args(work / "first", data=args.demo / "data")]
    first[first.index(AS_OF)] = OLD_AS_OF
    subprocess.run([LEADML, *first], check=True, env=env)
    sys.path.insert(0, str(ROOT / "src"))
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(uri)
    version = MlflowClient().get_model_version_by_alias("leadml-sql", "champion")
    location = MlflowClient().get_model_version_download_uri("leadml-sql", version.version)
    probe.store_folder = Path(location.removeprefix("file://"))
    shutil.copytree(probe.store_folder / "data" / "leadml_model", work / "model")

    cases = [
        *data_cases(probe),
        *defect_cases(probe),
        *config_cases(probe),
        *model_cases(probe),
        *tamper_cases(probe),
        *fault_cases(probe),
        *option_cases(probe),
    ]
    cases = cases[args.start : args.stop]
    if args.only:
        cases = [c for c in cases if args.only in c.name]
    results = []
    for case in cases:
        result = probe.run(case)
        results.append(result)
        tail = result["stderr"][-1][:150] if result["stderr"] else ""
        print(f"{result['verdict']:<9} exit {result['exit']:>3}  {case.name}  | {tail}", flush=True)
    counts = Counter(r["verdict"] for r in results)
    summary = {
        "cases": len(results),
        **{k: counts.get(k, 0) for k in ("clean", "unclear", "traceback", "lost", "security")},
    }
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "results": results}, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
