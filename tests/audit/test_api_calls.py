"""The decision log of the Cerbos-API-shaped calls: they decide through the API layer (its request
limits and key sets) and are logged like the library calls, refusals included."""

from __future__ import annotations

import pytest
import warden

from .conftest import DOC, POLICY, PRINCIPAL


def test_a_request_over_the_limits_is_refused_and_logged(policies):
    entries: list = []
    engine = warden.Engine.from_directory(
        policies, audit=entries.append, max_resources_per_request=1, max_actions_per_resource=1
    )
    two = [{"resource": DOC, "actions": ["read"]}, {"resource": dict(DOC, id="d2"), "actions": ["read"]}]
    with pytest.raises(ValueError, match=r"^resources: number of resources in batch \(2\) exceeds configured limit"):
        engine.check_resources_json({"principal": PRINCIPAL, "resources": two})
    plan = {"principal": PRINCIPAL, "resource": {"kind": "doc"}, "actions": ["read", "write"]}
    with pytest.raises(ValueError, match=r"^actions: number of actions \(2\) exceeds configured limit"):
        engine.plan_resources_json(plan)
    assert engine.flush_audit()
    errors = [e["checkResources"]["error"] for e in entries]
    assert [e.split(":")[0] for e in errors] == ["resources", "actions"]
    assert all("exceeds configured limit" in e for e in errors)


def test_api_calls_within_the_limits_are_logged_with_the_policy_version(policies):
    entries: list = []
    engine = warden.Engine.from_policies(
        [POLICY], audit=entries.append, policy_version="v7", max_resources_per_request=2
    )
    response = engine.check_resources_json(
        {"requestId": "r1", "principal": PRINCIPAL, "resources": [{"resource": DOC, "actions": ["read", "write"]}]}
    )
    assert response["results"][0]["actions"] == {"read": "EFFECT_ALLOW", "write": "EFFECT_DENY"}
    plan = engine.plan_resources_json(
        {"principal": PRINCIPAL, "resource": {"kind": "doc"}, "action": "read"}, exact=True
    )
    assert plan["filter"] == {"kind": "KIND_ALWAYS_ALLOWED"}
    assert engine.flush_audit()
    assert [("checkResources" in e, "planResources" in e) for e in entries] == [(True, False), (False, True)]
    assert entries[0]["checkResources"]["inputs"][0]["requestId"] == "r1"
    assert entries[1]["planResources"]["output"]["filter"] == {"kind": "KIND_ALWAYS_ALLOWED"}
    assert engine.policy_version == "v7"
