"""The Access Evaluation and Access Evaluations APIs on the Cerbos engine.

Both take and return the JSON bodies of the specification. A batch is decided in as few engine
calls as its evaluations allow: one Cerbos ``CheckResources`` request per subject and context
(every resource and action of that subject in it), as Cerbos groups them; the decisions come back
in request order.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from warden.authzen._requests import AuthZENError, cerbos_principal, cerbos_resource, entity, obj, options_of

__all__ = ["MAX_EVALUATIONS", "SEMANTICS", "evaluation", "evaluations"]

#: the ``options.evaluations_semantic`` values, the first the default
SEMANTICS = ("execute_all", "deny_on_first_deny", "permit_on_first_permit")
#: evaluations one request may carry (Cerbos's default limits allow 50 resources × 50 actions)
MAX_EVALUATIONS = 2500

_ACTION_KEYS = ("name",)


class _Item:
    """One evaluation, checked and mapped: its subject, resource, action and context."""

    __slots__ = ("subject", "resource", "action", "options", "error")

    def __init__(self) -> None:
        self.subject: Dict[str, Any] = {}
        self.resource: Dict[str, Any] = {}
        self.action = ""
        self.options: Dict[str, Any] = {}
        self.error: Optional[AuthZENError] = None


def _item(subject: Any, resource: Any, action: Any, context: Any, where: str) -> _Item:
    item = _Item()
    try:
        item.subject = cerbos_principal(entity(subject, f"{where}subject"), f"{where}subject")  # type: ignore[arg-type]
        item.resource = cerbos_resource(entity(resource, f"{where}resource"), f"{where}resource")  # type: ignore[arg-type]
        item.action = entity(action, f"{where}action", keys=_ACTION_KEYS)["name"]  # type: ignore[index]
        item.options = options_of(obj(context, f"{where}context", required=False), f"{where}context")
    except AuthZENError as exc:
        item.error = exc
    return item


def evaluation(engine: Any, body: Any) -> Dict[str, Any]:
    """Answer an Access Evaluation request body: ``{"decision": bool}`` (with ``context`` when
    ``cerbos.includeMeta`` asks for Cerbos's response). Raises :class:`AuthZENError` (400) naming
    the field of a malformed request."""
    request = obj(body, "request body")
    assert request is not None
    item = _item(request.get("subject"), request.get("resource"), request.get("action"), request.get("context"), "")
    if item.error is not None:
        raise item.error
    return _decide(engine, [item])[0]


def evaluations(engine: Any, body: Any, *, max_evaluations: int = MAX_EVALUATIONS) -> Dict[str, Any]:
    """Answer an Access Evaluations request body: ``{"evaluations": [decision, ...]}`` in request order.

    The top-level ``subject``, ``resource``, ``action`` and ``context`` are defaults that an
    evaluation replaces whole when it gives its own. ``options.evaluations_semantic`` is
    ``execute_all`` (the default: every decision), ``deny_on_first_deny`` (up to the first denial)
    or ``permit_on_first_permit`` (up to the first permit). An evaluation that is not complete or
    not valid is denied with the reason in its context (``{"error": {"status": 400, "message"}}``);
    without ``evaluations`` (or with none) the request is a single Access Evaluation.
    """
    request = obj(body, "request body")
    assert request is not None
    listed = request.get("evaluations")
    if listed is None or listed == []:
        return evaluation(engine, request)
    if not isinstance(listed, list):
        raise AuthZENError("evaluations: expected an array")
    if len(listed) > max_evaluations:
        raise AuthZENError(
            f"evaluations: {len(listed)} evaluations, more than the {max_evaluations} one request may carry"
        )
    options = obj(request.get("options"), "options", required=False) or {}
    semantic = options.get("evaluations_semantic", SEMANTICS[0])
    if semantic not in SEMANTICS:
        raise AuthZENError(f"options.evaluations_semantic: expected one of {', '.join(SEMANTICS)}, got {semantic!r}")
    # defaults: checked as given (a malformed default is the whole request's fault), used whole
    defaults = {
        "subject": entity(request.get("subject"), "subject", required=False),
        "resource": entity(request.get("resource"), "resource", required=False),
        "action": entity(request.get("action"), "action", keys=_ACTION_KEYS, required=False),
        "context": obj(request.get("context"), "context", required=False),
    }
    items = []
    for i, raw in enumerate(listed):
        where = f"evaluations[{i}]."
        if not isinstance(raw, dict):
            broken = _Item()
            broken.error = AuthZENError(f"evaluations[{i}]: expected an object")
            items.append(broken)
            continue
        chosen = {key: raw[key] if key in raw else default for key, default in defaults.items()}
        items.append(_item(chosen["subject"], chosen["resource"], chosen["action"], chosen["context"], where))
    decisions = _decide(engine, items)
    if semantic != "execute_all":
        stop = semantic == "permit_on_first_permit"
        for i, decided in enumerate(decisions):
            if decided["decision"] is stop:
                decisions = decisions[: i + 1]
                break
    return {"evaluations": decisions}


def _decide(engine: Any, items: List[_Item]) -> List[Dict[str, Any]]:
    """The decisions of ``items``, one Cerbos request per subject and context."""
    decisions: List[Optional[Dict[str, Any]]] = [None] * len(items)
    groups: Dict[str, List[int]] = {}
    for i, item in enumerate(items):
        if item.error is not None:
            decisions[i] = _failed(item.error)
        else:
            groups.setdefault(_key(item.subject, item.options), []).append(i)
    for members in groups.values():
        first = items[members[0]]
        resources: Dict[str, Tuple[int, List[str]]] = {}
        entries: List[Dict[str, Any]] = []
        placed: List[Tuple[int, str]] = []
        for i in members:
            item = items[i]
            key = _key(item.resource)
            if key not in resources:
                resources[key] = (len(entries), [])
                entries.append({"resource": item.resource, "actions": resources[key][1]})
            index, actions = resources[key]
            if item.action not in actions:
                actions.append(item.action)
            placed.append((index, item.action))
        meta = bool(first.options.get("includeMeta"))
        check: Dict[str, Any] = {
            "requestId": first.options.get("requestId", ""),
            "principal": first.subject,
            "resources": entries,
        }
        if "auxData" in first.options:
            check["auxData"] = first.options["auxData"]
        if meta:
            check["includeMeta"] = True
        try:
            response = engine.check_resources_json(check)
        except (TypeError, ValueError) as exc:
            for i in members:
                decisions[i] = _failed(AuthZENError(str(exc)))
            continue
        results = response.get("results") or []
        for i, (index, action) in zip(members, placed, strict=True):
            allowed = index < len(results) and (results[index].get("actions") or {}).get(action) == "EFFECT_ALLOW"
            decided: Dict[str, Any] = {"decision": allowed}
            if meta:
                decided["context"] = {"cerbos.response": response}
            decisions[i] = decided
    return [d for d in decisions if d is not None]


def _failed(error: AuthZENError) -> Dict[str, Any]:
    """A denial carrying why the evaluation could not be made (the specification's per-item error)."""
    return {"decision": False, "context": {"error": {"status": error.status, "message": error.message}}}


def _key(*parts: Any) -> str:
    return json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
