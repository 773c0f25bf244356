"""``warden._planfilter``: what warden.sqlalchemy and warden.django share (reading a plan in any
shape, CEL's equality and ordering of the plan's values), and that both refuse with one error."""

from __future__ import annotations

import pytest
from warden import Client, Engine
from warden._planfilter import ALWAYS_ALLOWED, ALWAYS_DENIED, CONDITIONAL, PlanError, read_plan
from warden._planfilter.cel import cel_equal, cel_order
from warden._planfilter.plan import Call, NotAPlan, Value, Variable, parse_operand
from warden._sqlplan.errors import PlanTranslationError
from warden.models import Principal, ResourceDesc

POLICY = {
    "apiVersion": "api.cerbos.dev/v1",
    "resourcePolicy": {
        "version": "default",
        "resource": "doc",
        "rules": [
            {"actions": ["read"], "effect": "EFFECT_ALLOW", "roles": ["*"]},
            {
                "actions": ["edit"],
                "effect": "EFFECT_ALLOW",
                "roles": ["*"],
                "condition": {"match": {"expr": "R.attr.owner == P.id"}},
            },
        ],
    },
}
OWNED = {"expression": {"operator": "eq", "operands": [{"variable": "request.resource.attr.owner"}, {"value": "u"}]}}


def test_every_shape_reads_alike():
    engine = Engine.from_policies([POLICY])
    plan = engine.plan_resources({"id": "u", "roles": ["user"]}, {"kind": "doc"}, "edit")
    sdk = Client(engine).plan_resources("edit", Principal("u", roles={"user"}), ResourceDesc("doc"))
    for shape in (plan, plan["filter"], sdk, sdk.filter):
        assert read_plan(shape) == (CONDITIONAL, OWNED), type(shape)
    assert read_plan({"filter": {"kind": "ALWAYS_ALLOWED"}}) == (ALWAYS_ALLOWED, None)  # the SDK's enum names
    assert (
        read_plan(engine.plan_resources({"id": "u", "roles": ["user"]}, {"kind": "doc"}, "read"))[0] == ALWAYS_ALLOWED
    )
    assert read_plan({"filter": None}) == (ALWAYS_DENIED, None)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"filter": {"kind": "KIND_MAYBE"}}, "filter.kind: unknown filter kind 'KIND_MAYBE'"),
        ({"filter": {"kind": "KIND_CONDITIONAL"}}, "filter.condition: a KIND_CONDITIONAL plan needs a condition"),
        ({"filter": "x"}, "filter: expected an object"),
    ],
)
def test_malformed_plans_are_named(plan, message):
    with pytest.raises(PlanError, match=message):
        read_plan(plan)


def test_no_plan_at_all_is_a_type_error_too():
    with pytest.raises(NotAPlan) as raised:
        read_plan("not a plan")
    assert isinstance(raised.value, TypeError) and isinstance(raised.value, ValueError)


def test_both_adapters_raise_one_error_class():
    assert issubclass(PlanTranslationError, PlanError)
    from warden.django import PlanError as DjangoPlanError  # Django is optional: imported here

    assert DjangoPlanError is PlanError


def test_operands_parse_with_their_place():
    node = parse_operand({"expression": {"operator": "and", "operands": [OWNED, {"value": True}]}})
    assert isinstance(node, Call) and node.where == "condition"
    assert node.operands[0].operands == (Variable("request.resource.attr.owner"), Value("u"))
    assert node.operands[0].where == "condition.operands[0]"
    with pytest.raises(PlanError, match=r"condition.operands\[0\]: expected one of value, variable or expression"):
        parse_operand({"expression": {"operator": "and", "operands": [{"bogus": 1}]}})


def test_cel_equality_and_ordering_of_known_values():
    assert cel_equal(1, 1.0) and not cel_equal("1", 1) and not cel_equal(True, 1)
    assert cel_equal([1, "a"], [1.0, "a"]) and not cel_equal({"a": 1}, {"a": 2})
    assert cel_order("lt", 1, 1.5) is True and cel_order("ge", "b", "a") is True
    assert cel_order("lt", "a", 1) is None and cel_order("lt", None, None) is None


def test_a_malformed_operand_is_named_alike_by_both_adapters():
    import sqlalchemy as sa
    from warden.sqlalchemy import get_query

    table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.String, primary_key=True))
    plan = {"filter": {"kind": "KIND_CONDITIONAL", "condition": {"expression": {"operator": "and", "operands": [{}]}}}}
    with pytest.raises(PlanTranslationError, match=r"condition.operands\[0\]: expected one of value"):
        get_query(plan, table, {})
