"""Plans as Q objects: what is refused (and named), how model rows become resources."""

from __future__ import annotations

import pytest
import warden
from contactbook.models import Contact
from django.contrib.auth.models import User
from django.db import NotSupportedError
from django.db.models import F
from warden.django import ModelAttributes, PlanError, authorized, plan_q, resource_of
from warden.django.query import NOTHING, _Exact

from tests.django.configuration import PLAN_POLICIES
from tests.django.plans.models import Item, Team

USER = {"id": "bob", "roles": ["user"]}


def conditional(condition: dict) -> dict:
    return {"filter": {"kind": "KIND_CONDITIONAL", "condition": condition}}


def var(name: str) -> dict:
    return {"variable": f"request.resource.attr.{name}"}


def expr(op: str, *operands: dict) -> dict:
    return {"expression": {"operator": op, "operands": list(operands)}}


@pytest.fixture
def items():
    Item.objects.all().delete()
    red = Team.objects.create(name="red")
    Item.objects.create(id=1, name="a", owner="bob", score=3, team=red)
    Item.objects.create(id=2, name=None, owner="carol", score=None)
    return Item.objects.all()


def test_always_allowed_and_always_denied(items):
    assert set(
        items.filter(plan_q({"filter": {"kind": "KIND_ALWAYS_ALLOWED"}}, Item)).values_list("pk", flat=True)
    ) == {1, 2}
    assert plan_q({"filter": {"kind": "ALWAYS_DENIED"}}, Item) is NOTHING  # the SDK's enum names too
    assert list(items.filter(NOTHING)) == []


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"filter": {}}, "filter.kind"),
        ({"filter": {"kind": "KIND_CONDITIONAL"}}, "filter.condition"),
        (conditional({"expression": {"operands": []}}), "condition.expression.operator"),
        (conditional(expr("and", {"bogus": 1})), "condition.operands[0]: expected one of value, variable or expression"),
        (conditional(expr("gt", expr("add", var("score"), {"value": 1}), {"value": 5})), "condition.operands[0]: operator 'add'"),
        (conditional(expr("matches", var("name"), {"value": "^a"})), "condition: operator 'matches' is not supported"),
        (conditional(expr("eq", var("colour"), {"value": "red"})), "attribute 'colour' of 'item' is not a field of Item"),
        (conditional(expr("in", {"value": "x"}, var("name"))), "'in' over an attribute is not supported"),
        (conditional(expr("eq", {"variable": "request.resource.policyVersion"}, {"value": "v1"})), "variable 'request.resource.policyVersion'"),
        (conditional(expr("not", var("active"), var("flag"))), "'not' takes 1 operands, got 2"),
        ("not a plan", "plan: expected"),
    ],
)  # fmt: skip
def test_what_cannot_be_translated_is_refused_and_named(plan, message):
    with pytest.raises(PlanError, match=message.replace("[", r"\[").replace("(", r"\(")):
        plan_q(plan, Item)


def test_a_policy_the_translation_refuses_names_the_operator(tmp_path, items):
    (tmp_path / "p.yaml").write_text(
        "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  version: default\n  resource: item\n  rules:\n"
        "    - {actions: [read], effect: EFFECT_ALLOW, roles: [user], condition: {match: {expr: 'R.attr.score * 2 > 5'}}}\n"
    )
    engine = warden.Engine.from_directory(tmp_path)
    with pytest.raises(PlanError, match="'mult'"):
        authorized(items, USER, "read", engine=engine)


def test_authorized_narrows_a_queryset(items):
    engine = warden.Engine.from_directory(PLAN_POLICIES)
    assert list(authorized(items, USER, "own", engine=engine).values_list("pk", flat=True)) == [1]
    assert authorized(items, {"id": "x", "roles": ["guest"]}, "own", engine=engine).count() == 0
    assert authorized(items, {"id": "x", "roles": ["admin"]}, "own", engine=engine).count() == 2
    mapped = ModelAttributes(Item, {"team.name": "team__name"})
    assert list(authorized(items, USER, "team_red", engine=engine, attributes=mapped).values_list("pk", flat=True)) == [
        1
    ]


def test_strings_are_refused_on_databases_whose_collation_could_fold_case():
    class MySQL:
        vendor = "mysql"

    with pytest.raises(NotSupportedError, match="SQLite and PostgreSQL only, not mysql"):
        _Exact(F("name")).as_sql(None, MySQL())


# --- rows as resources ----------------------------------------------------------------------------


def test_default_attributes_are_the_supported_fields(items):
    mapping = ModelAttributes(Item)
    assert mapping.names() == ["name", "owner", "status", "title", "score", "ratio", "active", "flag", "team_id"]
    first = items.get(pk=1)
    assert mapping.resource(first) == warden.Resource(
        "1",
        "item",
        attr={"name": "a", "owner": "bob", "status": None, "title": "", "score": 3, "ratio": None, "active": None, "flag": False, "team_id": first.team_id},
    )  # fmt: skip
    omitted = ModelAttributes(Item, nulls="omitted").attributes(first)
    assert "status" not in omitted and omitted["score"] == 3


def test_mapped_and_nested_attributes(items):
    mapping = ModelAttributes(Item, {"who": "owner", "team.name": "team__name"}, kind="thing")
    assert mapping.resource(items.get(pk=1)) == warden.Resource(
        "1", "thing", attr={"who": "bob", "team": {"name": "red"}}
    )
    assert mapping.attributes(items.get(pk=2)) == {"who": "carol", "team": {"name": None}}
    assert ModelAttributes(Item, ["owner"], nulls="omitted").attributes(items.get(pk=2)) == {"owner": "carol"}


def test_the_resource_id_is_the_key_as_a_string(items):
    assert resource_of(items.get(pk=2)).id == "2"
    assert resource_of(Contact(id="abc", name="n", owner_id="bob")) == warden.Resource(
        "abc", "contact", attr={"name": "n", "email": "", "owner_id": "bob"}
    )
    with pytest.raises(ValueError, match="save it first"):
        ModelAttributes(Item).resource(Item(name="unsaved"))
    with pytest.raises(TypeError, match="expected a Item instance"):
        ModelAttributes(Item).resource(Contact(id="x"))


@pytest.mark.parametrize(
    ("attributes", "error", "message"),
    [
        ({"x": "nope"}, ValueError, "User has no field 'nope'"),
        ({"x": "groups__name"}, ValueError, "to-many or reverse relation"),
        ({"x": "username__length"}, ValueError, "is not a relation"),
        ({"x": "date_joined"}, TypeError, "DateTimeField 'date_joined' is not supported"),
        ({"": "username"}, ValueError, "non-empty attribute names"),
    ],
)
def test_attribute_mappings_are_checked_when_declared(attributes, error, message):
    with pytest.raises(error, match=message):
        ModelAttributes(User, attributes)


def test_other_arguments_are_checked():
    with pytest.raises(ValueError, match="nulls"):
        ModelAttributes(Item, nulls="absent")
    with pytest.raises(TypeError, match="a Django model class"):
        ModelAttributes(dict)
    with pytest.raises(ValueError, match="kind: required"):
        resource_of({"id": 1})
    assert resource_of({"id": 7, "owner": "x"}, "item") == warden.Resource("7", "item", attr={"id": 7, "owner": "x"})
    assert resource_of(None, "item") == warden.Resource("item", "item")
