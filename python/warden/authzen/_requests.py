"""AuthZEN request bodies read and checked, and their mapping onto Cerbos's requests, as Cerbos maps them.

Cerbos (``internal/svc/authzen_svc.go``) is the reference:

- subject → principal: ``id``; roles from the ``cerbos.roles`` property (non-empty strings), else
  the subject's ``type``; ``cerbos.policyVersion`` and ``cerbos.scope`` properties; every property
  as an attribute (the ``cerbos.*`` ones included);
- resource → resource: ``type`` is the kind, ``id`` the id, properties the attributes, with
  ``cerbos.policyVersion`` and ``cerbos.scope``;
- action → the action's ``name`` (its properties have no place in a Cerbos check);
- context → ``cerbos.requestId``, ``cerbos.auxData`` (``{"jwt": {"token", "keySetId"}}``, verified
  with the engine's ``jwt_keysets``) and ``cerbos.includeMeta`` (Cerbos's own response under
  ``cerbos.response`` in the decision's context).

A body that is not what the specification requires raises :class:`AuthZENError` naming the field
(400). Unknown fields are ignored, as the specification asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, List, Optional

__all__ = ["AuthZENError", "cerbos_principal", "cerbos_resource", "entity", "obj", "options_of"]


class AuthZENError(ValueError):
    """A request the API refuses: ``status`` (400 for a malformed request) and a message naming the field."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def obj(value: Any, where: str, *, required: bool = True) -> Optional[Dict[str, Any]]:
    """``value`` when it is a JSON object; AuthZENError naming ``where`` otherwise (None when absent and not required)."""
    if value is None:
        if required:
            raise AuthZENError(f"{where}: required")
        return None
    if not isinstance(value, Mapping):
        raise AuthZENError(f"{where}: expected an object, got {_json_type(value)}")
    return dict(value)


def _string(value: Any, where: str) -> str:
    if value is None:
        raise AuthZENError(f"{where}: required")
    if not isinstance(value, str) or not value:
        raise AuthZENError(f"{where}: expected a non-empty string, got {_json_type(value)}")
    return value


def entity(value: Any, where: str, *, keys: tuple = ("type", "id"), required: bool = True) -> Optional[Dict[str, Any]]:
    """A subject, resource (``keys`` type and id) or action (``keys`` name), checked; properties default to ``{}``."""
    found = obj(value, where, required=required)
    if found is None:
        return None
    for key in keys:
        found[key] = _string(found.get(key), f"{where}.{key}")
    found["properties"] = obj(found.get("properties"), f"{where}.properties", required=False) or {}
    return found


def _cerbos_string(properties: Mapping[str, Any], name: str, where: str) -> str:
    value = properties.get(f"cerbos.{name}")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AuthZENError(f'{where}.properties["cerbos.{name}"]: expected a string, got {_json_type(value)}')
    return value


def cerbos_principal(subject: Mapping[str, Any], where: str = "subject") -> Dict[str, Any]:
    """The Cerbos principal of a (checked) subject."""
    properties = subject["properties"]
    roles_value = properties.get("cerbos.roles")
    roles: List[str] = []
    if roles_value is not None:
        if not isinstance(roles_value, list) or not all(isinstance(r, str) for r in roles_value):
            raise AuthZENError(f'{where}.properties["cerbos.roles"]: expected a list of strings')
        roles = [r for r in roles_value if r]
    principal: Dict[str, Any] = {"id": subject["id"], "roles": roles or [subject["type"]], "attr": dict(properties)}
    version = _cerbos_string(properties, "policyVersion", where)
    scope = _cerbos_string(properties, "scope", where)
    if version:
        principal["policyVersion"] = version
    if scope:
        principal["scope"] = scope
    return principal


def cerbos_resource(resource: Mapping[str, Any], where: str = "resource", *, with_id: bool = True) -> Dict[str, Any]:
    """The Cerbos resource of a (checked) resource."""
    properties = resource["properties"]
    out: Dict[str, Any] = {"kind": resource["type"], "attr": dict(properties)}
    if with_id:
        out["id"] = resource["id"]
    version = _cerbos_string(properties, "policyVersion", where)
    scope = _cerbos_string(properties, "scope", where)
    if version:
        out["policyVersion"] = version
    if scope:
        out["scope"] = scope
    return out


def options_of(context: Optional[Mapping[str, Any]], where: str = "context") -> Dict[str, Any]:
    """``requestId``, ``auxData`` and ``includeMeta`` of a Cerbos request, from the context's ``cerbos.*`` keys."""
    context = context or {}
    out: Dict[str, Any] = {}
    request_id = context.get("cerbos.requestId")
    if request_id is not None:
        if not isinstance(request_id, str):
            raise AuthZENError(f'{where}["cerbos.requestId"]: expected a string, got {_json_type(request_id)}')
        out["requestId"] = request_id
    aux = context.get("cerbos.auxData")
    if aux is not None:
        out["auxData"] = obj(aux, f'{where}["cerbos.auxData"]')
    meta = context.get("cerbos.includeMeta")
    if meta is not None:
        if not isinstance(meta, bool):
            raise AuthZENError(f'{where}["cerbos.includeMeta"]: expected true or false, got {_json_type(meta)}')
        out["includeMeta"] = meta
    return out


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
