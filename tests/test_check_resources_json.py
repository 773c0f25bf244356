"""Engine.check_resources_json: Cerbos's public CheckResources API shape, with aux-data JWTs
verified by the engine's key sets (the Cerbos test keys, tokens signed by PyJWT)."""

from __future__ import annotations

import json
import time

import pytest
from warden import Engine

import jwt as pyjwt
from tests.shared_data import require_shared

TESTDATA = require_shared("conformance", "cerbos", "internal", "test", "testdata")
KEYS = TESTDATA / "auxdata" / "keys"


@pytest.fixture(scope="module")
def engine():
    return Engine.from_directory(
        TESTDATA / "store",
        globals={"environment": "test"},
        jwt_keysets={"cerbos": str(KEYS / "verify_key.jwk")},
    )


def token(claims: dict, *, key_file: str = "signing_key.jwk") -> str:
    jwk = json.loads((KEYS / key_file).read_text())
    key = pyjwt.PyJWK(jwk).key
    return pyjwt.encode(claims, key, algorithm=jwk.get("alg", "ES384"), headers={"kid": jwk.get("kid")})


def request(aux: dict | None, actions=("defer",)) -> dict:
    req = {
        "requestId": "r1",
        "includeMeta": True,
        "principal": {
            "id": "john",
            "policyVersion": "20210210",
            "roles": ["employee"],
            "attr": {"department": "marketing", "geography": "GB", "team": "design"},
        },
        "resources": [
            {
                "actions": list(actions),
                "resource": {
                    "kind": "leave_request",
                    "id": "XX125",
                    "policyVersion": "20210210",
                    "attr": {
                        "department": "marketing",
                        "geography": "GB",
                        "id": "XX125",
                        "owner": "john",
                        "team": "design",
                    },
                },
            }
        ],
    }
    if aux is not None:
        req["auxData"] = aux
    return req


def test_verified_jwt_claims_reach_the_conditions(engine):
    tok = token({"aud": ["cerbos-jwt-tests"], "customArray": ["A", "B"], "exp": int(time.time()) + 300})
    resp = engine.check_resources_json(request({"jwt": {"token": tok, "keySetId": "cerbos"}}))
    (result,) = resp["results"]
    assert resp["requestId"] == "r1"
    assert result["resource"] == {"id": "XX125", "kind": "leave_request", "policyVersion": "20210210"}
    assert result["actions"] == {"defer": "EFFECT_ALLOW"}
    assert result["meta"]["actions"]["defer"]["matchedPolicy"] == "resource.leave_request.v20210210"


def test_single_keyset_is_used_without_an_id(engine):
    tok = token({"aud": ["cerbos-jwt-tests"], "customArray": ["A"], "exp": int(time.time()) + 300})
    resp = engine.check_resources_json(request({"jwt": {"token": tok}}))
    assert resp["results"][0]["actions"] == {"defer": "EFFECT_ALLOW"}


def test_claims_that_fail_the_condition_deny(engine):
    tok = token({"aud": ["someone-else"], "customArray": ["A"], "exp": int(time.time()) + 300})
    resp = engine.check_resources_json(request({"jwt": {"token": tok}}))
    assert resp["results"][0]["actions"] == {"defer": "EFFECT_DENY"}


@pytest.mark.parametrize(
    ("aux", "message"),
    [
        ({"jwt": {"token": "not.a.token"}}, "invalid auxData"),
        ({"jwt": {"token": "x", "keySetId": "nope"}}, "keyset not found: nope"),
    ],
    ids=["garbage-token", "unknown-keyset"],
)
def test_bad_aux_data_is_an_error_never_a_silent_allow(engine, aux, message):
    with pytest.raises(ValueError, match=message):
        engine.check_resources_json(request(aux))


def test_expired_and_foreign_tokens_are_refused(engine):
    expired = token({"aud": ["cerbos-jwt-tests"], "customArray": ["A"], "exp": int(time.time()) - 3600})
    with pytest.raises(ValueError, match="invalid auxData"):
        engine.check_resources_json(request({"jwt": {"token": expired}}))
    # Signed by a key the key set does not hold.
    from cryptography.hazmat.primitives.asymmetric import ec

    other = pyjwt.encode(
        {"aud": ["cerbos-jwt-tests"], "exp": int(time.time()) + 60},
        ec.generate_private_key(ec.SECP384R1()),
        algorithm="ES384",
        headers={"kid": json.loads((KEYS / "signing_key.jwk").read_text())["kid"]},
    )
    with pytest.raises(ValueError, match="invalid auxData"):
        engine.check_resources_json(request({"jwt": {"token": other}}))


def test_request_without_keysets_refuses_tokens():
    e = Engine.from_directory(TESTDATA / "store", globals={"environment": "test"})
    with pytest.raises(ValueError, match="jwt_keysets"):
        e.check_resources_json(request({"jwt": {"token": "a.b.c"}}))


def test_bad_request_names_the_field(engine):
    req = request(None)
    req["resources"][0]["actions"] = "defer"
    with pytest.raises(ValueError, match=r"resources\[0\]\.actions|actions"):
        engine.check_resources_json(req)
    req = request(None)
    req["principal"]["roles"] = []
    with pytest.raises(ValueError, match="principal.roles"):
        engine.check_resources_json(req)
