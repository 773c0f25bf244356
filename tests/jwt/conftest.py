"""Fixtures for the JWT tests: keys, a local-JWKS verifier and the loopback IdP."""

from __future__ import annotations

import pytest

from .idp import IdP
from .signing import AUDIENCE, HMAC_SECRET, ISSUER, SigningKey, ec_key, ed_key, rsa_key


@pytest.fixture(scope="session")
def keys():
    """One key per algorithm family, each with its kid and alg."""
    return {
        "rs": SigningKey("rsa-1", "RS256", rsa_key(2048)),
        "ps": SigningKey("ps-1", "PS256", rsa_key(2048, 1)),
        "es": SigningKey("ec-1", "ES256", ec_key("P-256")),
        "es384": SigningKey("ec384-1", "ES384", ec_key("P-384")),
        "ed": SigningKey("ed-1", "EdDSA", ed_key()),
        "other_rs": SigningKey("rsa-1", "RS256", rsa_key(2048, 2)),  # same kid, different key
        "attacker": SigningKey("attacker", "RS256", rsa_key(2048, 3)),
        "hs": SigningKey("hs-1", "HS256", HMAC_SECRET),
    }


@pytest.fixture(scope="session")
def jwks(keys):
    """The public JWKS of the asymmetric keys (each JWK names its alg)."""
    return {"keys": [keys[k].public_jwk() for k in ("rs", "ps", "es", "es384", "ed")]}


@pytest.fixture(scope="session")
def verifier(jwks):
    """The ATTACKS.md profile: exp, iss, aud required; leeway 30 s."""
    import warden

    return warden.JWTVerifier(jwks=jwks, issuer=ISSUER, audience=AUDIENCE, required_claims=("exp", "iss", "aud"))


@pytest.fixture
def idp(keys):
    with IdP([keys["rs"], keys["es"]]) as server:
        yield server


def remote_verifier(idp: IdP, **options):
    """A verifier on the IdP's JWKS, with test-friendly cache timing unless overridden."""
    import warden

    options.setdefault("failure_backoff", 0)
    options.setdefault("http_timeout", 2.0)
    return warden.JWTVerifier(jwks_url=idp.jwks_url, issuer=ISSUER, audience=AUDIENCE, **options)
