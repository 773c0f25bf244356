"""The policy stores and cases the differential tests run: Cerbos's query-planner conformance store
(every suite test's resource and actions, for every suite principal), the examples' policies and
warden's operator policy (tests/plan/policies), each with several principals."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Dict, List

import yaml
from warden import Engine

from tests.conformance.cerbos_data import TESTDATA, case_files, load_case
from tests.plan.differential import Case, Suite

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CONFORMANCE_NOW = "2024-01-16T10:18:27.395+13:00"
PRINCIPALS_PER_SPEC = 8


def conformance() -> Suite:
    """Cerbos's query_planner store (strict scope search), as Cerbos's TestQueryPlan configures it."""
    engine = Engine.from_directory(TESTDATA / "query_planner" / "policies", globals={"environment": "test"})
    principals: Dict[str, Dict[str, Any]] = {}
    specs: Dict[str, Any] = {}
    owners: List[str] = []
    for suite in ("common", "strict_scope_search"):
        for _name, path in case_files(f"query_planner/suite/{suite}"):
            data = load_case(path)
            principals.setdefault(data["principal"]["id"], data["principal"])
            for test in data["tests"]:
                if test.get("wantErr"):
                    continue
                actions = test.get("actions") or [test["action"]]
                r = test["resource"]
                resource = {k: r[k] for k in ("kind", "policyVersion", "scope", "attr") if k in r}
                key = repr((sorted(resource.items(), key=str), actions))
                if key not in specs:
                    specs[key] = (resource, actions)
                    owners.append(data["principal"]["id"])
    # every spec with its own suite's principal and seven others (seeded): 24 x 67 would be slow in a debug build
    rng = random.Random(16)
    everyone = list(principals.values())
    cases = []
    for (resource, actions), owner in zip(specs.values(), owners, strict=True):
        others = [p for p in everyone if p["id"] != owner]
        for p in [principals[owner], *rng.sample(others, min(PRINCIPALS_PER_SPEC - 1, len(others)))]:
            cases.append(Case(p, resource, actions))
    return Suite("conformance", engine, cases, CONFORMANCE_NOW, aux_data={"jwt": {"customInt": 42}})


def _policy_actions(directory: Path) -> Dict[str, List[str]]:
    """Every resource kind of a policy directory with the actions its rules name (not ``*``)."""
    kinds: Dict[str, List[str]] = {}
    for path in sorted(directory.rglob("*.yaml")):
        if path.name.endswith("_test.yaml") or "testdata" in path.parts:
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            rp = (doc or {}).get("resourcePolicy")
            if not rp:
                continue
            actions = kinds.setdefault(rp["resource"], [])
            for rule in rp.get("rules", []):
                for a in rule.get("actions", []):
                    if a != "*" and a not in actions:
                        actions.append(a)
    return kinds


def _store_cases(directory: Path, principals: List[Dict[str, Any]], extra: Dict[str, List[str]] = {}) -> List[Case]:  # noqa: B006
    cases = []
    for kind, actions in _policy_actions(directory).items():
        for action in actions + extra.get(kind, []):
            for p in principals:
                cases.append(Case(p, {"kind": kind}, [action]))
        if len(actions) > 1:
            for p in principals:
                cases.append(Case(p, {"kind": kind}, actions[:2]))
    return cases


def examples() -> List[Suite]:
    """The example apps' policies, with the principals the apps make."""
    ex = REPO / "examples"
    people = [
        {"id": "alice", "roles": ["admin"]},
        {"id": "bob", "roles": ["user"]},
        {"id": "carol", "roles": ["user"], "attr": {"department": "Sales"}},
        {"id": "eve", "roles": ["guest"]},
    ]
    apples = [
        {"id": "alice", "roles": ["admin"]},
        {"id": "bob", "roles": ["reader"]},
        {"id": "eve", "roles": ["guest"]},
    ]
    scopes = [
        {"id": "customer-1", "roles": ["customers"], "attr": {"scope": ["sales_order.read", "sales_order.write"]}},
        {"id": "customer-2", "roles": ["customers"], "attr": {"scope": ["sales_order.read"]}},
        {"id": "batch", "roles": ["services"], "attr": {"scope": ["sales_order.read_all"]}},
        {"id": "clerk", "roles": ["employees"], "attr": {"scope": ["sales_order.write"]}},
        {"id": "nobody", "roles": ["customers"], "attr": {"scope": []}},
    ]
    now = "2025-06-01T12:00:00Z"
    suites = []
    for name, directory, principals in [
        ("contacts", ex / "contacts" / "policies", people),
        ("contacts-derived-roles", ex / "contacts" / "policies_derived_roles", people),
        ("cognito", ex / "cognito" / "policies", people),
        ("apples", ex / "apples" / "policies", apples),
        ("sales_orders", ex / "sales_orders" / "policies", scopes),
    ]:
        engine = Engine.from_directory(directory)
        suites.append(Suite(name, engine, _store_cases(directory, principals), now))
    return suites


def operators() -> Suite:
    """tests/plan/policies: one action per operator shape, deny rules and derived roles included."""
    directory = HERE / "policies"
    engine = Engine.from_directory(directory)
    principals = [
        {"id": "alice", "roles": ["user"], "attr": {"teams": ["red", "blue"], "level": 3, "tags": ["a%", "B_"]}},
        {"id": "Bob", "roles": ["user", "auditor"], "attr": {"teams": [], "level": 0, "tags": []}},
        {"id": "c%_", "roles": ["auditor"], "attr": {"teams": ["Red"], "level": 9007199254740993, "tags": ["x"]}},
    ]
    return Suite("operators", engine, _store_cases(directory, principals), "2025-06-01T12:00:00.123456789Z")
