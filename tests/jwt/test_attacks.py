"""Every row of ATTACKS.md (sections A-E) as a test with the answer warden gives.

Tokens are built and signed with ``cryptography`` (tests/jwt/signing.py), never
with warden. Ids follow the corpus ids in ATTACKS.md. Section F (key fetching)
is in test_jwks_remote.py, C12 also in test_presets.py.
"""

from __future__ import annotations

import base64
import json

import pytest
import warden
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from warden import (
    ExpiredToken,
    InvalidClaims,
    InvalidHeader,
    InvalidSignature,
    MalformedToken,
    NotYetValid,
    UnknownKey,
    UnsupportedAlgorithm,
)

from .signing import AUDIENCE, ISSUER, b64u, claims, sign, to_bytes, token

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ED25519_L = 2**252 + 27742317777372353535851937790883648493


def flip_last_char(tok: str) -> str:
    head, sig = tok.rsplit(".", 1)
    return head + "." + sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]


def with_sig(tok: str, sig: bytes) -> str:
    return tok.rsplit(".", 1)[0] + "." + b64u(sig)


def raw(header: bytes, payload: bytes, sig: bytes = b"sig") -> str:
    return b64u(header) + "." + b64u(payload) + "." + b64u(sig)


def rs_header(keys, **extra):
    h = {"alg": "RS256", "kid": keys["rs"].kid, "typ": "JWT"}
    h.update(extra)
    return h


def hs_with(keys, secret: bytes, kid_key: str = "rs") -> str:
    """An HS256 token keyed with ``secret`` and pointing at ``kid_key``'s public key (A2)."""
    return sign({"alg": "HS256", "kid": keys[kid_key].kid, "typ": "JWT"}, claims(), secret, "HS256")


def rsa_pub(keys):
    return keys["rs"].private.public_key()


