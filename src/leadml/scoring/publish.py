"""Publishing a scoring run to a folder as one unit, under a lock.

``leadml score --out out/scores`` never writes into the folder a reader may be
looking at. Each run:

1. takes ``out/scores.lock`` (created exclusively; it names the holder), so a
   second job on the same ``--out`` is refused instead of interleaving;
2. writes every file into a fresh ``out/scores.runs/<run id>.staging`` folder,
   hashes them there and writes ``manifest.json`` (with the hashes), then
   ``_SUCCESS`` last;
3. renames the staging folder to ``out/scores.runs/<run id>`` and swaps the
   symbolic link ``out/scores`` to it with one ``rename`` (atomic on POSIX);
4. keeps the last :data:`KEEP_RUNS` runs and removes older ones.

At every instant ``out/scores`` is either the complete previous run or the
complete new one. A kill at any step leaves at most a stale ``.staging`` folder
(removed by the next run) and a stale lock (taken over by the next run once its
process is gone). A folder written by an older leadml (a real directory at
``--out``) is moved into ``out/scores.runs/`` once, then linked.

The steps call :func:`fault_point` with their name; the fault-injection tests set
``LEADML_FAULT=<step>`` to SIGKILL the job exactly there (no sleeps).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from leadml.data.io import file_sha256, write_json_atomic, write_text_atomic

__all__ = [
    "FAULT_ENV",
    "KEEP_RUNS",
    "WRITE_STEPS",
    "IncompleteOutputError",
    "OutputLockedError",
    "OutputWriteError",
    "check_output_folder",
    "fault_point",
    "output_lock",
    "publish_folder",
    "verify_output_folder",
]

FAULT_ENV = "LEADML_FAULT"
KEEP_RUNS = 3
# Every step of a folder publish, in order; each is a place a kill can land.
WRITE_STEPS = (
    "lock_taken",
    "staging_created",
    "scores_written",
    "rejects_written",
    "files_hashed",
    "manifest_written",
    "success_written",
    "staging_renamed",
    "link_created",
    "link_swapped",
    "old_runs_removed",
)


class OutputLockedError(RuntimeError):
    """Another job holds the ``--out`` folder's lock."""


class OutputWriteError(OSError):
    """The output cannot be written (read-only, full disk, not a folder); the previous one is intact."""

    def __str__(self) -> str:
        return str(self.strerror)


class IncompleteOutputError(ValueError):
    """A scores folder that is not one complete run (no ``_SUCCESS``, checksums or dates disagree)."""


