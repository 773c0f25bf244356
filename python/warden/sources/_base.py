"""What every remote policy source shares: a private cache directory, the engine serving from it,
a polling thread, and the swap that lets a new version in only when it compiles."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, Literal, Optional, Union

from warden import telemetry
from warden._core import Engine, PolicyError

logger = logging.getLogger("warden.sources")

#: What one :meth:`PolledSource.poll` did.
PollOutcome = Literal["updated", "unchanged", "failed"]


class PolicySourceError(Exception):
    """A policy source could not be read (network, git, archive or signature); the message says which."""


class PolledSource:
    """A policy source polled on an interval; subclasses say how to fetch a version.

    The engine (:attr:`engine`) serves from ``<cache>/live``. A poll fetches the current version
    into a staging directory; when it differs from the one serving, the staging directory takes
    the place of ``live`` and the engine reloads, recording the version. If the new set fails to
    compile (or cannot be fetched, or fails a check), the failure is logged on
    ``warden.sources``, :attr:`last_error` says why, and the last good set keeps serving.
    """

    kind = "source"

    def __init__(
        self,
        location: str,
        *,
        poll_interval: Optional[float],
        cache_dir: Union[str, Path, None],
        engine_options: Dict[str, Any],
    ) -> None:
        if poll_interval is not None and not poll_interval > 0:
            raise ValueError("poll_interval: must be a positive number of seconds, or None to poll only on demand")
        if "policy_version" in engine_options:
            raise TypeError("policy_version: a source sets the version itself (the commit or the bundle's digest)")
        if "watch" in engine_options:
            raise TypeError("watch: a remote source reloads on its own polls; watch applies to Engine.from_directory")
        self.location = location
        self.poll_interval = poll_interval
        self._own_cache = cache_dir is None
        self._cache = Path(tempfile.mkdtemp(prefix="warden-policies-")) if cache_dir is None else Path(cache_dir)
        self._cache.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._live = self._cache / "live"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.last_error: Optional[str] = None
        self.last_attempt: Optional[float] = None
        self.last_success: Optional[float] = None
        try:
            self._prepare()
            version, staged = self._fetch_new(None)
            if staged is None:  # pragma: no cover - _fetch_new(None) always stages
                raise PolicySourceError(f"{location}: nothing to load")
            shutil.rmtree(self._live, ignore_errors=True)
            staged.rename(self._live)
            options = _with_policy_source(engine_options, self._policy_source())
            self.engine: Engine = Engine.from_directory(self._live, policy_version=version, **options)
        except BaseException:
            self._remove_cache()
            raise
        self.last_attempt = self.last_success = time.time()
        if poll_interval is not None:
            self._thread = threading.Thread(target=self._run, name=f"warden-{self.kind}-poll", daemon=True)
            self._thread.start()

    # --- what subclasses provide --------------------------------------------------------------

    def _policy_source(self) -> Optional[Dict[str, Any]]:
        """Where the policies come from, as Cerbos's decision-log ``policySource``; ``None``:
        the engine's own (its directory, as a local bundle carrying the version)."""
        return None

    def _prepare(self) -> None:
        """Sets up the cache before the first fetch (a git repository, for instance)."""

    def _fetch_new(self, current: Optional[str]) -> "tuple[Optional[str], Optional[Path]]":
        """The version at the source and, when it differs from ``current``, a new directory
        under the cache holding its policies (else ``None``). Raises :class:`PolicySourceError`."""
        raise NotImplementedError

    # --- the public surface ---------------------------------------------------------------------

    @property
    def version(self) -> Optional[str]:
        """The version serving now (the engine's :attr:`~warden.Engine.policy_version`)."""
        return self.engine.policy_version

    def staging_dir(self) -> Path:
        """A fresh path under the cache for a version being fetched (not created)."""
        return Path(tempfile.mkdtemp(prefix="staging-", dir=self._cache)) / "policies"

    def poll(self) -> PollOutcome:
        """Checks the source once: ``"updated"`` when a new version now serves, ``"unchanged"``,
        or ``"failed"`` (see :attr:`last_error`; the previous version keeps serving)."""
        with self._lock:
            self.last_attempt = time.time()
            current = self.engine.policy_version
            with telemetry.policy_reload(self.kind, self.location) as span:
                try:
                    version, staged = self._fetch_new(current)
                    if staged is None:
                        outcome: PollOutcome = "unchanged"
                    else:
                        self._swap_in(staged, version)
                        outcome = "updated"
                        logger.info("%s: now serving policy version %s (was %s)", self.location, version, current)
                except (PolicySourceError, PolicyError) as e:
                    self.last_error = f"{type(e).__name__}: {e}"
                    logger.error("%s: keeping policy version %s: %s", self.location, current, self.last_error)
                    span.failed(e, current)
                    return "failed"
                finally:
                    for leftover in self._cache.glob("staging-*"):
                        shutil.rmtree(leftover, ignore_errors=True)
                span.done(outcome, version)
            self.last_error = None
            self.last_success = time.time()
            return outcome

    def status(self) -> Dict[str, Any]:
        """For a health endpoint: ``source``, ``version``, ``last_error`` and the times (epoch
        seconds) of the last attempt and the last successful check."""
        return {
            "source": self.location,
            "version": self.version,
            "last_error": self.last_error,
            "last_attempt": self.last_attempt,
            "last_success": self.last_success,
        }

    def close(self, timeout: float = 30.0) -> None:
        """Stops polling (waiting at most ``timeout`` seconds for a poll in progress) and, when
        the cache directory was made for this source, removes it. The engine keeps serving the
        version it has."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if not (self._thread is not None and self._thread.is_alive()):
            # The compiled set is in memory; the files would only be read again by a reload.
            self._remove_cache()

    def __enter__(self) -> "PolledSource":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r}, version={self.version!r})"

    # --- internals ------------------------------------------------------------------------------

    def _run(self) -> None:
        assert self.poll_interval is not None
        while not self._stop.wait(self.poll_interval):
            try:
                self.poll()
            except Exception:  # a bug must not end the polling: log it and poll again
                logger.exception("%s: unexpected error while polling", self.location)

    def _swap_in(self, staged: Path, version: Optional[str]) -> None:
        """Puts ``staged`` in the place of ``live`` and reloads; on failure puts ``live`` back."""
        previous = self._cache / "previous"
        shutil.rmtree(previous, ignore_errors=True)
        self._live.rename(previous)
        staged.rename(self._live)
        try:
            self.engine.reload(policy_version=version)
        except BaseException:
            shutil.rmtree(self._live, ignore_errors=True)
            previous.rename(self._live)
            raise
        shutil.rmtree(previous, ignore_errors=True)

    def _remove_cache(self) -> None:
        if self._own_cache:
            shutil.rmtree(self._cache, ignore_errors=True)


def _with_policy_source(engine_options: Dict[str, Any], source: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """``engine_options`` whose decision log (``audit=``), if any, names ``source`` unless the app named one."""
    audit = engine_options.get("audit")
    if audit is None or source is None:
        return engine_options
    from ..audit import AuditOptions

    options = audit if isinstance(audit, AuditOptions) else AuditOptions(sink=audit)
    if options.policy_source is not None:
        return engine_options
    return {**engine_options, "audit": dataclasses.replace(options, policy_source=source)}
