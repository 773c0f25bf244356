"""Keys from the network (ATTACKS.md §F): lazy fetch, rotation, refresh-storm bound,
outage with stale keys, first-fetch failure, response abuse, OIDC discovery.

The IdP is a real HTTP server on 127.0.0.1 (tests/jwt/idp.py); assertions count
its requests, never time."""

from __future__ import annotations

import logging
import threading
import uuid

import pytest
import warden

from .conftest import remote_verifier
from .idp import IdP
from .signing import AUDIENCE, SigningKey, claims, rsa_key, sign, token


def test_fetch_is_lazy_and_cached(idp, keys):
    v = remote_verifier(idp)
    assert idp.count() == 0
    for _ in range(5):
        assert v.verify(token(keys["rs"]))["sub"] == "user-1"
        assert v.verify(token(keys["es"]))["sub"] == "user-1"
    assert idp.count() == 1
    status = v.key_status()
    assert status["fetches"] == 1 and status["keys"] == 2 and status["last_error"] is None


def test_F4_rotation_new_kid_is_fetched_and_old_keeps_working(idp, keys):
    v = remote_verifier(idp)
    v.verify(token(keys["rs"]))
    new = SigningKey("rsa-2", "RS256", rsa_key(2048, 4))
    idp.rotate(new, keep_old=True)
    assert v.verify(token(new))["sub"] == "user-1"
    assert v.verify(token(keys["rs"]))["sub"] == "user-1"
    assert idp.count() == 2


def test_F4_removed_kid_stops_verifying_after_refresh(idp, keys):
    v = remote_verifier(idp)
    old = token(keys["rs"])
    v.verify(old)
    idp.rotate(SigningKey("rsa-2", "RS256", rsa_key(2048, 4)), keep_old=False)
    assert v.verify(old)["sub"] == "user-1"  # still cached
    assert v.refresh_keys() == 1
    with pytest.raises(warden.UnknownKey):
        v.verify(old)


def test_F4_removed_kid_stops_verifying_when_cache_expires(idp, keys):
    idp.max_age = 0
    v = remote_verifier(idp, jwks_min_ttl=0)
    old = token(keys["rs"])
    v.verify(old)
    idp.rotate(SigningKey("rsa-2", "RS256", rsa_key(2048, 4)), keep_old=False)
    with pytest.raises(warden.UnknownKey):
        v.verify(old)


def test_F1_unknown_kid_storm_causes_at_most_one_fetch(idp, keys):
    v = remote_verifier(idp)
    v.verify(token(keys["rs"]))
    assert idp.count() == 1
    for _ in range(200):
        with pytest.raises(warden.UnknownKey):
            v.verify(token(keys["attacker"], kid=uuid.uuid4().hex))
    assert idp.count() == 2  # one refetch per cooldown (30 s), whatever the number of kids
    assert v.verify(token(keys["rs"]))["sub"] == "user-1"


