"""Reading a plan: its kind and condition, from any of the shapes an application holds.

``Engine.plan_resources``'s dict (or its ``filter``), the Cerbos SDK's ``PlanResourcesResponse``
and ``PlanResourcesFilter`` models (``Client.plan_resources``), and the SDK's gRPC (protobuf)
response. The condition is returned as the plan's JSON operand (``{"value": ...}``,
``{"variable": ...}``, ``{"expression": {"operator": ..., "operands": [...]}}``), or parsed into
:class:`Value`/:class:`Variable`/:class:`Call` nodes that say where they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, Optional, Tuple, Union

ALWAYS_ALLOWED = "KIND_ALWAYS_ALLOWED"
ALWAYS_DENIED = "KIND_ALWAYS_DENIED"
CONDITIONAL = "KIND_CONDITIONAL"
_KINDS = {
    ALWAYS_ALLOWED: ALWAYS_ALLOWED,
    ALWAYS_DENIED: ALWAYS_DENIED,
    CONDITIONAL: CONDITIONAL,
    # the Cerbos SDK's enum names, as PlanResourcesFilter.kind gives them
    "ALWAYS_ALLOWED": ALWAYS_ALLOWED,
    "ALWAYS_DENIED": ALWAYS_DENIED,
    "CONDITIONAL": CONDITIONAL,
}


class PlanError(ValueError):
    """A plan that cannot be turned into a filter exactly (or a malformed plan); the message names
    the operator, variable or field and where it is (``condition.operands[1]``)."""


class NotAPlan(PlanError, TypeError):
    """Something that is no plan at all (a ``TypeError`` too)."""


def read_plan(plan: Any) -> Tuple[str, Optional[Mapping[str, Any]]]:
    """``(kind, condition)`` of a plan in any supported shape; ``condition`` is the JSON operand,
    None unless the kind is :data:`CONDITIONAL`. Raises :class:`PlanError` for a failed SDK
    response or a malformed filter, :class:`NotAPlan` for something that is no plan."""
    failed = getattr(plan, "failed", None)
    if callable(failed) and failed():
        message = getattr(getattr(plan, "status_msg", None), "message", None)
        raise PlanError(f"plan: the plan request failed ({message or 'no message'})")
    if isinstance(plan, Mapping):
        return _kind_and_condition(plan.get("filter", plan))
    if hasattr(plan, "filter"):
        f = plan.filter
        if f is None:
            return ALWAYS_DENIED, None
        if hasattr(f, "DESCRIPTOR"):  # a gRPC (protobuf) response
            from google.protobuf.json_format import MessageToDict

            return _kind_and_condition(MessageToDict(f))
        plan = f
    if hasattr(plan, "kind"):  # the SDK's filter model
        condition = getattr(plan, "condition", None)
        if condition is not None and hasattr(condition, "to_dict"):
            condition = condition.to_dict()
        return _kind_and_condition({"kind": plan.kind, "condition": condition})
    if callable(getattr(plan, "to_dict", None)):
        return read_plan(plan.to_dict())
    raise NotAPlan(
        f"plan: expected Engine.plan_resources's dict, its filter or a PlanResourcesResponse, got {type(plan).__name__}"
    )


def _kind_and_condition(f: Any) -> Tuple[str, Optional[Mapping[str, Any]]]:
    if f is None:
        return ALWAYS_DENIED, None
    if not isinstance(f, Mapping):
        raise PlanError(f"filter: expected an object, got {type(f).__name__}")
    raw = f.get("kind")
    raw = getattr(raw, "value", raw)  # the SDK's enum
    kind = _KINDS.get(raw) if isinstance(raw, str) else None
    if kind is None:
        raise PlanError(f"filter.kind: unknown filter kind {raw!r} (expected one of {sorted(set(_KINDS.values()))})")
    if kind != CONDITIONAL:
        return kind, None
    condition = f.get("condition")
    if condition is None:
        raise PlanError("filter.condition: a KIND_CONDITIONAL plan needs a condition")
    return kind, condition


# --- the condition as a tree of nodes that say where they are ----------------------------------


class Value(NamedTuple):
    """A known value (``{"value": v}``): a JSON value; numbers may be int or float."""

    value: Any


class Variable(NamedTuple):
    """An attribute path (``{"variable": "request.resource.attr.owner"}``)."""

    name: str


class Call(NamedTuple):
    """An operator applied to operands (``{"expression": {"operator": op, "operands": [...]}}``)."""

    operator: str
    operands: Tuple["Node", ...]
    where: str


Node = Union[Value, Variable, Call]


def parse_operand(raw: Any, where: str = "condition") -> Node:
    """A JSON operand as nodes; :class:`PlanError` names a malformed one and where it is."""
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where}: expected an operand object, got {type(raw).__name__}")
    if "expression" in raw:
        expression = raw["expression"]
        if not isinstance(expression, Mapping):
            raise PlanError(f"{where}.expression: expected an object, got {type(expression).__name__}")
        operator = expression.get("operator")
        if not isinstance(operator, str) or not operator:
            raise PlanError(f"{where}.expression.operator: expected a non-empty string, got {operator!r}")
        operands = expression.get("operands", [])
        if not isinstance(operands, list):
            raise PlanError(f"{where}.expression.operands: expected a list, got {type(operands).__name__}")
        parsed = tuple(parse_operand(o, f"{where}.operands[{i}]") for i, o in enumerate(operands))
        return Call(operator, parsed, where)
    if "variable" in raw:
        name = raw["variable"]
        if not isinstance(name, str) or not name:
            raise PlanError(f"{where}.variable: expected a non-empty string, got {name!r}")
        return Variable(name)
    if "value" in raw:
        return Value(raw["value"])
    raise PlanError(f"{where}: expected one of value, variable or expression, got keys {sorted(raw)}")
