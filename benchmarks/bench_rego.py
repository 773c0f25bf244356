"""Rego decision benchmark: the Okta "hello" app's policy (demoapi.authz, Rego v0) in-process.

Median microseconds per decision, from Python, of:

* ``Rego.allowed``            ``data.demoapi.authz.allow`` on the app's input
                              ``{"method", "api", "jwt": {"tokenValue"}}``; the policy decodes the
                              RS256 access token with ``io.jwt.decode``. "same token": one client
                              repeating its token (decode results are cached by token text);
                              "new token each call": 1500 distinct tokens cycled, more than the
                              cache holds, so every decision decodes
* ``Rego.eval_data_api``      the same as OPA's ``POST /v1/data/demoapi/authz/allow`` body/answer
* ``Rego.eval_batch`` /10     ten decisions per call (GIL released), per decision
* ``Engine.is_allowed``       the same decision as a Cerbos policy (examples/hello/policies/api.yaml)
                              through ``warden.Engine``, on the principal the app builds from the
                              already-verified token (scopes as an attribute)

Timing as in bench_decisions.py (warm-up, median of per-call means). Needs a release build
(``make build-release`` or ``.venv/bin/maturin develop --release``). Run from the repo root:
``.venv/bin/python benchmarks/bench_rego.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import warden  # noqa: E402
from bench_decisions import CLOCKS, measure  # noqa: E402
from warden.rego import Rego, http_input  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REGO_POLICIES = ROOT / "examples" / "hello" / "opa"
CERBOS_POLICIES = ROOT / "examples" / "hello" / "policies"
RULE = "data.demoapi.authz.allow"


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def okta_token(jti: str = "AT.bench") -> str:
    now = int(time.time())
    claims = {
        "ver": 1,
        "jti": jti,
        "iss": "https://dev-123.okta.com/oauth2/default",
        "aud": "api://default",
        "iat": now,
        "exp": now + 3600,
        "cid": "0oa-hello-client",
        "scp": ["read_sayhello"],
        "sub": "0oa-hello-client",
    }
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "k1"})


def cases():
    token = okta_token()
    rego = Rego.from_directory(REGO_POLICIES)
    hello = http_input("GET", "/sayhello", token)
    secret = http_input("GET", "/saysecret", token)
    body = {"input": hello}
    batch = [hello, secret] * 5
    assert rego.allowed(RULE, hello) and not rego.allowed(RULE, secret)
    assert rego.eval_data_api("demoapi/authz/allow", body) == {"result": True}

    engine = warden.Engine.from_directory(CERBOS_POLICIES)
    principal = {"id": "0oa-hello-client", "roles": ["client"], "attr": {"scopes": ["read_sayhello"]}}
    res_hello = {"kind": "api", "id": "sayhello"}
    res_secret = {"kind": "api", "id": "saysecret"}
    assert engine.is_allowed(principal, res_hello, action="GET") and not engine.is_allowed(
        principal, res_secret, action="GET"
    )

    fresh = [http_input("GET", "/sayhello", okta_token(f"AT.{i}")) for i in range(1500)]
    it = iter(())

    def cold():
        nonlocal it
        x = next(it, None)
        if x is None:
            it = iter(fresh)
            x = next(it)
        return rego.allowed(RULE, x)

    assert cold()
    return {
        "Rego.allowed /sayhello same token": (lambda: rego.allowed(RULE, hello), 1),
        "Rego.allowed /sayhello new token": (cold, 1),
        "Rego.allowed /saysecret": (lambda: rego.allowed(RULE, secret), 1),
        "Rego.eval_data_api": (lambda: rego.eval_data_api("demoapi/authz/allow", body), 1),
        "Rego.eval_batch /10": (lambda: rego.eval_batch(RULE, batch), 10),
        "Engine.is_allowed (Cerbos)": (lambda: engine.is_allowed(principal, res_hello, action="GET"), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = {}
    for name, (fn, per) in cases().items():
        med, low = measure(fn, args.number, args.repeats, args.warmup, CLOCKS[args.clock])
        results[name] = (med / per, low / per)
    if args.json:
        print(json.dumps({n: {"median_us": m, "min_us": lo} for n, (m, lo) in results.items()}, indent=2))
        return 0
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"warden {warden.__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs (load {load}), {args.clock} clock, {args.repeats} x {args.number} calls per case"
    )
    print(f"{'case (per decision)':<38} {'median µs':>10} {'min µs':>8}")
    for name, (med, low) in results.items():
        print(f"{name:<38} {med:>10.2f} {low:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
