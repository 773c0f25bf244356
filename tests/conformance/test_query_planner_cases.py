"""Cerbos's query planner conformance suites, run through warden's Python API.

Runs ``query_planner/suite/{common,strict_scope_search,lenient_scope_search}`` straight from the
shared corpus the way Cerbos's ``TestQueryPlan`` (``internal/engine/engine_test.go``) does: the
store ``query_planner/policies``, globals ``{"environment": "test"}``, now
``2024-01-16T10:18:27.395+13:00``, aux data JWT claims ``{"customInt": 42}``; ``common`` in both
scope-search modes, the others in their own. Filters are compared exactly, the operands of every
expression as unordered lists (Cerbos's harness sorts them before comparing).

Each test runs twice: through ``Engine.plan_resources`` (claims given as engine-level aux data)
and through ``Engine.plan_resources_json`` (Cerbos's public request, the claims in a JWT signed
with Cerbos's test key and verified by the engine's key set).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from warden import Engine

import jwt as pyjwt
from tests.conformance.cerbos_data import TESTDATA, case_files, load_case, require_testdata

require_testdata()

NOW = "2024-01-16T10:18:27.395+13:00"
CLAIMS = {"customInt": 42}
KEYS = TESTDATA / "auxdata" / "keys"

MODES = {
    "strict": ("common", "strict_scope_search"),
    "lenient": ("common", "lenient_scope_search"),
}


def _cases() -> list:
    params = []
    for mode, suites in MODES.items():
        for suite in suites:
            for name, path in case_files(f"query_planner/suite/{suite}"):
                data = load_case(path)
                for i, test in enumerate(data["tests"]):
                    actions = test.get("actions") or [test["action"]]
                    case_id = f"{name}[{i}] {test['resource']['kind']} {','.join(actions)}:{mode}"
                    params.append(pytest.param(mode, data["principal"], test, id=case_id))
    return params


CASES = _cases()


@pytest.fixture(scope="module")
def engines() -> dict[str, Engine]:
    store = TESTDATA / "query_planner" / "policies"
    keysets = {"cerbos": str(KEYS / "verify_key.jwk")}
    return {
        mode: Engine.from_directory(
            store, globals={"environment": "test"}, lenient_scope_search=(mode == "lenient"), jwt_keysets=keysets
        )
        for mode in MODES
    }


def _token() -> str:
    jwk = json.loads((KEYS / "signing_key.jwk").read_text())
    key = pyjwt.PyJWK(jwk).key
    claims = {**CLAIMS, "aud": ["cerbos-jwt-tests"], "exp": int(time.time()) + 600}
    return pyjwt.encode(claims, key, algorithm=jwk.get("alg", "ES384"), headers={"kid": jwk.get("kid")})


def _stabilise(operand: Any) -> Any:
    """Operands of every expression sorted; numbers as floats (protobuf Values are doubles)."""
    if isinstance(operand, dict) and "expression" in operand:
        expr = operand["expression"]
        ops = sorted((_stabilise(o) for o in expr.get("operands", [])), key=lambda o: json.dumps(o, sort_keys=True))
        return {"expression": {"operator": expr["operator"], "operands": ops}}
    if isinstance(operand, dict) and "value" in operand:
        return {"value": _doubles(operand["value"])}
    return operand


def _doubles(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, list):
        return [_doubles(x) for x in v]
    return {k: _doubles(x) for k, x in v.items()}


def _filter(f: dict) -> dict:
    out = {"kind": f["kind"]}
    if "condition" in f:
        out["condition"] = _stabilise(f["condition"])
    return out


def _resource(test: dict) -> dict:
    r = test["resource"]
    return {k: r[k] for k in ("kind", "policyVersion", "scope", "attr") if k in r}


@pytest.mark.parametrize(("mode", "principal", "test"), CASES)
def test_plan_resources(engines, mode, principal, test):
    actions = test.get("actions") or [test["action"]]
    engine = engines[mode]
    if test.get("wantErr"):
        with pytest.raises(ValueError):
            engine.plan_resources(principal, _resource(test), actions, aux_data={"jwt": CLAIMS}, now=NOW)
        return
    resp = engine.plan_resources(principal, _resource(test), actions, aux_data={"jwt": CLAIMS}, now=NOW)
    assert _filter(resp["filter"]) == _filter(test["want"]), resp["meta"]["filterDebug"]
    assert resp["actions"] == actions
    assert resp["resourceKind"] == test["resource"]["kind"]


@pytest.mark.parametrize(("mode", "principal", "test"), CASES)
def test_plan_resources_json(engines, mode, principal, test):
    actions = test.get("actions") or [test["action"]]
    request = {
        "requestId": "requestId",
        "actions": actions,
        "principal": principal,
        "resource": _resource(test),
        "auxData": {"jwt": {"token": _token(), "keySetId": "cerbos"}},
        "includeMeta": True,
    }
    engine = engines[mode]
    if test.get("wantErr"):
        with pytest.raises(ValueError):
            engine.plan_resources_json(request, now=NOW)
        return
    resp = engine.plan_resources_json(request, now=NOW)
    assert _filter(resp["filter"]) == _filter(test["want"]), resp["meta"]["filterDebug"]
    assert resp["requestId"] == "requestId"
    assert set(resp["meta"]["matchedScopes"]) == set(actions) or resp["meta"]["filterDebug"] == "NO_MATCH"


def test_every_suite_ran():
    assert len(CASES) >= 200, len(CASES)
