"""A throwaway PostgreSQL cluster from Debian's binaries, for tests and benchmarks.

``throwaway_cluster()`` runs ``initdb`` in a fresh temporary folder and starts the
server on a Unix socket in that folder (no TCP port is opened), then stops it and
deletes everything. PostgreSQL refuses to run as root, and CI runs as root: the
server then runs as ``nobody`` (``runuser``), with trust authentication on its
private socket. Install the binaries with ``make postgresql``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["POSTGRES_MISSING", "postgres_bin", "running_cluster", "throwaway_cluster"]

POSTGRES_MISSING = (
    "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
    "(Debian's postgresql package; `make postgresql` installs it)"
)
SERVER_USER = "nobody"


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, if any."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    found = [p for p in found if (p / "pg_ctl").is_file()]
    return found[-1] if found else None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


def _free_port() -> int:
    # The port only names the socket file (.s.PGSQL.<port>); no TCP listener is opened.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_cluster(bin_dir: Path | None = None) -> Iterator[dict[str, str]]:
    """Start a cluster in a new temporary folder; yield ``{"url", "socket_dir", "data_dir",
    "pg_ctl"}``; stop it and delete the folder.

    ``url`` is a libpq URI for the ``postgres`` database over the Unix socket.
    """
    root = Path(tempfile.mkdtemp(prefix="leadml-pg-"))
    try:
        with running_cluster(root, bin_dir=bin_dir) as cluster:
            yield cluster
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def running_cluster(root: Path, *, bin_dir: Path | None = None) -> Iterator[dict[str, str]]:
    """Start the cluster kept in ``root`` (created by ``initdb`` on first use), stop it on exit.

    Benchmarks keep their loaded cluster between runs this way.
    """
    bin_dir = bin_dir or postgres_bin()
    if bin_dir is None:
        raise FileNotFoundError(POSTGRES_MISSING)
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # the server user must reach its folders
    data_dir = root / "data"
    fresh = not (data_dir / "PG_VERSION").is_file()
    data_dir.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(root, SERVER_USER)
        shutil.chown(data_dir, SERVER_USER)
    port = str(_free_port())
    pg_ctl = str(bin_dir / "pg_ctl")
    log = root / "server.log"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    if fresh:
        subprocess.run(
            _as_server_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    SERVER_USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            env=env,
        )
    options = f"-k {root} -p {port} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    started = subprocess.run(
        _as_server_user(
            [pg_ctl, "-D", str(data_dir), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]
        ),
        capture_output=True,
        text=True,
        env=env,
    )
    if started.returncode != 0:
        raise RuntimeError(
            f"pg_ctl start failed: {started.stderr.strip()}\n"
            + (log.read_text() if log.is_file() else "")
        )
    try:
        url = f"postgresql://{SERVER_USER}@/postgres?host={root}&port={port}"
        yield {"url": url, "socket_dir": str(root), "data_dir": str(data_dir), "pg_ctl": pg_ctl}
    finally:
        subprocess.run(
            _as_server_user([pg_ctl, "-D", str(data_dir), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            env=env,
        )
