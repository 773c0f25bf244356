"""Differential test of query plans as Django ``Q`` objects, on SQLite and PostgreSQL.

For every principal × action × NULL convention, the rows the database returns for
``Item.objects.filter(plan_q(plan, attributes))`` must be exactly the rows the plan admits (its
condition evaluated by the engine, ``tests.plan.oracle``), and compared with ``Engine.check``
(``decision_table``) on the row's resource as ``ModelAttributes.resource`` builds it (what the DRF
permission class checks). An exact plan (``exact=True``, what ``authorized`` and the filter backend
use) admits exactly the rows check allows. A Cerbos plan admits no row check denies, and every row
check allows except where Cerbos's planner and engine part, each such row explained by the
engine's trace. The rows are
generated (seeded) from the value pools tests/plan draws from too (``tests.plan.rows``): NULLs,
empty strings, case variants, ``%`` and ``_``, non-ASCII letters, integer boundaries, floats either
side of the compared values, booleans and a nullable foreign key.
The same comparison runs on the contacts example's policy and model.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any, Dict, List

import pytest
import warden
from contactbook.models import Contact
from warden.django import ModelAttributes, plan_q

from tests.django.configuration import CONTACT_POLICIES, PLAN_POLICIES
from tests.django.plans.models import Item, Team
from tests.plan.oracle import gap_reason, plan_admits
from tests.plan.rows import number_pool, string_pool

SEED = 20240611
ROWS = 160
ATTRIBUTES = {
    "name": "name",
    "owner": "owner",
    "status": "status",
    "title": "title",
    "score": "score",
    "ratio": "ratio",
    "active": "active",
    "flag": "flag",
    "team.name": "team__name",
}
#: the values item.yaml and the principals compare with: the pools (tests.plan.rows) grow around them
STRING_SEEDS = ["a", "ab", "b", "z", "A_", "a%", "ß", "a b", "x\\y", "alice", "bob", "open", "archived", "red", "5"]
STRINGS = [None, *string_pool(STRING_SEEDS, [], [])]
INTEGERS = [None, *number_pool([0, 1, 2, 3, 5, 10, 2**31 - 1, -(2**31)], integral=True, bound=2**31 - 1)]
FLOATS = [None, *number_pool([0.5, 1.5, 1.0, 2.0, 3.0, 1e10], integral=False, bound=2**53)]
BOOLEANS = [None, True, False]
TEAMS = [None, "red", "Red", "blue", None]
PRINCIPALS = [
    {"id": "alice", "roles": ["user"], "attr": {"teams": ["red"], "level": 5, "fragment": "b", "statuses": ["open"]}},
    {"id": "bob", "roles": ["user"], "attr": {"teams": ["Red", "blue"], "level": 2.5, "fragment": "%", "statuses": [None, "archived"]}},
    {"id": "Alice", "roles": ["user"], "attr": {"teams": [], "level": 0, "fragment": "", "statuses": []}},
    {"id": "root", "roles": ["admin"]},
    {"id": "guest", "roles": ["guest"]},
]  # fmt: skip
CONVENTIONS = ("explicit", "omitted")
#: the actions whose conditions test presence (has), planned with presence_tests=True only
PRESENCE_ACTIONS = ("no_owner", "has_status")


def item_actions(engine: Any) -> List[str]:
    """The actions item.yaml names."""
    import yaml

    actions: List[str] = []
    for rule in yaml.safe_load((PLAN_POLICIES / "item.yaml").read_text())["resourcePolicy"]["rules"]:
        actions += [a for a in rule["actions"] if a != "*" and a not in actions]
    return actions


def generate_items(rng: random.Random) -> List[Dict[str, Any]]:
    rows = []
    for pk in range(1, ROWS + 1):
        rows.append(
            {
                "id": pk,
                "name": rng.choice(STRINGS),
                "owner": rng.choice(STRINGS + ["alice", "bob", "Alice"]),
                "status": rng.choice(STRINGS + ["open", "archived", "open"]),
                "title": rng.choice([s for s in STRINGS if s is not None]),
                "score": rng.choice(INTEGERS),
                "ratio": rng.choice(FLOATS),
                "active": rng.choice(BOOLEANS),
                "flag": rng.choice([True, False]),
                "team": rng.choice(TEAMS),
            }
        )
    return rows


def load_items(alias: str) -> None:
    rows = generate_items(random.Random(SEED))
    Item.objects.using(alias).all().delete()
    Team.objects.using(alias).all().delete()
    teams = {}
    for name in ("red", "Red", "blue"):
        teams[name] = Team.objects.using(alias).create(name=name)
    teams["nameless"] = Team.objects.using(alias).create(name=None)
    items = []
    for row in rows:
        team = row.pop("team")
        items.append(Item(team=teams[team] if team else (teams["nameless"] if row["id"] % 7 == 0 else None), **row))
    Item.objects.using(alias).bulk_create(items)


def compare(
    engine: Any,
    queryset: Any,
    mapping: ModelAttributes,
    principals: List[Dict[str, Any]],
    actions: List[str],
    mode: str = "exact",
) -> Counter:
    """For every principal × action: the rows the query returns are the rows the plan admits (the
    translation is exact); an exact plan admits the rows check allows; a Cerbos plan (``mode``
    ``cerbos-plans`` or ``presence-tests``) admits no row check denies, and each row check allows that
    the plan excludes is one where Cerbos's planner and engine part (tests.plan.oracle). Returns counts."""
    instances = list(queryset.order_by("pk"))
    resources = [mapping.resource(i) for i in instances]
    as_dicts = [{"id": r.id, "attr": r.attr} for r in resources]
    counts: Counter = Counter()
    for principal in principals:
        table = engine.decision_table(principal, resources, actions)
        for column, action in enumerate(actions):
            allowed = {r.id for r, row in zip(resources, table, strict=True) if row[column]}
            options = {"exact": True} if mode == "exact" else {"presence_tests": mode == "presence-tests"}
            plan = engine.plan_resources(principal, {"kind": mapping.kind}, action, **options)
            admitted = plan_admits(plan, as_dicts)
            returned = {str(pk) for pk in queryset.filter(plan_q(plan, mapping)).values_list("pk", flat=True)}
            where = f"{principal['id']} {action} ({mapping.nulls}), plan {plan['meta']['filterDebug']}"
            if returned != admitted:
                rows = sorted(returned ^ admitted)[:4]
                pytest.fail(
                    f"{where}: returned {sorted(returned - admitted)[:8]} the plan excludes, missed "
                    f"{sorted(admitted - returned)[:8]} it admits: "
                    + "; ".join(f"{rid}: {resources[[r.id for r in resources].index(rid)].attr}" for rid in rows)
                )
            assert admitted <= allowed, f"{where}: the plan admits {sorted(admitted - allowed)} that check denies"
            if mode == "exact":
                assert admitted == allowed, (
                    f"{where}: check allows {sorted(allowed - admitted)}, the exact plan excludes them"
                )
            for rid in sorted(allowed - admitted):
                resource = resources[[r.id for r in resources].index(rid)]
                request = {
                    "principal": principal,
                    "resource": {"kind": resource.kind, "id": rid, "attr": resource.attr},
                }
                reason = gap_reason(engine, {**request, "actions": [action]})
                assert reason is not None, (
                    f"{where}: check allows {rid} {resource.attr}, the plan excludes it, unexplained"
                )
                counts[reason] += 1
            counts["comparisons"] += len(instances)
            counts["equal to check"] += len(instances) - len(allowed - admitted)
            counts["allowed"] += len(allowed)
            counts["plans"] += 1
    return counts


