"""``Client.plan_resources`` (and the async and principal-bound variants): the engine's plan as the
Cerbos SDK's ``PlanResourcesResponse``, as ``CerbosClient.plan_resources`` returns it."""

from __future__ import annotations

import asyncio
import json

import pytest
from warden import AsyncClient, Client
from warden.models import (
    PlanResourcesExpression,
    PlanResourcesFilterKind,
    PlanResourcesResponse,
    PlanResourcesValue,
    PlanResourcesVariable,
    Principal,
    ResourceDesc,
)

OWNER_IS_U1 = {
    "expression": {
        "operator": "eq",
        "operands": [{"variable": "request.resource.attr.owner_id"}, {"value": "u1"}],
    }
}


@pytest.fixture
def client(contacts_policies):
    with Client(contacts_policies) as c:
        yield c


def test_conditional_plan_as_sdk_models(client):
    resp = client.plan_resources("update", Principal("u1", {"user"}), ResourceDesc("contact"), request_id="r1")
    assert isinstance(resp, PlanResourcesResponse)
    assert (resp.request_id, resp.action, resp.resource_kind, resp.policy_version) == (
        "r1",
        ["update"],
        "contact",
        "default",
    )
    assert not resp.failed() and resp.raise_if_failed() is resp
    assert resp.filter.kind is PlanResourcesFilterKind.CONDITIONAL
    cond = resp.filter.condition
    assert isinstance(cond, PlanResourcesExpression)
    assert cond.expression.operator == "eq"
    assert cond.expression.operands == [
        PlanResourcesVariable("request.resource.attr.owner_id"),
        PlanResourcesValue("u1"),
    ]
    # what cerbos_sqlalchemy reads
    assert cond.to_dict() == OWNER_IS_U1


def test_kinds_and_several_actions(client):
    admin = Principal("a1", {"admin"})
    user = Principal("u1", {"user"})
    both = client.plan_resources(["update", "delete"], admin, ResourceDesc("contact"))
    assert both.action == ["update", "delete"] and both.filter.kind == "KIND_ALWAYS_ALLOWED"
    assert both.filter.condition is None
    denied = client.plan_resources("read", Principal("g", {"guest"}), ResourceDesc("contact"))
    assert denied.filter.kind is PlanResourcesFilterKind.ALWAYS_DENIED
    # ids are fresh when none is given
    assert client.plan_resources("read", user, ResourceDesc("contact")).request_id != denied.request_id


def test_dicts_are_accepted_and_round_trip(client):
    resp = client.plan_resources("update", {"id": "u1", "roles": ["user"]}, {"kind": "contact"})
    data = json.loads(resp.to_json())
    assert data["filter"] == {"kind": "KIND_CONDITIONAL", "condition": OWNER_IS_U1}
    assert PlanResourcesResponse.from_dict(data) == resp


def test_principal_context_and_async(client, contacts_policies):
    ctx = client.with_principal(Principal("u1", {"user"}))
    assert ctx.plan_resources("delete", ResourceDesc("contact")).filter.condition.to_dict() == OWNER_IS_U1

    async def run():
        async with AsyncClient(contacts_policies) as ac:
            direct = await ac.plan_resources("update", Principal("u1", {"user"}), ResourceDesc("contact"))
            bound = await ac.with_principal(Principal("u1", {"user"})).plan_resources("update", ResourceDesc("contact"))
            return direct, bound

    direct, bound = asyncio.run(run())
    assert direct.filter.condition.to_dict() == bound.filter.condition.to_dict() == OWNER_IS_U1


def test_bad_input_names_the_field(client):
    with pytest.raises(ValueError, match="resource.kind"):
        client.plan_resources("read", Principal("u1", {"user"}), {"kind": ""})
    with pytest.raises(ValueError, match="actions"):
        client.plan_resources([], Principal("u1", {"user"}), ResourceDesc("contact"))
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.plan_resources("read", Principal("u1", {"user"}), ResourceDesc("contact"))


def test_aux_data_claims_fold_into_the_plan():
    from warden import Engine
    from warden.models import JWT, AuxData

    policy = {
        "apiVersion": "api.cerbos.dev/v1",
        "resourcePolicy": {
            "version": "default",
            "resource": "doc",
            "rules": [
                {
                    "actions": ["read"],
                    "effect": "EFFECT_ALLOW",
                    "roles": ["*"],
                    "condition": {"match": {"expr": "R.attr.team == request.auxData.jwt.team"}},
                }
            ],
        },
    }
    client = Client(Engine.from_policies([policy]))
    resp = client.plan_resources(
        "read", Principal("u1", {"user"}), ResourceDesc("doc"), aux_data={"jwt": {"team": "red"}}
    )
    assert resp.filter.condition.to_dict()["expression"]["operands"][1] == {"value": "red"}
    with pytest.raises(ValueError, match="verified claims"):
        client.plan_resources(
            "read", Principal("u1", {"user"}), ResourceDesc("doc"), aux_data=AuxData(jwt=JWT("x.y.z"))
        )
