"""Cerbos's request limits (`server.requestLimits`: `maxResourcesPerRequest`, `maxActionsPerResource`,
50 each by default) on the Cerbos-API-shaped calls, configurable per engine; the library calls
(`check`, `decision_table`, `plan_resources`) are limited only when a limit is configured."""

from __future__ import annotations

import re

import pytest
from warden import Client, Engine

POLICY = """
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - actions: ["*"]
      roles: [user]
      effect: EFFECT_ALLOW
"""

PRINCIPAL = {"id": "u", "roles": ["user"]}


def actions(n: int) -> list[str]:
    return [f"a{i}" for i in range(n)]


def check_request(resources: int, actions_each: int = 1) -> dict:
    return {
        "principal": PRINCIPAL,
        "resources": [
            {"actions": actions(actions_each), "resource": {"kind": "doc", "id": str(i)}} for i in range(resources)
        ],
    }


def plan_request(n_actions: int) -> dict:
    return {"principal": PRINCIPAL, "resource": {"kind": "doc"}, "actions": actions(n_actions)}


@pytest.fixture(scope="module")
def default() -> Engine:
    return Engine.from_policies([POLICY])


def allowed_everything(resp: dict, resources: int, actions_each: int) -> bool:
    results = resp["results"]
    return len(results) == resources and all(
        len(r["actions"]) == actions_each and set(r["actions"].values()) == {"EFFECT_ALLOW"} for r in results
    )


# --- check_resources_json: Cerbos's defaults ------------------------------------------------------


@pytest.mark.parametrize("n", [1, 49, 50])
def test_resources_up_to_the_default_limit_are_decided(default, n):
    assert allowed_everything(default.check_resources_json(check_request(n)), n, 1)


def test_one_resource_over_the_default_limit_is_refused(default):
    message = "resources: number of resources in batch (51) exceeds configured limit max_resources_per_request (50)"
    with pytest.raises(ValueError, match=re.escape(message)):
        default.check_resources_json(check_request(51))


@pytest.mark.parametrize("n", [49, 50])
def test_actions_up_to_the_default_limit_are_decided(default, n):
    assert allowed_everything(default.check_resources_json(check_request(2, n)), 2, n)


def test_one_action_over_the_default_limit_is_refused_naming_the_resource(default):
    request = check_request(3, 1)
    request["resources"][2]["actions"] = actions(51)
    message = "resources[2].actions: number of actions (51) exceeds configured limit max_actions_per_resource (50)"
    with pytest.raises(ValueError, match=re.escape(message)):
        default.check_resources_json(request)


# --- configured limits ---------------------------------------------------------------------------


def test_configured_limits_replace_the_defaults():
    engine = Engine.from_policies([POLICY], max_resources_per_request=3, max_actions_per_resource=2)
    assert allowed_everything(engine.check_resources_json(check_request(3, 2)), 3, 2)
    with pytest.raises(
        ValueError,
        match=re.escape("number of resources in batch (4) exceeds configured limit max_resources_per_request (3)"),
    ):
        engine.check_resources_json(check_request(4, 1))
    with pytest.raises(
        ValueError,
        match=re.escape(
            "resources[0].actions: number of actions (3) exceeds configured limit max_actions_per_resource (2)"
        ),
    ):
        engine.check_resources_json(check_request(1, 3))


def test_none_turns_each_limit_off(tmp_path):
    (tmp_path / "doc.yaml").write_text(POLICY)
    engine = Engine.from_directory(tmp_path, max_resources_per_request=None, max_actions_per_resource=None)
    assert allowed_everything(engine.check_resources_json(check_request(120, 70)), 120, 70)
    only_actions = Engine.from_directory(tmp_path, max_resources_per_request=None)
    assert allowed_everything(only_actions.check_resources_json(check_request(120, 50)), 120, 50)
    with pytest.raises(ValueError, match=re.escape("max_actions_per_resource (50)")):
        only_actions.check_resources_json(check_request(1, 51))


@pytest.mark.parametrize(
    "value, error, message",
    [
        (0, ValueError, "expected an int of at least 1 or None (no limit), got 0"),
        (-5, ValueError, "got -5"),
        ("50", ValueError, "got '50'"),
        (True, TypeError, "expected an int or None, got bool"),
    ],
)
def test_a_limit_must_be_a_positive_int_or_none(value, error, message):
    with pytest.raises(error, match=re.escape(message)):
        Engine.from_policies([POLICY], max_resources_per_request=value)


