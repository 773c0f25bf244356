"""Behaviour of warden.models (the cerbos.sdk.model drop-in) and warden.Client."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
import warden
from warden.models import (
    JWT,
    APIError,
    AuxData,
    CerbosRequestException,
    CheckResourcesResponse,
    CheckResourcesResult,
    Effect,
    OutputEntry,
    Principal,
    Resource,
    ResourceAction,
    ResourceList,
    Source,
    ValidationError,
)

ACTIONS = ["read", "update", "delete"]


def contact(rid: str, owner: str) -> Resource:
    return Resource(rid, "contact", attr={"owner_id": owner})


# --------------------------------------------------------------------------- #
# models


def test_models_have_the_sdk_signatures():
    p = Principal("bob", {"user"})
    assert (p.id, p.roles, p.attr, p.policy_version, p.scope) == ("bob", {"user"}, {}, "default", "")
    r = Resource("abc123", "contact")
    assert (r.id, r.kind, r.attr, r.policy_version, r.scope) == ("abc123", "contact", {}, "default", "")
    assert Principal("a", ["r"]).attr is not Principal("b", ["r"]).attr  # fresh default per instance
    assert p.add_attr("dept", "x") is p and p.attr == {"dept": "x"}
    assert r.add_attr("owner_id", "bob") is r and r.attr == {"owner_id": "bob"}
    rl = ResourceList().add(r, {"read"}).add(contact("def456", "x"), ["read", "update"])
    assert [ra.resource.id for ra in rl.resources] == ["abc123", "def456"]
    assert isinstance(rl.resources[0], ResourceAction)
    assert [f.name for f in dataclasses.fields(OutputEntry)] == ["src", "val", "action", "error"]
    assert AuxData().jwt is None and AuxData(jwts={"a": JWT("t")}).jwts["a"].token == "t"
    assert JWT("t").key_set_id is None
    assert ValidationError("m", Source.PRINCIPAL).path is None


def test_effect_compares_with_protojson_names():
    assert Effect.ALLOW == "EFFECT_ALLOW" and Effect.DENY == "EFFECT_DENY"
    assert Effect("EFFECT_ALLOW") is Effect.ALLOW


def test_result_and_response_helpers():
    result = CheckResourcesResult(Resource("a", "k"), {"read": Effect.ALLOW, "update": Effect.DENY})
    assert result.is_allowed("read") and not result.is_allowed("update") and not result.is_allowed("nope")
    other = CheckResourcesResult(Resource("a", "k", scope="acme"), {"read": Effect.DENY})
    resp = CheckResourcesResponse("req", [result, other])
    assert resp.get_resource("a") is result
    assert resp.get_resource("a", lambda res: res.scope == "acme") is other
    assert resp.get_resource("missing") is None
    assert not resp.failed() and resp.raise_if_failed() is resp
    failed = CheckResourcesResponse("req", status_code=400, status_msg=APIError(3, "bad request"))
    assert failed.failed() and failed.get_resource("a") is None
    with pytest.raises(CerbosRequestException, match="bad request") as info:
        failed.raise_if_failed()
    assert info.value.error.code == 3


def test_to_dict_and_from_dict_use_camel_case():
    p = Principal("bob", {"user"}, policy_version="20210210")
    assert p.to_dict() == {"id": "bob", "roles": ["user"], "attr": {}, "policyVersion": "20210210", "scope": ""}
    assert Principal.from_dict(p.to_dict()) == Principal("bob", ["user"], policy_version="20210210")
    assert Principal.from_dict({"id": "x", "roles": ["r"], "policy_version": "v1"}).policy_version == "v1"
    resp = CheckResourcesResponse.from_json(
        '{"requestId": "1", "results": [{"resource": {"id": "a", "kind": "k"}, "actions": {"read": "EFFECT_ALLOW"},'
        ' "validationErrors": [{"message": "m", "source": "SOURCE_RESOURCE", "path": "/x"}]}]}'
    )
    assert resp.get_resource("a").actions == {"read": Effect.ALLOW}
    assert resp.results[0].validation_errors[0].source is Source.RESOURCE
    assert '"EFFECT_ALLOW"' in resp.to_json()


# --------------------------------------------------------------------------- #
# results: built once, as the SDK's models


def test_results_echo_the_request_resources(contacts_client):
    principal = Principal("bob", {"user"}, attr={"dept": "x"})
    mine = contact("abc123", "bob")
    other = {"id": "def456", "kind": "contact", "policyVersion": "v2", "scope": "acme.hr", "attr": {"owner_id": "x"}}
    resources = ResourceList().add(mine, ["read", "update"]).add(other, {"read"})
    resp = contacts_client.check_resources(principal, resources, request_id="r1", aux_data={"jwt": {"sub": "bob"}})
    assert type(resp) is CheckResourcesResponse and resp.request_id == "r1" and not resp.failed()
    assert [type(r) for r in resp.results] == [CheckResourcesResult, CheckResourcesResult]
    assert resp.results[0].resource is mine  # the request's own Resource, as the PDP echoes it
    echoed = resp.results[1].resource  # a dict resource is echoed as a Resource, like the PDP does
    assert type(echoed) is Resource
    assert (echoed.id, echoed.kind, echoed.policy_version, echoed.scope) == ("def456", "contact", "v2", "acme.hr")
    assert resp.results[0].actions == {"read": Effect.ALLOW, "update": Effect.ALLOW}
    assert resp.results[1].actions == {"read": Effect.DENY}  # no policy at version v2
    assert resp.results[0].validation_errors is None and resp.results[0].outputs is None


REPORT_POLICY = """\
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: report
  schemas:
    principalSchema:
      ref: cerbos:///principal.json
  rules:
    - name: viewers
      actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["*"]
      output:
        when:
          ruleActivated: |-
            {"who": P.id}
