"""Decision logs: every decision as an entry in Cerbos's ``DecisionLogEntry`` JSON shape.

Pass ``audit=`` to ``Engine.from_directory`` / ``Engine.from_policies`` (or to ``Client``):

* a callable, given each entry as a dict;
* ``"logging"`` or ``LoggingSink(...)``: one JSON record per entry on the ``warden.audit`` logger;
* ``FileSink(path, max_bytes=..., backups=...)``: JSON lines, rotated by size;
* ``AuditOptions(sink, ...)``: one of the above with the queue and filter settings.

Entries are built and written on a background thread from a bounded queue; ``engine.flush_audit()``
returns once every entry produced so far has reached its sink. Web integrations attach the request
(peer address, user agent, request id, route) with ``request_context``.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, Literal, Mapping, Optional, Sequence, Union

__all__ = ["AuditOptions", "FileSink", "LoggingSink", "Sink", "request_context"]


@dataclass(frozen=True)
class FileSink:
    """JSON lines appended to ``path``; past ``max_bytes`` the file is rotated as
    ``logging.handlers.RotatingFileHandler`` does (``path.1`` ... ``path.<backups>``).
    ``max_bytes=0`` never rotates."""

    path: Union[str, "os.PathLike[str]"]
    max_bytes: int = 100 * 1024 * 1024
    backups: int = 5


@dataclass(frozen=True)
class LoggingSink:
    """Each entry as one record on a standard ``logging`` logger, its message the entry's JSON."""

    logger: str = "warden.audit"
    level: int = logging.INFO


Sink = Union[Callable[[Dict[str, Any]], Any], FileSink, LoggingSink, Literal["logging"]]


@dataclass(frozen=True)
class AuditOptions:
    """A sink with the queue and filter settings (Cerbos's ``audit`` configuration names in brackets).

    * ``queue_size``: entries waiting for the writer at most; never an unbounded buffer.
    * ``on_full``: ``"drop"`` (drop and count: ``engine.audit_stats()["dropped"]``) or ``"block"``
      (the deciding thread waits for room).
    * ``ignore_allow_all`` (``decisionLogFilters.checkResources.ignoreAllowAll``): log only checks
      with at least one denial. ``plan_ignore_all`` / ``plan_ignore_always_allow``
      (``decisionLogFilters.planResources``): the same for plans.
    * ``include_metadata_keys`` / ``exclude_metadata_keys`` (``includeMetadataKeys`` /
      ``excludeMetadataKeys``): which request headers go into ``metadata``; none unless one is set;
      ``authorization`` never.
    * ``mask`` (Cerbos Hub's ``audit.hub.mask``): fields removed from every entry, by section
      (``checkResources``, ``planResources``, ``peer``, ``metadata``), e.g.
      ``{"checkResources": ["inputs[*].principal.attr.ssn"]}``.
    * ``sample_rate``: the fraction of decisions logged (token failures are always logged).
    * ``policy_source``: where the policies come from, as Cerbos's ``policySource`` (e.g.
      ``{"git": {"repositoryUrl": ..., "branch": "main"}}``), when the engine's loader (a
      directory) is not the whole story; the engine's ``policy_version`` fills its version field.
    """

    sink: Sink
    queue_size: int = 10_000
    on_full: Literal["drop", "block"] = "drop"
    ignore_allow_all: bool = False
    plan_ignore_all: bool = False
    plan_ignore_always_allow: bool = False
    include_metadata_keys: Sequence[str] = ()
    exclude_metadata_keys: Sequence[str] = ()
    mask: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sample_rate: float = 1.0
    policy_source: Optional[Mapping[str, Any]] = None


def _settings(audit: Any) -> Dict[str, Any]:
    """``audit=`` as the plain values the engine reads (called by ``warden._core``)."""
    options = audit if isinstance(audit, AuditOptions) else AuditOptions(sink=audit)
    sink = options.sink
    if sink == "logging":
        sink = LoggingSink()
    if isinstance(sink, FileSink):
        kind: tuple = ("file", os.fspath(sink.path), int(sink.max_bytes), int(sink.backups))
    elif isinstance(sink, LoggingSink):
        kind = ("logging", logging.getLogger(sink.logger), int(sink.level))
    elif callable(sink):
        kind = ("callable", sink)
    else:
        raise TypeError(
            f"audit: expected a callable, 'logging', LoggingSink, FileSink or AuditOptions, got {type(sink).__name__}"
        )
    for name in ("include_metadata_keys", "exclude_metadata_keys"):
        if isinstance(getattr(options, name), str):
            raise TypeError(f"audit: {name} must be a list of strings, not a string")
    return {
        "sink": kind,
        "queue_size": int(options.queue_size),
        "on_full": options.on_full,
        "ignore_allow_all": bool(options.ignore_allow_all),
        "plan_ignore_all": bool(options.plan_ignore_all),
        "plan_ignore_always_allow": bool(options.plan_ignore_always_allow),
        "include_metadata_keys": [str(k) for k in options.include_metadata_keys],
        "exclude_metadata_keys": [str(k) for k in options.exclude_metadata_keys],
        "mask": [(str(section), [str(p) for p in paths]) for section, paths in dict(options.mask).items()],
        "sample_rate": float(options.sample_rate),
        "policy_source": None if options.policy_source is None else dict(options.policy_source),
    }


# The request being served, in Cerbos's entry fields: {"peer": {...}, "metadata": {...},
# "requestContext": {"annotations": {...}}}. Read by the engine when it logs a decision.
_request_context: ContextVar[Optional[Dict[str, Any]]] = ContextVar("warden_audit_request_context", default=None)


@contextlib.contextmanager
def request_context(
    *,
    address: Optional[str] = None,
    user_agent: Optional[str] = None,
    forwarded_for: Optional[str] = None,
    metadata: Optional[Mapping[str, Union[str, Sequence[str]]]] = None,
    annotations: Optional[Mapping[str, Any]] = None,
) -> Iterator[Dict[str, Any]]:
    """Attaches a request to the decisions made inside the block: ``peer`` (``address``,
    ``userAgent``, ``forwardedFor``), ``metadata`` (request headers, filtered by the include /
    exclude keys) and ``requestContext.annotations`` (e.g. the request id and route)."""
    peer = {k: v for k, v in (("address", address), ("userAgent", user_agent), ("forwardedFor", forwarded_for)) if v}
    context: Dict[str, Any] = {"peer": peer}
    if metadata:
        context["metadata"] = {k.lower(): v for k, v in metadata.items()}
    if annotations:
        context["requestContext"] = {"annotations": dict(annotations)}
    token = _request_context.set(context)
    try:
        yield context
    finally:
        _request_context.reset(token)


def _flush_at_exit() -> None:
    from warden import _core

    _core._flush_audit_logs(5.0)


atexit.register(_flush_at_exit)
