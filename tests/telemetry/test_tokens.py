"""Token verification and JWKS fetch telemetry against the loopback identity provider of tests/jwt."""

from __future__ import annotations

import time

import pytest
import warden

from tests.jwt.idp import IdP
from tests.jwt.signing import AUDIENCE, ISSUER, SigningKey, claims, rsa_key, token


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey("tel-1", "RS256", rsa_key(2048, 21))


def verifier(idp: IdP) -> warden.JWTVerifier:
    return warden.JWTVerifier(jwks_url=idp.jwks_url, issuer=ISSUER, audience=AUDIENCE, failure_backoff=0)


def test_verification_spans_failures_by_reason_and_the_jwks_fetch(otel, key):
    with IdP([key]) as idp:
        v = verifier(idp)
        fetches = otel.value("warden.jwks.fetches")
        expired = otel.value("warden.token.failures", **{"warden.token.failure_reason": "expired"})
        with otel.tracer.start_as_current_span("request") as parent:
            assert v.verify(token(key, claims()))["sub"] == "user-1"
            with pytest.raises(warden.ExpiredToken):
                v.verify(token(key, claims(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)))
        assert idp.count("/jwks") == 1
    assert otel.value("warden.jwks.fetches") == fetches + 1
    assert otel.value("warden.token.failures", **{"warden.token.failure_reason": "expired"}) == expired + 1

    (fetch,) = otel.spans("auth.FetchJWKS")
    assert fetch.parent.span_id == parent.get_span_context().span_id
    assert fetch.attributes["warden.jwks.requests"] == 1 and fetch.status.is_ok
    ok, refused = otel.spans("auth.VerifyToken")
    assert ok.attributes["warden.token.valid"] is True
    assert refused.attributes["warden.token.valid"] is False
    assert refused.attributes["warden.token.failure_reason"] == "expired"
    assert not refused.status.is_ok


def test_a_failing_jwks_endpoint_is_counted(otel, key):
    with IdP([key]) as idp:
        idp.fail_status = 503
        v = verifier(idp)
        failures = otel.value("warden.jwks.fetch_failures")
        unavailable = otel.value("warden.token.failures", **{"warden.token.failure_reason": "unavailable"})
        with pytest.raises(warden.ProviderUnavailable):
            v.verify(token(key, claims()))
        with pytest.raises(warden.ProviderUnavailable):
            v.refresh_keys()
    assert otel.value("warden.jwks.fetch_failures") == failures + 2
    assert otel.value("warden.token.failures", **{"warden.token.failure_reason": "unavailable"}) == unavailable + 1
