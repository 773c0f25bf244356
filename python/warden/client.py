"""``warden.Client``: an in-process drop-in for ``cerbos.sdk.client.CerbosClient``.

Switching an app from a Cerbos PDP to warden changes an import and one
constructor::

    # from cerbos.sdk.client import CerbosClient
    # client = CerbosClient("http://localhost:3592")
    from warden import Client
    client = Client("policies/")

Every decision is taken in-process by the native engine (``warden._core``).
The conversion between the models and the engine's ``CheckInput`` /
``CheckOutput`` dicts is kept lean on purpose (no ``asdict``, no copies of
attribute dicts, results converted lazily): it adds one to a few microseconds
to the engine's time (see benchmarks/README.md).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence, Union

from warden import _core
from warden._planning import plan_resources
from warden.models import (
    JWT,
    AuxData,
    CheckResourcesResponse,
    CheckResourcesResult,
    Effect,
    OutputEntry,
    PlanResourcesResponse,
    Principal,
    Resource,
    ResourceAction,
    ResourceDesc,
    ResourceList,
    Source,
    ValidationError,
)

__all__ = ["AsyncClient", "AsyncPrincipalContext", "Client", "PrincipalContext"]

_ALLOW = "EFFECT_ALLOW"
_EFFECTS = {"EFFECT_ALLOW": Effect.ALLOW, "EFFECT_DENY": Effect.DENY}
_COLLECTIONS = frozenset({list, set, frozenset, tuple})

# Request ids: the SDK uses uuid4() per call, which alone costs over a
# microsecond. A per-process random prefix plus a counter is as unique for
# correlating logs.
_ID_PREFIX = str(uuid.uuid4())[:24]
_id_counter = itertools.count(1)


def _new_request_id() -> str:
    return _ID_PREFIX + str(next(_id_counter))


# --------------------------------------------------------------------------- #
# Requests go to the engine as they come: ``Engine.check`` and
# ``Engine.is_allowed`` read ``Principal``/``Resource`` objects (by attribute)
# and dicts (camelCase or snake_case keys) natively, roles and actions as
# lists, tuples or sets, and name the field of any bad value. Python only
# unwraps the ``ResourceList``/``ResourceAction`` containers. When the engine
# rejects an input, the validators below run to raise the error in the
# client's own terms (``resources[1].resource.kind``, not ``inputs[1]...``).


def _type_name(value: Any) -> str:
    return type(value).__name__


def _name_list(value: Any, where: str) -> List[str]:
    """Roles or actions as a list of non-empty strings (sets, lists, tuples accepted)."""
    if type(value) is not list:
        if isinstance(value, (str, bytes, Mapping)) or value is None:
            raise TypeError(f"{where}: expected a set or list of strings, got {_type_name(value)}")
        try:
            value = list(value)
        except TypeError:
            raise TypeError(f"{where}: expected a set or list of strings, got {_type_name(value)}") from None
    if not value:
        raise ValueError(f"{where}: at least one entry is required")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise TypeError(f"{where}[{i}]: expected str, got {_type_name(item)}")
        if not item:
            raise ValueError(f"{where}[{i}]: must not be empty")
    return value


def _check_str(value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{where}: expected str, got {_type_name(value)}")
    if not value:
        raise ValueError(f"{where}: must not be empty")


def _check_attr(attr: Any, where: str) -> None:
    if attr is not None and not isinstance(attr, Mapping):
        raise TypeError(f"{where}: expected a dict, got {_type_name(attr)}")


def _check_opt_str(value: Any, where: str) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{where}: expected str, got {_type_name(value)}")


def _fields(obj: Any, model: Any, where: str) -> tuple:
    """(id, attr, policy_version, scope, obj) of a model object or a dict, for validation and echoes."""
    if isinstance(obj, model):
        return obj.id, obj.attr, obj.policy_version, obj.scope
    if isinstance(obj, Mapping):
        return (
            obj.get("id"),
            obj.get("attr"),
            obj.get("policy_version", obj.get("policyVersion")),
            obj.get("scope"),
        )
    raise TypeError(f"{where}: expected warden.{model.__name__} or dict, got {_type_name(obj)}")


def _check_principal(p: Any) -> None:
    pid, attr, version, scope = _fields(p, Principal, "principal")
    _check_str(pid, "principal.id")
    _name_list(p.roles if isinstance(p, Principal) else p.get("roles"), "principal.roles")
    _check_attr(attr, "principal.attr")
    _check_opt_str(version, "principal.policy_version")
    _check_opt_str(scope, "principal.scope")


def _check_resource(r: Any, where: str) -> None:
    rid, attr, version, scope = _fields(r, Resource, where)
    _check_str(r.kind if isinstance(r, Resource) else r.get("kind"), where + ".kind")
    _check_str(rid, where + ".id")
    _check_attr(attr, where + ".attr")
    _check_opt_str(version, where + ".policy_version")
    _check_opt_str(scope, where + ".scope")


def _diagnose(principal: Any, entries: list, action: Any = None) -> None:
    """After the engine rejected an input: raise the precise error, if Python can name it."""
    _check_principal(principal)
    if action is not None or not entries:
        _check_resource(entries[0][0], "resource")
        _check_str(action, "action")
        return
    for i, (resource, actions) in enumerate(entries):
        _check_resource(resource, f"resources[{i}].resource")
        _name_list(actions, f"resources[{i}].actions")


def _id(obj: Any) -> Any:
    """The id of a principal or resource (model object or dict), None if it has none."""
    if type(obj) is dict:
        return obj.get("id")
    return getattr(obj, "id", None)


def _as_dict(value: Any) -> Any:
    """Models and dicts go to the engine as they are; other mappings become dicts."""
    kind = type(value)
    if kind is dict or kind is Principal or kind is Resource or isinstance(value, dict):
        return value
    return dict(value) if isinstance(value, Mapping) else value


def _aux_input(aux: Any) -> Optional[Dict[str, Any]]:
    """Engine-level auxData: ``{"jwt": {...verified claims}}``.

    A raw token (``AuxData(jwt=JWT(token))``) would need verification, which
    is not wired into the client yet: pass the verified claims instead.
    """
    if aux is None:
        return None
    if isinstance(aux, AuxData):
        if aux.jwt is None and not aux.jwts:
            return None
        raise ValueError(
            "aux_data.jwt: warden.Client does not verify raw JWT tokens yet; "
            "verify the token and pass its claims as aux_data={'jwt': {...claims}}"
        )
    if not isinstance(aux, Mapping):
        raise TypeError(f"aux_data: expected a dict like {{'jwt': {{...claims}}}}, got {_type_name(aux)}")
    jwt = aux.get("jwt")
    if jwt is None:
        return None if len(aux) == 0 else dict(aux)
    if isinstance(jwt, (JWT, str, bytes)):
        raise ValueError(
            "aux_data.jwt: warden.Client does not verify raw JWT tokens yet; pass the verified claims as a dict"
        )
    if not isinstance(jwt, Mapping):
        raise TypeError(f"aux_data.jwt: expected a dict of claims, got {_type_name(jwt)}")
    return aux if type(aux) is dict else dict(aux)


def _resource_entries(resources: Any) -> Sequence[Any]:
    if type(resources) is ResourceList:
        return resources.resources
    if isinstance(resources, ResourceList):
        return resources.resources
    if isinstance(resources, (list, tuple)):
        return resources
    if isinstance(resources, Mapping) and "resources" in resources:
        return resources["resources"]
    raise TypeError(f"resources: expected warden.ResourceList or a list, got {_type_name(resources)}")


def _effects(out: Dict[str, Any]) -> Dict[str, Effect]:
    actions = {}
    for name, decision in out["actions"].items():
        effect = decision["effect"]
        actions[name] = _EFFECTS.get(effect) or Effect(effect)
    return actions


def _validation_errors(out: Dict[str, Any]) -> Optional[List[ValidationError]]:
    errors = out.get("validationErrors")
    if not errors:
        return None
    return [ValidationError(e.get("message", ""), Source(e["source"]), e.get("path")) for e in errors]


def _outputs(out: Dict[str, Any]) -> Optional[List[OutputEntry]]:
    outputs = out.get("outputs")
    if not outputs:
        return None
    return [OutputEntry(o["src"], o.get("val"), o.get("action", ""), o.get("error")) for o in outputs]


# The dataclass slots (member descriptors), shadowed by the lazy properties below; typed Any
# because type checkers see the fields' value types here, not the descriptors.
_ACTIONS_SLOT: Any = CheckResourcesResult.__dict__["actions"]
_VALIDATION_ERRORS_SLOT: Any = CheckResourcesResult.__dict__["validation_errors"]
_OUTPUTS_SLOT: Any = CheckResourcesResult.__dict__["outputs"]


def _lazy_field(slot: Any, convert: Any) -> property:
    def get(self: "_EngineResult") -> Any:
        try:
            return slot.__get__(self, CheckResourcesResult)
        except AttributeError:
            value = convert(self._out)
            slot.__set__(self, value)
            return value

    def set_(self: "_EngineResult", value: Any) -> None:
        slot.__set__(self, value)

    return property(get, set_)


class _EngineResult(CheckResourcesResult):
    """A ``CheckResourcesResult`` over the engine's CheckOutput dict.

    ``actions``, ``validation_errors`` and ``outputs`` are converted to models
    on first access: a caller that only asks ``is_allowed`` (the usual case)
    never pays for building them. It is a ``CheckResourcesResult`` in every
    other respect (fields, equality, ``to_dict``, ``dataclasses.replace``).
    """

    __slots__ = ("_out",)
    _out: Dict[str, Any]

    actions = _lazy_field(_ACTIONS_SLOT, _effects)  # type: ignore[assignment]
    validation_errors = _lazy_field(_VALIDATION_ERRORS_SLOT, _validation_errors)  # type: ignore[assignment]
    outputs = _lazy_field(_OUTPUTS_SLOT, _outputs)  # type: ignore[assignment]

    def is_allowed(self, action: str) -> bool:
        try:
            actions = _ACTIONS_SLOT.__get__(self, CheckResourcesResult)
        except AttributeError:
            decision = self._out["actions"].get(action)
            return decision is not None and decision["effect"] == _ALLOW
        return actions.get(action) == Effect.ALLOW

    def _fields(self) -> tuple:
        return (self.resource, self.actions, self.validation_errors, self.outputs)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, CheckResourcesResult):
            return NotImplemented
        return self._fields() == (other.resource, other.actions, other.validation_errors, other.outputs)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"CheckResourcesResult(resource={self.resource!r}, actions={self.actions!r}, "
            f"validation_errors={self.validation_errors!r}, outputs={self.outputs!r})"
        )

    def __reduce__(self) -> tuple:
        return (CheckResourcesResult, self._fields())


_new_result = object.__new__


def _echo(resource: Any) -> Resource:
    """The ``Resource`` of a result for a resource given as a dict: what the PDP echoes."""
    version = resource.get("policy_version", resource.get("policyVersion"))
    return Resource(
        resource.get("id", ""), resource.get("kind", ""), {}, version or "default", resource.get("scope") or ""
    )


def _result(out: Dict[str, Any], resource: Any) -> CheckResourcesResult:
    """One CheckOutput as a CheckResourcesResult.

    The result's ``resource`` is the request's ``Resource`` object itself when
    one was given (it carries the same id, kind, policy_version and scope the
    PDP echoes; building a copy would cost more than the decision).
    """
    if not isinstance(resource, Resource):
        resource = _echo(resource)
    result = _new_result(_EngineResult)
    result.resource = resource
    result._out = out
    return result


class Client:
    """Decide Cerbos policies in-process, with the API of ``CerbosClient``.

    ``policies`` is a policy directory (loaded like Cerbos's disk store), a
    list of policy texts or dicts, or an already built :class:`warden.Engine`.
    Keyword ``options`` (``globals``, ``lenient_scope_search``,
    ``schema_enforcement``) are passed to the engine when it loads policies.
    """

    def __init__(self, policies: Union[str, os.PathLike, list, "_core.Engine"], **options: Any):
        if isinstance(policies, (str, os.PathLike)):
            engine = _core.Engine.from_directory(policies, **options)
        elif isinstance(policies, (list, tuple)):
            engine = _core.Engine.from_policies(list(policies), **options)
        elif hasattr(policies, "check"):
            if options:
                raise TypeError(f"Client: options {sorted(options)} apply only when loading policies, not to an Engine")
            engine = policies
        else:
            raise TypeError(
                f"policies: expected a directory path, a list of policies or a warden.Engine, "
                f"got {_type_name(policies)}"
            )
        self._engine: Optional[_core.Engine] = engine

    @property
    def engine(self) -> "_core.Engine":
        """The native engine deciding for this client."""
        return self._checked_engine()

    def _checked_engine(self):
        engine = self._engine
        if engine is None:
            raise RuntimeError("warden.Client is closed")
        return engine

    # context manager / lifecycle -------------------------------------------
    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Release the engine; later calls raise ``RuntimeError``."""
        self._engine = None

    def is_healthy(self, svc: Optional[str] = None) -> bool:  # noqa: ARG002
        """Always true while open: there is no remote PDP to be unhealthy."""
        return self._engine is not None

    # decisions ---------------------------------------------------------------
    def check_resources(
        self,
        principal: Union[Principal, Mapping],
        resources: Union[ResourceList, List[Union[ResourceAction, Mapping]]],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> CheckResourcesResponse:
        """Decide every action on every resource; results come in request order."""
        return _check_resources(self._checked_engine(), principal, resources, request_id, _aux_input(aux_data))

    def is_allowed(
        self,
        action: str,
        principal: Union[Principal, Mapping],
        resource: Union[Resource, Mapping],
        request_id: Optional[str] = None,  # noqa: ARG002 (no response to carry it)
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> bool:
        """True iff ``principal`` may perform ``action`` on ``resource``."""
        return _is_allowed(self._checked_engine(), action, principal, resource, _aux_input(aux_data))

    def plan_resources(
        self,
        actions: Union[str, List[str]],
        principal: Union[Principal, Mapping],
        resource: Union[ResourceDesc, Mapping],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> PlanResourcesResponse:
        """Which resources of ``resource.kind`` ``principal`` may act on with every one of ``actions``:
        Cerbos's query plan, for ``warden.sqlalchemy.get_query`` (or ``cerbos_sqlalchemy``)."""
        return plan_resources(self.engine, actions, principal, resource, request_id, aux_data)

    def with_principal(
        self, principal: Union[Principal, Mapping], aux_data: Union[AuxData, Mapping, None] = None
    ) -> "PrincipalContext":
        """A client bound to one principal (and aux data)."""
        return PrincipalContext(self, principal, aux_data)


def _is_allowed(engine: Any, action: Any, principal: Any, resource: Any, aux: Any) -> bool:
    principal = _as_dict(principal)
    resource = _as_dict(resource)
    # what the PDP's request validation refuses and the engine itself would accept
    if not action or not _id(principal) or not _id(resource):
        _diagnose(principal, [(resource, None)], action)
    native = getattr(engine, "is_allowed", None)
    try:
        if native is not None:
            return native(principal, resource, action, aux_data=aux)
        check_input = {"principal": principal, "resource": resource, "actions": [action]}
        if aux is not None:
            check_input["auxData"] = aux
        decision = engine.check([check_input])[0]["actions"].get(action)
        return decision is not None and decision["effect"] == _ALLOW
    except (TypeError, ValueError):
        _diagnose(principal, [(resource, None)], action)
        raise


def _check_resources(
    engine: Any, principal: Any, resources: Any, request_id: Optional[str], aux: Any
) -> CheckResourcesResponse:
    entries = _resource_entries(resources)
    if not entries:
        raise ValueError("resources: at least one resource is required")
    principal = _as_dict(principal)
    if not _id(principal):
        _check_principal(principal)
    inputs = []
    objects = []
    for i, entry in enumerate(entries):
        if type(entry) is ResourceAction or isinstance(entry, ResourceAction):
            resource, actions = entry.resource, entry.actions  # type: Any, Any
        elif isinstance(entry, Mapping):
            resource, actions = _as_dict(entry.get("resource")), entry.get("actions")
        else:
            raise TypeError(f"resources[{i}]: expected warden.ResourceAction or dict, got {_type_name(entry)}")
        if type(actions) not in _COLLECTIONS or not actions:
            actions = _name_list(actions, f"resources[{i}].actions")
        if not _id(resource):
            _check_resource(resource, f"resources[{i}].resource")
        check_input = {"principal": principal, "resource": resource, "actions": actions}
        if aux is not None:
            check_input["auxData"] = aux
        inputs.append(check_input)
        objects.append(resource)
    try:
        outputs = engine.check(inputs)
    except (TypeError, ValueError):
        _diagnose(principal, [(r, i["actions"]) for r, i in zip(objects, inputs, strict=False)])
        raise
    results = []
    for out, resource in zip(outputs, objects, strict=False):
        results.append(_result(out, resource))
    return CheckResourcesResponse(_new_request_id() if request_id is None else request_id, results)


class PrincipalContext:
    """A client with the principal and aux data fixed (``Client.with_principal``)."""

    def __init__(
        self, client: Client, principal: Union[Principal, Mapping], aux_data: Union[AuxData, Mapping, None] = None
    ):
        self._client = client
        self._principal = principal
        self._aux_data = aux_data
        self._aux = _aux_input(aux_data)

    def check_resources(
        self,
        resources: Union[ResourceList, List[Union[ResourceAction, Mapping]]],
        request_id: Optional[str] = None,
    ) -> CheckResourcesResponse:
        engine = self._client._checked_engine()
        return _check_resources(engine, self._principal, resources, request_id, self._aux)

    def is_allowed(self, action: str, resource: Union[Resource, Mapping], request_id: Optional[str] = None) -> bool:
        engine = self._client._checked_engine()
        return _is_allowed(engine, action, self._principal, resource, self._aux)

    def plan_resources(
        self,
        actions: Union[str, List[str]],
        resource: Union[ResourceDesc, Mapping],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> PlanResourcesResponse:
        return self._client.plan_resources(actions, self._principal, resource, request_id, aux_data)


class AsyncClient:
    """The ``AsyncCerbosClient`` surface over the same in-process engine.

    Decisions take microseconds and do no I/O, so the coroutines complete
    without suspending.
    """

    def __init__(self, policies: Union[str, os.PathLike, list, "_core.Engine"], **options: Any):
        self._client = Client(policies, **options)

    @property
    def engine(self) -> "_core.Engine":
        return self._client.engine

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        self._client.close()

    async def is_healthy(self, svc: Optional[str] = None) -> bool:
        return self._client.is_healthy(svc)

    async def check_resources(
        self,
        principal: Union[Principal, Mapping],
        resources: Union[ResourceList, List[Union[ResourceAction, Mapping]]],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> CheckResourcesResponse:
        return self._client.check_resources(principal, resources, request_id, aux_data)

    async def is_allowed(
        self,
        action: str,
        principal: Union[Principal, Mapping],
        resource: Union[Resource, Mapping],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> bool:
        return self._client.is_allowed(action, principal, resource, request_id, aux_data)

    async def plan_resources(
        self,
        actions: Union[str, List[str]],
        principal: Union[Principal, Mapping],
        resource: Union[ResourceDesc, Mapping],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> PlanResourcesResponse:
        return self._client.plan_resources(actions, principal, resource, request_id, aux_data)

    def with_principal(
        self, principal: Union[Principal, Mapping], aux_data: Union[AuxData, Mapping, None] = None
    ) -> "AsyncPrincipalContext":
        return AsyncPrincipalContext(self, principal, aux_data)


class AsyncPrincipalContext:
    """``PrincipalContext`` with coroutine methods (``AsyncClient.with_principal``)."""

    def __init__(
        self, client: AsyncClient, principal: Union[Principal, Mapping], aux_data: Union[AuxData, Mapping, None] = None
    ):
        self._context = PrincipalContext(client._client, principal, aux_data)

    async def check_resources(
        self,
        resources: Union[ResourceList, List[Union[ResourceAction, Mapping]]],
        request_id: Optional[str] = None,
    ) -> CheckResourcesResponse:
        return self._context.check_resources(resources, request_id)

    async def is_allowed(
        self, action: str, resource: Union[Resource, Mapping], request_id: Optional[str] = None
    ) -> bool:
        return self._context.is_allowed(action, resource, request_id)

    async def plan_resources(
        self,
        actions: Union[str, List[str]],
        resource: Union[ResourceDesc, Mapping],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> PlanResourcesResponse:
        return self._context.plan_resources(actions, resource, request_id, aux_data)
