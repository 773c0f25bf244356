"""What a plan admits, decided by the engine, and why ``check`` may admit more.

The differential tests compare a query's rows with two references:

- :func:`plan_admits`: the rows the plan's condition admits, evaluated by the engine itself (the
  condition written back as CEL, the only rule of a policy). A translation is exact when its rows
  are these rows.
- ``Engine.check``: the plan never admits a row check denies; it may exclude a row check allows
  only where Cerbos's planner and engine part, which :func:`gap_reason` reads from the engine's
  trace (docs/list-endpoints.md): a condition leaf failed on the row (check counts the leaf false,
  the plan keeps the failure, which a ``not`` of a DENY rule or a ``none:`` cannot turn into true),
  or one role's DENY matched while another role's ALLOW decided.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set

import warden

_INFIX = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_METHODS = {"contains", "startsWith", "endsWith"}
_engines: Dict[str, Any] = {}

LEAF_FAILED = "a condition leaf failed on the row (check counts it false; the plan keeps the failure)"
ROLES_APART = "one role's DENY matched while another role's ALLOW decided (check takes roles one by one)"


def cel_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(cel_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {cel_literal(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"no CEL literal for {value!r}")


def plan_to_cel(operand: Mapping[str, Any]) -> str:
    """A plan operand as CEL (the operators the Django translation supports)."""
    if "value" in operand:
        return cel_literal(operand["value"])
    if "variable" in operand:
        return operand["variable"]
    op, args = operand["expression"]["operator"], [plan_to_cel(o) for o in operand["expression"]["operands"]]
    if op in ("and", "or"):
        return "(" + (" && " if op == "and" else " || ").join(args) + ")"
    if op == "not":
        return f"!({args[0]})"
    if op == "if":
        return f"({args[0]} ? {args[1]} : {args[2]})"
    if op in _INFIX:
        return f"({args[0]} {_INFIX[op]} {args[1]})"
    if op == "in":
        return f"({args[0]} in {args[1]})"
    if op in _METHODS:
        return f"{args[0]}.{op}({args[1]})"
    return f"{op}({', '.join(args)})"


def plan_admits(plan: Mapping[str, Any], resources: List[Dict[str, Any]]) -> Set[str]:
    """The ids of ``resources`` (dicts with ``id`` and ``attr``) the plan's condition admits."""
    kind = plan["filter"]["kind"]
    if kind == "KIND_ALWAYS_ALLOWED":
        return {r["id"] for r in resources}
    if kind == "KIND_ALWAYS_DENIED":
        return set()
    expr = plan_to_cel(plan["filter"]["condition"])
    engine = _engines.get(expr)
    if engine is None:
        rule = {"actions": ["plan"], "effect": "EFFECT_ALLOW", "roles": ["*"], "condition": {"match": {"expr": expr}}}
        policy = {
            "apiVersion": "api.cerbos.dev/v1",
            "resourcePolicy": {"version": "default", "resource": "plan", "rules": [rule]},
        }
        engine = _engines[expr] = warden.Engine.from_policies([policy])
    rows = [{"kind": "plan", "id": r["id"], "attr": r["attr"]} for r in resources]
    decisions = engine.decision_table({"id": "oracle", "roles": ["any"]}, rows, ["plan"])
    return {r["id"] for r, (ok,) in zip(resources, decisions, strict=True) if ok}


def _failed(conditions: Iterable[Mapping[str, Any]]) -> bool:
    return any("error" in c or not isinstance(c.get("value"), bool) for c in conditions)


def gap_reason(engine: Any, principal: Mapping[str, Any], resource: Mapping[str, Any], action: str) -> Optional[str]:
    """Why check allows a row the plan excludes (see the module's docstring); None when the trace shows neither."""
    trace = engine.explain({"principal": principal, "resource": resource, "actions": [action]})
    for decided in trace["actions"]:
        denies = [s for s in decided.get("steps", []) if s.get("effect") == "EFFECT_DENY"]
        if decided.get("effect") == "EFFECT_ALLOW" and any(s.get("matched") for s in denies):
            return ROLES_APART
    leaves = [c for d in trace.get("derivedRoles", []) for c in d.get("conditions", [])]
    leaves += [c for a in trace["actions"] for s in a.get("steps", []) for c in s.get("conditions", [])]
    return LEAF_FAILED if _failed(leaves) else None
