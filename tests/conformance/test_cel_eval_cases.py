"""Cerbos's ``cel_eval/`` cases (conditions and CEL functions), through the engine.

Cerbos's ``TestSatisfiesCondition`` evaluates each case's ``condition``
against its ``request`` with ``now()`` fixed at 2021-04-22T10:05:20.021-05:00
and no variables, constants or globals. warden's conformance surface is
``Engine.check``, so each case becomes a one-rule resource policy for the
request's resource kind (any role, action ``cel_eval``, that condition),
checked with that ``now``: ``want: true`` must ALLOW; ``want: false`` must
DENY; ``wantError: true`` must DENY and report an evaluation error. Like
Cerbos's test, only the result is checked (an erroring branch of an ``any``
may still be reported as an evaluation error). Lenient
scope search lets scoped requests fall back to the one root-scope policy.
"""

from __future__ import annotations

import copy

import pytest

from tests.conformance.cerbos_data import case_files, load_case, require_testdata

# Cases expected to fail until the named feature lands, keyed by case name
# ("cel_eval/sets"); the value names the missing feature.
XFAIL: dict[str, str] = {}

NOW = "2021-04-22T10:05:20.021-05:00"
ACTION = "cel_eval"

require_testdata()


def _params() -> list:
    params = []
    for name, path in case_files("cel_eval"):
        reason = XFAIL.get(name)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(name, path, id=name, marks=marks))
    return params


def _policy(case: dict) -> dict:
    resource = case["request"]["resource"]
    return {
        "apiVersion": "api.cerbos.dev/v1",
        "resourcePolicy": {
            "resource": resource["kind"],
            "version": resource.get("policyVersion") or "default",
            "rules": [
                {
                    "name": "cel_eval",
                    "actions": [ACTION],
                    "effect": "EFFECT_ALLOW",
                    "roles": ["*"],
                    "condition": {"match": case["condition"]},
                }
            ],
        },
    }


@pytest.mark.parametrize(("name", "path"), _params())
def test_cel_eval_case(name: str, path) -> None:
    from warden import Engine

    case = load_case(path)
    engine = Engine.from_policies([_policy(case)], lenient_scope_search=True)
    check_input = copy.deepcopy(case["request"])
    check_input["requestId"] = name
    check_input["actions"] = [ACTION]
    (out,) = engine.check([check_input], now=NOW)
    effect = out["actions"][ACTION]["effect"]
    errors = out.get("evaluationErrors") or []
    if case.get("wantError"):
        assert effect == "EFFECT_DENY" and errors, f"{name}: want an evaluation error, got {effect} {errors}"
        return
    want = "EFFECT_ALLOW" if case.get("want") else "EFFECT_DENY"
    assert effect == want, f"{name}: condition should be {bool(case.get('want'))}; got {effect}, errors {errors}"
