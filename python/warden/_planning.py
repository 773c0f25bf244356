"""Query plans as the Cerbos SDK's response model: ``Client.plan_resources`` and the web
integrations' list helpers (``warden.fastapi``'s ``authz.plan``, ``warden.flask.plan``)."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Mapping, Optional, Union

from warden.models import (
    JWT,
    AuxData,
    PlanResourcesFilter,
    PlanResourcesFilterKind,
    PlanResourcesResponse,
    ValidationError,
)

__all__ = ["everything", "plan_for", "plan_resources", "response_from_plan"]


def plan_resources(
    engine: Any,
    actions: Union[str, List[str]],
    principal: Any,
    resource: Any,
    request_id: Optional[str],
    aux_data: Any,
    presence_tests: bool = False,
    exact: bool = False,
) -> PlanResourcesResponse:
    """The engine's plan for ``actions`` on ``resource``'s kind, as the SDK's response model.

    ``aux_data`` is ``{"jwt": {...verified claims}}`` (an ``AuxData`` carrying a raw token is
    refused: verify it first). ``presence_tests``: keep ``has(...)`` as a ``has`` operator
    (warden's adapter reads it; Cerbos writes ``true``). ``exact``: plan as ``check`` decides, row
    for row (``Engine.plan_resources(exact=True)``; warden's adapters read it). Bad input raises the engine's
    ``ValueError``/``TypeError`` naming the field, as ``check_resources`` does.
    """
    aux = _engine_aux(aux_data)
    names = [actions] if isinstance(actions, str) else list(actions)
    if not names or not all(isinstance(a, str) and a for a in names):
        raise ValueError("actions: expected an action name or a non-empty list of them")
    principal = dict(principal) if isinstance(principal, Mapping) and not isinstance(principal, dict) else principal
    resource = dict(resource) if isinstance(resource, Mapping) and not isinstance(resource, dict) else resource
    # only the departures asked for are passed: a Cerbos plan is planned as Cerbos's API is called
    options = {k: True for k, on in (("presence_tests", presence_tests), ("exact", exact)) if on}
    out = engine.plan_resources(principal, resource, names, aux_data=aux, **options)
    return response_from_plan(out, request_id or str(uuid.uuid4()), resource)


def _engine_aux(aux_data: Any) -> Optional[Dict[str, Any]]:
    """Engine-level aux data: ``{"jwt": {...claims}}``, or None."""
    if aux_data is None:
        return None
    if isinstance(aux_data, AuxData):
        if aux_data.jwt is None and not aux_data.jwts:
            return None
        raise ValueError("aux_data.jwt: plans take verified claims: pass aux_data={'jwt': {...claims}}")
    if not isinstance(aux_data, Mapping):
        raise TypeError(f"aux_data: expected a dict like {{'jwt': {{...claims}}}}, got {type(aux_data).__name__}")
    if isinstance(aux_data.get("jwt"), (JWT, str, bytes)):
        raise ValueError("aux_data.jwt: plans take verified claims: pass aux_data={'jwt': {...claims}}")
    return dict(aux_data) or None


def response_from_plan(plan: Mapping[str, Any], request_id: str, resource: Any = None) -> PlanResourcesResponse:
    """``Engine.plan_resources``'s dict (Cerbos's PlanResourcesResponse JSON) as the SDK's model."""
    version = plan.get("policyVersion")
    if not version:
        version = (
            resource.get("policyVersion", resource.get("policy_version")) if isinstance(resource, Mapping) else None
        )
        version = version or getattr(resource, "policy_version", None) or "default"
    errors = plan.get("validationErrors")
    return PlanResourcesResponse(
        request_id=plan.get("requestId") or request_id,
        action=list(plan.get("actions") or [plan.get("action")]),
        resource_kind=plan["resourceKind"],
        policy_version=version,
        filter=PlanResourcesFilter.from_dict(plan["filter"]),
        validation_errors=[ValidationError.from_dict(e) for e in errors] if errors else None,
    )


def plan_for(
    engine: Any,
    principal: Any,
    kind: str,
    actions: Union[str, List[str]],
    *,
    policy_version: Optional[str] = None,
    scope: Optional[str] = None,
    attr: Optional[Mapping[str, Any]] = None,
    aux_data: Optional[Mapping[str, Any]] = None,
    presence_tests: bool = False,
) -> PlanResourcesResponse:
    """The plan of a list endpoint: which resources of ``kind`` ``principal`` may act on with
    ``actions``; ``attr`` are attributes every listed resource has (folded into the plan). The
    plan is exact: its rows are the rows ``check`` allows (presence tests included)."""
    resource: Dict[str, Any] = {"kind": kind}
    if policy_version:
        resource["policyVersion"] = policy_version
    if scope:
        resource["scope"] = scope
    if attr:
        resource["attr"] = dict(attr)
    return plan_resources(engine, actions, principal, resource, None, aux_data, presence_tests, exact=True)


def everything(kind: str, actions: Union[str, List[str]]) -> PlanResourcesResponse:
    """A plan admitting every resource (``KIND_ALWAYS_ALLOWED``), for a development bypass."""
    names = [actions] if isinstance(actions, str) else list(actions)
    return PlanResourcesResponse(
        request_id=str(uuid.uuid4()),
        action=names,
        resource_kind=kind,
        policy_version="default",
        filter=PlanResourcesFilter(PlanResourcesFilterKind.ALWAYS_ALLOWED),
    )
