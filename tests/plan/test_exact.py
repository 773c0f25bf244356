"""Exact plans (``Engine.plan_resources(exact=True)``) through Python: their shape, the rows they list
where Cerbos's plans list fewer, and the refusal under strict evaluation. Row-by-row agreement with
``check`` on real databases is test_differential.py's."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from warden import Engine
from warden.sqlalchemy import get_query

A = "request.resource.attr."
RULES = [
    {"actions": ["read"], "effect": "EFFECT_ALLOW", "roles": ["employee"]},
    {
        "actions": ["read"],
        "effect": "EFFECT_DENY",
        "roles": ["employee"],
        "condition": {"match": {"expr": "R.attr.amount > 1000.5"}},
    },
    {
        "actions": ["read"],
        "effect": "EFFECT_ALLOW",
        "roles": ["user"],
        "condition": {"match": {"expr": "R.attr.public"}},
    },
]


def _engine(**options) -> Engine:
    policy = {
        "apiVersion": "api.cerbos.dev/v1",
        "resourcePolicy": {"version": "default", "resource": "doc", "rules": RULES},
    }
    return Engine.from_policies([policy], **options)


@pytest.fixture
def table():
    metadata = sa.MetaData()
    docs = sa.Table(
        "docs",
        metadata,
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("amount", sa.Float, nullable=True),
        sa.Column("public", sa.Boolean, nullable=True),
    )
    db = sa.create_engine("sqlite://")
    metadata.create_all(db)
    rows = [("big", 2000.0, False), ("small", 5.0, False), ("unknown", None, None), ("big-public", 2000.0, True)]
    with db.begin() as conn:
        conn.execute(docs.insert(), [{"id": i, "amount": a, "public": p} for i, a, p in rows])
    return db, docs


def _listed(db, docs, plan) -> list:
    attrs = {A + "amount": docs.c.amount, A + "public": docs.c.public}
    with db.connect() as conn:
        return sorted(conn.execute(get_query(plan, docs, attrs).with_only_columns(docs.c.id)).scalars())


def _allowed(engine, principal, ids_attrs) -> list:
    resources = [{"kind": "doc", "id": i, "attr": a} for i, a in ids_attrs]
    return sorted(
        r["id"] for r, (ok,) in zip(resources, engine.decision_table(principal, resources, ["read"]), strict=True) if ok
    )


def test_exact_plans_list_the_rows_check_allows(table):
    db, docs = table
    engine = _engine()
    rows = [
        ("big", {"amount": 2000.0, "public": False}),
        ("small", {"amount": 5.0, "public": False}),
        ("unknown", {"amount": None, "public": None}),
        ("big-public", {"amount": 2000.0, "public": True}),
    ]
    for roles, cerbos_rows in ((["employee"], ["small"]), (["employee", "user"], ["small"])):
        principal = {"id": "p", "roles": roles}
        exact = engine.plan_resources(principal, {"kind": "doc"}, "read", exact=True)
        assert _listed(db, docs, exact) == _allowed(engine, principal, rows)
        # Cerbos's plan drops the NULL amount (its failed DENY condition) and the other role's ALLOW
        assert _listed(db, docs, engine.plan_resources(principal, {"kind": "doc"}, "read")) == cerbos_rows
    principal = {"id": "p", "roles": ["employee", "user"]}
    assert _allowed(engine, principal, rows) == ["big-public", "small", "unknown"]
    assert engine.plan_resources(principal, {"kind": "doc"}, "read", exact=True)["meta"]["filterDebug"] == (
        f"(or (not (isTrue (gt {A}amount 1000.5))) (isTrue {A}public))"
    )


def test_exact_plans_through_the_public_request():
    request = {
        "requestId": "r",
        "action": "read",
        "principal": {"id": "p", "roles": ["employee"]},
        "resource": {"kind": "doc"},
    }
    plan = _engine().plan_resources_json(request, exact=True)
    assert plan["filter"]["condition"]["expression"]["operator"] == "not"
    assert (
        _engine().plan_resources_json(request)["filter"]["condition"]["expression"]["operands"][0]["expression"][
            "operator"
        ]
        == "gt"
    )


def test_exact_plans_are_refused_under_strict_evaluation():
    engine = _engine(strict_evaluation=True)
    with pytest.raises(ValueError, match="strict evaluation"):
        engine.plan_resources({"id": "p", "roles": ["employee"]}, {"kind": "doc"}, "read", exact=True)
    # Cerbos's plans are still made
    assert engine.plan_resources({"id": "p", "roles": ["employee"]}, {"kind": "doc"}, "read")["filter"]["kind"]
