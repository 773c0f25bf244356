"""The Search APIs: the subjects, resources or actions a request would be allowed, a page at a time.

A policy engine knows rules, not the entities they apply to, so a search needs the application's
entities, registered in :class:`Sources`:

- **actions**: the action names the policies give for each resource type (``{"record": ["read",
  "write"]}``, or :func:`policy_actions` reading a policy directory); an action search checks them
  all in one engine call;
- **resources**: a :class:`ResourceSource` per resource type that answers a *query plan*
  (``Engine.plan_resources``) with the rows it admits, in the database, a page at a time
  (``warden.django.search.QuerySetResources`` for a Django queryset): resources are never loaded
  whole and checked one by one;
- **subjects**: the candidate subjects of each type (:class:`SubjectList`, or any
  :class:`SubjectSource`), each checked with the engine (the planner plans over resources, not
  principals). Where a type has a source, the resource and action searches know only its subjects:
  an unknown subject finds nothing, a known one has its registered properties under the request's.

A type without a source gives an empty result, as the specification asks. Pages: ``page.limit``
(default :data:`DEFAULT_LIMIT`, at most :data:`MAX_LIMIT`) results, and a ``page.next_token`` to send
back unchanged with an otherwise identical request; a token used with another request is refused.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import yaml

from warden.authzen._evaluate import _decide, _Item
from warden.authzen._requests import AuthZENError, cerbos_principal, cerbos_resource, entity, obj, options_of

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "ResourceSource",
    "SubjectList",
    "SubjectSource",
    "Sources",
    "policy_actions",
    "search_action",
    "search_resource",
    "search_subject",
]

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
#: how many candidate subjects are checked per engine round
_SUBJECT_BATCH = 64


class ResourceSource(ABC):
    """The resources of one type, filtered by a query plan where they are stored."""

    @abstractmethod
    def search(self, plan: Mapping[str, Any], after: Any, limit: int) -> Tuple[List[Dict[str, Any]], Any]:
        """Up to ``limit`` resources the plan admits (``{"type", "id"}``, optionally ``properties``),
        in a stable order, after the cursor ``after`` (None: from the start); and the cursor of
        the next page (a JSON value), None when there is no more."""


class SubjectSource(ABC):
    """The candidate subjects of one type, in a stable order."""

    @abstractmethod
    def subjects(self, after: Any) -> Iterator[Tuple[Any, Dict[str, Any]]]:
        """``(cursor, subject)`` pairs from after the cursor ``after`` (None: from the start); a
        subject is ``{"type", "id"}`` with optional ``properties``, the cursor a JSON value."""

    def find(self, subject_id: str) -> Optional[Dict[str, Any]]:
        """The subject ``subject_id`` (None when the source does not know it); by default a scan."""
        return next((s for _, s in self.subjects(None) if s["id"] == subject_id), None)


class SubjectList(SubjectSource):
    """Subjects given as a list of ``{"id", "properties"?}`` dicts (or ids) of one ``type``."""

    def __init__(self, type: str, subjects: Iterable[Union[str, Mapping[str, Any]]]) -> None:  # noqa: A002
        self.type = type
        self.items: List[Dict[str, Any]] = []
        for i, subject in enumerate(subjects):
            found: Dict[str, Any] = {"id": subject} if isinstance(subject, str) else dict(subject)
            if not isinstance(found.get("id"), str) or not found["id"]:
                raise ValueError(f"subjects[{i}]: expected an id (a non-empty string)")
            self.items.append({"type": type, "id": found["id"], "properties": dict(found.get("properties") or {})})
        self.by_id = {s["id"]: s for s in self.items}

    def subjects(self, after: Any) -> Iterator[Tuple[Any, Dict[str, Any]]]:
        start = after if isinstance(after, int) and after >= 0 else 0
        for i in range(start, len(self.items)):
            yield i + 1, self.items[i]

    def find(self, subject_id: str) -> Optional[Dict[str, Any]]:
        return self.by_id.get(subject_id)


class Sources:
    """What the Search APIs search: ``actions`` (type → names, or a policy directory),
    ``resources`` (type → :class:`ResourceSource`), ``subjects`` (type → :class:`SubjectSource`
    or a list for :class:`SubjectList`)."""

    def __init__(
        self,
        *,
        actions: Union[Mapping[str, Sequence[str]], str, "os.PathLike[str]", None] = None,
        resources: Optional[Mapping[str, ResourceSource]] = None,
        subjects: Optional[Mapping[str, Union[SubjectSource, Iterable[Any]]]] = None,
    ) -> None:
        if isinstance(actions, (str, os.PathLike)):
            actions = policy_actions(actions)
        self.actions: Optional[Dict[str, List[str]]] = (
            None if actions is None else {k: list(v) for k, v in actions.items()}
        )
        self.resources = dict(resources) if resources is not None else None
        for kind, source in (self.resources or {}).items():
            if not isinstance(source, ResourceSource):
                raise TypeError(f"resources[{kind!r}]: expected a ResourceSource, got {type(source).__name__}")
        self.subjects: Optional[Dict[str, SubjectSource]] = None
        if subjects is not None:
            self.subjects = {k: v if isinstance(v, SubjectSource) else SubjectList(k, v) for k, v in subjects.items()}


def policy_actions(directory: Union[str, "os.PathLike[str]"]) -> Dict[str, List[str]]:
    """The action names the policies under ``directory`` give, per resource kind (wildcards left
    out): resource policies' rules, principal policies' resource rules, role policies' allowed actions.

    Files are read as the engine's loader reads a directory (YAML and JSON, skipping hidden files
    and directories, ``testdata`` and ``*_test.*``); a file that does not parse is skipped here (the
    engine reports it).
    """
    found: Dict[str, List[str]] = {}

    def add(kind: Any, names: Iterable[Any]) -> None:
        if not isinstance(kind, str):
            return
        listed = found.setdefault(kind, [])
        for name in names:
            if isinstance(name, str) and name and "*" not in name and name not in listed:
                listed.append(name)

    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "testdata")
        for name in sorted(files):
            stem, ext = os.path.splitext(name)
            if name.startswith(".") or ext not in (".yaml", ".yml", ".json") or stem.endswith("_test"):
                continue
            try:
                with open(os.path.join(root, name), encoding="utf-8") as handle:
                    documents = list(yaml.safe_load_all(handle))
            except (OSError, yaml.YAMLError):
                continue
            for document in documents:
                if not isinstance(document, Mapping):
                    continue
                for rule in _rules(document, "resourcePolicy"):
                    add(document["resourcePolicy"].get("resource"), rule.get("actions") or [])
                for rule in _rules(document, "principalPolicy"):
                    add(
                        rule.get("resource"),
                        [a.get("action") for a in rule.get("actions") or [] if isinstance(a, Mapping)],
                    )
                for rule in _rules(document, "rolePolicy"):
                    add(rule.get("resource"), rule.get("allowActions") or [])
    return found


def _rules(document: Mapping[str, Any], key: str) -> List[Mapping[str, Any]]:
    policy = document.get(key)
    rules = policy.get("rules") if isinstance(policy, Mapping) else None
    return [r for r in rules if isinstance(r, Mapping)] if isinstance(rules, list) else []


# --- pages -------------------------------------------------------------------------------------------


def _page(request: Mapping[str, Any]) -> Tuple[int, Any, str]:
    """``(limit, cursor, digest)`` of a search request's ``page`` (the digest ties a token to its request)."""
    page = obj(request.get("page"), "page", required=False) or {}
    limit = page.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise AuthZENError(f"page.limit: expected a non-negative integer, got {limit!r}")
    unchanged = {k: v for k, v in request.items() if k != "page"}
    unchanged["page"] = {k: v for k, v in page.items() if k != "token"}
    digest = hashlib.sha256(json.dumps(unchanged, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]
    token = page.get("token")
    if token is None or token == "":
        return min(limit, MAX_LIMIT), None, digest
    if not isinstance(token, str):
        raise AuthZENError("page.token: expected a string")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4)))
        cursor, issued_for = decoded["c"], decoded["h"]
    except (ValueError, KeyError, TypeError, UnicodeError):
        raise AuthZENError("page.token: not a token this PDP issued") from None
    if issued_for != digest:
        raise AuthZENError(
            "page.token: issued for another request (send the request unchanged, with only the token added)"
        )
    return min(limit, MAX_LIMIT), cursor, digest


