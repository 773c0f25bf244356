"""OPA's io.jwt.* built-ins in warden.Rego, against tokens signed by PyJWT / cryptography.

Expected values follow OPA's v1/topdown/tokens.go: verify_* give true/false, decode_verify gives
[true, header, payload] or [false, {}, {}], and built-in errors (malformed token, bad constraints)
make the expression undefined (None), OPA's default non-strict behaviour.
"""

from __future__ import annotations

import datetime
import json
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from warden.rego import Rego, RegoLoadError

import jwt

NOW = int(time.time())
SECRET = "a-shared-secret-long-enough-for-hs512-which-wants-64-bytes-or-more!"


def pem_public(private) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def self_signed_cert(private) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "warden-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def keys():
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa_other": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "ed": ed25519.Ed25519PrivateKey.generate(),
    }


@pytest.fixture(scope="module")
def rego():
    # Built-ins are called straight from queries; the policy exercises them through rules too.
    return Rego.from_policies(
        [
            (
                "tokens.rego",
                """package tokens
import rego.v1
claims := payload if {
    [valid, _, payload] := io.jwt.decode_verify(input.token, {"cert": input.cert, "aud": "api://default"})
    valid
}
""",
            )
        ]
    )


def claims(**extra):
    now = int(time.time())  # at signing, not at import: a loaded machine may run a test long after collection
    c = {"sub": "client-1", "iss": "https://issuer.example", "aud": "api://default", "iat": now, "exp": now + 600}
    c.update(extra)
    return c


def ev(rego, query, **inp):
    return rego.eval(query, inp)


# --- io.jwt.decode ------------------------------------------------------------------------------


def test_decode_returns_header_payload_and_hex_signature(rego, keys):
    token = jwt.encode(claims(scp=["read_sayhello"]), keys["rsa"], algorithm="RS256", headers={"kid": "k1"})
    header, payload, sig = ev(rego, "io.jwt.decode(input.t)", t=token)
    assert header == {"alg": "RS256", "kid": "k1", "typ": "JWT"}
    assert payload == claims(scp=["read_sayhello"])
    raw = jwt.utils.base64url_decode(token.split(".")[2])
    assert sig == raw.hex()


@pytest.mark.parametrize("bad", ["not-a-token", "a.b", "a.b.c.d", "!!!.e30.", "e30.bm90LWpzb24.", "W10.e30."])
def test_decode_malformed_is_undefined(rego, bad):
    assert ev(rego, "io.jwt.decode(input.t)", t=bad) is None


# --- io.jwt.verify_* ------------------------------------------------------------------------------

ASYMMETRIC = [
    ("RS256", "rsa", "verify_rs256"),
    ("RS384", "rsa", "verify_rs384"),
    ("RS512", "rsa", "verify_rs512"),
    ("PS256", "rsa", "verify_ps256"),
    ("PS384", "rsa", "verify_ps384"),
    ("PS512", "rsa", "verify_ps512"),
    ("ES256", "p256", "verify_es256"),
    ("ES384", "p384", "verify_es384"),
    ("EdDSA", "ed", "verify_eddsa"),
]


@pytest.mark.parametrize("alg, key, fn", ASYMMETRIC)
def test_verify_asymmetric_valid_and_wrong_key(rego, keys, alg, key, fn):
    token = jwt.encode(claims(), keys[key], algorithm=alg)
    q = f"io.jwt.{fn}(input.t, input.k)"
    assert ev(rego, q, t=token, k=pem_public(keys[key])) is True
    other = {"rsa": "rsa_other", "p256": "p384", "p384": "p256", "ed": "rsa"}[key]
    assert ev(rego, q, t=token, k=pem_public(keys[other])) is False
    # tampered payload
    h, p, s = token.split(".")
    forged = jwt.utils.base64url_encode(json.dumps(claims(sub="admin")).encode()).decode()
    assert ev(rego, q, t=f"{h}.{forged}.{s}", k=pem_public(keys[key])) is False


@pytest.mark.parametrize("alg, fn", [("HS256", "verify_hs256"), ("HS384", "verify_hs384"), ("HS512", "verify_hs512")])
def test_verify_hmac(rego, alg, fn):
    token = jwt.encode(claims(), SECRET, algorithm=alg)
    assert ev(rego, f"io.jwt.{fn}(input.t, input.s)", t=token, s=SECRET) is True
    assert ev(rego, f"io.jwt.{fn}(input.t, input.s)", t=token, s=SECRET + "x") is False


