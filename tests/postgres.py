"""A throwaway PostgreSQL server for tests: ``initdb`` in a temporary directory, the server on a Unix
socket there (no TCP port), stopped and removed at the end.

PostgreSQL refuses to run as root, so under root it runs as the ``postgres`` user (else ``nobody``)
through ``runuser``. The cluster's default collation is ICU ``en-US`` when the server has ICU
(ordering ``"a" < "B"``, as most production databases do), so string ordering by code point is
really tested. :func:`start` raises ``Unavailable`` with the reason when no server can be started
(no binaries); the tests that need one skip with that reason.
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
from typing import List

__all__ = ["PostgresServer", "Unavailable", "start"]

START_SECONDS = 60.0


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here (the message says why)."""


def _bin_dir() -> Path:
    given = os.environ.get("PG_BIN")
    if given:
        return Path(given)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise Unavailable("no PostgreSQL server binaries (initdb) in /usr/lib/postgresql/*/bin, $PG_BIN or PATH")


def _runuser_prefix(directory: Path) -> List[str]:
    """``runuser -u <user> --`` when running as root (the directory handed to that user), else nothing."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        os.chown(directory, entry.pw_uid, entry.pw_gid)
        return ["runuser", "-u", name, "--"]
    raise Unavailable("running as root without a 'postgres' or 'nobody' user to run PostgreSQL as")


class PostgresServer:
    """A running server: ``socket_dir`` is its host (for libpq), ``user`` a superuser, ``port`` 5432."""

    def __init__(self, directory: Path, process: subprocess.Popen, user: str) -> None:
        self.directory = directory
        self.socket_dir = str(directory)
        self.process = process
        self.user = user
        self.port = 5432

    def stop(self) -> None:
        """Fast shutdown of the server's process group, then the directory removed."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGINT)
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(user: str = "warden") -> PostgresServer:
    """A new server (see the module's docstring); raises ``Unavailable`` or ``RuntimeError`` with the reason."""
    bin_dir = _bin_dir()
    directory = Path(tempfile.mkdtemp(prefix="warden-pg-"))
    try:
        prefix = _runuser_prefix(directory)
        data = directory / "data"
        locale: List[str] = ["--locale-provider=icu", "--icu-locale=en-US", "--locale=C.UTF-8"]
        init = _initdb(prefix, bin_dir, data, user, locale)
        if init.returncode != 0:  # a server without ICU: the libc default
            shutil.rmtree(data, ignore_errors=True)
            init = _initdb(prefix, bin_dir, data, user, [])
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {(init.stderr or init.stdout).strip()[-2000:]}")
        log = open(directory / "server.log", "wb")  # noqa: SIM115 - the server's stderr, closed with it
        process = subprocess.Popen(
            [
                *prefix,
                str(bin_dir / "postgres"),
                "-D",
                str(data),
                "-k",
                str(directory),
                "-c",
                "listen_addresses=",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        server = PostgresServer(directory, process, user)
        _wait_until_ready(server, bin_dir)
        return server
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _initdb(prefix: List[str], bin_dir: Path, data: Path, user: str, locale: List[str]) -> subprocess.CompletedProcess:
    command = [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8", "--no-sync"]
    return subprocess.run([*command, *locale], capture_output=True, text=True, timeout=180)


def _wait_until_ready(server: PostgresServer, bin_dir: Path) -> None:
    """Until the server accepts connections (its socket appears before it has finished starting)."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        if server.process.poll() is not None:
            log = (server.directory / "server.log").read_text(errors="replace")
            raise RuntimeError(f"postgres exited on start: {log.strip()[-2000:]}")
        ready = subprocess.run(
            [str(bin_dir / "pg_isready"), "-q", "-h", server.socket_dir, "-U", server.user, "-d", "postgres"],
            capture_output=True,
            timeout=30,
        )
        if ready.returncode == 0:
            return
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"postgres did not accept connections within {START_SECONDS:.0f} s")
        time.sleep(0.05)
