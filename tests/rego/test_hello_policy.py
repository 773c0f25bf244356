"""The Okta "hello" app's Rego policy (examples/hello/opa/demoapi_authz.rego, Rego v0) decided
in-process, with the input the app posts to OPA and tokens signed by PyJWT."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from warden.rego import Rego, http_input

import jwt

POLICIES = Path(__file__).resolve().parents[2] / "examples" / "hello" / "opa"
RULE = "data.demoapi.authz.allow"


@pytest.fixture(scope="module")
def rego():
    return Rego.from_directory(POLICIES)


@pytest.fixture(scope="module")
def okta_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def okta_token(key, scopes):
    now = int(time.time())
    claims = {
        "ver": 1,
        "jti": "AT.test",
        "iss": "https://dev-123.okta.com/oauth2/default",
        "aud": "api://default",
        "iat": now,
        "exp": now + 3600,
        "cid": "0oa-hello-client",
        "scp": scopes,
        "sub": "0oa-hello-client",
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "okta-key-1"})


def test_policy_loads_as_v0_unchanged(rego):
    assert [(Path(f).name, syntax) for f, syntax in rego.files] == [("demoapi_authz.rego", "v0")]
    assert rego.packages == ["data.demoapi.authz"]


def test_sayhello_allowed_with_read_sayhello_scope(rego, okta_key):
    token = okta_token(okta_key, ["read_sayhello"])
    assert rego.allowed(RULE, http_input("GET", "/sayhello", token)) is True


def test_saysecret_denied(rego, okta_key):
    token = okta_token(okta_key, ["read_sayhello"])
    assert rego.allowed(RULE, http_input("GET", "/saysecret", token)) is False
    assert rego.allowed(RULE, http_input("GET", "/saysecret", okta_token(okta_key, ["read_saysecret"]))) is False


def test_other_scopes_methods_and_bad_tokens_denied(rego, okta_key):
    assert rego.allowed(RULE, http_input("GET", "/sayhello", okta_token(okta_key, ["read_saysecret"]))) is False
    assert rego.allowed(RULE, http_input("GET", "/sayhello", okta_token(okta_key, []))) is False
    assert rego.allowed(RULE, http_input("POST", "/sayhello", okta_token(okta_key, ["read_sayhello"]))) is False
    assert rego.allowed(RULE, http_input("GET", "/sayhello", "not-a-jwt")) is False
    assert rego.allowed(RULE, http_input("GET", "/sayhello")) is False


def test_same_answer_as_the_opa_rest_call(rego, okta_key):
    token = okta_token(okta_key, ["read_sayhello"])
    body = {"input": {"method": "GET", "api": "/sayhello", "jwt": {"tokenValue": token}}}
    # what the app read from http://localhost:8181/v1/data/demoapi/authz/allow
    assert rego.eval_data_api("demoapi/authz/allow", body) == {"result": True}
    body["input"]["api"] = "/saysecret"
    assert rego.eval_data_api("/v1/data/demoapi/authz/allow", body) == {"result": False}


def test_batch_of_requests(rego, okta_key):
    hello = okta_token(okta_key, ["read_sayhello"])
    inputs = [http_input("GET", path, hello) for path in ("/sayhello", "/saysecret", "/sayhello")]
    assert rego.eval_batch(RULE, inputs) == [True, False, True]
