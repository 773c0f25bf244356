"""Provider presets with realistic Cognito, Okta and Stytch claims (ATTACKS.md C12),
and the claims-to-principal mapping."""

from __future__ import annotations

import time

import pytest
import warden
from warden.jwt import PrincipalMapping, claim_path

from .signing import SigningKey, sign

REGION, POOL, CLIENT = "eu-west-1", "eu-west-1_AbC123xyz", "1example23456789"
COGNITO_ISS = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
OKTA_ISS, OKTA_AUD, OKTA_CID = "https://dev-123456.okta.com/oauth2/default", "api://default", "0oa1bcd2efGHIjk3l4x7"
STYTCH_PROJECT = "project-test-11111111-2222-3333-4444-555555555555"


def now() -> int:
    return int(time.time())


def cognito_access(**over):
    c = {
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "cognito:groups": ["admin", "editors"],
        "iss": COGNITO_ISS,
        "version": 2,
        "client_id": CLIENT,
        "origin_jti": "f9b8c7d6-0000-4000-8000-000000000001",
        "event_id": "b2c3d4e5-0000-4000-8000-000000000002",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin openid email",
        "auth_time": now() - 60,
        "exp": now() + 3600,
        "iat": now() - 60,
        "jti": "c3d4e5f6-0000-4000-8000-000000000003",
        "username": "janedoe",
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def cognito_id(**over):
    c = {
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "cognito:groups": ["admin"],
        "email_verified": True,
        "iss": COGNITO_ISS,
        "cognito:username": "janedoe",
        "origin_jti": "f9b8c7d6-0000-4000-8000-000000000001",
        "aud": CLIENT,
        "event_id": "b2c3d4e5-0000-4000-8000-000000000002",
        "token_use": "id",
        "auth_time": now() - 60,
        "exp": now() + 3600,
        "iat": now() - 60,
        "jti": "d4e5f6a7-0000-4000-8000-000000000004",
        "email": "jane@example.com",
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def okta_access(**over):
    c = {
        "ver": 1,
        "jti": "AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE",
        "iss": OKTA_ISS,
        "aud": OKTA_AUD,
        "iat": now() - 10,
        "exp": now() + 3600,
        "cid": OKTA_CID,
        "uid": "00ujmkLgOx4a8xQFG0h7",
        "scp": ["openid", "email", "contacts:read"],
        "auth_time": now() - 100,
        "sub": "jane@example.com",
        "groups": ["Everyone", "Admins"],
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def stytch_session(**over):
    c = {
        "aud": [STYTCH_PROJECT],
        "exp": now() + 300,
        "https://stytch.com/session": {
            "id": "session-test-fe6c042b-6286-479f-8a4f-b046a6c46509",
            "started_at": "2024-05-01T10:00:00Z",
            "last_accessed_at": "2024-05-01T10:05:00Z",
            "expires_at": "2024-05-02T10:00:00Z",
            "attributes": {"user_agent": "", "ip_address": ""},
            "authentication_factors": [{"type": "magic_link", "delivery_method": "email"}],
            "roles": ["stytch_user", "editor"],
        },
        "iat": now(),
        "iss": f"stytch.com/{STYTCH_PROJECT}",
        "nbf": now(),
        "sub": "user-test-16d9ba61-97a1-4ba4-9720-b03761dc50c6",
        "trusted_metadata": {"roles": ["billing-admin"], "tenant": "acme"},
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def signed(key: SigningKey, payload) -> str:
    # Cognito/Okta/Stytch headers: alg + kid, no typ (Okta and Stytch send none either).
    return sign({"alg": key.alg, "kid": key.kid}, payload, key.private)


@pytest.fixture
def rs(keys):
    return keys["rs"]


@pytest.fixture
def jwks_rs(rs):
    return {"keys": [rs.public_jwk()]}


# --- Cognito -----------------------------------------------------------------------


def test_cognito_access_token(rs, jwks_rs):
    v = warden.JWTVerifier.cognito(REGION, POOL, CLIENT, jwks=jwks_rs)
    claims = v.verify(signed(rs, cognito_access()))
    assert claims["username"] == "janedoe"
    p = v.principal(signed(rs, cognito_access()))
    assert isinstance(p, warden.Principal)
    assert p.id == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    assert set(p.roles) == {"admin", "editors"}
    assert p.attr == {"username": "janedoe", "scope": "aws.cognito.signin.user.admin openid email", "client_id": CLIENT}


def test_cognito_id_token(rs, jwks_rs):
    v = warden.JWTVerifier.cognito(REGION, POOL, CLIENT, token_use="id", jwks=jwks_rs)
    p = v.principal(signed(rs, cognito_id()))
    assert set(p.roles) == {"admin"} and p.attr["username"] == "janedoe" and p.attr["email"] == "jane@example.com"


@pytest.mark.parametrize(
    "token_use,payload,match",
    [
        ("access", cognito_id(), "aud|token_use"),  # ID token used as an access token
        ("access", cognito_id(aud=None, client_id=CLIENT), "token_use"),  # ... even shaped like one
        ("access", cognito_access(client_id="someone-else"), "client_id"),
        ("access", cognito_access(token_use=None), "token_use"),
        ("id", cognito_access(), "aud"),  # access token used as an ID token (no aud)
        ("id", cognito_id(aud="someone-else"), "aud"),
        ("access", cognito_access(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"), "iss"),
    ],
    ids=[
        "cognito_id_as_access",
        "cognito_id_as_access_no_aud",
        "cognito_wrong_client_id",
        "cognito_missing_token_use",
        "cognito_access_as_id",
        "cognito_id_wrong_aud",
        "cognito_other_pool",
    ],
)
def test_C12_cognito_mapping_rejects(rs, jwks_rs, token_use, payload, match):
    v = warden.JWTVerifier.cognito(REGION, POOL, CLIENT, token_use=token_use, jwks=jwks_rs)
    with pytest.raises(warden.InvalidClaims, match=match):
        v.verify(signed(rs, payload))


def test_cognito_rejects_other_algorithms(keys):
    es = keys["es"]
    v = warden.JWTVerifier.cognito(REGION, POOL, CLIENT, jwks={"keys": [keys["rs"].public_jwk(), es.public_jwk()]})
    with pytest.raises(warden.UnsupportedAlgorithm):  # Cognito signs RS256 only
        v.verify(signed(es, cognito_access()))


@pytest.mark.parametrize(
    "args,field",
    [
        (("eu-west-1/../x", POOL, CLIENT), "region"),
        ((REGION, "pool?x=1", CLIENT), "user_pool_id"),
        ((REGION, POOL, ""), "client_id"),
    ],
)
def test_cognito_bad_configuration_names_the_field(args, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        warden.JWTVerifier.cognito(*args)
    with pytest.raises(ValueError, match="^token_use:"):
        warden.JWTVerifier.cognito(REGION, POOL, CLIENT, token_use="refresh")


# --- Okta ----------------------------------------------------------------------------


def test_okta_access_token(rs, jwks_rs):
    v = warden.JWTVerifier.okta(OKTA_ISS, OKTA_AUD, client_id=OKTA_CID, jwks=jwks_rs)
    p = v.principal(signed(rs, okta_access()))
    assert p.id == "jane@example.com"
    assert set(p.roles) == {"Everyone", "Admins"}
    assert p.attr == {
        "scopes": ["openid", "email", "contacts:read"],
        "client_id": OKTA_CID,
        "uid": "00ujmkLgOx4a8xQFG0h7",
    }
    # Okta's own option: the user id rather than the login as principal id.
    assert v.principal(signed(rs, okta_access()), id_claim="uid").id == "00ujmkLgOx4a8xQFG0h7"


def test_C12_okta_wrong_cid(rs, jwks_rs):
    v = warden.JWTVerifier.okta(OKTA_ISS, OKTA_AUD, client_id=OKTA_CID, jwks=jwks_rs)
    with pytest.raises(warden.InvalidClaims, match="cid"):
        v.verify(signed(rs, okta_access(cid="0oaOTHERCLIENT")))
    with pytest.raises(warden.InvalidClaims, match="cid"):
        v.verify(signed(rs, okta_access(cid=None)))
    # Without client_id any cid is fine, audience still checked.
    any_client = warden.JWTVerifier.okta(OKTA_ISS, OKTA_AUD, jwks=jwks_rs)
    assert any_client.verify(signed(rs, okta_access(cid="0oaOTHERCLIENT")))["cid"] == "0oaOTHERCLIENT"
    with pytest.raises(warden.InvalidClaims, match="aud"):
        any_client.verify(signed(rs, okta_access(aud="api://other")))


def test_okta_keys_from_the_network(idp, rs):
    issuer = idp.url + "/oauth2/default"
    v = warden.JWTVerifier.okta(issuer, OKTA_AUD, jwks_url=idp.url + "/v1/keys", failure_backoff=0)
    assert v.verify(signed(rs, okta_access(iss=issuer)))["uid"] == "00ujmkLgOx4a8xQFG0h7"
    assert idp.count("/v1/keys") == 1


# --- Stytch --------------------------------------------------------------------------


def test_stytch_session_jwt(rs, jwks_rs):
    v = warden.JWTVerifier.stytch(STYTCH_PROJECT, jwks=jwks_rs)
    p = v.principal(signed(rs, stytch_session()))
    assert p.id == "user-test-16d9ba61-97a1-4ba4-9720-b03761dc50c6"
    assert set(p.roles) == {"stytch_user", "editor", "billing-admin"}
    assert p.attr["session_id"] == "session-test-fe6c042b-6286-479f-8a4f-b046a6c46509"
    assert p.attr["trusted_metadata"]["tenant"] == "acme"


@pytest.mark.parametrize(
    "payload,match",
    [
        (stytch_session(iss="stytch.com/project-test-00000000-0000-0000-0000-000000000000"), "iss"),
        (stytch_session(aud=["project-test-00000000-0000-0000-0000-000000000000"]), "aud"),
        (stytch_session(exp=now() - 120), "expired"),
    ],
)
def test_stytch_rejects(rs, jwks_rs, payload, match):
    v = warden.JWTVerifier.stytch(STYTCH_PROJECT, jwks=jwks_rs)
    with pytest.raises(warden.InvalidToken, match=match):
        v.verify(signed(rs, payload))


def test_stytch_project_id_is_checked():
    with pytest.raises(ValueError, match="^project_id:"):
        warden.JWTVerifier.stytch("../../evil")


# --- OIDC with local keys ---------------------------------------------------------------


def test_oidc_with_local_jwks(rs, jwks_rs):
    v = warden.JWTVerifier.oidc("https://accounts.example.com", "my-client", jwks=jwks_rs)
    payload = {
        "iss": "https://accounts.example.com",
        "aud": "my-client",
        "sub": "110169484474386276334",
        "exp": now() + 60,
        "iat": now(),
        "roles": ["viewer"],
    }
    p = v.principal(signed(rs, payload))
    assert p.id == "110169484474386276334" and set(p.roles) == {"viewer"}


# --- claims to principal ----------------------------------------------------------------


def test_claim_paths():
    claims = {
        "cognito:groups": ["a"],
        "https://stytch.com/session": {"roles": ["r"], "id": "s"},
        "trusted_metadata": {"roles": ["t"], "deep": {"x": 1}},
        "a.b": "literal",
        "a": {"b": "nested"},
    }
    assert claim_path(claims, "cognito:groups") == ["a"]
    assert claim_path(claims, "https://stytch.com/session.roles") == ["r"]
    assert claim_path(claims, "trusted_metadata.deep.x") == 1
    assert claim_path(claims, "a.b") == "literal"  # a literal name wins
    assert claim_path(claims, "trusted_metadata.missing") is None
    assert claim_path(claims, "cognito:groups.x") is None
    assert claim_path(claims, "") is None


def test_principal_defaults_and_overrides():
    m = PrincipalMapping(roles_claim="scope", attr_claims={"email": "email"})
    p = m.principal({"sub": "u1", "scope": "read write", "email": "u@x"})
    assert set(p.roles) == {"read", "write"} and p.attr == {"email": "u@x"}
    # No roles in the token: the default role, so the principal is still valid for Cerbos.
    assert set(m.principal({"sub": "u1"}).roles) == {"user"}
    p = m.principal(
        {"sub": "u1", "grp": ["x", 5, ""]}, roles_claim="grp", attr_claims=["sub"], policy_version="v2", scope="acme"
    )
    assert set(p.roles) == {"x"} and p.attr == {"sub": "u1"} and p.policy_version == "v2" and p.scope == "acme"
    with pytest.raises(warden.InvalidClaims, match='"sub"'):
        m.principal({"scope": "read"})
    with pytest.raises(warden.InvalidClaims, match='"uid"'):
        m.principal({"sub": "u1"}, id_claim="uid")


def test_principal_from_token_verifies_it_first(verifier, keys):
    from .signing import token

    bad = token(keys["other_rs"])
    with pytest.raises(warden.InvalidSignature):
        verifier.principal(bad)
