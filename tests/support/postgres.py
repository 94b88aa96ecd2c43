"""A throwaway PostgreSQL cluster on loopback, for tests and the benchmark.

``initdb`` a fresh data directory, start ``postgres`` on a free 127.0.0.1 port with its socket
inside that directory, yield an asyncpg SQLAlchemy URL, and stop and remove it afterwards.
Runs the server as the ``postgres`` user when the caller is root (PostgreSQL refuses root).
``TEST_DATABASE_URL`` bypasses all of this where a server already exists.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["PostgresUnavailable", "find_pg_bin", "throwaway_cluster"]


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_pg_bin() -> Path:
    """Find the folder that holds ``initdb``, ``pg_ctl`` and ``postgres``."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).parent / "postgres").exists():
        return Path(initdb).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (apt-get install postgresql), "
        "or set TEST_DATABASE_URL"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@contextlib.contextmanager
def throwaway_cluster(base_dir: Path | None = None) -> Iterator[str]:
    """Run a fresh PostgreSQL cluster and yield its URL.

    The data directory goes under ``base_dir`` when given, except as root: then the server
    runs as ``postgres``, which cannot traverse root's private folders (pytest's ``tmp_path``
    among them), so the directory is made under the system's temporary folder instead.
    """
    bin_dir = find_pg_bin()
    parent = None if os.geteuid() == 0 else base_dir
    data = Path(tempfile.mkdtemp(prefix="membership-bot-pg-", dir=parent))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    subprocess.run(
        _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                      "--auth=trust", "--no-sync", "-E", "UTF8"]),
        check=True, capture_output=True,
    )  # fmt: skip
    port = _free_port()
    options = f"-h 127.0.0.1 -p {port} -k {data} -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                      "-l", str(data / "server.log"), "-w", "start"]),
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                          "stop"]),
            check=False, capture_output=True,
        )  # fmt: skip
        shutil.rmtree(data, ignore_errors=True)