# --- plan_resources_json: the actions count -------------------------------------------------------


def test_plan_actions_count_against_the_configured_limit():
    engine = Engine.from_policies([POLICY], max_actions_per_resource=3)
    assert engine.plan_resources_json(plan_request(3))["filter"] == {"kind": "KIND_ALWAYS_ALLOWED"}
    with pytest.raises(
        ValueError,
        match=re.escape("actions: number of actions (4) exceeds configured limit max_actions_per_resource (3)"),
    ):
        engine.plan_resources_json(plan_request(4))


def test_plan_actions_stay_under_cerbos_fixed_maximum_of_twenty(default):
    # Cerbos's request validation allows at most 20 actions in a plan request, below the default limit.
    assert default.plan_resources_json(plan_request(20))["filter"] == {"kind": "KIND_ALWAYS_ALLOWED"}
    with pytest.raises(ValueError, match="at most 20 actions"):
        default.plan_resources_json(plan_request(21))


# --- the library calls ------------------------------------------------------------------------------


def test_library_calls_are_unlimited_by_default(default):
    inputs = [
        {"principal": PRINCIPAL, "resource": {"kind": "doc", "id": str(i)}, "actions": actions(60)} for i in range(60)
    ]
    outputs = default.check(inputs)
    assert len(outputs) == 60 and all(len(o["actions"]) == 60 for o in outputs)
    table = default.decision_table(PRINCIPAL, [{"kind": "doc", "id": str(i)} for i in range(60)], actions(60))
    assert len(table) == 60 and all(all(row) and len(row) == 60 for row in table)
    plan = default.plan_resources(PRINCIPAL, {"kind": "doc"}, actions(60))
    assert plan["filter"] == {"kind": "KIND_ALWAYS_ALLOWED"}


def test_library_calls_follow_configured_limits():
    engine = Engine.from_policies([POLICY], max_resources_per_request=2, max_actions_per_resource=2)
    one = {"principal": PRINCIPAL, "resource": {"kind": "doc", "id": "1"}, "actions": actions(2)}
    assert len(engine.check([one, one])) == 2
    with pytest.raises(
        ValueError,
        match=re.escape(
            "inputs: number of resources in batch (3) exceeds configured limit max_resources_per_request (2)"
        ),
    ):
        engine.check([one, one, one])
    with pytest.raises(ValueError, match=re.escape("inputs[1].actions: number of actions (3)")):
        engine.check([one, {**one, "actions": actions(3)}])
    docs = [{"kind": "doc", "id": "1"}, {"kind": "doc", "id": "2"}]
    assert engine.decision_table(PRINCIPAL, docs, actions(2)) == [[True, True], [True, True]]
    with pytest.raises(ValueError, match=re.escape("resources: number of resources in batch (3)")):
        engine.decision_table(PRINCIPAL, docs + docs[:1], actions(2))
    with pytest.raises(ValueError, match=re.escape("actions: number of actions (3)")):
        engine.decision_table(PRINCIPAL, docs, actions(3))
    with pytest.raises(ValueError, match=re.escape("actions: number of actions (3)")):
        engine.plan_resources(PRINCIPAL, {"kind": "doc"}, actions(3))
    assert engine.is_allowed(PRINCIPAL, {"kind": "doc", "id": "1"}, action="a0")


# --- warden.Client: the PDP's limits ---------------------------------------------------------------


def client_resources(n: int, actions_each: int = 1) -> list[dict]:
    return [{"resource": {"kind": "doc", "id": str(i)}, "actions": actions(actions_each)} for i in range(n)]


def test_client_applies_the_default_limits():
    client = Client([POLICY])
    assert len(client.check_resources(PRINCIPAL, client_resources(50, 50)).results) == 50
    with pytest.raises(ValueError, match=re.escape("resources: number of resources in batch (51)")):
        client.check_resources(PRINCIPAL, client_resources(51))
    with pytest.raises(ValueError, match=re.escape("resources[0].actions: number of actions (51)")):
        client.check_resources(PRINCIPAL, client_resources(1, 51))


def test_client_options_configure_the_limits():
    client = Client([POLICY], max_resources_per_request=None, max_actions_per_resource=5)
    assert len(client.check_resources(PRINCIPAL, client_resources(80, 5)).results) == 80
    with pytest.raises(
        ValueError,
        match=re.escape(
            "resources[0].actions: number of actions (6) exceeds configured limit max_actions_per_resource (5)"
        ),
    ):
        client.check_resources(PRINCIPAL, client_resources(1, 6))
