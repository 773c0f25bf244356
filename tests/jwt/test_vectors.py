"""Published vectors through the Python API (the Rust tests in src/jwt/vector_tests.rs
check them at the signature level too). Signature-valid vectors whose payload is not
a current claims set must fail *after* the signature check, never as InvalidSignature."""

from __future__ import annotations

import json

import pytest
import warden

from tests.shared_data import require_shared

# Read in place from the shared test data (never copied into the repo).
VECTORS = require_shared("jwt", "vectors")


def load(name: str):
    return json.loads((VECTORS / name).read_text())


def public(jwk):
    if jwk.get("kty") == "oct":
        return jwk
    return {k: v for k, v in jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}


RFC7515 = load("rfc7515_appendix_a.json")["vectors"]


@pytest.mark.parametrize("vector", RFC7515, ids=[v["name"] for v in RFC7515])
def test_rfc7515_appendix_a(vector):
    alg = vector["alg"]
    if alg in ("none", "ES512"):
        # A.5 (unsecured) must be refused; A.4 is ES512, which warden does not implement.
        key = vector["key_jwk"] or {"kty": "oct", "k": "A" * 43}
        try:
            v = warden.JWTVerifier(jwks=public(key), required_claims=())
        except ValueError:
            return  # P-521 keys are not loaded at all
        with pytest.raises(warden.UnsupportedAlgorithm):
            v.verify(vector["compact"])
        return
    v = warden.JWTVerifier(jwks=public(vector["key_jwk"]), issuer="joe", required_claims=("exp",))
    # The signature verifies; the 2011 `exp` is what refuses the token.
    with pytest.raises(warden.ExpiredToken):
        v.verify(vector["compact"])
    lenient = warden.JWTVerifier(jwks=public(vector["key_jwk"]), issuer="joe", required_claims=(), leeway=0)
    with pytest.raises(warden.ExpiredToken):
        lenient.verify(vector["compact"])


def wycheproof_cases():
    doc = load("wycheproof/json_web_signature_test.json")
    for group in doc["testGroups"]:
        jwk = group.get("public") or group.get("private")
        for test in group["tests"]:
            jws = test["jws"] if isinstance(test["jws"], str) else json.dumps(test["jws"])
            yield pytest.param(jwk, jws, test["result"], id=f"tc{test['tcId']}-{test['comment'][:40]}")


# Documented differences from Wycheproof's expectations (see src/jwt/vector_tests.rs).
REFUSED_ON_PURPOSE = {346, 347, 350, 351, 372, 373}
ACCEPTED_ON_PURPOSE = {367, 370}


@pytest.mark.parametrize("jwk,jws,result", list(wycheproof_cases()))
def test_wycheproof_jws(jwk, jws, result, request):
    tc = int(request.node.callspec.id.split("-")[0][2:])
    if tc in REFUSED_ON_PURPOSE:
        result = "invalid"
    elif tc in ACCEPTED_ON_PURPOSE:
        result = "valid"
    try:
        verifier = warden.JWTVerifier(jwks=public(jwk), required_claims=(), allowed_typ=("JWT", "JOSE"))
    except ValueError:
        assert result != "valid"
        return
    with pytest.raises(warden.InvalidToken) as info:
        verifier.verify(jws)  # Wycheproof payloads are not JSON claims sets
    signature_verified = info.value.description.startswith("payload is not a valid JSON object")
    if result == "valid":
        assert signature_verified, info.value.description
    elif result == "invalid":
        assert not signature_verified
