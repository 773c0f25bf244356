"""The development issuer the examples embed: its tokens verify with PyJWT and with warden."""

from __future__ import annotations

import httpx
import pytest
import warden
from warden.devissuer import DevIssuer

import jwt as pyjwt

USERS = {"alice": {"roles": ["admin"], "scope": "orders.read"}, "bob": {"roles": ["user"]}}


@pytest.fixture(scope="module")
def dev():
    with DevIssuer(audience="api://dev", users=USERS) as issuer:
        yield issuer


def test_tokens_verify_with_pyjwt_against_the_served_jwks(dev):
    jwks = httpx.get(dev.jwks_url).json()
    assert [k["kid"] for k in jwks["keys"]] == [dev.kid]
    key = pyjwt.PyJWK(jwks["keys"][0]).key
    claims = pyjwt.decode(dev.mint("alice"), key, algorithms=["RS256"], audience="api://dev", issuer=dev.issuer)
    assert claims["sub"] == "alice" and claims["roles"] == ["admin"] and claims["exp"] - claims["iat"] == 3600


def test_tokens_verify_with_warden_and_discovery(dev):
    verifier = warden.JWTVerifier(jwks_url=dev.jwks_url, issuer=dev.issuer, audience="api://dev")
    principal = verifier.principal(dev.mint("bob", email="bob@example.com"))
    assert principal.id == "bob" and principal.roles == {"user"}
    discovered = warden.JWTVerifier.oidc(dev.issuer, "api://dev")
    assert discovered.verify(dev.mint("alice"))["scope"] == "orders.read"
    with pytest.raises(warden.ExpiredToken):
        verifier.verify(dev.mint("bob", exp=1))


def test_claim_overrides_and_unknown_users(dev):
    verifier = warden.JWTVerifier(jwks_url=dev.jwks_url, issuer=dev.issuer, audience="api://dev")
    claims = verifier.verify(dev.mint("carol", roles=["guest"], scope=None))
    assert claims["sub"] == "carol" and "scope" not in claims
    with pytest.raises(KeyError, match="'dave' is not one of"):
        dev.mint("dave")


def test_introspection_and_tokeninfo(dev):
    token = dev.mint("alice")
    introspector = warden.Introspector(dev.introspection_url, dev.client_id, dev.client_secret)
    assert introspector.verify(token)["sub"] == "alice"
    info = warden.TokenInfo(dev.tokeninfo_url, max_cache=0)
    answer = info.verify(token)
    assert answer["uid"] == "alice" and answer["scope"] == ["orders.read"] and answer["realm"] == "/employees"
    revoked = dev.mint("bob")
    dev.revoke(revoked)
    with pytest.raises(warden.InactiveToken):
        warden.Introspector(dev.introspection_url, dev.client_id, dev.client_secret).verify(revoked)
    with pytest.raises(warden.InvalidToken):
        info.verify(revoked)
    wrong = httpx.post(dev.introspection_url, data={"token": token}, auth=("dev-client", "nope"))
    assert wrong.status_code == 401


def test_foreign_issuer_string_for_provider_presets():
    pool = "eu-west-1_Dev123"
    issuer = f"https://cognito-idp.eu-west-1.amazonaws.com/{pool}"
    with DevIssuer(
        issuer=issuer,
        users={"ann": {"cognito:groups": ["admin"], "token_use": "access", "client_id": "app", "username": "ann"}},
    ) as dev:
        verifier = warden.JWTVerifier.cognito("eu-west-1", pool, "app", jwks_url=dev.jwks_url)
        assert verifier.principal(dev.mint("ann")).roles == {"admin"}


def test_loopback_only():
    with pytest.raises(ValueError, match="loopback"):
        DevIssuer(host="0.0.0.0")


def test_introspection_client_secret_with_reserved_characters():
    """The issuer decodes Basic credentials as RFC 6749 §2.3.1 says; warden encodes them so."""
    with DevIssuer(client_id="dev:client", client_secret="s+cr%t é:/") as issuer:
        token = issuer.mint("anyone", roles=["user"])
        assert (
            warden.Introspector(issuer.introspection_url, "dev:client", "s+cr%t é:/").verify(token)["sub"] == "anyone"
        )
        raw = httpx.post(issuer.introspection_url, data={"token": token}, auth=("dev:client", "s+cr%t é:/"))
        assert raw.status_code == 401  # httpx sends them un-encoded: the ':' in the id splits wrongly