def fault_point(step: str) -> None:
    """SIGKILL this process when ``LEADML_FAULT`` names ``step`` (fault-injection tests)."""
    if os.environ.get(FAULT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _runs_dir(out: Path) -> Path:
    return out.parent / f"{out.name}.runs"


def _lock_path(out: Path) -> Path:
    return out.parent / f"{out.name}.lock"


def _write_error(out: Path, exc: OSError) -> OutputWriteError:
    why = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return OutputWriteError(
        exc.errno or 0,
        f"--out {out}: cannot write ({why}: {exc.filename or out}); the previous output is "
        "intact; free space or choose a writable --out",
    )


def check_output_folder(out: str | Path) -> Path:
    """``out`` as a Path, after checking it can be published to; raise before any scoring work.

    ``out`` must be a folder, a link to one, or not exist yet, and its parent must be writable.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputWriteError(
            errno.ENOTDIR,
            f"--out {out} is a file, not a folder: give a folder path (e.g. {out.parent / 'scores'})",
        )
    for parent in (out.parent, *out.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise OutputWriteError(
                    errno.ENOTDIR, f"--out {out}: {parent} is a file, not a folder"
                )
            break
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(out, exc) from exc
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise _write_error(out, PermissionError(errno.EACCES, "permission denied", str(out.parent)))
    return out


def _holder(lock: Path) -> dict[str, Any]:
    try:
        holder = json.loads(lock.read_text(encoding="utf-8"))
        return holder if isinstance(holder, dict) else {}
    except (OSError, ValueError):
        return {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "an unknown process (the lock file is empty or unreadable)"
    return (
        f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('started')} "
        f"({str(holder.get('command', ''))[:80]})"
    )


@contextmanager
def output_lock(out: str | Path) -> Iterator[Path]:
    """Hold ``<out>.lock`` for the block, or raise :class:`OutputLockedError` naming the holder.

    A lock left by a killed job (its pid gone, on this host) is taken over.
    """
    out = Path(out)
    lock = _lock_path(out)
    me = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(sys.argv)[:200],
    }
    for _attempt in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(lock)
            stale = (
                holder.get("host") == me["host"]
                and isinstance(holder.get("pid"), int)
                and not _pid_alive(holder["pid"])
            )
            if not stale:
                raise OutputLockedError(
                    f"--out {out} is being written by another job: {_describe(holder)}; wait for "
                    f"it to finish, or remove {lock} if that job is gone"
                ) from None
            print(
                f"warning: taking over the stale lock {lock} of {_describe(holder)} (no such process)",
                file=sys.stderr,
            )
            # rename, then remove: of two jobs taking over the same stale lock, one wins
            grave = lock.with_name(f"{lock.name}.stale-{os.getpid()}")
            try:
                os.replace(lock, grave)
                grave.unlink()
            except FileNotFoundError:
                pass
            continue
        except OSError as exc:
            raise _write_error(out, exc) from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(me, handle)
        except OSError as exc:
            lock.unlink(missing_ok=True)
            raise _write_error(out, exc) from exc
        break
    else:
        raise OutputLockedError(f"--out {out}: could not take {lock} after 3 attempts")
    try:
        fault_point("lock_taken")
        yield lock
    finally:
        if _holder(lock).get("pid") == me["pid"]:
            lock.unlink(missing_ok=True)


def _run_id() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{time.time_ns() % 10**9:09d}-{os.getpid()}"


def _migrate_real_folder(out: Path, runs: Path) -> None:
    """Move a folder written by an older leadml into the runs folder, then link it."""
    legacy = runs / f"legacy-{_run_id()}"
    os.rename(out, legacy)
    os.symlink(os.path.relpath(legacy, out.parent), out)


def _remove_old_runs(runs: Path, keep: int, current: Path) -> None:
    done = sorted(
        (p for p in runs.iterdir() if p.is_dir() and not p.name.endswith(".staging")),
        key=lambda p: p.stat().st_mtime,
    )
    for old in done[: max(0, len(done) - keep)]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)
    for staging in runs.glob("*.staging"):
        shutil.rmtree(staging, ignore_errors=True)  # left by killed runs (we hold the lock)


def publish_folder(
    out: str | Path,
    write_files: Callable[[Path], dict[str, Any]],
    *,
    keep: int = KEEP_RUNS,
) -> dict[str, Any]:
    """Write a run with ``write_files(staging) -> manifest`` and publish it at ``out`` atomically.

    ``write_files`` writes the data files into the staging folder and returns the manifest
    (without ``files``); this function hashes the files, writes ``manifest.json`` and
    ``_SUCCESS``, and swaps ``out`` to the new run. Call it inside :func:`output_lock`.
    Returns the manifest written (with ``files``, ``run_id``).
    """
    out = Path(out)
    runs = _runs_dir(out)
    run_id = _run_id()
    staging = runs / f"{run_id}.staging"
    final = runs / run_id
    try:
        runs.mkdir(parents=True, exist_ok=True)
        if out.is_dir() and not out.is_symlink():
            _migrate_real_folder(out, runs)
        staging.mkdir()
        fault_point("staging_created")
        manifest = write_files(staging)
        files = {p.name: file_sha256(p) for p in sorted(staging.iterdir()) if p.is_file()}
        fault_point("files_hashed")
        manifest = {**manifest, "run_id": run_id, "files": files}
        write_json_atomic(staging / "manifest.json", manifest)
        fault_point("manifest_written")
        write_text_atomic(staging / "_SUCCESS", "")
        fault_point("success_written")
        os.rename(staging, final)
        fault_point("staging_renamed")
        link = out.parent / f".{out.name}.link-{run_id}"
        os.symlink(os.path.relpath(final, out.parent), link)
        fault_point("link_created")
        os.replace(link, out)
        fault_point("link_swapped")
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OutputWriteError):
            raise
        raise _write_error(out, exc) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_old_runs(runs, keep, final)
    fault_point("old_runs_removed")
    return manifest


def verify_output_folder(folder: str | Path) -> tuple[dict[str, Any], list[str]]:
    """The manifest of a scores folder and what is wrong with it (empty when it is one whole run).

    Checks ``_SUCCESS``, the manifest, each listed file's SHA-256 and that the scores'
    ``as_of`` agrees with the manifest's.
    """
    import pandas as pd

    folder = Path(folder)
    problems: list[str] = []
    manifest: dict[str, Any] = {}
    if not (folder / "_SUCCESS").is_file():
        problems.append("no _SUCCESS (the run did not finish)")
    path = folder / "manifest.json"
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
        manifest = loaded if isinstance(loaded, dict) else {}
        if not manifest:
            problems.append("manifest.json is not a JSON object")
    except FileNotFoundError:
        problems.append("no manifest.json")
    except (OSError, ValueError) as exc:
        problems.append(f"manifest.json unreadable ({str(exc)[:80]})")
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    if manifest and not files:
        problems.append("manifest.json lists no files")
    for name, digest in files.items():
        target = folder / str(name)
        if not target.is_file():
            problems.append(f"{name} is missing")
        elif file_sha256(target) != digest:
            problems.append(f"{name} does not match its checksum in manifest.json")
    scores_file = next(
        (folder / n for n in ("scores.parquet", "scores.csv") if (folder / n).is_file()), None
    )
    if scores_file is not None and manifest.get("as_of") and not problems:
        try:
            frame = (
                pd.read_parquet(scores_file, columns=["as_of"])
                if scores_file.suffix == ".parquet"
                else pd.read_csv(scores_file, usecols=["as_of"])
            )
            dates = set(pd.to_datetime(frame["as_of"]).dt.strftime("%Y-%m-%d %H:%M:%S"))
            expected = pd.Timestamp(manifest["as_of"]).strftime("%Y-%m-%d %H:%M:%S")
            if dates and dates != {expected}:
                problems.append(
                    f"{scores_file.name} is as of {sorted(dates)[:2]}, manifest.json as of {expected}"
                )
        except (KeyError, ValueError, OSError):
            pass
    return manifest, problems
