"""`http_timeout` bounds a whole HTTP exchange (connect, headers and body) for every fetch:
JWKS, OIDC discovery, introspection and tokeninfo. The IdP answers headers at once, then
trickles the body one byte every 50 ms (a JWKS would take many seconds); each call must fail
with a clear timeout error soon after the deadline. The bound is a generous margin, not a
performance figure."""

from __future__ import annotations

import time
from typing import Callable

import pytest
import warden

from .conftest import remote_verifier
from .idp import IdP
from .signing import AUDIENCE, token

DEADLINE = 0.5
# Far above the deadline, far below the time the trickled body takes (several seconds).
MARGIN = 2.0


def _fails_within_deadline(call: Callable[[], object]) -> str:
    started = time.monotonic()
    with pytest.raises(warden.ProviderUnavailable) as info:
        call()
    took = time.monotonic() - started
    assert took < DEADLINE + MARGIN, f"took {took:.1f} s"
    return str(info.value)


@pytest.fixture
def trickling(idp: IdP):
    idp.trickle = 0.05
    try:
        yield idp
    finally:
        idp.release()


def test_jwks_body_is_bounded(trickling: IdP, keys) -> None:
    v = remote_verifier(trickling, http_timeout=DEADLINE)
    message = _fails_within_deadline(lambda: v.verify(token(keys["rs"])))
    assert "within the HTTP deadline of 0.5 s (http_timeout)" in message


def test_discovery_body_is_bounded(trickling: IdP, keys) -> None:
    v = warden.JWTVerifier(
        discovery=True, issuer=trickling.issuer, audience=AUDIENCE, failure_backoff=0, http_timeout=DEADLINE
    )
    message = _fails_within_deadline(lambda: v.verify(token(keys["rs"])))
    assert "within the HTTP deadline" in message


def test_introspection_body_is_bounded(trickling: IdP) -> None:
    client_id, secret = trickling.client_credentials
    trickling.introspection["t"] = {"active": True, "sub": "x" * 200}
    i = warden.Introspector(trickling.url + "/introspect", client_id, secret, http_timeout=DEADLINE)
    assert "within the HTTP deadline" in _fails_within_deadline(lambda: i.verify("t"))


def test_tokeninfo_body_is_bounded(trickling: IdP) -> None:
    trickling.tokeninfo["t"] = {"uid": "x" * 200, "scope": ["uid"], "expires_in": 3600}
    t = warden.TokenInfo(trickling.url + "/tokeninfo", http_timeout=DEADLINE)
    assert "within the HTTP deadline" in _fails_within_deadline(lambda: t.verify("t"))
