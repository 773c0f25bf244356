"""The Cerbos decision a route requirement makes: the resource it is about, then the policy's answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from fastapi import HTTPException, Request

from warden._access import decide
from warden.fastapi._authentication import request_facts
from warden.models import Principal, Resource


def resource_of(kind: str, value: Any, default_id: Optional[str] = None) -> Resource:
    """The :class:`Resource` of kind ``kind`` that ``value`` describes.

    ``value`` is a ``Resource`` (its kind must be ``kind``), a mapping of attributes
    (the resource id is its ``"id"`` entry when that is a string or int, else
    ``default_id``, else ``kind``), a string or int (the id, no attributes), or None
    (the collection itself: ``Resource(kind, kind)``).
    """
    if isinstance(value, Resource):
        if value.kind != kind:
            raise ValueError(f"resource: the callable returned a {value.kind!r} resource where {kind!r} was required")
        return value
    if value is None:
        return Resource(kind, kind)
    if isinstance(value, str):
        if not value:
            raise ValueError("resource: the id must not be empty")
        return Resource(value, kind)
    if isinstance(value, int) and not isinstance(value, bool):
        return Resource(str(value), kind)
    if isinstance(value, Mapping):
        rid = value.get("id")
        rid = (
            str(rid)
            if isinstance(rid, (str, int)) and not isinstance(rid, bool) and rid != ""
            else (default_id or kind)
        )
        return Resource(rid, kind, attr=dict(value))
    raise TypeError(
        f"resource: expected a warden.Resource, a dict of attributes, an id or None, got {type(value).__name__}"
    )


class PolicyCheck:
    """Whether ``action`` is allowed on a resource of ``kind``, decided by the Cerbos ``engine``."""

    __slots__ = ("engine", "action", "kind", "aux_data")

    def __init__(self, engine: Any, action: str, kind: str, aux_data: Optional[Mapping[str, Any]]) -> None:
        self.engine = engine
        self.action = action
        self.kind = kind
        self.aux_data = None if aux_data is None else dict(aux_data)

    def target(self, request: Request, loaded: Any) -> Resource:
        """The resource ``loaded`` describes (see :func:`resource_of`); 404 when nothing was loaded."""
        if loaded is None:
            raise HTTPException(404, f"{self.kind} not found")
        if type(loaded) is Resource and loaded.kind == self.kind:
            return loaded
        if isinstance(loaded, Mapping):
            # attributes without an id: the route's only path parameter names the resource
            params = request.path_params
            return resource_of(self.kind, loaded, next(iter(params.values())) if len(params) == 1 else None)
        return resource_of(self.kind, loaded)

    def enforce(self, principal: Principal, target: Resource, request: Request) -> None:
        """Raise 403 unless the policy allows the action on ``target`` (the decision is logged
        with ``request`` when the engine keeps a decision log or ``warden.access`` logs)."""
        try:
            allowed = decide(self.engine, lambda: request_facts(request), principal, target, self.action, self.aux_data)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"warden: cannot decide {self.action!r} on {self.kind!r}: {exc}") from exc
        if not allowed:
            raise HTTPException(403, f"not allowed to {self.action} {self.kind} {target.id}")

    def __repr__(self) -> str:
        return f"PolicyCheck(action={self.action!r}, kind={self.kind!r})"