def test_verify_short_hmac_secret_like_opa(rego):
    # OPA accepts any secret length for verify_hs*; PyJWT warns about short keys but signs.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jwt.encode({"sub": "x"}, "short", algorithm="HS256")
    assert ev(rego, "io.jwt.verify_hs256(input.t, input.s)", t=token, s="short") is True


def test_verify_wrong_algorithm_is_false(rego, keys):
    hs = jwt.encode(claims(), SECRET, algorithm="HS256")
    rs = jwt.encode(claims(), keys["rsa"], algorithm="RS256")
    assert ev(rego, "io.jwt.verify_rs256(input.t, input.k)", t=hs, k=pem_public(keys["rsa"])) is False
    assert ev(rego, "io.jwt.verify_rs384(input.t, input.k)", t=rs, k=pem_public(keys["rsa"])) is False
    assert ev(rego, "io.jwt.verify_ps256(input.t, input.k)", t=rs, k=pem_public(keys["rsa"])) is False
    assert ev(rego, "io.jwt.verify_es256(input.t, input.k)", t=rs, k=pem_public(keys["rsa"])) is False
    # alg confusion: the RSA public key PEM used as an HMAC secret does not verify an RS256 token
    assert ev(rego, "io.jwt.verify_hs256(input.t, input.k)", t=rs, k=pem_public(keys["rsa"])) is False


def test_verify_with_certificate_and_jwks(rego, keys):
    token = jwt.encode(claims(), keys["rsa"], algorithm="RS256", headers={"kid": "k2"})
    assert ev(rego, "io.jwt.verify_rs256(input.t, input.k)", t=token, k=self_signed_cert(keys["rsa"])) is True
    assert ev(rego, "io.jwt.verify_rs256(input.t, input.k)", t=token, k=self_signed_cert(keys["rsa_other"])) is False
    jwk1 = json.loads(RSAAlgorithm.to_jwk(keys["rsa_other"].public_key()))
    jwk1["kid"] = "k1"
    jwk2 = json.loads(RSAAlgorithm.to_jwk(keys["rsa"].public_key()))
    jwk2["kid"] = "k2"
    jwks = json.dumps({"keys": [jwk1, jwk2]})
    assert ev(rego, "io.jwt.verify_rs256(input.t, input.k)", t=token, k=jwks) is True
    assert ev(rego, "io.jwt.verify_rs256(input.t, input.k)", t=token, k=json.dumps(jwk2)) is True  # a single JWK
    assert ev(rego, "io.jwt.verify_rs256(input.t, input.k)", t=token, k=json.dumps({"keys": [jwk1]})) is False
    ec_jwk = json.loads(ECAlgorithm.to_jwk(keys["p256"].public_key()))
    es = jwt.encode(claims(), keys["p256"], algorithm="ES256")
    assert ev(rego, "io.jwt.verify_es256(input.t, input.k)", t=es, k=json.dumps({"keys": [ec_jwk]})) is True
    ed_jwk = json.loads(OKPAlgorithm.to_jwk(keys["ed"].public_key()))
    ed = jwt.encode(claims(), keys["ed"], algorithm="EdDSA")
    assert ev(rego, "io.jwt.verify_eddsa(input.t, input.k)", t=ed, k=json.dumps(ed_jwk)) is True


def test_verify_bad_key_or_token_is_undefined(rego, keys):
    token = jwt.encode(claims(), keys["rsa"], algorithm="RS256")
    assert ev(rego, "io.jwt.verify_rs256(input.t, input.k)", t=token, k="not a key") is None
    assert ev(rego, "io.jwt.verify_rs256(input.t, input.k)", t="garbage", k=pem_public(keys["rsa"])) is None


# --- io.jwt.decode_verify -------------------------------------------------------------------------

DV = "io.jwt.decode_verify(input.t, input.c)"
UNVERIFIED = [False, {}, {}]


def test_decode_verify_valid(rego, keys):
    token = jwt.encode(claims(), keys["rsa"], algorithm="RS256")
    valid, header, payload = ev(
        rego, DV, t=token, c={"cert": pem_public(keys["rsa"]), "aud": "api://default", "iss": "https://issuer.example"}
    )
    assert valid is True and header == {"alg": "RS256", "typ": "JWT"} and payload == claims()
    hs = jwt.encode(claims(), SECRET, algorithm="HS512")
    assert ev(rego, DV, t=hs, c={"secret": SECRET, "aud": "api://default", "alg": "HS512"})[0] is True


