"""``warden.sqlalchemy``: the API around the translation (plan shapes, tables and ORM models, errors,
the bare where clause, overrides, conventions), on a real SQLite database. The translation itself is
checked row by row against the engine in test_differential.py."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from warden import Client, Engine
from warden.models import Principal, ResourceDesc
from warden.sqlalchemy import PlanTranslationError, get_query, where_clause

A = "request.resource.attr."


def _policy(rules: dict, kind: str = "doc") -> dict:
    return {
        "apiVersion": "api.cerbos.dev/v1",
        "resourcePolicy": {
            "version": "default",
            "resource": kind,
            "rules": [
                {"actions": [action], "effect": "EFFECT_ALLOW", "roles": ["*"], "condition": {"match": {"expr": expr}}}
                for action, expr in rules.items()
            ],
        },
    }


RULES = {
    "owned": "R.attr.owner == P.id",
    "not-owned": "R.attr.owner != P.id",
    "prefixed": 'R.attr.name.startsWith("a%_")',
    "tagged": '"x" in R.attr.tags',
    "big": "R.attr.amount > 10.5",
    "matches": 'R.attr.name.matches("^a")',
    "pairs": "R.attr.deps.all(k, v, k != v)",
    "stamped": 'R.attr.created == "2025-01-01T00:00:00Z"',
    "unmapped": 'R.attr.colour == "red"',
    "present": "has(R.attr.owner)",
}
ALICE = {"id": "alice", "roles": ["user"]}


class Base(DeclarativeBase):
    pass


class Doc(Base):
    __tablename__ = "doc"
    id: Mapped[str] = mapped_column(primary_key=True)
    owner: Mapped[str | None]
    name: Mapped[str | None]
    amount: Mapped[float | None]
    created: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Tag(Base):
    __tablename__ = "tag"
    pk: Mapped[int] = mapped_column(primary_key=True)
    doc_id: Mapped[str] = mapped_column(sa.ForeignKey("doc.id"))
    value: Mapped[str | None]


ATTRS = {
    "request.resource.id": Doc.id,
    A + "owner": Doc.owner,
    A + "name": Doc.name,
    A + "amount": Doc.amount,
    A + "created": Doc.created,
    A + "tags": Tag.value,
}
MAPPING = [(Tag, Tag.doc_id == Doc.id)]
ROWS = [
    Doc(id="d1", owner="alice", name="a%_b", amount=11.0),
    Doc(id="d2", owner="bob", name="A%_b", amount=10.5),
    Doc(id="d3", owner=None, name="ab_", amount=None),
    Doc(id="d4", owner="Alice", name=None, amount=100.0),
]
TAGS = [
    Tag(doc_id="d1", value="x"),
    Tag(doc_id="d1", value="x"),
    Tag(doc_id="d2", value="X"),
    Tag(doc_id="d4", value=None),
]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.from_policies([_policy(RULES)])


@pytest.fixture(scope="module")
def session():
    db = sa.create_engine("sqlite://")
    Base.metadata.create_all(db)
    with Session(db) as s:
        s.add_all([*ROWS, *TAGS])
        s.commit()
        yield s
    db.dispose()


def ids(session, query) -> list:
    return sorted(row.id for row in session.scalars(query))


def plan(engine, action, principal=ALICE):
    return engine.plan_resources(principal, {"kind": "doc"}, action)


def test_orm_model_rows_once_each(engine, session):
    assert ids(session, get_query(plan(engine, "owned"), Doc, ATTRS, MAPPING)) == ["d1"]
    # null != "alice" holds in CEL: d3 (owner NULL, sent as null) is listed
    assert ids(session, get_query(plan(engine, "not-owned"), Doc, ATTRS, MAPPING)) == ["d2", "d3", "d4"]
    # d1 has the tag twice: still one row (a correlated EXISTS, no join)
    assert ids(session, get_query(plan(engine, "tagged"), Doc, ATTRS, MAPPING)) == ["d1"]
    # `%` and `_` match themselves, case counts
    assert ids(session, get_query(plan(engine, "prefixed"), Doc, ATTRS, MAPPING)) == ["d1"]
    assert ids(session, get_query(plan(engine, "big"), Doc, ATTRS, MAPPING)) == ["d1", "d4"]


def test_core_table_and_every_plan_shape(engine, session):
    """Engine.plan_resources's dict, Client.plan_resources's models, the Cerbos SDK's HTTP model and its
    gRPC (protobuf) message: the same query."""
    from cerbos.response.v1 import response_pb2
    from cerbos.sdk.model import PlanResourcesResponse as SdkResponse
    from google.protobuf.json_format import ParseDict

    table = Doc.__table__
    attrs = {A + "owner": table.c.owner}
    raw = plan(engine, "owned")
    client_plan = Client(engine).plan_resources("owned", Principal("alice", {"user"}), ResourceDesc("doc"))
    public = {k: v for k, v in raw.items() if k != "meta"}
    sdk_plan = SdkResponse.from_dict(
        {**public, "requestId": "r", "action": public["actions"], "policyVersion": "default"}
    )
    grpc_plan = ParseDict(public, response_pb2.PlanResourcesResponse())
    for p in (raw, client_plan, sdk_plan, grpc_plan):
        query = get_query(p, table, attrs)
        assert sorted(session.execute(query.with_only_columns(table.c.id)).scalars()) == ["d1"], type(p)


def test_always_allowed_denied_and_failed(session):
    table = Doc.__table__
    allowed = get_query({"filter": {"kind": "KIND_ALWAYS_ALLOWED"}}, table, {})
    denied = get_query({"filter": {"kind": "KIND_ALWAYS_DENIED"}}, table, {})
    assert len(session.execute(allowed).all()) == 4
    assert session.execute(denied).all() == []
    assert str(where_clause({"filter": {"kind": "KIND_ALWAYS_DENIED"}}, table, {})) == "false"
    with pytest.raises(PlanTranslationError, match="unknown filter kind"):
        get_query({"filter": {"kind": "KIND_MAYBE"}}, table, {})

    class Failed:
        filter = None
        status_msg = type("Msg", (), {"message": "boom"})()

        def failed(self) -> bool:
            return True

    with pytest.raises(PlanTranslationError, match="boom"):
        get_query(Failed(), table, {})


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("matches", "operator 'matches' cannot be translated"),
        ("pairs", "two-variable comprehensions"),
        ("stamped", "DateTime column"),
        ("unmapped", "'request.resource.attr.colour' is not in attr_map"),
    ],
)
def test_untranslatable_raises_naming_it(engine, action, message):
    with pytest.raises(PlanTranslationError, match=message):
        get_query(plan(engine, action), Doc, {**ATTRS, A + "deps": Tag.value}, MAPPING)


def test_related_table_needs_table_mapping(engine):
    with pytest.raises(PlanTranslationError, match="'tag'.*table_mapping"):
        get_query(plan(engine, "tagged"), Doc, ATTRS)


def test_where_clause_is_two_valued(engine, session):
    """TRUE for the admitted rows, FALSE for every other (NULL rows included): its negation is the rest."""
    p = plan(engine, "owned")
    clause = where_clause(p, Doc, ATTRS, MAPPING, null_attribute_representation="omitted")
    assert ids(session, sa.select(Doc).where(clause)) == ["d1"]
    assert ids(session, sa.select(Doc).where(sa.not_(clause))) == ["d2", "d3", "d4"]
    # the query's own WHERE is three-valued: under "omitted" a NULL owner fails, so neither side has d3
    query = get_query(p, Doc, ATTRS, MAPPING, null_attribute_representation="omitted")
    assert ids(session, sa.select(Doc).where(sa.not_(query.whereclause))) == ["d2", "d4"]


def test_null_conventions(engine, session):
    """A NULL owner sent as null: `owner != "alice"` holds; left out: reading it fails."""
    p = plan(engine, "not-owned")
    assert ids(session, get_query(p, Doc, ATTRS, MAPPING)) == ["d2", "d3", "d4"]
    assert ids(session, get_query(p, Doc, ATTRS, MAPPING, null_attribute_representation="omitted")) == ["d2", "d4"]
    per_attribute = get_query(p, Doc, ATTRS, MAPPING, attribute_null_representation={A + "owner": "omitted"})
    assert ids(session, per_attribute) == ["d2", "d4"]
    with pytest.raises(ValueError, match="'explicit' or 'omitted'"):
        get_query(p, Doc, ATTRS, null_attribute_representation="missing")


def test_has_operator(session):
    """A presence test, when a plan carries one (Cerbos's planner writes has() as true, see below)."""
    p = {
        "filter": {
            "kind": "KIND_CONDITIONAL",
            "condition": {"expression": {"operator": "has", "operands": [{"variable": A + "owner"}]}},
        }
    }
    assert ids(session, get_query(p, Doc, ATTRS)) == ["d1", "d2", "d3", "d4"]
    assert ids(session, get_query(p, Doc, ATTRS, null_attribute_representation="omitted")) == ["d1", "d2", "d4"]


def test_has_is_folded_unless_presence_tests(engine, session):
    """Cerbos's planner writes `has(R.attr.x)` as true: an application leaving NULL attributes out
    would get every row for a rule that only tests presence. ``presence_tests=True`` keeps the test."""
    assert plan(engine, "present")["filter"] == {"kind": "KIND_ALWAYS_ALLOWED"}
    assert not engine.is_allowed(ALICE, {"kind": "doc", "id": "d3", "attr": {}}, action="present")
    kept = engine.plan_resources(ALICE, {"kind": "doc"}, "present", presence_tests=True)
    query = get_query(kept, Doc, ATTRS, null_attribute_representation="omitted")
    assert ids(session, query) == ["d1", "d2", "d4"]  # d3's owner is NULL: left out, not present


def test_overrides_get_column_then_value(engine, session):
    calls = []

    def eq(column, value):
        calls.append((column, value))
        return sa.func.lower(column) == value.lower()

    query = get_query(plan(engine, "owned"), Doc, ATTRS, MAPPING, {"eq": eq})
    assert ids(session, query) == ["d1", "d4"]  # the override's own meaning: case-insensitive
    assert calls and calls[0][1] == "alice"


def test_now_must_be_aware(engine):
    with pytest.raises(ValueError, match="aware"):
        get_query(plan(engine, "owned"), Doc, ATTRS, now=datetime(2025, 1, 1))
    get_query(plan(engine, "owned"), Doc, ATTRS, now=datetime(2025, 1, 1, tzinfo=timezone.utc))


def test_sql_per_dialect(engine):
    """Case-sensitive, literal matching: GLOB on SQLite (its LIKE ignores case), LIKE with an escape on
    PostgreSQL; strings compared byte-wise on SQLite whatever the column's collation."""
    query = get_query(plan(engine, "prefixed"), Doc, ATTRS)
    lite = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    pg = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    assert "doc.name GLOB 'a%_*'" in lite
    assert "doc.name LIKE 'a!%%!_%%' ESCAPE '!'" in pg  # %% is the driver's escape of %
    owned = get_query(plan(engine, "owned"), Doc, ATTRS)
    assert 'COLLATE "BINARY"' in str(owned.compile(dialect=sqlite.dialect()))


def test_to_one_relation_is_a_correlated_subquery(session):
    """A column of a related table read as one value (the owner's name): no join, each row once;
    a missing related row is a NULL (here sent as null: `!=` holds)."""

    class Person(Base):
        __tablename__ = "person"
        id: Mapped[str] = mapped_column(primary_key=True)
        name: Mapped[str]

    Base.metadata.create_all(session.get_bind())
    session.add_all([Person(id="alice", name="Alice"), Person(id="bob", name="Bob"), Person(id="Alice", name="A2")])
    session.commit()
    engine = Engine.from_policies(
        [_policy({"by-name": 'R.attr.owner_name == "Alice"', "not-bob": 'R.attr.owner_name != "Bob"'})]
    )
    attrs = {A + "owner_name": Person.name}
    mapping = [(Person, Person.id == Doc.owner)]
    assert ids(session, get_query(plan(engine, "by-name"), Doc, attrs, mapping)) == ["d1"]
    # d3 has no owner (no person): its owner_name is null, and null != "Bob"
    assert ids(session, get_query(plan(engine, "not-bob"), Doc, attrs, mapping)) == ["d1", "d3", "d4"]
