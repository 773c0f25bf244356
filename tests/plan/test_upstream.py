"""The upstream adapter, ``cerbos-sqlalchemy`` (pinned in the `test` extra), fed with warden's plans.

Code written for ``CerbosClient`` + ``cerbos_sqlalchemy.get_query`` runs unchanged on
``warden.Client.plan_resources``. Where the two adapters answer differently on the same plan and
rows, each difference listed in docs/list-endpoints.md is shown here on a small table (the
differential run, test_differential.py, records every case on generated rows).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from warden import Client, Engine
from warden.models import Principal, ResourceDesc
from warden.sqlalchemy import get_query

upstream = pytest.importorskip("cerbos_sqlalchemy", reason="cerbos-sqlalchemy is in the test extra").get_query

A = "request.resource.attr."
md = sa.MetaData()
doc = sa.Table(
    "doc",
    md,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("owner", sa.String),
    sa.Column("name", sa.String),
    sa.Column("amount", sa.Float),
)
tag = sa.Table(
    "tag",
    md,
    sa.Column("pk", sa.Integer, primary_key=True),
    sa.Column("doc_id", sa.String),
    sa.Column("value", sa.String),
)
ATTRS = {A + "owner": doc.c.owner, A + "name": doc.c.name, A + "amount": doc.c.amount, A + "tags": tag.c.value}
MAPPING = [(tag, tag.c.doc_id == doc.c.id)]
RULES = {
    "own": "R.attr.owner == P.id",
    "not-mine": "R.attr.owner != P.id",
    "prefix": 'R.attr.name.startsWith("Ab")',
    "untagged-x": '!("x" in R.attr.tags)',
    "two-tags": "size(R.attr.tags) == 2",
    "double": "R.attr.amount * 2 > 4",
    "shared": 'hasIntersection(R.attr.tags, ["x", "y"])',
    "any-x": 'R.attr.tags.exists(t, t == "x")',
}


@pytest.fixture(scope="module")
def client() -> Client:
    rules = [
        {"actions": [a], "effect": "EFFECT_ALLOW", "roles": ["*"], "condition": {"match": {"expr": e}}}
        for a, e in RULES.items()
    ]
    policy = {
        "apiVersion": "api.cerbos.dev/v1",
        "resourcePolicy": {"version": "default", "resource": "doc", "rules": rules},
    }
    return Client(Engine.from_policies([policy]))


@pytest.fixture(scope="module")
def db():
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            doc.insert(),
            [
                {"id": "d1", "owner": "u", "name": "Abel", "amount": 3.0},
                {"id": "d2", "owner": "u", "name": "abbot", "amount": 1.0},
                {"id": "d3", "owner": None, "name": None, "amount": None},
            ],
        )
        conn.execute(tag.insert(), [{"doc_id": "d1", "value": "x"}, {"doc_id": "d1", "value": "z"}])
    yield engine
    engine.dispose()


def plan(client, action):
    return client.plan_resources(action, Principal("u", {"user"}), ResourceDesc("doc"))


def rows(db, query) -> list:
    with db.connect() as conn:
        return sorted(conn.execute(query.with_only_columns(doc.c.id)).scalars())


def both(client, db, action, attrs=None, mapping=None):
    p = plan(client, action)
    attrs = attrs or {A + "owner": doc.c.owner, A + "name": doc.c.name, A + "amount": doc.c.amount}
    return rows(db, upstream(p, doc, attrs, mapping)), rows(db, get_query(p, doc, attrs, mapping))


def test_client_plans_run_unchanged_upstream(client, db):
    """Client.plan_resources gives what cerbos_sqlalchemy reads: same rows as warden's adapter here."""
    ups, ours = both(client, db, "own")
    assert ups == ours == ["d1", "d2"]
    denied = client.plan_resources("own", Principal("g", {"guest"}), ResourceDesc("nothing"))
    assert rows(db, upstream(denied, doc, {})) == rows(db, get_query(denied, doc, {})) == []


def test_null_in_ne_is_missed_upstream(client, db):
    """CEL: null != "u" is true (the attribute sent as null). Upstream: owner <> 'u' is NULL, row dropped."""
    ups, ours = both(client, db, "not-mine")
    assert ours == ["d3"] and ups == []


def test_like_ignores_case_on_sqlite_upstream(client, db):
    """startsWith("Ab"): SQLite's LIKE matches "abbot" too (an over-grant); warden uses GLOB."""
    ups, ours = both(client, db, "prefix")
    assert ours == ["d1"] and ups == ["d1", "d2"]


def test_related_tables_are_inner_joined_upstream(client, db):
    """table_mapping joins every mapped table: rows without a related row vanish, others repeat."""
    p = plan(client, "own")
    ups = rows(db, upstream(p, doc, ATTRS, MAPPING))
    ours = rows(db, get_query(p, doc, ATTRS, MAPPING))
    assert ours == ["d1", "d2"] and ups == ["d1", "d1"]


def test_negated_membership_over_a_join_upstream(client, db):
    """!("x" in tags): per joined tag row, so d1 (tags x, z) passes on its z row: an over-grant."""
    ups, ours = both(client, db, "untagged-x", ATTRS, MAPPING)
    assert ours == ["d2", "d3"] and ups == ["d1"]


def test_size_of_a_list_upstream(client, db):
    """size(tags) == 2: upstream takes the length of each joined tag value, warden counts the rows."""
    ups, ours = both(client, db, "two-tags", ATTRS, MAPPING)
    assert ours == ["d1"] and ups == []


def test_arithmetic_cel_rejects_upstream(client, db):
    """R.attr.amount * 2 is `double * int`, no such overload in CEL: check denies every row."""
    ups, ours = both(client, db, "double")
    assert ours == [] and ups == ["d1"]
    assert not client.is_allowed(
        "double", Principal("u", {"user"}), {"kind": "doc", "id": "d1", "attr": {"amount": 3.0}}
    )


@pytest.mark.parametrize("action", ["shared", "any-x"])
def test_list_operators_need_overrides_upstream(client, db, action):
    """hasIntersection and macros over a related table: upstream raises (it needs operator
    overrides); warden writes correlated subqueries."""
    p = plan(client, action)
    with pytest.raises((ValueError, KeyError, TypeError)):
        upstream(p, doc, ATTRS, MAPPING)
    assert rows(db, get_query(p, doc, ATTRS, MAPPING)) == ["d1"]
