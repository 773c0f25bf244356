"""Query-planning models, a drop-in for the ``PlanResources*`` classes of ``cerbos.sdk.model``.

Same names, fields, constructor signatures and camelCase ``to_dict``/``from_dict`` as the Cerbos
SDK's HTTP models, so code written for ``CerbosClient.plan_resources`` (and the upstream
``cerbos-sqlalchemy`` adapter, which reads ``plan.filter.kind`` and
``plan.filter.condition.to_dict()``) works unchanged with :meth:`warden.Client.plan_resources`.
Re-exported from :mod:`warden.models`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, List, Mapping, Optional, Union

from warden.models import (
    HTTP_OK,
    APIError,
    AuxData,
    CerbosRequestException,
    Principal,
    ResourceDesc,
    ValidationError,
    _list_of,
    _Model,
)

__all__ = [
    "PlanResourcesExpression",
    "PlanResourcesFilter",
    "PlanResourcesFilterKind",
    "PlanResourcesRequest",
    "PlanResourcesResponse",
    "PlanResourcesValue",
    "PlanResourcesVariable",
    "decode_operand",
    "decode_operand_list",
]


class PlanResourcesFilterKind(str, Enum):
    """Which resources a plan admits: all, none, or those matching ``filter.condition``."""

    ALWAYS_ALLOWED = "KIND_ALWAYS_ALLOWED"
    ALWAYS_DENIED = "KIND_ALWAYS_DENIED"
    CONDITIONAL = "KIND_CONDITIONAL"


@dataclass(slots=True)
class PlanResourcesRequest(_Model):
    request_id: str
    actions: List[str]
    principal: Principal
    resource: ResourceDesc
    aux_data: Optional[AuxData] = None


@dataclass(slots=True)
class PlanResourcesValue(_Model):
    """A known value in a condition (``{"value": ...}``)."""

    value: Any


@dataclass(slots=True)
class PlanResourcesVariable(_Model):
    """An attribute path (``request.resource.attr.owner``) or a lambda variable."""

    variable: str


@dataclass(slots=True)
class PlanResourcesExpression(_Model):
    """An operator applied to operands (``{"expression": {"operator": ..., "operands": [...]}}``)."""

    @dataclass(slots=True)
    class Expr(_Model):
        operator: str
        operands: List[Any]

    expression: Expr


Operand = Union[PlanResourcesValue, PlanResourcesVariable, PlanResourcesExpression]


def decode_operand(val: Any) -> Any:
    """Turn a protojson operand (``{"value"|"variable"|"expression": ...}``) into its model."""
    if not isinstance(val, Mapping):
        return val
    if "value" in val:
        return PlanResourcesValue.from_dict(val)
    if "variable" in val:
        return PlanResourcesVariable.from_dict(val)
    if "expression" in val:
        return PlanResourcesExpression.from_dict(val)
    return val


def decode_operand_list(val: Any) -> Any:
    if not isinstance(val, list):
        return val
    return [decode_operand(item) for item in val]


@dataclass(slots=True)
class PlanResourcesFilter(_Model):
    kind: PlanResourcesFilterKind
    condition: Optional[Operand] = None


@dataclass(slots=True)
class PlanResourcesResponse(_Model):
    """The answer to ``plan_resources``; ``action`` is the list of actions, as the SDK sets it."""

    request_id: str
    action: Union[str, List[str]]
    resource_kind: str
    policy_version: str
    filter: Optional[PlanResourcesFilter] = None
    validation_errors: Optional[List[ValidationError]] = None
    status_code: int = HTTP_OK
    status_msg: Optional[APIError] = None

    def failed(self) -> bool:
        return self.status_code != HTTP_OK

    def raise_if_failed(self) -> "PlanResourcesResponse":
        if self.failed():
            raise CerbosRequestException(self.status_msg)
        return self


PlanResourcesRequest._decoders = {
    "principal": Principal.from_dict,
    "resource": ResourceDesc.from_dict,
    "aux_data": AuxData.from_dict,
}
PlanResourcesExpression.Expr._decoders = {"operands": decode_operand_list}
PlanResourcesExpression._decoders = {"expression": PlanResourcesExpression.Expr.from_dict}
PlanResourcesFilter._decoders = {"kind": PlanResourcesFilterKind, "condition": decode_operand}
PlanResourcesResponse._decoders = {
    "filter": PlanResourcesFilter.from_dict,
    "validation_errors": _list_of(ValidationError),
    "status_msg": APIError.from_dict,
}
