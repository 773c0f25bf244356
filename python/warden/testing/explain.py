"""Explanations of decisions as text, and assertions that fail with them.

:func:`format_explanation` renders what ``Engine.explain(...)`` returns: per action
the effect, the policy and scope that decided, the reason, each rule that was
considered with the value of every condition evaluated, and which derived roles
were active. It is the text a failing policy test shows, and is useful on its own::

    print(format_explanation(engine.explain(check_input, now=...)))
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

ActionFilter = Optional[Union[str, Sequence[str]]]


def _value(cond: Mapping[str, Any]) -> str:
    if cond.get("error"):
        return f"error: {cond['error']}"
    if "value" not in cond:
        return "not evaluated"
    return json.dumps(cond["value"], default=str)


def _scope(scope: str) -> str:
    return f'scope "{scope}"' if scope else "root scope"


def format_explanation(explanation: Mapping[str, Any], actions: ActionFilter = None) -> str:
    """Text of an ``Engine.explain(...)`` result; ``actions`` limits it to one action or a few."""
    if isinstance(actions, str):
        actions = [actions]
    wanted = set(actions) if actions is not None else None
    lines: List[str] = []
    for act in explanation.get("actions", []):
        if wanted is not None and act.get("action") not in wanted:
            continue
        policy = act.get("policy") or "no policy"
        lines.append(
            f'action "{act.get("action")}": {act.get("effect")} decided by {policy} ({_scope(act.get("scope", ""))})'
        )
        if act.get("reason"):
            lines.append(f"  reason: {act['reason']}")
        steps = act.get("steps") or []
        if not steps:
            lines.append("  no rule matched this action for the principal's roles")
        for step in steps:
            who = f"role {step.get('role')}" if step.get("role") else "principal"
            if step.get("derivedRole"):
                who += f" via derived role {step['derivedRole']}"
            effect = f" -> {step['effect']}" if step.get("effect") else ""
            state = "matched" if step.get("matched") else "not matched"
            cached = " (cached)" if step.get("cached") else ""
            lines.append(
                f"  {step.get('policyKind', '')} policy {step.get('policy')} ({_scope(step.get('scope', ''))}), "
                f'rule "{step.get("rule") or "?"}" for {who}{effect}: {state}{cached}'
            )
            for cond in step.get("conditions") or []:
                lines.append(f"      {cond.get('expr')}  =>  {_value(cond)}")
    roles = explanation.get("derivedRoles") or []
    if roles:
        active = [r["name"] for r in roles if r.get("active")]
        lines.append("derived roles active: " + (", ".join(active) if active else "none"))
        for role in roles:
            if role.get("active"):
                continue
            conds = role.get("conditions") or []
            detail = "; ".join(f"{c.get('expr')} => {_value(c)}" for c in conds) or "parent roles not held"
            lines.append(f"  inactive {role['name']} ({_scope(role.get('scope', ''))}): {detail}")
    errors = (explanation.get("output") or {}).get("evaluationErrors") or []
    for err in errors:
        cel = err.get("celError") or {}
        if cel:
            lines.append(f"evaluation error: {cel.get('expression')}: {cel.get('message')}")
        else:
            lines.append(f"evaluation error: {json.dumps(err, default=str)}")
    return "\n".join(lines)


class PolicyAssertionError(AssertionError):
    """A policy decision was not the one a test expected; ``explanation`` is the engine's account of it."""

    def __init__(self, message: str, explanation: Mapping[str, Any]):
        super().__init__(message)
        self.explanation = explanation


def _check_input(
    principal: Mapping[str, Any],
    resource: Mapping[str, Any],
    actions: Iterable[str],
    aux_data: Optional[Mapping[str, Any]],
) -> Dict[str, Any]:
    def plain(obj: Any) -> Any:
        if isinstance(obj, Mapping):
            return dict(obj)
        to_dict = getattr(obj, "to_dict", None)
        return to_dict() if callable(to_dict) else obj

    inp: Dict[str, Any] = {"principal": plain(principal), "resource": plain(resource), "actions": list(actions)}
    if aux_data:
        inp["auxData"] = dict(aux_data)
    return inp


def _assert_effect(
    engine: Any,
    principal: Any,
    resource: Any,
    actions: Union[str, Sequence[str]],
    want: str,
    aux_data: Optional[Mapping[str, Any]],
    now: Any,
) -> None:
    __tracebackhide__ = True
    names = [actions] if isinstance(actions, str) else list(actions)
    inp = _check_input(principal, resource, names, aux_data)
    explanation = engine.explain(inp, now=now)
    decided = (explanation.get("output") or {}).get("actions", {})
    wrong = [a for a in names if (decided.get(a) or {}).get("effect") != want]
    if wrong:
        p, r = inp["principal"], inp["resource"]
        got = ", ".join(f"{a}: {(decided.get(a) or {}).get('effect')}" for a in wrong)
        head = (
            f"expected {want} for principal {p.get('id')!r} (roles {p.get('roles')}) on "
            f"{r.get('kind')} {r.get('id')!r}, got {got}"
        )
        raise PolicyAssertionError(head + "\n" + format_explanation(explanation, wrong), explanation)


def assert_allowed(
    engine: Any,
    principal: Any,
    resource: Any,
    actions: Union[str, Sequence[str]],
    *,
    aux_data: Optional[Mapping[str, Any]] = None,
    now: Any = None,
) -> None:
    """Fail (with the decision's explanation) unless every one of ``actions`` is ``EFFECT_ALLOW``.

    ``principal``/``resource`` are Cerbos-shaped dicts (``{"id", "roles", "attr"}``,
    ``{"kind", "id", "attr"}``) or objects with ``to_dict()``.
    """
    __tracebackhide__ = True
    _assert_effect(engine, principal, resource, actions, "EFFECT_ALLOW", aux_data, now)


def assert_denied(
    engine: Any,
    principal: Any,
    resource: Any,
    actions: Union[str, Sequence[str]],
    *,
    aux_data: Optional[Mapping[str, Any]] = None,
    now: Any = None,
) -> None:
    """Fail (with the decision's explanation) unless every one of ``actions`` is ``EFFECT_DENY``."""
    __tracebackhide__ = True
    _assert_effect(engine, principal, resource, actions, "EFFECT_DENY", aux_data, now)
