"""Request and response models, a drop-in for ``cerbos.sdk.model``.

The classes have the names, constructor signatures and attributes of the Cerbos
Python SDK's HTTP models, so code written against ``cerbos.sdk.model`` works
unchanged with ``from warden.models import ...``. They are plain dataclasses
(with ``__slots__``): no ``dataclasses_json`` dependency, but ``to_dict``,
``to_json``, ``from_dict`` and ``from_json`` are provided with the same
camelCase keys, for code that serialises requests or responses.

Inputs are lenient the way users write them: ``roles`` and ``actions`` may be
sets, lists or tuples, and wherever the client takes a model it also takes a
plain dict (snake_case or camelCase keys).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, ClassVar, Collection, Dict, List, Mapping, Optional, Union

__all__ = [
    "APIError",
    "AuxData",
    "CerbosRequestException",
    "CerbosTLSError",
    "CerbosTypeError",
    "CheckResourcesRequest",
    "CheckResourcesResponse",
    "CheckResourcesResult",
    "Effect",
    "JWT",
    "OutputEntry",
    "Principal",
    "Resource",
    "ResourceAction",
    "ResourceDesc",
    "ResourceList",
    "Source",
    "ValidationError",
]

HTTP_OK = 200


class Effect(str, Enum):
    """The decision for one action; compares equal to the protojson enum name."""

    DENY = "EFFECT_DENY"
    ALLOW = "EFFECT_ALLOW"


class Source(str, Enum):
    """Which half of the request a schema validation error is about."""

    PRINCIPAL = "SOURCE_PRINCIPAL"
    RESOURCE = "SOURCE_RESOURCE"


# --------------------------------------------------------------------------- #
# (de)serialisation helpers shared by every model


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _encode(value: Any, encode_json: bool) -> Any:
    if isinstance(value, _Model):
        return value.to_dict(encode_json=encode_json)
    if isinstance(value, Enum):
        return value.value if encode_json else value
    if isinstance(value, Mapping):
        return {k: _encode(v, encode_json) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_encode(v, encode_json) for v in value]
        if isinstance(value, (set, frozenset)):
            items.sort(key=str)
        return items
    return value


class _Model:
    """Mixin giving the dataclasses the ``dataclasses_json`` (camelCase) surface."""

    __slots__ = ()
    # field name -> callable decoding the raw value (set below the classes)
    _decoders: ClassVar[Dict[str, Callable[[Any], Any]]] = {}

    def to_dict(self, encode_json: bool = False) -> Dict[str, Any]:
        return {
            _camel(f.name): _encode(getattr(self, f.name), encode_json)
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(encode_json=True), **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, infer_missing: bool = False):  # noqa: ARG003
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__}: expected a dict, got {type(data).__name__}")
        kwargs: Dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            camel = _camel(f.name)
            if camel in data:
                raw = data[camel]
            elif f.name in data:
                raw = data[f.name]
            else:
                continue
            decode = cls._decoders.get(f.name)
            kwargs[f.name] = decode(raw) if decode is not None and raw is not None else raw
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise TypeError(f"{cls.__name__}: {exc}") from None

    @classmethod
    def from_json(cls, text: Union[str, bytes], **kwargs: Any):
        return cls.from_dict(json.loads(text, **kwargs))


def _list_of(model: Any) -> Callable[[Any], List[Any]]:
    return lambda raw: [model.from_dict(item) for item in raw]


def _dict_of(model: Any) -> Callable[[Any], Dict[str, Any]]:
    return lambda raw: {key: model.from_dict(item) for key, item in raw.items()}


# --------------------------------------------------------------------------- #
# request models


@dataclass(slots=True)
class Principal(_Model):
    """Who is acting: an id, a set of roles and free-form attributes."""

    id: str
    roles: Collection[str]
    attr: Dict[str, Any] = field(default_factory=dict)
    policy_version: str = "default"
    scope: str = ""

    def add_attr(self, name: str, value: Any) -> "Principal":
        self.attr[name] = value
        return self


@dataclass(slots=True)
class Resource(_Model):
    """What is acted on: a kind, an id and free-form attributes."""

    id: str
    kind: str
    attr: Dict[str, Any] = field(default_factory=dict)
    policy_version: str = "default"
    scope: str = ""

    def add_attr(self, name: str, value: Any) -> "Resource":
        self.attr[name] = value
        return self


@dataclass(slots=True)
class ResourceAction(_Model):
    """One resource and the actions to check on it."""

    resource: Resource
    actions: Collection[str]


@dataclass(slots=True)
class ResourceList(_Model):
    """The resources of a ``check_resources`` call, built with chained ``add``."""

    resources: List[ResourceAction] = field(default_factory=list)

    def add(self, resource: Resource, actions: Collection[str]) -> "ResourceList":
        self.resources.append(ResourceAction(resource=resource, actions=actions))
        return self


@dataclass(slots=True)
class ResourceDesc(_Model):
    """A resource kind without an id (for query planning)."""

    kind: str
    attr: Dict[str, Any] = field(default_factory=dict)
    policy_version: str = "default"
    scope: str = ""

    def add_attr(self, name: str, value: Any) -> "ResourceDesc":
        self.attr[name] = value
        return self


@dataclass(slots=True)
class JWT(_Model):
    """A bearer token to be verified against a key set (PDP-side verification)."""

    token: str
    key_set_id: Optional[str] = None


@dataclass(slots=True)
class AuxData(_Model):
    """Auxiliary data: one JWT, or several keyed by name (``jwts``)."""

    jwt: Optional[JWT] = None
    jwts: Optional[Mapping[str, JWT]] = None


@dataclass(slots=True)
class CheckResourcesRequest(_Model):
    request_id: str
    principal: Principal
    resources: Union[ResourceList, List[ResourceAction]]
    aux_data: Optional[AuxData] = None


# --------------------------------------------------------------------------- #
# response models


@dataclass(slots=True)
class ValidationError(_Model):
    """A schema validation error on the principal or resource attributes."""

    message: str
    source: Source
    path: Optional[str] = None


@dataclass(slots=True)
class OutputEntry(_Model):
    """The output of a rule (``src`` is ``<policy>#<rule>``) for one action."""

    src: str
    val: Any
    action: str = ""
    error: Optional[str] = None


@dataclass(slots=True)
class APIError(_Model):
    code: int
    message: str


@dataclass(slots=True)
class CheckResourcesResult(_Model):
    """The decisions for one resource of a ``check_resources`` call."""

    resource: Resource
    actions: Dict[str, Effect]
    validation_errors: Optional[List[ValidationError]] = None
    outputs: Optional[List[OutputEntry]] = None

    def is_allowed(self, action: str) -> bool:
        """True iff ``action`` was checked and allowed (a missing action is denied)."""
        return self.actions.get(action) == Effect.ALLOW


@dataclass(slots=True)
class CheckResourcesResponse(_Model):
    """The answer to a ``check_resources`` call, results in request order."""

    request_id: str
    results: Optional[List[CheckResourcesResult]] = None
    status_code: int = HTTP_OK
    status_msg: Optional[APIError] = None

    def failed(self) -> bool:
        return self.status_code != HTTP_OK

    def raise_if_failed(self) -> "CheckResourcesResponse":
        if self.failed():
            raise CerbosRequestException(self.status_msg)
        return self

    def get_resource(
        self, id: str, predicate: Callable[[Resource], bool] = lambda _: True
    ) -> Optional[CheckResourcesResult]:
        """The first result for resource ``id`` whose resource satisfies ``predicate``."""
        if self.failed() or not self.results:
            return None
        for result in self.results:
            if result.resource.id == id and predicate(result.resource):
                return result
        return None


# --------------------------------------------------------------------------- #
# exceptions (kept here, like the SDK; also exported from warden.errors)


class CerbosRequestException(Exception):
    """A failed request; ``.error`` is the :class:`APIError` (or None)."""

    def __init__(self, error: Optional[APIError]):
        super().__init__("unexpected error" if error is None else error.message)
        self.error = error


class CerbosTLSError(Exception):
    pass


class CerbosTypeError(Exception):
    pass


# nested decoding for from_dict
ResourceAction._decoders = {"resource": Resource.from_dict}
ResourceList._decoders = {"resources": _list_of(ResourceAction)}
AuxData._decoders = {"jwt": JWT.from_dict, "jwts": _dict_of(JWT)}
CheckResourcesRequest._decoders = {
    "principal": Principal.from_dict,
    "resources": _list_of(ResourceAction),
    "aux_data": AuxData.from_dict,
}
ValidationError._decoders = {"source": Source}
CheckResourcesResult._decoders = {
    "resource": Resource.from_dict,
    "actions": lambda raw: {k: Effect(v) for k, v in raw.items()},
    "validation_errors": _list_of(ValidationError),
    "outputs": _list_of(OutputEntry),
}
CheckResourcesResponse._decoders = {
    "results": _list_of(CheckResourcesResult),
    "status_msg": APIError.from_dict,
}

# the query-planning models live in warden._plan_models (re-exported here, as in cerbos.sdk.model)
from warden._plan_models import *  # noqa: E402, F403