def test_F1_concurrent_storm_is_single_flight(idp, keys):
    v = remote_verifier(idp)
    v.verify(token(keys["rs"]))
    tokens = [token(keys["attacker"], kid=uuid.uuid4().hex) for _ in range(64)]
    errors = []

    def attack(chunk):
        for t in chunk:
            try:
                v.verify(t)
            except warden.UnknownKey:
                pass
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

    threads = [threading.Thread(target=attack, args=(tokens[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert idp.count() == 2


def test_F1_negative_cache_and_cooldown_zero(idp, keys):
    """With no cooldown every *new* unknown kid may refetch, but a repeated one is remembered."""
    v = remote_verifier(idp, unknown_kid_cooldown=0)
    v.verify(token(keys["rs"]))
    bad = token(keys["attacker"], kid="ghost")
    with pytest.raises(warden.UnknownKey):
        v.verify(bad)
    assert idp.count() == 2


def test_F2_outage_keeps_serving_stale_keys_and_logs(idp, keys, caplog):
    idp.max_age = 0
    v = remote_verifier(idp, jwks_min_ttl=0)
    tok = token(keys["rs"])
    v.verify(tok)
    idp.fail_status = 500
    with caplog.at_level(logging.WARNING, logger="warden.jwt"):
        assert v.verify(tok)["sub"] == "user-1"
    assert idp.count() == 2
    assert any("JWKS fetch failed" in r.getMessage() and "HTTP 500" in r.getMessage() for r in caplog.records)
    assert "HTTP 500" in v.key_status()["last_error"]
    idp.fail_status = None
    assert v.verify(tok)["sub"] == "user-1"
    assert v.key_status()["last_error"] is None


def test_F2_stale_age_is_bounded(idp, keys):
    idp.max_age = 0
    v = remote_verifier(idp, jwks_min_ttl=0, max_stale=0)
    tok = token(keys["rs"])
    v.verify(tok)
    idp.fail_status = 503
    with pytest.raises(warden.ProviderUnavailable) as info:
        v.verify(tok)
    assert info.value.status_code == 503 and "HTTP 503" in info.value.description


def test_F2_hanging_endpoint_times_out_and_stale_keys_serve(idp, keys):
    idp.max_age = 0
    v = remote_verifier(idp, jwks_min_ttl=0, http_timeout=0.3)
    tok = token(keys["rs"])
    v.verify(tok)
    idp.hang = True
    try:
        assert v.verify(tok)["sub"] == "user-1"
        assert "failed" in v.key_status()["last_error"]
    finally:
        idp.release()


def test_F3_first_fetch_failure_is_retried_not_cached(idp, keys):
    idp.fail_status = 500
    v = remote_verifier(idp)
    tok = token(keys["rs"])
    with pytest.raises(warden.ProviderUnavailable):
        v.verify(tok)
    idp.fail_status = None
    assert v.verify(tok)["sub"] == "user-1"
    assert idp.count() == 2


def test_F3_retries_back_off_after_a_failure(idp, keys):
    idp.fail_status = 500
    v = remote_verifier(idp, failure_backoff=3600)
    for _ in range(10):
        with pytest.raises(warden.ProviderUnavailable):
            v.verify(token(keys["rs"]))
    assert idp.count() == 1


def test_F5_redirects_are_not_followed(idp, keys):
    with IdP([keys["rs"]]) as target:
        idp.redirect_to = target.jwks_url
        v = remote_verifier(idp)
        with pytest.raises(warden.ProviderUnavailable, match="redirect"):
            v.verify(token(keys["rs"]))
        assert target.count() == 0


@pytest.mark.parametrize(
    "url", ["http://idp.example.com/jwks", "ftp://127.0.0.1/jwks", "file:///etc/passwd", "not a url"]
)
def test_F5_https_only_except_loopback(url):
    with pytest.raises(ValueError, match="jwks_url: "):
        warden.JWTVerifier(jwks_url=url)


@pytest.mark.parametrize(
    "body,match",
    [
        (b"x" * (600 * 1024), "limit|more than"),
        (b"[]", 'no \\"keys\\" array|keys'),
        (b"not json", "not valid JSON"),
        (b'{"keys": "nope"}', "keys"),
        (b'{"keys": [{"kty":"RSA","kid":"a","kid":"b","n":"AQAB","e":"AQAB"}]}', "duplicate member"),
    ],
    ids=["huge", "array", "not-json", "keys-not-array", "duplicate-member"],
)
def test_F5_bad_jwks_responses(idp, keys, body, match):
    idp.raw_body = body
    v = remote_verifier(idp)
    with pytest.raises(warden.ProviderUnavailable, match=match):
        v.verify(token(keys["rs"]))


def test_F5_unusable_remote_keys_are_skipped(idp, keys, caplog):
    weak = SigningKey("weak", "RS256", rsa_key(1024))
    hs = keys["hs"]
    idp.extra_jwks = [
        weak.public_jwk(),
        hs.public_jwk(),
        {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA", "kid": "p521"},
    ]
    v = remote_verifier(idp)
    with caplog.at_level(logging.WARNING, logger="warden.jwt"):
        assert v.verify(token(keys["rs"]))["sub"] == "user-1"
    for bad in (weak, hs):
        with pytest.raises(warden.UnknownKey):
            v.verify(token(bad))
    log = " ".join(r.getMessage() for r in caplog.records)
    assert "oct" in log and "1024 bits" in log and "P-521" in log


def test_F5_keys_without_kid_or_alg(keys):
    lone = {"kty": "RSA", **{k: v for k, v in keys["rs"].public_jwk().items() if k in ("n", "e")}}
    with IdP([]) as idp:
        idp.extra_jwks = [lone]
        v = remote_verifier(idp)
        assert v.verify(token(keys["rs"], kid=None))["sub"] == "user-1"
        # No `alg` on the JWK: any RSA algorithm, never HMAC.
        assert v.verify(token(SigningKey(None, "PS384", keys["rs"].private), kid=None))["sub"] == "user-1"
        with pytest.raises(warden.UnsupportedAlgorithm):
            v.verify(sign({"alg": "HS256"}, claims(), b"k" * 32, "HS256"))


def test_F5_only_remote_set_without_usable_keys_is_an_error(keys):
    with IdP([]) as idp:
        idp.extra_jwks = [keys["hs"].public_jwk()]
        v = remote_verifier(idp)
        with pytest.raises(warden.ProviderUnavailable, match="no usable signing keys"):
            v.verify(token(keys["rs"]))


def test_oidc_discovery(idp, keys):
    v = warden.JWTVerifier.oidc(idp.issuer, AUDIENCE, failure_backoff=0)
    tok = sign({"alg": "RS256", "kid": "rsa-1"}, claims(iss=idp.issuer), keys["rs"].private)
    assert v.verify(tok)["iss"] == idp.issuer
    assert v.verify(tok)["iss"] == idp.issuer
    assert idp.count("/.well-known/openid-configuration") == 1 and idp.count("/jwks") == 1
    with pytest.raises(warden.InvalidClaims):
        v.verify(token(keys["rs"]))  # iss is ISSUER, not this provider


def test_oidc_discovery_issuer_mismatch_is_refused(idp, keys):
    v = warden.JWTVerifier(discovery=True, issuer=idp.issuer + "/tenant", audience=AUDIENCE, failure_backoff=0)
    with pytest.raises(warden.ProviderUnavailable):
        v.verify(token(keys["rs"]))


def test_network_calls_release_the_gil(idp, keys):
    """While one thread waits on a hanging JWKS fetch, Python threads keep running."""
    idp.hang = True
    v = remote_verifier(idp, http_timeout=4.0)
    done = threading.Event()
    result = {}

    def verify():
        try:
            result["claims"] = v.verify(token(keys["rs"]))
        except Exception as e:  # pragma: no cover
            result["error"] = e
        done.set()

    worker = threading.Thread(target=verify)
    worker.start()
    ticks = 0
    while idp.count() == 0 and ticks < 10_000_000:  # bounded: wait until the fetch reached the IdP
        ticks += 1
    progressed = 0
    for _ in range(1000):  # this loop runs only if the GIL is free
        progressed += 1
    assert not done.is_set() and progressed == 1000
    idp.release()
    worker.join(timeout=10)
    assert result.get("claims", {}).get("sub") == "user-1", result


def test_skipped_key_warnings_are_written_in_words(idp, keys, caplog):
    """The warning names a key by its kid in quotes, never as Rust debug text (`Some("…")`)."""
    v = remote_verifier(idp, algorithms=["ES256"])
    with caplog.at_level(logging.WARNING, logger="warden.jwt"):
        assert v.verify(token(keys["es"]))["sub"] == "user-1"
    log = " ".join(r.getMessage() for r in caplog.records)
    assert 'key (kid "rsa-1"): none of its algorithms (RS256) is in `algorithms`' in log
    assert "Some(" not in log