def _token(cursor: Any, digest: str) -> str:
    if cursor is None:
        return ""
    raw = json.dumps({"c": cursor, "h": digest}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _answer(results: List[Dict[str, Any]], cursor: Any, digest: str) -> Dict[str, Any]:
    return {"page": {"next_token": _token(cursor, digest), "count": len(results)}, "results": results}


def _request(body: Any) -> Dict[str, Any]:
    request = obj(body, "request body")
    assert request is not None
    return request


def _known(subject: Dict[str, Any], sources: Sources) -> Optional[Dict[str, Any]]:
    """The subject as the registered subjects know it: its registered properties under the
    request's; None when its type has a source that does not know it (a search then finds nothing)."""
    source = (sources.subjects or {}).get(subject["type"])
    if source is None:
        return subject
    registered = source.find(subject["id"])
    if registered is None:
        return None
    return {**subject, "properties": {**(registered.get("properties") or {}), **subject["properties"]}}


# --- the three searches --------------------------------------------------------------------------------


def search_subject(engine: Any, body: Any, sources: Sources) -> Dict[str, Any]:
    """Answer a Subject Search request: the subjects of ``subject.type`` (its ``id`` ignored) allowed
    ``action`` on ``resource``; the request's subject properties are defaults of each candidate's."""
    request = _request(body)
    target = obj(request.get("subject"), "subject")
    assert target is not None
    kind = entity({**target, "id": "-"}, "subject")["type"]  # type: ignore[index]  # the id is searched for
    defaults = obj(target.get("properties"), "subject.properties", required=False) or {}
    resource = entity(request.get("resource"), "resource")
    action = entity(request.get("action"), "action", keys=("name",))["name"]  # type: ignore[index]
    context = obj(request.get("context"), "context", required=False)
    options = options_of(context)
    limit, cursor, digest = _page(request)
    source = (sources.subjects or {}).get(kind)
    if source is None or limit == 0:
        return _answer([], None, digest)
    mapped_resource = cerbos_resource(resource)  # type: ignore[arg-type]
    found: List[Dict[str, Any]] = []
    candidates = source.subjects(cursor)
    more = False
    while not more:
        batch = list(itertools.islice(candidates, _SUBJECT_BATCH))
        if not batch:
            break
        items = []
        for _, subject in batch:
            item = _Item()
            properties = {**defaults, **(subject.get("properties") or {})}
            item.subject = cerbos_principal({"type": kind, "id": subject["id"], "properties": properties}, "subject")
            item.resource, item.action, item.options = mapped_resource, action, options
            items.append(item)
        for (position, subject), decided in zip(batch, _decide(engine, items), strict=True):
            if len(found) == limit:
                more = True  # a candidate is left for the next page
                break
            cursor = position
            if decided["decision"]:
                found.append({"type": kind, "id": subject["id"]})
    return _answer(found, cursor if more else None, digest)


def search_resource(engine: Any, body: Any, sources: Sources) -> Dict[str, Any]:
    """Answer a Resource Search request: the resources of ``resource.type`` (its ``id`` ignored)
    ``subject`` may ``action``, found by the type's source with the engine's query plan."""
    request = _request(body)
    subject = entity(request.get("subject"), "subject")
    action = entity(request.get("action"), "action", keys=("name",))["name"]  # type: ignore[index]
    target = obj(request.get("resource"), "resource")
    assert target is not None
    resource = entity({**target, "id": "-"}, "resource")  # the id is searched for
    options = options_of(obj(request.get("context"), "context", required=False))
    limit, cursor, digest = _page(request)
    source = (sources.resources or {}).get(resource["type"])  # type: ignore[index]
    subject = _known(subject, sources)  # type: ignore[arg-type]
    if source is None or subject is None or limit == 0:
        return _answer([], None, digest)
    plan_request: Dict[str, Any] = {
        "requestId": options.get("requestId", ""),
        "actions": [action],
        "principal": cerbos_principal(subject),  # type: ignore[arg-type]
        "resource": cerbos_resource(resource, with_id=False),  # type: ignore[arg-type]
    }
    if "auxData" in options:
        plan_request["auxData"] = options["auxData"]
    try:
        plan = engine.plan_resources_json(plan_request, exact=True)  # the rows check allows
    except (TypeError, ValueError) as exc:
        raise AuthZENError(str(exc)) from exc
    results, next_cursor = source.search(plan, cursor, limit)
    return _answer([{"type": resource["type"], "id": str(r["id"])} for r in results], next_cursor, digest)  # type: ignore[index]


def search_action(engine: Any, body: Any, sources: Sources) -> Dict[str, Any]:
    """Answer an Action Search request: the actions (of those the policies name for the resource's
    type) ``subject`` may do on ``resource``."""
    request = _request(body)
    subject = entity(request.get("subject"), "subject")
    resource = entity(request.get("resource"), "resource")
    options = options_of(obj(request.get("context"), "context", required=False))
    limit, cursor, digest = _page(request)
    names = (sources.actions or {}).get(resource["type"], [])  # type: ignore[index]
    subject = _known(subject, sources)  # type: ignore[arg-type]
    if not names or subject is None or limit == 0:
        return _answer([], None, digest)
    principal, mapped = cerbos_principal(subject), cerbos_resource(resource)  # type: ignore[arg-type]
    items = []
    for name in names:
        item = _Item()
        item.subject, item.resource, item.action, item.options = principal, mapped, name, options
        items.append(item)
    allowed = [{"name": n} for n, d in zip(names, _decide(engine, items), strict=True) if d["decision"]]
    start = cursor if isinstance(cursor, int) and cursor >= 0 else 0
    page = allowed[start : start + limit]
    end = start + len(page)
    return _answer(page, end if end < len(allowed) else None, digest)