# (corpus id, ATTACKS row, build(keys) -> token, expected exception)
CASES = [
    # A1: alg none in any case, with/without signature, missing/empty alg
    *[
        (
            f"alg_{v}",
            "A1",
            lambda k, v=v: sign({"alg": v, "typ": "JWT"}, claims(), b"", "HS256").rsplit(".", 1)[0] + ".",
            UnsupportedAlgorithm,
        )
        for v in ("none", "None", "NONE", "nOnE")
    ],
    ("alg_none_with_sig", "A1", lambda k: raw(b'{"alg":"none"}', to_bytes(claims()), b"x" * 32), UnsupportedAlgorithm),
    ("alg_missing", "A1", lambda k: sign({"kid": "rsa-1"}, claims(), k["rs"].private, "RS256"), UnsupportedAlgorithm),
    (
        "alg_empty",
        "A1",
        lambda k: sign({"alg": "", "kid": "rsa-1"}, claims(), k["rs"].private, "RS256"),
        UnsupportedAlgorithm,
    ),
    # A2: HS256 keyed with the verifier's public key in every encoding
    (
        "alg_confusion_HS256_spki_pem",
        "A2",
        lambda k: hs_with(
            k, rsa_pub(k).public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        ),
        UnsupportedAlgorithm,
    ),
    (
        "alg_confusion_HS256_spki_der",
        "A2",
        lambda k: hs_with(
            k, rsa_pub(k).public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        ),
        UnsupportedAlgorithm,
    ),
    (
        "alg_confusion_HS256_pkcs1_pem",
        "A2",
        lambda k: hs_with(k, rsa_pub(k).public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)),
        UnsupportedAlgorithm,
    ),
    (
        "alg_confusion_HS256_jwk_json",
        "A2",
        lambda k: hs_with(k, json.dumps(k["rs"].public_jwk()).encode()),
        UnsupportedAlgorithm,
    ),
    ("alg_confusion_HS256_ec_pem", "A2", lambda k: hs_with(k, k["es"].public_pem(), "es"), UnsupportedAlgorithm),
    (
        "alg_confusion_HS256_openssh",
        "A2",
        lambda k: hs_with(
            k, rsa_pub(k).public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        ),
        UnsupportedAlgorithm,
    ),
    # A3: algorithm swaps within a family, curve mismatch
    (
        "alg_swap_RS512_on_RS256_key",
        "A3",
        lambda k: sign(rs_header(k, alg="RS512"), claims(), k["rs"].private, "RS512"),
        UnsupportedAlgorithm,
    ),
    (
        "alg_swap_RS256_on_PS256_kid",
        "A3",
        lambda k: sign({"alg": "RS256", "kid": "ps-1"}, claims(), k["ps"].private, "RS256"),
        UnsupportedAlgorithm,
    ),
    (
        "alg_ES256_on_P384_key",
        "A3",
        lambda k: sign({"alg": "ES256", "kid": "ec384-1"}, claims(), k["es"].private, "ES256"),
        UnsupportedAlgorithm,
    ),
    # A4: unknown / unsupported algorithms
    ("alg_unknown_HS1", "A4", lambda k: raw(b'{"alg":"HS1","kid":"rsa-1"}', to_bytes(claims())), UnsupportedAlgorithm),
    (
        "alg_ES512_unsupported",
        "A4",
        lambda k: raw(b'{"alg":"ES512","kid":"ec-1"}', to_bytes(claims()), b"s" * 132),
        UnsupportedAlgorithm,
    ),
    # A5: signature stripped, empty, truncated, flipped, swapped payload, other key
    ("sig_stripped", "A5", lambda k: token(k["rs"]).rsplit(".", 1)[0], MalformedToken),
    ("sig_empty", "A5", lambda k: token(k["rs"]).rsplit(".", 1)[0] + ".", MalformedToken),
    ("sig_truncated", "A5", lambda k: token(k["rs"])[:-10], InvalidSignature),
    ("sig_bitflip", "A5", lambda k: flip_last_char(token(k["rs"])), InvalidSignature),
    (
        "sig_payload_swapped",
        "A5",
        lambda k: (lambda a, b: a.split(".")[0] + "." + b.split(".")[1] + "." + a.split(".")[2])(
            token(k["rs"]), token(k["rs"], claims(sub="admin"))
        ),
        InvalidSignature,
    ),
    ("sig_other_key", "A5", lambda k: token(k["other_rs"]), InvalidSignature),
    ("es256_empty_sig", "A5", lambda k: token(k["es"]).rsplit(".", 1)[0] + ".", MalformedToken),
    # A6: ECDSA psychic signatures
    ("es256_psychic_r0_s0", "A6", lambda k: with_sig(token(k["es"]), bytes(64)), InvalidSignature),
    (
        "es256_psychic_r0_s1",
        "A6",
        lambda k: with_sig(token(k["es"]), bytes(32) + (1).to_bytes(32, "big")),
        InvalidSignature,
    ),
    ("es256_psychic_r_s_n", "A6", lambda k: with_sig(token(k["es"]), P256_N.to_bytes(32, "big") * 2), InvalidSignature),
    (
        "es256_psychic_r1_s0",
        "A6",
        lambda k: with_sig(token(k["es"]), (1).to_bytes(32, "big") + bytes(32)),
        InvalidSignature,
    ),
    ("es256_all_zero_64", "A6", lambda k: with_sig(token(k["es"]), b"\0" * 64), InvalidSignature),
    # A7: ECDSA encodings
    (
        "es256_der_encoded",
        "A7",
        lambda k: (
            lambda t: with_sig(
                t,
                encode_dss_signature(
                    int.from_bytes(base64.urlsafe_b64decode(t.split(".")[2] + "==")[:32], "big"),
                    int.from_bytes(base64.urlsafe_b64decode(t.split(".")[2] + "==")[32:], "big"),
                ),
            )
        )(token(k["es"])),
        InvalidSignature,
    ),
    (
        "es256_len_63",
        "A7",
        lambda k: (lambda t: with_sig(t, base64.urlsafe_b64decode(t.split(".")[2] + "==")[:63]))(token(k["es"])),
        InvalidSignature,
    ),
    (
        "es256_len_65",
        "A7",
        lambda k: (lambda t: with_sig(t, base64.urlsafe_b64decode(t.split(".")[2] + "==") + b"\0"))(token(k["es"])),
        InvalidSignature,
    ),
    # A9: Ed25519 S >= L
    (
        "eddsa_s_plus_L",
        "A9",
        lambda k: (
            lambda t: (
                lambda sig: with_sig(
                    t, sig[:32] + (int.from_bytes(sig[32:], "little") + ED25519_L).to_bytes(32, "little")
                )
            )(base64.urlsafe_b64decode(t.split(".")[2] + "=="))
        )(token(k["ed"])),
        InvalidSignature,
    ),
    # B1-B6: key selection and header-injected keys
    ("kid_unknown", "B1", lambda k: token(k["rs"], kid="nope"), UnknownKey),
    ("kid_missing", "B2", lambda k: token(k["rs"], kid=None), UnknownKey),
    ("kid_path_traversal", "B3", lambda k: token(k["rs"], kid="../../../../dev/null"), UnknownKey),
    ("kid_sql_injection", "B3", lambda k: token(k["rs"], kid="x' UNION SELECT 'key"), UnknownKey),
    ("kid_not_string", "B3", lambda k: token(k["rs"], kid=123), MalformedToken),
    ("kid_huge", "B3", lambda k: token(k["rs"], kid="k" * 100_000), MalformedToken),
    ("kid_long_under_limit", "B3", lambda k: token(k["rs"], kid="k" * 2000), MalformedToken),
    (
        "jku_injection",
        "B4",
        lambda k: token(k["attacker"], kid="rsa-1", jku="http://127.0.0.1:9/jwks"),
        InvalidSignature,
    ),
    (
        "x5u_injection",
        "B4",
        lambda k: token(k["attacker"], kid="rsa-1", x5u="http://127.0.0.1:9/cert"),
        InvalidSignature,
    ),
    (
        "embedded_jwk_attacker",
        "B5",
        lambda k: token(k["attacker"], kid="rsa-1", jwk=k["attacker"].public_jwk()),
        InvalidSignature,
    ),
    ("embedded_jwk_no_kid", "B5", lambda k: token(k["attacker"], kid=None, jwk=k["attacker"].public_jwk()), UnknownKey),
    (
        "x5c_selfsigned_attacker",
        "B5",
        lambda k: token(k["attacker"], kid="rsa-1", x5c=["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
        InvalidSignature,
    ),
    # C1-C11: claims and time
    ("expired", "C1", lambda k: token(k["rs"], claims(exp=claims()["iat"] - 120)), ExpiredToken),
    ("exp_missing", "C2", lambda k: token(k["rs"], claims(exp=None)), InvalidClaims),
    ("exp_string", "C3", lambda k: token(k["rs"], claims(exp="4102444800")), InvalidClaims),
    ("exp_bool", "C3", lambda k: token(k["rs"], claims(exp=True)), InvalidClaims),
    (
        "exp_null",
        "C3",
        lambda k: sign(rs_header(k), to_bytes(claims()).replace(b'"exp":', b'"exp":null,"x":'), k["rs"].private),
        InvalidClaims,
    ),
    ("exp_negative", "C3", lambda k: token(k["rs"], claims(exp=-1)), ExpiredToken),
    (
        "exp_overflow",
        "C3",
        lambda k: sign(rs_header(k), to_bytes(claims(exp=None))[:-1] + b',"exp":1e400}', k["rs"].private),
        MalformedToken,
    ),
    (
        "exp_bigint",
        "C3",
        lambda k: sign(rs_header(k), to_bytes(claims(exp=None))[:-1] + b',"exp":' + b"9" * 400 + b"}", k["rs"].private),
        MalformedToken,
    ),
    ("exp_far_float", "C3", lambda k: token(k["rs"], claims(exp=1e300)), InvalidClaims),
    ("nbf_string", "C3", lambda k: token(k["rs"], claims(nbf="1")), InvalidClaims),
    ("iat_string", "C3", lambda k: token(k["rs"], claims(iat="now")), InvalidClaims),
    ("nbf_future", "C4", lambda k: token(k["rs"], claims(nbf=claims()["iat"] + 300)), NotYetValid),
    ("iat_future", "C5", lambda k: token(k["rs"], claims(iat=claims()["iat"] + 300)), NotYetValid),
    ("aud_wrong", "C6", lambda k: token(k["rs"], claims(aud="api://other")), InvalidClaims),
    ("aud_substring", "C6", lambda k: token(k["rs"], claims(aud=AUDIENCE[:-1])), InvalidClaims),
    ("aud_empty_list", "C6", lambda k: token(k["rs"], claims(aud=[])), InvalidClaims),
    ("aud_missing", "C7", lambda k: token(k["rs"], claims(aud=None)), InvalidClaims),
    ("aud_nested", "C7", lambda k: token(k["rs"], claims(aud=[[AUDIENCE]])), InvalidClaims),
    ("aud_object", "C7", lambda k: token(k["rs"], claims(aud={"a": AUDIENCE})), InvalidClaims),
    ("iss_wrong", "C8", lambda k: token(k["rs"], claims(iss="https://evil.test")), InvalidClaims),
    ("iss_substring", "C8", lambda k: token(k["rs"], claims(iss=ISSUER[:-1])), InvalidClaims),
    ("iss_trailing_slash", "C8", lambda k: token(k["rs"], claims(iss=ISSUER + "/")), InvalidClaims),
    ("iss_missing", "C9", lambda k: token(k["rs"], claims(iss=None)), InvalidClaims),
    ("iss_array", "C9", lambda k: token(k["rs"], claims(iss=[ISSUER])), InvalidClaims),
    ("sub_not_string", "C10", lambda k: token(k["rs"], claims(sub=42)), InvalidClaims),
    (
        "dup_claim_exp",
        "C11",
        lambda k: sign(rs_header(k), to_bytes(claims())[:-1] + b',"exp":1}', k["rs"].private),
        MalformedToken,
    ),
    (
        "dup_claim_aud",
        "C11",
        lambda k: sign(rs_header(k), to_bytes(claims())[:-1] + b',"aud":"api://other"}', k["rs"].private),
        MalformedToken,
    ),
    # D1-D4: header semantics
    ("crit_unknown", "D1", lambda k: token(k["rs"], crit=["exp"], exp=1), InvalidHeader),
    ("crit_empty", "D1", lambda k: token(k["rs"], crit=[]), InvalidHeader),
    ("crit_missing_member", "D1", lambda k: token(k["rs"], crit=["foo"]), InvalidHeader),
    ("crit_b64_false", "D1", lambda k: token(k["rs"], crit=["b64"], b64=False), InvalidHeader),
    ("typ_not_jwt", "D2", lambda k: token(k["rs"], typ="dpop+jwt"), InvalidHeader),
    ("typ_logout", "D2", lambda k: token(k["rs"], typ="logout+jwt"), InvalidHeader),
    ("cty_nested_jwt", "D3", lambda k: token(k["rs"], cty="JWT"), InvalidHeader),
    ("zip_in_jws", "D3", lambda k: token(k["rs"], zip="DEF"), InvalidHeader),
    ("jwe_compact", "D3", lambda k: "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d", MalformedToken),
    (
        "dup_header_alg",
        "D4",
        lambda k: sign(b'{"alg":"none","kid":"rsa-1","alg":"RS256"}', to_bytes(claims()), k["rs"].private, "RS256"),
        MalformedToken,
    ),
    (
        "dup_header_kid",
        "D4",
        lambda k: sign(b'{"alg":"RS256","kid":"x","kid":"rsa-1"}', to_bytes(claims()), k["rs"].private, "RS256"),
        MalformedToken,
    ),
    # E1-E6: encoding, parsing, resource limits
    (
        "b64_padding",
        "E1",
        lambda k: (lambda t: t.split(".")[0] + "==." + ".".join(t.split(".")[1:]))(token(k["rs"])),
        MalformedToken,
    ),
    ("b64_padding_sig", "E1", lambda k: token(k["rs"]) + "==", MalformedToken),
    (
        "b64_std_alphabet",
        "E1",
        lambda k: (lambda t: t.replace("-", "+").replace("_", "/") if ("-" in t or "_" in t) else t[:-1] + "+")(
            token(k["rs"])
        ),
        MalformedToken,
    ),
    ("b64_invalid_char", "E1", lambda k: (lambda t: t[:10] + "*" + t[11:])(token(k["rs"])), MalformedToken),
    ("whitespace_inside", "E1", lambda k: (lambda t: t[:20] + " " + t[20:])(token(k["rs"])), MalformedToken),
    ("bearer_prefix_left", "E1", lambda k: "Bearer " + token(k["rs"]), MalformedToken),
    ("trailing_newline", "E1", lambda k: token(k["rs"]) + "\n", MalformedToken),
    (
        "b64_noncanonical_sig",
        "E2",
        lambda k: (lambda t: t[:-1] + chr(ord(t[-1]) + 1) if t[-1] not in "z9_-" else t[:-1] + "B")(token(k["ed"])),
        (MalformedToken, InvalidSignature),
    ),
    ("header_not_json", "E3", lambda k: raw(b"not json", to_bytes(claims())), MalformedToken),
    ("header_json_array", "E3", lambda k: raw(b'["RS256"]', to_bytes(claims())), MalformedToken),
    ("payload_json_array", "E3", lambda k: sign(rs_header(k), b"[1,2]", k["rs"].private), MalformedToken),
    ("payload_json_string", "E3", lambda k: sign(rs_header(k), b'"claims"', k["rs"].private), MalformedToken),
    ("payload_not_utf8", "E3", lambda k: sign(rs_header(k), b'{"sub":"\xff\xfe"}', k["rs"].private), MalformedToken),
    ("extra_segment", "E4", lambda k: token(k["rs"]) + ".extra", MalformedToken),
    ("sig_segment_missing", "E4", lambda k: ".".join(token(k["rs"]).split(".")[:2]), MalformedToken),
    ("empty_string", "E4", lambda k: "", MalformedToken),
    ("dots_only", "E4", lambda k: "..", MalformedToken),
    (
        "payload_deep_nesting",
        "E5",
        lambda k: sign(rs_header(k), b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}", k["rs"].private),
        MalformedToken,
    ),
    (
        "header_deep_nesting",
        "E5",
        lambda k: raw(b'{"alg":"RS256","x":' + b"[" * 2000 + b"]" * 2000 + b"}", to_bytes(claims())),
        MalformedToken,
    ),
    ("oversized_1MiB", "E6", lambda k: token(k["rs"], claims(pad="x" * (1 << 20))), MalformedToken),
    ("header_oversized", "E6", lambda k: token(k["rs"], pad="x" * 70_000), MalformedToken),
    ("many_segments_dots", "E6", lambda k: "." * 100_000, MalformedToken),
]


@pytest.mark.parametrize("case_id,row,build,expected", CASES, ids=[f"{c[1]}:{c[0]}" for c in CASES])
def test_attack_is_refused(verifier, keys, case_id, row, build, expected):
    tok = build(keys)
    with pytest.raises(expected) as info:
        verifier.verify(tok)
    exc = info.value
    assert isinstance(exc, warden.InvalidToken)
    assert exc.error == "invalid_token" and exc.status_code == 401
    assert exc.description and str(exc) == exc.description


def test_size_limit_is_checked_before_decoding(verifier):
    # Not even base64: only the length can have refused it.
    with pytest.raises(MalformedToken, match="limit is 16384"):
        verifier.verify("!" * 20_000)


def test_A8_high_s_twin_is_accepted_and_not_a_cache_key(verifier, keys):
    """ECDSA malleability: both twins are valid per FIPS 186; warden keeps no per-token state to confuse."""
    tok = token(keys["es"])
    sig = base64.urlsafe_b64decode(tok.split(".")[2] + "==")
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    twin = with_sig(tok, r.to_bytes(32, "big") + (P256_N - s).to_bytes(32, "big"))
    assert twin != tok
    assert verifier.verify(twin) == verifier.verify(tok)


def test_A10_rsa_1024_in_local_jwks_is_refused(keys):
    from .signing import SigningKey, rsa_key

    weak = SigningKey("weak", "RS256", rsa_key(1024))
    with pytest.raises(ValueError, match=r"jwk.n: RSA key is 1024 bits; at least 2048"):
        warden.JWTVerifier(jwks=weak.public_jwk(), issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(ValueError, match=r"key: RSA key is 1024 bits"):
        warden.JWTVerifier(key=weak.public_pem(), issuer=ISSUER, audience=AUDIENCE)


def test_A10_weak_key_beside_good_ones_in_a_local_jwks_is_skipped(keys, caplog):
    """A pasted JWKS is treated as a fetched one: the weak key is skipped (logged once, with its
    kid and why), tokens naming it are refused, the other keys keep working."""
    import logging

    from .signing import SigningKey, rsa_key

    weak = SigningKey("legacy-1024", "RS256", rsa_key(1024))
    jwks = {"keys": [weak.public_jwk(), keys["rs"].public_jwk()]}
    with caplog.at_level(logging.WARNING, logger="warden.jwt"):
        v = warden.JWTVerifier(jwks=jwks, issuer=ISSUER, audience=AUDIENCE)
    skipped = [r.getMessage() for r in caplog.records if r.name == "warden.jwt"]
    assert skipped == [
        'JWKS: skipped keys: jwks.keys[0].n: RSA key is 1024 bits; at least 2048 are required (kid "legacy-1024")'
    ]
    assert v.verify(token(keys["rs"]))["sub"] == "user-1"
    with pytest.raises(warden.UnknownKey, match=r"skipped as unusable: .*1024 bits.*legacy-1024"):
        v.verify(token(weak))
    assert len([r for r in caplog.records if r.name == "warden.jwt"]) == 1
    only_weak = r"^jwks\.keys\[0\]\.n: RSA key is 1024 bits; .*; no usable signing keys remain$"
    with pytest.raises(ValueError, match=only_weak):
        warden.JWTVerifier(jwks={"keys": [weak.public_jwk()]}, issuer=ISSUER, audience=AUDIENCE)


@pytest.mark.parametrize("secret", [b"secret", b"x" * 31])
def test_A11_short_hmac_secrets_are_refused(secret):
    with pytest.raises(ValueError, match=r"key: HMAC secret is \d+ bytes; at least 32"):
        warden.JWTVerifier(key=secret, algorithms=["HS256"])
    with pytest.raises(ValueError, match=r"jwk\.k: HMAC secret is \d+ bytes; at least 32"):
        warden.JWTVerifier(jwks={"kty": "oct", "k": b64u(secret)})


def test_A11_empty_oct_key_is_refused():
    with pytest.raises(ValueError, match=r"jwk\.k: empty"):
        warden.JWTVerifier(jwks={"kty": "oct", "k": ""})


def test_A12_mixed_algorithm_families_are_refused(jwks, keys):
    with pytest.raises(ValueError, match="algorithms: mixes HMAC"):
        warden.JWTVerifier(jwks=jwks, algorithms=["HS256", "RS256"])
    mixed = {"keys": jwks["keys"] + [keys["hs"].public_jwk()]}
    with pytest.raises(ValueError, match="jwks: mixes HMAC secrets and public keys"):
        warden.JWTVerifier(jwks=mixed)
    # Choosing one family makes it usable, each key still bound to its own alg.
    v = warden.JWTVerifier(jwks=mixed, algorithms=["HS256"], issuer=ISSUER, audience=AUDIENCE)
    assert v.verify(token(keys["hs"]))["sub"] == "user-1"
    with pytest.raises(UnsupportedAlgorithm, match="RS256 is not allowed"):
        v.verify(token(keys["rs"]))


def test_B6_encryption_keys_are_not_used(keys):
    enc = keys["rs"].public_jwk(use="enc")
    ops = dict(keys["es"].public_jwk(), key_ops=["encrypt"])
    good = keys["ed"].public_jwk(use="sig", key_ops=["verify"])
    v = warden.JWTVerifier(jwks={"keys": [enc, ops, good]}, issuer=ISSUER, audience=AUDIENCE)
    for k in ("rs", "es"):
        with pytest.raises(UnknownKey):
            v.verify(token(keys[k]))
    assert v.verify(token(keys["ed"]))["iss"] == ISSUER
    with pytest.raises(ValueError, match="no usable signing keys"):
        warden.JWTVerifier(jwks={"keys": [enc]})


def test_B4_header_urls_are_never_fetched(keys, idp):
    """jku/x5u point at a live server: warden never contacts it."""
    v = warden.JWTVerifier(jwks=keys["rs"].public_jwk(), issuer=ISSUER, audience=AUDIENCE)
    for kid, expected in (("attacker", UnknownKey), ("rsa-1", InvalidSignature)):
        tok = token(keys["attacker"], kid=kid, jku=idp.jwks_url, x5u=idp.url + "/cert")
        with pytest.raises(expected):
            v.verify(tok)
    assert sum(idp.requests.values()) == 0