"""


def test_results_carry_outputs_and_validation_errors(tmp_path):
    (tmp_path / "report.yaml").write_text(REPORT_POLICY)
    (tmp_path / "_schemas").mkdir()
    (tmp_path / "_schemas" / "principal.json").write_text(
        '{"type": "object", "properties": {"dept": {"type": "string"}}, "required": ["dept"]}'
    )
    client = warden.Client(tmp_path, schema_enforcement="warn")
    resp = client.check_resources(Principal("bob", {"user"}), ResourceList().add(Resource("r1", "report"), ["view"]))
    (result,) = resp.results
    assert result.is_allowed("view")
    (error,) = result.validation_errors
    assert type(error) is ValidationError and error.source is Source.PRINCIPAL and "dept" in error.message
    assert result.outputs == [OutputEntry("resource.report.vdefault#viewers", {"who": "bob"}, "view")]


def test_default_request_ids_are_unique(contacts_client):
    ids = {
        contacts_client.check_resources(
            Principal("a", ["r"]), ResourceList().add(Resource("x", "contact"), ["read"])
        ).request_id
        for _ in range(100)
    }
    assert len(ids) == 100


def test_is_allowed_keeps_the_sdk_signature_and_subclass_overrides(contacts_policies):
    client = warden.Client(contacts_policies)
    bob = Principal("bob", {"user"})
    assert client.is_allowed(
        action="update", principal=bob, resource=contact("a", "bob"), request_id="r", aux_data=None
    )
    assert not client.is_allowed("update", bob, contact("a", "eve"), "r", {"jwt": {"sub": "bob"}})

    class Audited(warden.Client):
        def is_allowed(self, action, principal, resource, request_id=None, aux_data=None):
            self.asked = action
            return super().is_allowed(action, principal, resource, request_id, aux_data)

    audited = Audited(contacts_policies)
    assert audited.is_allowed("update", bob, contact("a", "bob")) and audited.asked == "update"


def test_client_takes_an_engine_not_a_lookalike():
    class Lookalike:
        def check(self, inputs, *, now=None):
            return []

    with pytest.raises(TypeError, match="policies: expected"):
        warden.Client(Lookalike())


# --------------------------------------------------------------------------- #
# the Client over the contacts policy (native engine)


def test_owner_can_update_non_owner_cannot_admin_can(contacts_client):
    bob = Principal("bob", {"user"})
    assert contacts_client.is_allowed("update", bob, contact("abc123", "bob"))
    assert contacts_client.is_allowed("delete", bob, contact("abc123", "bob"))
    assert not contacts_client.is_allowed("update", bob, contact("def456", "someone_else"))
    assert contacts_client.is_allowed("read", bob, contact("def456", "someone_else"))
    admin = Principal("alice", {"admin"})
    assert contacts_client.is_allowed("delete", admin, contact("def456", "someone_else"))
    assert not contacts_client.is_allowed("read", Principal("eve", {"guest"}), contact("abc123", "bob"))


def test_check_resources_in_request_order(contacts_client):
    resources = ResourceList(
        resources=[
            ResourceAction(contact("abc123", "bob"), actions=set(ACTIONS)),
            ResourceAction(contact("def456", "other_user_id"), actions=set(ACTIONS)),
        ]
    )
    resp = contacts_client.check_resources(Principal("bob", {"user"}, policy_version="20210210"), resources)
    resp.raise_if_failed()
    assert [r.resource.id for r in resp.results] == ["abc123", "def456"]
    mine, theirs = resp.get_resource("abc123"), resp.get_resource("def456")
    assert {a: mine.is_allowed(a) for a in ACTIONS} == {"read": True, "update": True, "delete": True}
    assert {a: theirs.is_allowed(a) for a in ACTIONS} == {"read": True, "update": False, "delete": False}
    assert theirs.actions["update"] is Effect.DENY and theirs.resource.kind == "contact"
    assert resp.request_id


def test_plain_dicts_are_accepted(contacts_client):
    principal = {"id": "bob", "roles": ["user"], "policyVersion": "default"}
    resource = {"id": "abc123", "kind": "contact", "attr": {"owner_id": "bob"}}
    assert contacts_client.is_allowed("update", principal, resource)
    resp = contacts_client.check_resources(
        {"id": "bob", "roles": ("user",)},
        [
            {"resource": resource, "actions": ["update"]},
            {"resource": {"id": "z", "kind": "contact", "attr": {"owner_id": "x"}}, "actions": ["update"]},
        ],
    )
    assert [r.is_allowed("update") for r in resp.results] == [True, False]


def test_verified_claims_as_aux_data(contacts_client):
    bob = Principal("bob", {"user"})
    assert contacts_client.is_allowed("update", bob, contact("abc123", "bob"), aux_data={"jwt": {"sub": "bob"}})


@pytest.mark.parametrize("aux", [AuxData(JWT("eyJ...")), {"jwt": JWT("eyJ...")}, {"jwt": "eyJ..."}])
def test_raw_jwt_tokens_are_refused_with_a_hint(contacts_client, aux):
    with pytest.raises(ValueError, match=r"^aux_data\.jwt: warden.Client does not verify raw JWT tokens"):
        contacts_client.is_allowed("read", Principal("bob", {"user"}), contact("a", "b"), aux_data=aux)


def test_empty_aux_data_is_no_aux_data(contacts_client):
    for aux in (None, {}, AuxData()):
        assert contacts_client.is_allowed("update", Principal("bob", {"user"}), contact("a", "bob"), aux_data=aux)


def test_with_principal(contacts_client):
    ctx = contacts_client.with_principal(Principal("bob", {"user"}))
    assert ctx.is_allowed("update", contact("abc123", "bob"))
    assert not ctx.is_allowed("update", contact("def456", "x"))
    resp = ctx.check_resources(ResourceList().add(contact("abc123", "bob"), {"delete"}))
    assert resp.get_resource("abc123").is_allowed("delete")


def test_context_manager_and_close(contacts_policies):
    with warden.Client(contacts_policies) as client:
        assert client.is_allowed("read", Principal("bob", {"user"}), contact("a", "x"))
        assert client.is_healthy()
    with pytest.raises(RuntimeError, match="closed"):
        client.is_allowed("read", Principal("bob", {"user"}), contact("a", "x"))
    client.close()  # idempotent


def test_client_from_engine_and_from_policy_texts(contacts_policies):
    engine = warden.Engine.from_directory(contacts_policies)
    assert warden.Client(engine).engine is engine
    text = (contacts_policies / "contact.yaml").read_text()
    client = warden.Client([text])
    assert client.is_allowed("update", Principal("bob", {"user"}), contact("abc123", "bob"))
    with pytest.raises(TypeError, match="options"):
        warden.Client(engine, lenient_scope_search=True)


def test_async_client(contacts_policies):
    async def run():
        async with warden.AsyncClient(contacts_policies) as client:
            bob = Principal("bob", {"user"})
            allowed = await client.is_allowed("update", bob, contact("abc123", "bob"))
            resp = await client.check_resources(bob, ResourceList().add(contact("def456", "x"), ["update"]))
            ctx_allowed = await client.with_principal(bob).is_allowed("delete", contact("abc123", "bob"))
            return allowed, resp.get_resource("def456").is_allowed("update"), ctx_allowed

    assert asyncio.run(run()) == (True, False, True)


def test_derived_roles_variant_decides_the_same(contacts_policies):
    variant = warden.Client(contacts_policies.parent / "policies_derived_roles")
    exact = warden.Client(contacts_policies)
    for principal in (Principal("alice", {"admin"}), Principal("bob", {"user"}), Principal("carol", {"user"})):
        for resource in (contact("abc123", "bob"), contact("def456", "other_user_id")):
            for action in ACTIONS + ["create"]:
                assert variant.is_allowed(action, principal, resource) == exact.is_allowed(action, principal, resource)


# --------------------------------------------------------------------------- #
# bad input raises ValueError / TypeError naming the field


@pytest.mark.parametrize(
    ("call", "exc", "field"),
    [
        (lambda c: c.is_allowed("read", Principal("bob", "user"), contact("a", "b")), TypeError, "principal.roles"),
        (lambda c: c.is_allowed("read", Principal("bob", set()), contact("a", "b")), ValueError, "principal.roles"),
        (lambda c: c.is_allowed("read", Principal("bob", {1}), contact("a", "b")), TypeError, "principal.roles"),
        (lambda c: c.is_allowed("read", Principal("", {"user"}), contact("a", "b")), ValueError, "principal.id"),
        (lambda c: c.is_allowed("read", Principal(7, {"user"}), contact("a", "b")), TypeError, "principal.id"),
        (lambda c: c.is_allowed("read", {"roles": ["user"]}, contact("a", "b")), TypeError, "principal.id"),
        (lambda c: c.is_allowed("read", "bob", contact("a", "b")), TypeError, "principal"),
        (
            lambda c: c.is_allowed("read", Principal("bob", {"user"}, attr=[1]), contact("a", "b")),
            TypeError,
            "principal.attr",
        ),
        (lambda c: c.is_allowed("read", Principal("bob", {"user"}), Resource("a", "")), ValueError, "resource.kind"),
        (lambda c: c.is_allowed("read", Principal("bob", {"user"}), {"kind": "contact"}), TypeError, "resource.id"),
        (lambda c: c.is_allowed(["read"], Principal("bob", {"user"}), contact("a", "b")), TypeError, "action"),
        (lambda c: c.is_allowed("", Principal("bob", {"user"}), contact("a", "b")), ValueError, "action"),
        (lambda c: c.check_resources(Principal("bob", {"user"}), ResourceList()), ValueError, "resources"),
        (lambda c: c.check_resources(Principal("bob", {"user"}), "abc"), TypeError, "resources"),
        (
            lambda c: c.check_resources(
                Principal("bob", {"user"}), ResourceList().add(contact("a", "b"), ["read"]).add(contact("c", "d"), [])
            ),
            ValueError,
            "resources[1].actions",
        ),
        (
            lambda c: c.check_resources(Principal("bob", {"user"}), [ResourceAction(Resource("a", 5), ["read"])]),
            TypeError,
            "resources[0].resource.kind",
        ),
        (
            lambda c: c.is_allowed("read", Principal("bob", {"user"}), contact("a", "b"), aux_data={"jwt": 3}),
            TypeError,
            "aux_data.jwt",
        ),
        (
            lambda c: c.is_allowed("read", Principal("bob", {"user"}), contact("a", "b"), aux_data=[1]),
            TypeError,
            "aux_data",
        ),
    ],
)
def test_bad_input_names_the_field(contacts_client, call, exc, field):
    with pytest.raises(exc) as info:
        call(contacts_client)
    assert str(info.value).startswith(field), str(info.value)


# --------------------------------------------------------------------------- #
# drop-in surface


SDK_MODEL_NAMES = [
    "Effect",
    "Source",
    "Principal",
    "Resource",
    "ResourceAction",
    "ResourceList",
    "JWT",
    "AuxData",
    "CheckResourcesRequest",
    "ValidationError",
    "OutputEntry",
    "APIError",
    "CheckResourcesResult",
    "CheckResourcesResponse",
    "ResourceDesc",
    "CerbosRequestException",
    "CerbosTLSError",
    "CerbosTypeError",
]


@pytest.mark.parametrize("name", SDK_MODEL_NAMES)
def test_every_sdk_model_name_exists(name):
    import warden.models

    assert hasattr(warden.models, name)


def test_the_stytch_demo_user_page_code_runs_unchanged(contacts_client):
    # the /user handler of cerbos/python-stytch-cerbos, with only the client swapped
    user_id = "bob"
    principal = Principal(user_id, roles={"user"}, policy_version="20210210")
    actions = {"read", "update", "delete"}
    resource_list = ResourceList(
        resources=[
            ResourceAction(Resource("abc123", "contact", attr={"owner_id": user_id}), actions=actions),
            ResourceAction(Resource("def456", "contact", attr={"owner_id": "other_user_id"}), actions=actions),
        ]
    )
    resp = contacts_client.check_resources(principal=principal, resources=resource_list)
    resp.raise_if_failed()
    payload = {"principal": principal.to_dict(), "resource_list": resource_list.to_dict()}
    as_json = resp.to_dict()
    assert payload["principal"]["policyVersion"] == "20210210"
    assert [r["resource"]["id"] for r in as_json["results"]] == ["abc123", "def456"]
    assert as_json["results"][1]["actions"]["update"] == Effect.DENY
    assert resp.get_resource("def456").is_allowed("read")


def test_engine_results_behave_as_plain_results(contacts_client):
    import copy
    import pickle

    resp = contacts_client.check_resources(
        Principal("bob", {"user"}), ResourceList().add(contact("abc123", "bob"), ["read", "update"])
    )
    result = resp.results[0]
    assert isinstance(result, CheckResourcesResult)
    assert result.is_allowed("update") and not result.is_allowed("nope")
    plain = CheckResourcesResult(result.resource, {"read": Effect.ALLOW, "update": Effect.ALLOW})
    assert result == plain and plain == result
    assert repr(result) == repr(plain)
    assert result.to_dict() == plain.to_dict()
    assert dataclasses.replace(result, outputs=[]).outputs == []
    assert pickle.loads(pickle.dumps(result)) == plain
    assert copy.deepcopy(result) == plain
    result.actions["update"] = Effect.DENY  # mutations are seen by is_allowed
    assert not result.is_allowed("update")
    result.actions = {"read": Effect.DENY}
    assert not result.is_allowed("read") and result.validation_errors is None and result.outputs is None
