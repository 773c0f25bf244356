"""Malformed scopes (a leading, trailing or doubled dot) are refused as Cerbos refuses them: in a
request, a ValueError naming the field with protovalidate's message; in a policy, a load error
at the file and line. Well-formed scopes, and `.` for the root, keep working."""

from __future__ import annotations

import re

import pytest
from warden import Client, Engine, PolicyError

PATTERN = r"^(^$|\.|[0-9a-zA-Z][\w\-]*(\.\w[\w\-]*)*)$"
NOT_A_SCOPE = f"value does not match regex pattern `{PATTERN}`"
MALFORMED = [".acme", "acme.", "a..b"]


def policy(scope: str, effect: str) -> str:
    return f"""apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  scope: "{scope}"
  rules:
    - actions: [read]
      roles: [user]
      effect: {effect}
"""


@pytest.fixture(scope="module")
def engine() -> Engine:
    # acme allows, the root denies: a scope that reached the acme policy would be allowed.
    return Engine.from_policies([policy("", "EFFECT_DENY"), policy("acme", "EFFECT_ALLOW")])


def principal(scope: str = "") -> dict:
    return {"id": "u", "roles": ["user"], "scope": scope}


def resource(scope: str = "") -> dict:
    return {"kind": "doc", "id": "1", "scope": scope}


def expect(field: str):
    return pytest.raises(ValueError, match=re.escape(f"{field}: {NOT_A_SCOPE}"))


def test_well_formed_scopes_are_decided(engine):
    assert engine.is_allowed(principal(), resource("acme"), action="read")
    assert not engine.is_allowed(principal(), resource(""), action="read")
    assert not engine.is_allowed(principal(), resource("."), action="read")  # `.` is the root


@pytest.mark.parametrize("scope", MALFORMED)
def test_is_allowed_refuses_a_malformed_scope(engine, scope):
    with expect("resource.scope"):
        engine.is_allowed(principal(), resource(scope), action="read")
    with expect("principal.scope"):
        engine.is_allowed(principal(scope), resource("acme"), action="read")


@pytest.mark.parametrize("scope", MALFORMED)
def test_check_and_decision_table_name_the_input(engine, scope):
    good = {"principal": principal(), "resource": resource("acme"), "actions": ["read"]}
    with expect("inputs[1].resource.scope"):
        engine.check([good, {**good, "resource": resource(scope)}])
    with expect("resources[1].scope"):
        engine.decision_table(principal(), [resource("acme"), resource(scope)], ["read"])
    with expect("input.principal.scope"):
        engine.explain({**good, "principal": principal(scope)})


@pytest.mark.parametrize("scope", MALFORMED)
def test_check_resources_json_refuses_as_cerbos_api_does(engine, scope):
    request = {
        "principal": principal(),
        "resources": [
            {"actions": ["read"], "resource": resource("acme")},
            {"actions": ["read"], "resource": resource(scope)},
        ],
    }
    with expect("resources[1].resource.scope"):
        engine.check_resources_json(request)
    with expect("principal.scope"):
        engine.check_resources_json({**request, "principal": principal(scope), "resources": request["resources"][:1]})


@pytest.mark.parametrize("scope", MALFORMED)
def test_plans_refuse_a_malformed_scope(engine, scope):
    request = {"principal": principal(), "resource": {"kind": "doc", "scope": scope}, "actions": ["read"]}
    with expect("resource.scope"):
        engine.plan_resources_json(request)
    with expect("resource.scope"):
        engine.plan_resources(principal(), {"kind": "doc", "scope": scope}, ["read"])
    assert engine.plan_resources_json({**request, "resource": {"kind": "doc", "scope": "acme"}})["filter"] == {
        "kind": "KIND_ALWAYS_ALLOWED"
    }


@pytest.mark.parametrize("scope", MALFORMED)
def test_client_names_the_sdk_field(scope):
    client = Client([policy("", "EFFECT_DENY"), policy("acme", "EFFECT_ALLOW")])
    resources = [{"resource": resource(scope), "actions": ["read"]}]
    with expect("resources[0].resource.scope"):
        client.check_resources(principal(), resources)
    with expect("resource.scope"):
        client.is_allowed("read", principal(), resource(scope))


@pytest.mark.parametrize("scope", MALFORMED)
def test_default_scope_must_be_well_formed(scope):
    with expect("default_scope"):
        Engine.from_policies([policy("", "EFFECT_DENY")], default_scope=scope)


@pytest.mark.parametrize("scope", MALFORMED)
def test_a_policy_with_a_malformed_scope_does_not_load(tmp_path, scope):
    (tmp_path / "doc.yaml").write_text(policy(scope, "EFFECT_ALLOW"))
    with pytest.raises(PolicyError) as caught:
        Engine.from_directory(tmp_path)
    [problem] = caught.value.errors
    assert (problem["file"], problem["line"]) == ("doc.yaml", 5)
    assert problem["message"] == f"resourcePolicy.scope: does not match regex pattern `{PATTERN}`"