def test_decode_verify_expired(rego, keys):
    token = jwt.encode(claims(exp=NOW - 10), keys["rsa"], algorithm="RS256")
    assert ev(rego, DV, t=token, c={"cert": pem_public(keys["rsa"]), "aud": "api://default"}) == UNVERIFIED
    # the `time` constraint (ns) moves the clock: before exp it is valid
    assert (
        ev(rego, DV, t=token, c={"cert": pem_public(keys["rsa"]), "aud": "api://default", "time": (NOW - 60) * 10**9})[
            0
        ]
        is True
    )


def test_decode_verify_not_before(rego, keys):
    token = jwt.encode(claims(nbf=NOW + 3600), keys["rsa"], algorithm="RS256")
    assert ev(rego, DV, t=token, c={"cert": pem_public(keys["rsa"]), "aud": "api://default"}) == UNVERIFIED


def test_decode_verify_wrong_key(rego, keys):
    token = jwt.encode(claims(), keys["rsa"], algorithm="RS256")
    assert ev(rego, DV, t=token, c={"cert": pem_public(keys["rsa_other"]), "aud": "api://default"}) == UNVERIFIED
    hs = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert ev(rego, DV, t=hs, c={"secret": SECRET + "x", "aud": "api://default"}) == UNVERIFIED


def test_decode_verify_wrong_alg(rego, keys):
    token = jwt.encode(claims(), keys["rsa"], algorithm="RS256")
    assert (
        ev(rego, DV, t=token, c={"cert": pem_public(keys["rsa"]), "aud": "api://default", "alg": "RS512"}) == UNVERIFIED
    )
    # an HS256 token against a cert constraint (alg confusion) and an RS256 token against a secret
    hs = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert ev(rego, DV, t=hs, c={"cert": pem_public(keys["rsa"]), "aud": "api://default"}) == UNVERIFIED
    assert ev(rego, DV, t=token, c={"secret": SECRET, "aud": "api://default"}) == UNVERIFIED


def test_decode_verify_audience(rego, keys):
    token = jwt.encode(claims(aud=["api://other", "api://default"]), keys["rsa"], algorithm="RS256")
    cert = pem_public(keys["rsa"])
    assert ev(rego, DV, t=token, c={"cert": cert, "aud": "api://default"})[0] is True
    assert ev(rego, DV, t=token, c={"cert": cert, "aud": "api://wrong"}) == UNVERIFIED
    # OPA: a token with an aud claim is invalid without an aud constraint
    assert ev(rego, DV, t=token, c={"cert": cert}) == UNVERIFIED
    no_aud = jwt.encode({"sub": "x", "exp": int(time.time()) + 600}, keys["rsa"], algorithm="RS256")
    assert ev(rego, DV, t=no_aud, c={"cert": cert})[0] is True
    assert ev(rego, DV, t=no_aud, c={"cert": cert, "aud": "api://default"}) == UNVERIFIED


def test_decode_verify_issuer(rego, keys):
    token = jwt.encode(claims(), keys["rsa"], algorithm="RS256")
    assert (
        ev(
            rego,
            DV,
            t=token,
            c={"cert": pem_public(keys["rsa"]), "aud": "api://default", "iss": "https://evil.example"},
        )
        == UNVERIFIED
    )


@pytest.mark.parametrize(
    "constraints",
    [
        {"cert": "x", "secret": "y"},  # duplicate key constraints
        {"aud": "a"},  # no key constraint
        {"secret": "s", "audience": "a"},  # unknown constraint
        {"secret": "s", "time": "now"},  # time must be a number
        {"secret": 1},  # must be a string
    ],
)
def test_decode_verify_bad_constraints_are_undefined(rego, constraints):
    token = jwt.encode({"sub": "x"}, SECRET, algorithm="HS256")
    assert ev(rego, DV, t=token, c=constraints) is None


def test_rules_using_decode_verify(rego, keys):
    good = jwt.encode(claims(scp=["read_sayhello"]), keys["rsa"], algorithm="RS256")
    assert rego.eval("data.tokens.claims", {"token": good, "cert": pem_public(keys["rsa"])})["scp"] == ["read_sayhello"]
    bad = jwt.encode(claims(), keys["rsa_other"], algorithm="RS256")
    assert rego.eval("data.tokens.claims", {"token": bad, "cert": pem_public(keys["rsa"])}) is None


def test_missing_jwt_builtins_are_load_errors():
    for fn in ["io.jwt.verify_es512(input.t, input.k)", 'io.jwt.encode_sign_raw("{}", "{}", "{}")']:
        with pytest.raises(RegoLoadError, match=r"t\.rego:3:\d+: unsupported built-in"):
            Rego.from_policies([("t.rego", f"package t\nimport rego.v1\nok if {fn}\n")])
