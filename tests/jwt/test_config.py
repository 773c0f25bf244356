"""Configuration errors name the field; options change behaviour as documented."""

from __future__ import annotations

import time

import pytest
import warden

from .signing import AUDIENCE, ISSUER, claims, token


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({}, "keys"),
        ({"jwks": {"keys": []}, "jwks_url": "https://idp.example.com/jwks"}, "keys"),
        ({"jwks": "{not json"}, "jwks"),
        ({"jwks": {"keys": "x"}}, "jwks.keys"),
        ({"jwks": {"keys": [{"kty": "RSA", "n": "!!", "e": "AQAB"}]}}, r"jwks.keys\[0\].n"),
        ({"jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]}}, r"jwks.keys\[0\]"),
        ({"jwks": {"keys": [{"kid": "a"}]}}, r"jwks.keys\[0\].kty"),
        ({"jwks_url": "http://idp.example.com/jwks"}, "jwks_url"),
        ({"discovery": True}, "issuer"),
        ({"jwks_url": "https://idp.example.com/jwks", "algorithms": ["RS256", "none"]}, "algorithms"),
        ({"jwks_url": "https://idp.example.com/jwks", "algorithms": []}, "algorithms"),
        ({"jwks_url": "https://idp.example.com/jwks", "leeway": 3600}, "leeway"),
        ({"jwks_url": "https://idp.example.com/jwks", "audience": []}, "audience"),
        ({"jwks_url": "https://idp.example.com/jwks", "http_timeout": -1}, "http_timeout"),
        ({"jwks_url": "https://idp.example.com/jwks", "max_token_bytes": 0}, "max_token_bytes"),
        ({"key": b"k" * 32}, "algorithms"),
        ({"key": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"}, "key"),
    ],
)
def test_configuration_errors_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        warden.JWTVerifier(**kwargs)


def test_pem_and_secret_keys(keys):
    for name in ("rs", "ps", "es", "es384", "ed"):
        k = keys[name]
        v = warden.JWTVerifier(key=k.public_pem(), issuer=ISSUER, audience=AUDIENCE)
        assert v.verify(token(k))["sub"] == "user-1", name
    hs = warden.JWTVerifier(key=keys["hs"].private, algorithms=["HS256"], issuer=ISSUER, audience=AUDIENCE)
    assert hs.verify(token(keys["hs"]))["sub"] == "user-1"


def test_jwks_from_text_bytes_and_file(tmp_path, jwks, keys):
    import json

    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    for source in (json.dumps(jwks), json.dumps(jwks).encode(), path):
        v = warden.JWTVerifier(jwks=source, issuer=ISSUER, audience=AUDIENCE)
        assert v.verify(token(keys["es"]))["sub"] == "user-1"


def test_leeway(jwks, keys):
    t = token(keys["rs"], claims(exp=int(time.time()) - 10))
    assert warden.JWTVerifier(jwks=jwks, issuer=ISSUER, audience=AUDIENCE).verify(t)
    with pytest.raises(warden.ExpiredToken):
        warden.JWTVerifier(jwks=jwks, issuer=ISSUER, audience=AUDIENCE, leeway=0).verify(t)


def test_required_and_expected_claims(jwks, keys):
    v = warden.JWTVerifier(
        jwks=jwks, required_claims=("exp", "jti"), expected_claims={"tenant": "acme"}, audience=AUDIENCE
    )
    with pytest.raises(warden.InvalidClaims, match='"jti"'):
        v.verify(token(keys["rs"], claims(tenant="acme")))
    with pytest.raises(warden.InvalidClaims, match='"tenant"'):
        v.verify(token(keys["rs"], claims(jti="1", tenant="other")))
    assert v.verify(token(keys["rs"], claims(jti="1", tenant="acme")))["tenant"] == "acme"


def test_aud_present_without_configured_audience_is_refused(jwks, keys):
    v = warden.JWTVerifier(jwks=jwks)
    with pytest.raises(warden.InvalidClaims, match="no audience is configured"):
        v.verify(token(keys["rs"]))
    assert v.verify(token(keys["rs"], claims(aud=None)))["sub"] == "user-1"
    lenient = warden.JWTVerifier(jwks=jwks, allow_any_audience=True)
    assert lenient.verify(token(keys["rs"]))["aud"] == AUDIENCE
    with pytest.raises(warden.InvalidClaims):
        lenient.verify(token(keys["rs"], claims(aud=5)))  # still type-checked


def test_max_lifetime(jwks, keys):
    v = warden.JWTVerifier(jwks=jwks, audience=AUDIENCE, max_lifetime=3600)
    with pytest.raises(warden.InvalidClaims, match="exp"):
        v.verify(token(keys["rs"], claims(exp=int(time.time()) + 86400)))


def test_allowed_typ_and_max_token_bytes(jwks, keys):
    v = warden.JWTVerifier(jwks=jwks, audience=AUDIENCE, allowed_typ=("dpop+jwt",), max_token_bytes=2048)
    assert v.verify(token(keys["rs"], typ="application/DPoP+JWT"))
    assert v.verify(token(keys["rs"], typ=None))  # absent typ is always fine
    with pytest.raises(warden.InvalidHeader):
        v.verify(token(keys["rs"]))  # typ JWT is not in this verifier's set
    with pytest.raises(warden.MalformedToken, match="limit is 2048"):
        v.verify(token(keys["rs"], claims(pad="x" * 3000), typ=None))


def test_www_authenticate(verifier, keys):
    with pytest.raises(warden.InvalidToken) as info:
        verifier.verify(token(keys["rs"], claims(exp=1)))
    header = warden.www_authenticate(info.value, realm="api")
    assert header == 'Bearer realm="api", error="invalid_token", error_description="token has expired"'
    assert isinstance(info.value, warden.ExpiredToken)
    assert info.value.error == "invalid_token" and info.value.status_code == 401


def test_exception_hierarchy():
    for cls in (
        warden.MalformedToken,
        warden.InvalidHeader,
        warden.UnsupportedAlgorithm,
        warden.UnknownKey,
        warden.InvalidSignature,
        warden.ExpiredToken,
        warden.InvalidClaims,
        warden.NotYetValid,
        warden.InactiveToken,
        warden.ProviderUnavailable,
    ):
        assert issubclass(cls, warden.InvalidToken)
    assert issubclass(warden.NotYetValid, warden.InvalidClaims)
    assert warden.ProviderUnavailable.status_code == 503


def test_verifier_is_usable_from_many_threads(verifier, keys):
    import threading

    tokens = [token(keys[k]) for k in ("rs", "ps", "es", "es384", "ed")] * 20
    results = []

    def work(chunk):
        results.extend(verifier.verify(t)["sub"] for t in chunk)

    threads = [threading.Thread(target=work, args=(tokens[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results.count("user-1") == len(tokens)
