"""Real servers on 127.0.0.1 for the policy source tests: a git daemon and a bundle HTTP server."""

from __future__ import annotations

import hashlib
import io
import socket
import subprocess
import tarfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Optional

POLICY = """\
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - actions: ["read"]
      roles: ["user"]
      effect: {effect}
"""

INPUT = {"principal": {"id": "u1", "roles": ["user"]}, "resource": {"kind": "doc", "id": "d1"}, "actions": ["read"]}

# Longest a stalled answer waits; tests release it earlier.
MAX_STALL_SECONDS = 10.0


def policy(effect: str) -> str:
    return POLICY.format(effect=effect)


def effect(engine: Any) -> str:
    return engine.check([INPUT])[0]["actions"]["read"]["effect"]


def tarball(files: Dict[str, str], *, gzip: bool = True) -> bytes:
    """A tar(.gz) of ``{name: text}``."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz" if gzip else "w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# --- git ---------------------------------------------------------------------------------------


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class GitServer:
    """A bare repository served by ``git daemon`` on 127.0.0.1, and a work clone to push commits from."""

    def __init__(self, root: Path) -> None:
        self.base = root / "served"
        self.base.mkdir()
        self.bare = self.base / "policies.git"
        git("init", "--quiet", "--bare", str(self.bare), cwd=root)
        self.work = root / "work"
        git("init", "--quiet", str(self.work), cwd=root)
        self.port = free_port()
        self.url = f"git://127.0.0.1:{self.port}/policies.git"
        self.daemon: Optional[subprocess.Popen] = None

    def start(self) -> "GitServer":
        self.daemon = subprocess.Popen(
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                f"--port={self.port}",
                f"--base-path={self.base}",
                str(self.base),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._listening, "git daemon to listen")
        return self

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.terminate()
            self.daemon.wait(timeout=10)
            self.daemon = None

    def commit(self, files: Dict[str, Optional[str]], message: str = "change", branch: str = "main") -> str:
        """Writes (or, for None, removes) files, commits, pushes ``branch``; returns the commit."""
        for name, text in files.items():
            path = self.work / name
            if text is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        git("add", "-A", cwd=self.work)
        git("commit", "--quiet", "-m", message, cwd=self.work)
        git("push", "--quiet", str(self.bare), f"HEAD:refs/heads/{branch}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def tag(self, name: str) -> None:
        git("tag", "-f", name, cwd=self.work)
        git("push", "--quiet", "-f", str(self.bare), f"refs/tags/{name}", cwd=self.work)


# --- HTTP bundles ------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a stalled answer leaves a broken pipe: expected


class BundleServer:
    """Serves ``/policies.tar.gz`` (and ``.sig``) with an ETag; tests change the bundle or the mode:
    ``"ok"``, ``"stall"`` (headers, then nothing until released) or ``"error"`` (HTTP 500)."""

    def __init__(self) -> None:
        self.bundle = b""
        self.signature = b""
        self.mode = "ok"
        self.requests: Counter = Counter()
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = server.signature if self.path.endswith(".sig") else server.bundle
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if server.mode == "error":
                    server.requests["500"] += 1
                    self.send_error(500)
                    return
                if self.headers.get("If-None-Match") == etag:
                    server.requests["304"] += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                server.requests["200"] += 1
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.mode == "stall":
                    self.wfile.write(body[:10])
                    self.wfile.flush()
                    server.release.wait(MAX_STALL_SECONDS)
                    return
                self.wfile.write(body)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/policies.tar.gz"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "BundleServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        self.release.set()
        if self.thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()
