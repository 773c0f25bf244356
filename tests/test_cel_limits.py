"""CEL limits through the engine: conditions too large or too deep do not load (they used to load and
crash the process on the first check), and evaluations over their budget deny with an evaluation error."""

from __future__ import annotations

import json

import pytest
from warden import Engine
from warden.errors import PolicyError


def policy(expr: str) -> dict:
    return {
        "apiVersion": "api.cerbos.dev/v1",
        "resourcePolicy": {
            "resource": "doc",
            "version": "default",
            "rules": [
                {"actions": ["read"], "effect": "EFFECT_ALLOW", "roles": ["*"], "condition": {"match": {"expr": expr}}}
            ],
        },
    }


def check_input(attr: dict) -> dict:
    return {
        "requestId": "r",
        "principal": {"id": "u", "roles": ["user"], "attr": {}},
        "resource": {"kind": "doc", "id": "1", "attr": attr},
        "actions": ["read"],
    }


@pytest.mark.parametrize(
    "expr",
    [
        " + ".join(["1"] * 4100) + " == 0",
        "1" + " == 1" * 4100,
        "R.attr.s" + ".size()" * 4100 + " == 0",
        "R.attr.l" + "[0]" * 4100 + " == 0",
        "R.attr" + ".a" * 4100 + " == 0",
    ],
)
def test_too_deep_conditions_do_not_load(expr):
    with pytest.raises(PolicyError) as info:
        Engine.from_policies([policy(expr)])
    (error,) = info.value.errors
    assert error["file"] == "policies[0]"
    assert "max recursion depth exceeded: the expression nests more than 250 levels deep" in error["message"]


def test_too_large_conditions_do_not_load():
    with pytest.raises(PolicyError, match="expression code point size exceeds limit: size: 100008, limit 100000"):
        Engine.from_policies([policy("'" + "x" * 100_000 + "' == ''")])


def test_a_condition_over_its_step_budget_denies_with_an_evaluation_error():
    engine = Engine.from_policies([policy("R.attr.items.all(i, R.attr.items.all(j, i + j >= 0.0))")])
    items = list(range(5000))
    (out,) = engine.check([check_input({"items": items})])
    assert out["actions"]["read"]["effect"] == "EFFECT_DENY"
    message = "evaluation stopped: the expression took more than 1000000 steps"
    assert any(message in e["celError"]["message"] for e in out["evaluationErrors"]), out
    explained = engine.explain(check_input({"items": items}))
    assert message in json.dumps(explained)
    # Within the budget, the same condition allows.
    (out,) = engine.check([check_input({"items": items[:500]})])
    assert out["actions"]["read"]["effect"] == "EFFECT_ALLOW"


def test_a_condition_over_its_byte_budget_denies_with_an_evaluation_error():
    doubled = "R.attr.s"
    for i in range(10):
        doubled = f"cel.bind(d{i}, {doubled}, d{i} + d{i})"
    engine = Engine.from_policies([policy(f"size({doubled}) > 0")])
    (out,) = engine.check([check_input({"s": "x" * (1 << 20)})])
    assert out["actions"]["read"]["effect"] == "EFFECT_DENY"
    assert any("built more than 32 MiB" in e["celError"]["message"] for e in out["evaluationErrors"]), out
