"""Token signing for tests, with an independent library (``cryptography``), never warden.

``sign`` takes raw header and payload bytes so tests can build tokens no
well-behaved library would produce (duplicate members, odd headers, bad types).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, Optional, Union

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ISSUER = "https://idp.test"
AUDIENCE = "api://warden-tests"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def uint_b64u(n: int) -> str:
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def to_bytes(value: Union[bytes, str, Dict[str, Any]]) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


@dataclass
class SigningKey:
    """A private key with its kid and JWS algorithm."""

    kid: str
    alg: str
    private: Any

    def public_jwk(self, with_alg: bool = True, **extra: Any) -> Dict[str, Any]:
        jwk = public_jwk(self.private, self.kid)
        if with_alg:
            jwk["alg"] = self.alg
        jwk.update(extra)
        return jwk

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def public_jwk(private: Any, kid: Optional[str]) -> Dict[str, Any]:
    if isinstance(private, bytes):
        jwk = {"kty": "oct", "k": b64u(private)}
    elif isinstance(private, rsa.RSAPrivateKey):
        nums = private.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": uint_b64u(nums.n), "e": uint_b64u(nums.e)}
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        nums = private.public_key().public_numbers()
        size = (private.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[private.curve.name]
        jwk = {
            "kty": "EC",
            "crv": crv,
            "x": b64u(nums.x.to_bytes(size, "big")),
            "y": b64u(nums.y.to_bytes(size, "big")),
        }
    elif isinstance(private, ed25519.Ed25519PrivateKey):
        raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
    else:  # pragma: no cover
        raise TypeError(type(private))
    if kid is not None:
        jwk["kid"] = kid
    return jwk


@lru_cache(maxsize=None)
def rsa_key(bits: int = 2048, n: int = 0) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@lru_cache(maxsize=None)
def ec_key(curve: str = "P-256", n: int = 0) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key({"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[curve])


@lru_cache(maxsize=None)
def ed_key(n: int = 0) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


HMAC_SECRET = bytes(range(32))

_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def signature(alg: str, key: Any, signing_input: bytes) -> bytes:
    """The JWS signature of ``signing_input`` (RFC 7518 encodings: raw r||s for ECDSA)."""
    if alg.startswith("HS"):
        return hmac.new(key, signing_input, getattr(hashlib, "sha" + alg[2:])).digest()
    if alg.startswith("RS"):
        return key.sign(signing_input, padding.PKCS1v15(), _HASHES[alg[2:]]())
    if alg.startswith("PS"):
        h = _HASHES[alg[2:]]()
        return key.sign(signing_input, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    if alg.startswith("ES"):
        der = key.sign(signing_input, ec.ECDSA(_HASHES[alg[2:]]()))
        r, s = decode_dss_signature(der)
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if alg == "EdDSA":
        return key.sign(signing_input)
    raise ValueError(alg)


def sign(
    header: Union[bytes, str, Dict[str, Any]],
    payload: Union[bytes, str, Dict[str, Any]],
    key: Any,
    alg: Optional[str] = None,
) -> str:
    """A compact JWS over the exact header and payload bytes given."""
    if alg is None:
        alg = json.loads(to_bytes(header))["alg"]
    signing_input = (b64u(to_bytes(header)) + "." + b64u(to_bytes(payload))).encode("ascii")
    return signing_input.decode("ascii") + "." + b64u(signature(alg, key, signing_input))


def claims(**overrides: Any) -> Dict[str, Any]:
    """A valid claims set for ISSUER/AUDIENCE, with overrides (None removes a claim)."""
    now = int(time.time())
    base: Dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 600}
    for name, value in overrides.items():
        if value is None:
            base.pop(name, None)
        else:
            base[name] = value
    return base


def token(key: SigningKey, payload: Optional[Dict[str, Any]] = None, **header: Any) -> str:
    """A token signed by ``key`` with header ``{"alg", "kid", "typ": "JWT"}`` plus ``header``."""
    h: Dict[str, Any] = {"alg": key.alg, "kid": key.kid, "typ": "JWT"}
    for name, value in header.items():
        if value is None:
            h.pop(name, None)
        else:
            h[name] = value
    return sign(h, payload if payload is not None else claims(), key.private, key.alg)
