"""Protected web requests, for the web integrations: the request attached to the decision-log
entries of its decisions (``warden.audit.request_context``), token failures logged as refusals,
and one access-log line per protected request on the ``warden.access`` logger.

Framework-neutral: each integration says how to read its request into :class:`RequestFacts`.
Nothing is read unless the engine keeps a decision log or ``warden.access`` logs at INFO.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Optional

from warden.audit import request_context

#: One line per protected request: principal, route, action, resource, effect, policy, latency.
ACCESS_LOG = logging.getLogger("warden.access")


class RequestFacts(NamedTuple):
    """What an entry and an access-log line say about the request."""

    method: str
    route: str
    address: Optional[str]
    user_agent: Optional[str]
    forwarded_for: Optional[str]
    request_id: Optional[str]
    headers: Mapping[str, str]


def _audited(engine: Any) -> bool:
    stats = getattr(engine, "audit_stats", None)
    return stats is not None and stats() is not None


@contextlib.contextmanager
def _attached(facts: RequestFacts) -> Iterator[None]:
    annotations = {"method": facts.method, "route": facts.route}
    if facts.request_id:
        annotations["requestId"] = facts.request_id
    with request_context(
        address=facts.address,
        user_agent=facts.user_agent,
        forwarded_for=facts.forwarded_for,
        metadata=facts.headers,
        annotations=annotations,
    ):
        yield


def _log_access(
    facts: RequestFacts, principal: str, action: str, kind: str, rid: str, effect: str, policy: str, seconds: float
) -> None:
    fields = {
        "principal": principal,
        "method": facts.method,
        "route": facts.route,
        "action": action,
        "kind": kind,
        "resource": rid,
        "effect": effect,
        "policy": policy,
        "latency_ms": round(seconds * 1000, 3),
        "request_id": facts.request_id,
    }
    ACCESS_LOG.info(
        "principal=%s route=%r action=%s resource=%s:%s effect=%s policy=%s latency_ms=%.3f",
        principal,
        f"{facts.method} {facts.route}",
        action,
        kind,
        rid,
        effect,
        policy or "-",
        seconds * 1000,
        extra={"warden_access": fields},
    )


def decide(
    engine: Any,
    facts: Callable[[], RequestFacts],
    principal: Any,
    resource: Any,
    action: str,
    aux_data: Optional[Mapping[str, Any]] = None,
) -> bool:
    """Whether the policy allows ``action`` on ``resource`` for a protected request (``facts``
    reads the request, only when an entry or an access line needs it)."""
    audited = _audited(engine)
    access = ACCESS_LOG.isEnabledFor(logging.INFO)
    if not (audited or access):
        return bool(engine.is_allowed(principal, resource, action=action, aux_data=aux_data))
    request = facts()
    started = time.perf_counter()
    with _attached(request) if audited else contextlib.nullcontext():
        if not access:
            return bool(engine.is_allowed(principal, resource, action=action, aux_data=aux_data))
        # the access line names the deciding policy: ask for the whole output
        check = {"principal": principal, "resource": resource, "actions": [action]}
        if aux_data is not None:
            check["auxData"] = dict(aux_data)
        effect = engine.check([check])[0]["actions"][action]
    _log_access(
        request,
        principal.id,
        action,
        resource.kind,
        resource.id,
        effect["effect"],
        effect["policy"],
        time.perf_counter() - started,
    )
    return bool(effect["effect"] == "EFFECT_ALLOW")


def refused(engine: Any, facts: Callable[[], RequestFacts], error: Exception) -> None:
    """A protected request whose token failed verification: a decision-log entry with the error
    (``checkResources.error``) and an access line (effect ``UNAUTHENTICATED``)."""
    audited = engine is not None and _audited(engine)
    access = ACCESS_LOG.isEnabledFor(logging.INFO)
    if not (audited or access):
        return
    request = facts()
    if audited:
        with _attached(request):
            engine.log_refusal(f"token verification failed: {error}")
    if access:
        _log_access(request, "-", "-", "-", "-", "UNAUTHENTICATED", "", 0.0)
