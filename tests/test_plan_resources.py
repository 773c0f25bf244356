"""Engine.plan_resources / plan_resources_json: query plans through the Python API (Cerbos's
PlanResources), on the contacts example's policies and small inline ones."""

from __future__ import annotations

import datetime
import json
import time

import pytest
from warden import Engine
from warden.models import Principal, Resource

import jwt as pyjwt
from tests.conftest import CONTACTS
from tests.shared_data import shared_path

OWNER = '(eq request.resource.attr.owner_id "bob")'


@pytest.fixture(scope="module")
def contacts() -> Engine:
    return Engine.from_directory(CONTACTS / "policies")


@pytest.mark.parametrize("policies", ["policies", "policies_derived_roles"])
def test_a_user_may_update_own_contacts(policies):
    engine = Engine.from_directory(CONTACTS / policies)
    plan = engine.plan_resources({"id": "bob", "roles": ["user"]}, {"kind": "contact"}, ["update"])
    assert plan["filter"] == {
        "kind": "KIND_CONDITIONAL",
        "condition": {
            "expression": {
                "operator": "eq",
                "operands": [{"variable": "request.resource.attr.owner_id"}, {"value": "bob"}],
            }
        },
    }
    assert plan["meta"]["filterDebug"] == OWNER
    assert plan["actions"] == ["update"]
    assert plan["resourceKind"] == "contact"


def test_kinds_of_plans(contacts):
    bob, alice = {"id": "bob", "roles": ["user"]}, {"id": "alice", "roles": ["admin"]}
    contact = {"kind": "contact"}
    assert contacts.plan_resources(bob, contact, "read")["filter"] == {"kind": "KIND_ALWAYS_ALLOWED"}
    assert contacts.plan_resources(alice, contact, ["update", "delete"])["filter"] == {"kind": "KIND_ALWAYS_ALLOWED"}
    denied = contacts.plan_resources({"id": "eve", "roles": ["guest"]}, contact, ["read"])
    assert denied["filter"] == {"kind": "KIND_ALWAYS_DENIED"}
    # Several actions: the rows on which all are allowed.
    assert contacts.plan_resources(bob, contact, ["read", "update"])["meta"]["filterDebug"] == OWNER
    # No policy for the kind.
    none = contacts.plan_resources(bob, {"kind": "invoice"}, ["read"])
    assert none["filter"] == {"kind": "KIND_ALWAYS_DENIED"}
    assert none["meta"]["filterDebug"] == "NO_MATCH"


def test_known_attributes_are_folded(contacts):
    bob = {"id": "bob", "roles": ["user"]}
    assert contacts.plan_resources(bob, {"kind": "contact", "attr": {"owner_id": "bob"}}, ["update"])["filter"] == {
        "kind": "KIND_ALWAYS_ALLOWED"
    }
    assert contacts.plan_resources(bob, {"kind": "contact", "attr": {"owner_id": "eve"}}, ["update"])["filter"] == {
        "kind": "KIND_ALWAYS_DENIED"
    }


def test_models_and_now_are_accepted():
    engine = Engine.from_policies(
        [
            """
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - actions: [read]
      roles: [user]
      effect: EFFECT_ALLOW
      condition:
        match:
          expr: R.attr.expires > now() && R.attr.team in P.attr.teams
"""
        ]
    )
    principal = Principal("bob", {"user"}, attr={"teams": ["red", "blue"]})
    now = datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.timezone.utc)
    plan = engine.plan_resources(principal, Resource("", "doc"), ["read"], now=now)
    assert plan["meta"]["filterDebug"] == (
        '(and (gt request.resource.attr.expires (timestamp "2024-05-01T10:00:00Z")) '
        '(in request.resource.attr.team ["red","blue"]))'
    )
    same = engine.plan_resources(principal, {"kind": "doc"}, ["read"], now="2024-05-01T10:00:00Z")
    assert same["filter"] == plan["filter"]


def test_plans_agree_with_decisions(contacts):
    """A row is in the plan exactly when check allows it (the contacts policy, every role and action)."""
    rows = [{"owner_id": owner} for owner in ("bob", "alice", "", "BOB")]
    for principal in (
        {"id": "bob", "roles": ["user"]},
        {"id": "alice", "roles": ["admin"]},
        {"id": "x", "roles": ["guest"]},
    ):
        for action in ("read", "create", "update", "delete"):
            f = contacts.plan_resources(principal, {"kind": "contact"}, [action])["filter"]
            for attr in rows:
                allowed = contacts.is_allowed(principal, {"kind": "contact", "id": "1", "attr": attr}, action=action)
                if f["kind"] == "KIND_CONDITIONAL":
                    operands = f["condition"]["expression"]["operands"]
                    planned = attr["owner_id"] == operands[1]["value"]
                else:
                    planned = f["kind"] == "KIND_ALWAYS_ALLOWED"
                assert planned == allowed, (principal, action, attr, f)