@pytest.fixture(scope="module")
def item_engine() -> Any:
    return warden.Engine.from_directory(PLAN_POLICIES)


@pytest.fixture(params=["sqlite", "postgresql"])
def alias(request) -> str:
    if request.param == "sqlite":
        return "default"
    return request.getfixturevalue("postgres_alias")


@pytest.mark.parametrize("mode", ["exact", "cerbos-plans", "presence-tests"])
@pytest.mark.parametrize("nulls", CONVENTIONS)
def test_items_listed_are_items_check_allows(alias, nulls, mode, item_engine):
    load_items(alias)
    mapping = ModelAttributes(Item, ATTRIBUTES, nulls=nulls)
    actions = item_actions(item_engine)
    if mode == "cerbos-plans":
        # Cerbos's plans write has() as true, so a presence test's rows differ from check by design
        actions = [a for a in actions if a not in PRESENCE_ACTIONS]
    counts = compare(item_engine, Item.objects.using(alias), mapping, PRINCIPALS, actions, mode)
    print(f"items on {alias} ({nulls}, {mode}): {dict(counts)}")
    assert counts["plans"] == len(PRINCIPALS) * len(actions) and len(actions) >= 36
    assert counts["comparisons"] == ROWS * len(PRINCIPALS) * len(actions)
    assert 0 < counts["allowed"] < counts["comparisons"]


def test_every_action_is_decided_both_ways(item_engine):
    """The generated rows exercise each condition: for each action, some row is allowed to a user and some denied."""
    load_items("default")
    actions = item_actions(item_engine)
    seen: Dict[str, set] = {action: set() for action in actions}
    for nulls in CONVENTIONS:
        mapping = ModelAttributes(Item, ATTRIBUTES, nulls=nulls)
        resources = [mapping.resource(item) for item in Item.objects.order_by("pk")]
        for user in PRINCIPALS[:3]:
            for row in item_engine.decision_table(user, resources, actions):
                for action, allowed in zip(actions, row, strict=True):
                    seen[action].add(allowed)
    assert {a: s for a, s in seen.items() if s != {True, False}} == {}


def test_contacts_listed_are_contacts_check_allows(alias):
    engine = warden.Engine.from_directory(CONTACT_POLICIES)
    Contact.objects.using(alias).all().delete()
    rng = random.Random(SEED)
    owners = [rng.choice(["alice", "bob", "carol", "Bob", "", "bob "]) for _ in range(60)]
    Contact.objects.using(alias).bulk_create(
        Contact(id=f"c{i:03}", name=f"contact {i}", owner_id=owner) for i, owner in enumerate(owners)
    )
    principals = [
        {"id": "alice", "roles": ["admin"]},
        {"id": "bob", "roles": ["user"]},
        {"id": "carol", "roles": ["user"]},
        {"id": "mallory", "roles": ["guest"]},
    ]
    mapping = ModelAttributes(Contact)
    counts = compare(engine, Contact.objects.using(alias), mapping, principals, ["read", "create", "update", "delete"])
    print(f"contacts on {alias}: {dict(counts)}")
    cerbos = compare(engine, Contact.objects.using(alias), mapping, principals, ["read"], "cerbos-plans")
    assert cerbos["comparisons"] == 60 * 4
    assert counts["comparisons"] == 60 * 4 * 4
