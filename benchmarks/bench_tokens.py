"""Bearer-token verification benchmarks: warden vs PyJWT vs the raw signature check.

Median microseconds per token, from Python, for HS256, RS256 (2048-bit), ES256 and EdDSA:

* ``warden``   ``JWTVerifier.verify`` (local JWKS; exp/iss/aud required, 30 s leeway)
* ``PyJWT``    ``jwt.decode`` with an already parsed key and the same checks
* ``raw``      ``cryptography`` verifying the same signature over the same bytes:
               the floor any verifier pays, with nothing else (no parsing, no claims)

Tokens are signed with PyJWT. Each case is warmed up, then timed ``--repeats``
times over ``--number`` calls (a quarter of that for the public-key algorithms)
with ``time.perf_counter_ns``, the three contenders in turn within each repeat;
the figure is the median of the per-call means (``--clock cpu`` uses ``time.process_time_ns``,
steadier on a shared machine). Run from the repo root after a release build:
``.venv/bin/python benchmarks/bench_tokens.py``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import hmac
import os
import platform
import statistics
import sys
import time
from typing import Callable, Dict, List, Tuple

import warden
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import jwt as pyjwt

CLOCKS = {"wall": time.perf_counter_ns, "cpu": time.process_time_ns}
ISSUER = "https://idp.bench"
AUDIENCE = "api://bench"


def measure(
    fns: Dict[str, Callable[[], object]],
    number: int,
    repeats: int,
    warmup: int,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> Dict[str, float]:
    """Median µs per call of each function; the functions are timed in turn within each
    repeat, so a load change on a shared machine affects all of them alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    per_call: Dict[str, List[float]] = {name: [] for name in fns}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, fn in fns.items():
                start = clock()
                for _ in range(number):
                    fn()
                per_call[name].append((clock() - start) / number / 1000.0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in per_call.items()}


def b64d(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def claims() -> dict:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1234",
        "iat": now,
        "exp": now + 3600,
        "scope": "openid profile email",
        "groups": ["admins", "editors"],
    }


def setup(alg: str) -> Tuple[str, Callable[[], object], Callable[[], object], Callable[[], object]]:
    """(token, warden call, PyJWT call, raw verify call) for one algorithm."""
    if alg == "HS256":
        private = public = bytes(range(32))
        jwk = {"kty": "oct", "k": pyjwt.utils.base64url_encode(private).decode(), "kid": "k1", "alg": alg}
    elif alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = private.public_key()
        jwk = pyjwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        public = private.public_key()
        jwk = pyjwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
    elif alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
        public = private.public_key()
        jwk = pyjwt.algorithms.OKPAlgorithm.to_jwk(public, as_dict=True)
    else:
        raise ValueError(alg)
    jwk.update({"kid": "k1", "alg": alg})
    token = pyjwt.encode(claims(), private, algorithm=alg, headers={"kid": "k1", "typ": "JWT"})

    verifier = warden.JWTVerifier(
        jwks={"keys": [jwk]}, issuer=ISSUER, audience=AUDIENCE, required_claims=("exp", "iss", "aud")
    )
    assert verifier.verify(token)["sub"] == "user-1234"

    options = {"require": ["exp", "iss", "aud"], "verify_signature": True}

    def pyjwt_call() -> object:
        return pyjwt.decode(
            token, public, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER, leeway=30, options=options
        )

    assert pyjwt_call()["sub"] == "user-1234"

    head, payload, sig_b64 = token.split(".")
    signing_input = f"{head}.{payload}".encode("ascii")
    sig = b64d(sig_b64)
    if alg == "HS256":

        def raw() -> object:
            return hmac.compare_digest(hmac.new(public, signing_input, hashlib.sha256).digest(), sig)
    elif alg == "RS256":
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

        def raw() -> object:
            return public.verify(sig, signing_input, pkcs1, sha256)
    elif alg == "ES256":
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        ecdsa = ec.ECDSA(hashes.SHA256())

        def raw() -> object:
            return public.verify(der, signing_input, ecdsa)
    else:

        def raw() -> object:
            return public.verify(sig, signing_input)

    raw()
    return token, (lambda: verifier.verify(token)), pyjwt_call, raw


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per timing run")
    parser.add_argument("--repeats", type=int, default=31, help="timing runs per case")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--algs", default="HS256,RS256,ES256,EdDSA")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall: time.perf_counter_ns (default); cpu: time.process_time_ns, steadier on a shared machine",
    )
    args = parser.parse_args(argv)

    rows: Dict[str, Tuple[float, float, float]] = {}
    for alg in args.algs.split(","):
        _, warden_call, pyjwt_call, raw_call = setup(alg)
        number = args.number if alg == "HS256" else max(args.number // 4, 1)
        fns = {"warden": warden_call, "pyjwt": pyjwt_call, "raw": raw_call}
        m = measure(fns, number, args.repeats, args.warmup, CLOCKS[args.clock])
        rows[alg] = (m["warden"], m["pyjwt"], m["raw"])

    import cryptography

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs (load {load}), "
        f"warden {warden.__version__}, PyJWT {pyjwt.__version__}, cryptography {cryptography.__version__}; "
        f"median µs per token, {args.clock} clock ({args.repeats} runs × {args.number} calls)\n"
    )
    print("| algorithm | warden | PyJWT `jwt.decode` | raw `cryptography` verify | PyJWT / warden | warden / raw |")
    print("|---|---:|---:|---:|---:|---:|")
    for alg, (w, p, r) in rows.items():
        name = "RS256 (2048)" if alg == "RS256" else alg
        print(f"| {name} | {w:.2f} | {p:.2f} | {r:.2f} | {p / w:.1f}× | {w / r:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