def test_public_request_and_response(contacts):
    request = {
        "requestId": "r1",
        "action": "update",
        "includeMeta": True,
        "principal": {"id": "bob", "roles": ["user"]},
        "resource": {"kind": "contact", "policyVersion": "default"},
    }
    resp = contacts.plan_resources_json(request)
    assert resp == {
        "requestId": "r1",
        "action": "update",
        "resourceKind": "contact",
        "policyVersion": "default",
        "filter": {
            "kind": "KIND_CONDITIONAL",
            "condition": {
                "expression": {
                    "operator": "eq",
                    "operands": [{"variable": "request.resource.attr.owner_id"}, {"value": "bob"}],
                }
            },
        },
        "meta": {"filterDebug": OWNER},
    }
    del request["action"]
    request["actions"] = ["read", "update"]
    request["includeMeta"] = False
    resp = contacts.plan_resources_json(request)
    assert resp["actions"] == ["read", "update"]
    assert "meta" not in resp
    json.dumps(resp)  # plain JSON values only


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"action": "read", "actions": ["read"]}, "exactly one of 'action' or 'actions'"),
        ({}, "exactly one of 'action' or 'actions'"),
        ({"actions": ["read", "read"]}, "unique"),
        ({"actions": [f"a{i}" for i in range(21)]}, "at most 20"),
        ({"actions": "read"}, "actions"),
        ({"actions": ["read"], "principal": {"id": "bob", "roles": []}}, "principal.roles"),
        ({"actions": ["read"], "resource": {"kind": ""}}, "resource.kind"),
        ({"actions": ["read"], "resource": {"kind": "contact", "id": "1"}}, "id"),
        ({"actions": ["read"], "bogus": 1}, "bogus"),
    ],
)
def test_invalid_requests_name_the_field(contacts, change, message):
    request = {"principal": {"id": "bob", "roles": ["user"]}, "resource": {"kind": "contact"}, **change}
    with pytest.raises(ValueError, match=message):
        contacts.plan_resources_json(request)


def test_invalid_calls_name_the_argument(contacts):
    with pytest.raises(TypeError, match="principal.id"):
        contacts.plan_resources({"roles": ["user"]}, {"kind": "contact"}, ["read"])
    with pytest.raises(ValueError, match="actions"):
        contacts.plan_resources({"id": "bob", "roles": ["user"]}, {"kind": "contact"}, [])
    with pytest.raises(TypeError, match="actions"):
        contacts.plan_resources({"id": "bob", "roles": ["user"]}, {"kind": "contact"}, 3)
    with pytest.raises(ValueError, match="now"):
        contacts.plan_resources({"id": "bob", "roles": ["user"]}, {"kind": "contact"}, ["read"], now="yesterday")


KEYS = shared_path("conformance", "cerbos", "internal", "test", "testdata", "auxdata", "keys")


@pytest.mark.skipif(not KEYS.is_dir(), reason="the Cerbos test keys are in the shared test data (WARDEN_SHARED)")
def test_aux_data_tokens_are_verified():
    engine = Engine.from_policies(
        [
            """
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - actions: [read]
      roles: [user]
      effect: EFFECT_ALLOW
      condition:
        match:
          expr: R.attr.tenant == request.auxData.jwt.tenant
"""
        ],
        jwt_keysets={"cerbos": str(KEYS / "verify_key.jwk")},
    )
    jwk = json.loads((KEYS / "signing_key.jwk").read_text())
    token = pyjwt.encode(
        {"tenant": "acme", "exp": int(time.time()) + 300},
        pyjwt.PyJWK(jwk).key,
        algorithm=jwk.get("alg", "ES384"),
        headers={"kid": jwk.get("kid")},
    )
    request = {
        "actions": ["read"],
        "principal": {"id": "bob", "roles": ["user"]},
        "resource": {"kind": "doc"},
        "includeMeta": True,
        "auxData": {"jwt": {"token": token}},
    }
    assert engine.plan_resources_json(request)["meta"]["filterDebug"] == '(eq request.resource.attr.tenant "acme")'
    request["auxData"] = {"jwt": {"token": token[:-4] + "AAAA"}}
    with pytest.raises(ValueError, match="invalid auxData"):
        engine.plan_resources_json(request)


def test_presence_tests_on_request():
    engine = Engine.from_policies(
        [
            """
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - actions: [read]
      roles: [user]
      effect: EFFECT_ALLOW
      condition:
        match:
          expr: has(R.attr.owner)
"""
        ]
    )
    bob, doc = {"id": "bob", "roles": ["user"]}, {"kind": "doc"}
    # Cerbos writes `has(...)` as `true`.
    assert engine.plan_resources(bob, doc, ["read"])["filter"] == {"kind": "KIND_ALWAYS_ALLOWED"}
    plan = engine.plan_resources(bob, doc, ["read"], presence_tests=True)
    assert plan["filter"]["condition"] == {
        "expression": {"operator": "has", "operands": [{"variable": "request.resource.attr.owner"}]}
    }
