"""A real PostgreSQL server for the tests: ``initdb`` in a temporary directory, ``postgres`` listening
on a Unix socket there only (no TCP), stopped and removed afterwards.

The binaries come from ``/usr/lib/postgresql/*/bin`` (the newest), ``$PG_BIN`` or ``PATH``.
PostgreSQL refuses to run as root: under root the server runs as the ``postgres`` user (else
``nobody``) through ``runuser``, owning the directory. When the server cannot be started, the
reason is given so the tests needing it are skipped with it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

START_TIMEOUT = 30.0


def find_bin_dir() -> Optional[Path]:
    """The directory holding ``initdb`` and ``postgres``."""
    env = os.environ.get("PG_BIN")
    if env:
        return Path(env)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0))
    for c in reversed(candidates):
        if (Path(c) / "initdb").exists():
            return Path(c)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _run_as() -> Optional[str]:
    """The user to run the server as when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


class PostgresServer:
    """One throwaway server; ``url`` is the SQLAlchemy URL (psycopg, Unix socket)."""

    def __init__(self) -> None:
        self.dir: Optional[Path] = None
        self.proc: Optional[subprocess.Popen] = None
        self.url = ""

    def start(self) -> "PostgresServer":
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb) in /usr/lib/postgresql/*/bin, $PG_BIN or PATH")
        user = _run_as()
        self.dir = Path(tempfile.mkdtemp(prefix="warden-pg-"))
        data = self.dir / "data"
        prefix: List[str] = []
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            os.chmod(self.dir, 0o700)
            prefix = ["runuser", "-u", user, "--"]
        init = subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        log = self.dir / "server.log"
        self.proc = subprocess.Popen(
            [
                *prefix,
                str(bin_dir / "postgres"),
                "-D",
                str(data),
                "-k",
                str(self.dir),
                "-c",
                "listen_addresses=",
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "synchronous_commit=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(log, "wb"),  # noqa: SIM115 (closed with the process)
            start_new_session=True,
        )
        socket = self.dir / ".s.PGSQL.5432"
        deadline = time.monotonic() + START_TIMEOUT
        while not socket.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {log.read_text(errors='replace').strip()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"postgres did not open its socket within {START_TIMEOUT:.0f} s")
            time.sleep(0.05)
        self.url = f"postgresql+psycopg://postgres@/postgres?host={self.dir}"
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # the server (or runuser) is the leader of its own session: stop that group only
            try:
                os.killpg(self.proc.pid, signal.SIGINT)  # fast shutdown
                self.proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
