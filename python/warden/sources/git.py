"""Policies from a branch or tag of a git repository, polled; the commit is the version."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List, Optional, Tuple, Union

from warden.sources._archive import ArchiveLimits, UnsafeArchive, extract_bytes
from warden.sources._base import PolicySourceError, PolledSource


class GitSource(PolledSource):
    """Serves the policies of ``ref`` (a branch or tag) of the git repository at ``url``.

    Each poll fetches ``ref`` (shallow, with the ``git`` command) into a bare repository in the
    private cache directory; when its commit differs from the one serving, the tree (or the
    subdirectory ``path`` of it) is unpacked with the same checks as an HTTP bundle and swapped
    in if it compiles. :attr:`version` (and ``engine.policy_version``) is the full commit hash.

    ``poll_interval`` is in seconds (``None``: only when :meth:`poll` is called); every git
    command is stopped after ``timeout`` seconds. Other keyword arguments go to
    :meth:`warden.Engine.from_directory`. The first fetch happens in the constructor and its
    failure raises (:class:`PolicySourceError`, or ``PolicyError`` if the policies do not
    compile); later failures are logged and leave the last good version serving.
    Call :meth:`close` (or use ``with``) to stop polling.
    """

    kind = "git"

    def __init__(
        self,
        url: str,
        *,
        ref: str = "main",
        path: str = "",
        poll_interval: Optional[float] = 60.0,
        timeout: float = 60.0,
        cache_dir: Union[str, Path, None] = None,
        limits: ArchiveLimits = ArchiveLimits(),
        **engine_options: Any,
    ) -> None:
        if not url or url.startswith("-"):
            raise ValueError(f"url: not a repository location: {url!r}")
        if not ref or ref.startswith("-") or ":" in ref or any(c.isspace() for c in ref):
            raise ValueError(f"ref: not a branch or tag name: {ref!r}")
        sub = PurePosixPath(path)
        if sub.is_absolute() or ".." in sub.parts:
            raise ValueError(f"path: must be relative to the repository root without '..': {path!r}")
        self.url = url
        self.ref = ref
        self.path = "/".join(p for p in sub.parts if p != ".")
        self.timeout = timeout
        self.limits = limits
        super().__init__(
            f"{url}#{ref}", poll_interval=poll_interval, cache_dir=cache_dir, engine_options=engine_options
        )

    @property
    def _repo(self) -> Path:
        return self._cache / "repo.git"

    def _policy_source(self) -> Dict[str, Any]:
        source: Dict[str, Any] = {"repositoryUrl": self.url, "branch": self.ref}
        if self.path:
            source["subdirectory"] = self.path
        return {"git": source}

    def _prepare(self) -> None:
        if not (self._repo / "HEAD").exists():
            self._git(["init", "--quiet", "--bare", str(self._repo)], cwd=self._cache)

    def _fetch_new(self, current: Optional[str]) -> Tuple[Optional[str], Optional[Path]]:
        self._git(["fetch", "--quiet", "--no-tags", "--depth=1", "--", self.url, f"+{self.ref}:refs/warden/source"])
        commit = self._git(["rev-parse", "--verify", "refs/warden/source^{commit}"]).decode().strip()
        if commit == current:
            return commit, None
        tree = f"{commit}:{self.path}" if self.path else commit
        archive = self._git(["archive", "--format=tar", tree])
        staged = self.staging_dir()
        try:
            extract_bytes(archive, staged, self.limits)
        except UnsafeArchive as e:
            raise PolicySourceError(f"{self.location}: commit {commit}: {e}") from e
        return commit, staged

    def _git(self, args: List[str], cwd: Optional[Path] = None) -> bytes:
        """Runs git in the cache's repository; its error (last stderr line) as a PolicySourceError."""
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=cwd or self._repo,
                capture_output=True,
                timeout=self.timeout,
                env=_git_env(),
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as e:
            raise PolicySourceError(f"{self.location}: git {args[0]} took more than {self.timeout} s") from e
        except OSError as e:
            raise PolicySourceError(f"{self.location}: cannot run git: {e}") from e
        if done.returncode != 0:
            raise PolicySourceError(f"{self.location}: git {args[0]}: {_last_line(done.stderr)}")
        return done.stdout


def _git_env() -> dict:
    # Never prompt for credentials (a poll must fail, not hang); ignore the user's and system's git config.
    env = dict(os.environ)
    env.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    return env


def _last_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else "failed"
