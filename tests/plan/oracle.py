"""What a plan admits, decided by the engine itself, and why ``check`` may admit more.

The differential tests (``tests/plan``, SQLAlchemy; ``tests/django``, Django ``Q``) compare a
query's rows with two references:

- :func:`plan_admits`: the rows the plan's condition admits, evaluated by the engine: the condition
  written back as the only rule of a policy. A Cerbos plan is one CEL expression (a failure
  anywhere fails it); an exact plan (``Engine.plan_resources(exact=True)``) is ``and``/``or``/``not``
  over ``isTrue`` leaves, which become a ``match`` tree (``all``/``any``/``none`` over ``expr``
  leaves), where the engine counts a failed leaf false, as ``isTrue`` means. A translation is exact
  when its rows are these rows.
- ``Engine.check``: an exact plan admits exactly the rows check allows; a Cerbos plan never admits
  a row check denies, and excludes one check allows only where Cerbos's planner and engine part,
  which :func:`gap_reason` reads from the engine's trace (docs/list-endpoints.md).
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple

import warden

IS_TRUE = "isTrue"
_INFIX = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "add": "+",
    "sub": "-",
    "mult": "*",
    "div": "/",
    "mod": "%",
}
_MEMBER = {"contains", "startsWith", "endsWith", "matches", "upperAscii", "lowerAscii", "timeSince"}
_MEMBER |= {"ancestorOf", "descendentOf", "immediateParentOf", "immediateChildOf", "overlaps", "siblingOf"}
_MACROS = {"exists", "all", "exists_one", "filter", "map"}
_ENGINES: Dict[str, Any] = {}

LEAF_FAILED = (
    "a condition leaf (an `expr:` of a match, a derived role's too) failed on the row: check counts the leaf"
    " false, the plan keeps the failure, which a not() (a DENY rule, `none:`) cannot turn into true"
)
ROLES_APART = (
    "one role's DENY matched, another role's ALLOW decided: check takes roles one by one, the plan ANDs every DENY"
)


def cel_literal(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        # the plan writes every number as a double; an integral one is read as an int (as the adapters read it)
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(cel_literal(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {cel_literal(x)}" for k, x in v.items()) + "}"
    raise ValueError(f"no CEL literal for {v!r}")


def plan_to_cel(operand: Mapping[str, Any]) -> str:
    """A plan operand as a CEL expression (the inverse of the planner's conversion)."""
    if "value" in operand:
        return cel_literal(operand["value"])
    if "variable" in operand:
        return operand["variable"]
    e = operand["expression"]
    op, ops = e["operator"], e.get("operands", [])
    if op == IS_TRUE:
        raise ValueError("isTrue has no CEL form: plan_as_match expands it")
    args = [plan_to_cel(o) if op not in _MACROS else "" for o in ops]
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
    if op == "index":
        return f"{args[0]}[{args[1]}]"
    if op == "list":
        return "[" + ", ".join(args) + "]"
    if op in _MACROS:
        lam = ops[1]["expression"]["operands"]
        variables = ", ".join(v["variable"] for v in lam[1:])
        return f"{plan_to_cel(ops[0])}.{op}({variables}, {plan_to_cel(lam[0])})"
    if op in _MEMBER:
        return f"{args[0]}.{op}({', '.join(args[1:])})"
    return f"{op}({', '.join(args)})"


def _two_valued(operand: Mapping[str, Any]) -> bool:
    """Whether the operand is true or false on every row (never fails): booleans, ``isTrue``, and
    ``and``/``or``/``not`` of those."""
    if "value" in operand:
        return isinstance(operand["value"], bool)
    if "variable" in operand:
        return False
    e = operand["expression"]
    if e["operator"] == IS_TRUE:
        return True
    return e["operator"] in ("and", "or", "not") and all(_two_valued(o) for o in e.get("operands", []))


def _nested_is_true(operand: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    """The first ``isTrue`` inside ``operand`` (e.g. a derived role's condition in
    ``runtime.effectiveDerivedRoles``), innermost first."""
    if "expression" not in operand:
        return None
    for o in operand["expression"].get("operands", []):
        found = _nested_is_true(o)
        if found is not None:
            return found
        if "expression" in o and o["expression"]["operator"] == IS_TRUE:
            return o
    return None


def _replaced(operand: Mapping[str, Any], target: Mapping[str, Any], value: bool) -> Dict[str, Any]:
    if operand == target:
        return {"value": value}
    if "expression" not in operand:
        return dict(operand)
    e = operand["expression"]
    return {
        "expression": {
            "operator": e["operator"],
            "operands": [_replaced(o, target, value) for o in e.get("operands", [])],
        }
    }


def _leaf(operand: Mapping[str, Any]) -> Dict[str, Any]:
    """``isTrue(operand)`` as a match: an ``expr`` leaf; an ``isTrue`` nested in it is expanded on
    its two values (``(y && x[y:=true]) || (!y && x[y:=false])``, each side two-valued)."""
    inner = _nested_is_true(operand)
    if inner is None:
        return {"expr": plan_to_cel(operand)}
    y = _leaf(inner["expression"]["operands"][0])
    when_true = _leaf(_replaced(operand, inner, True))
    when_false = _leaf(_replaced(operand, inner, False))
    return {"any": {"of": [{"all": {"of": [y, when_true]}}, {"all": {"of": [{"none": {"of": [y]}}, when_false]}}]}}


def plan_as_match(operand: Mapping[str, Any]) -> Dict[str, Any]:
    """A plan's condition as a policy ``match``: two-valued structure (an exact plan's ``and``,
    ``or``, ``not`` over ``isTrue``) as ``all``/``any``/``none``; the rest as one ``expr``."""
    if not _two_valued(operand) or "value" in operand:
        return {"expr": plan_to_cel(operand)}
    e = operand["expression"]
    ops = e.get("operands", [])
    if e["operator"] == IS_TRUE:
        return _leaf(ops[0])
    if e["operator"] == "not":
        return {"none": {"of": [plan_as_match(ops[0])]}}
    return {("all" if e["operator"] == "and" else "any"): {"of": [plan_as_match(o) for o in ops]}}


def plan_admits(
    plan: Mapping[str, Any],
    resources: List[Mapping[str, Any]],
    principal_id: str = "oracle",
    now: Any = None,
) -> Set[str]:
    """The ids of ``resources`` (dicts with ``id`` and ``attr``) the plan's condition admits."""
    kind = plan["filter"]["kind"]
    if kind == "KIND_ALWAYS_ALLOWED":
        return {r["id"] for r in resources}
    if kind == "KIND_ALWAYS_DENIED":
        return set()
    match = plan_as_match(plan["filter"]["condition"])
    key = json.dumps(match, sort_keys=True)
    engine = _ENGINES.get(key)
    if engine is None:
        rule = {"actions": ["plan"], "effect": "EFFECT_ALLOW", "roles": ["*"], "condition": {"match": match}}
        policy = {
            "apiVersion": "api.cerbos.dev/v1",
            "resourcePolicy": {"version": "default", "resource": "plan", "rules": [rule]},
        }
        engine = _ENGINES[key] = warden.Engine.from_policies([policy])
    rows = [{"kind": "plan", "id": r["id"], "attr": r["attr"]} for r in resources]
    decisions = engine.decision_table({"id": principal_id, "roles": ["any"]}, rows, ["plan"], now=now)
    return {r["id"] for r, (ok,) in zip(resources, decisions, strict=True) if ok}


def _failed(conditions: Iterable[Mapping[str, Any]]) -> bool:
    return any("error" in c or not isinstance(c.get("value"), bool) for c in conditions)


def gap_reason(engine: Any, request: Mapping[str, Any], now: Any = None) -> Optional[str]:
    """Why ``check`` allows a row a Cerbos plan excludes, read from the engine's trace of
    ``request`` (``principal``, ``resource``, ``actions``, optionally ``auxData``); None when the
    trace shows neither of the two ways Cerbos's planner and engine part.

    Cerbos evaluates each ``expr:`` leaf of a condition on its own (a failure or a non-boolean is
    false) and combines leaves, rules and roles with two-valued logic; a Cerbos plan is one CEL tree,
    in which a failure propagates. Without a failed leaf the two agree, unless roles part.
    """
    trace = engine.explain(dict(request), now=now)
    for decided in trace["actions"]:
        denies = [s for s in decided.get("steps", []) if s.get("effect") == "EFFECT_DENY"]
        if decided.get("effect") == "EFFECT_ALLOW" and any(s.get("matched") for s in denies):
            return ROLES_APART
    leaves = [c for d in trace.get("derivedRoles", []) for c in d.get("conditions", [])]
    leaves += [c for a in trace["actions"] for s in a.get("steps", []) for c in s.get("conditions", [])]
    return LEAF_FAILED if _failed(leaves) else None


def differences(planned: Set[str], allowed: Set[str]) -> Tuple[List[str], List[str]]:
    """(ids the plan admits that check denies, ids check allows that the plan excludes), sorted."""
    return sorted(planned - allowed), sorted(allowed - planned)


__all__ = [
    "IS_TRUE",
    "LEAF_FAILED",
    "ROLES_APART",
    "cel_literal",
    "differences",
    "gap_reason",
    "plan_admits",
    "plan_as_match",
    "plan_to_cel",
]
