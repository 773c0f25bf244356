"""The AuthZEN PDP (``warden.authzen.app``) under a load generator, next to the same decision through
FastAPI; and a batch of 100 evaluations in one call against 100 calls.

The decision: may ``user-3`` ``read`` document ``d3`` (owned by ``user-3``) under the policy of
``bench_web.py``. Served on 127.0.0.1 by uvicorn, one worker each:

- ``POST /access/v1/evaluation`` with the AuthZEN body (``wrk`` with a Lua script posting it);
  the same with bearer authentication of the caller (a JWT checked on every request);
- FastAPI, ``bench_web.py``'s ``authz.load("read", "document", ...)`` route (a GET with a bearer
  token, checked on every request: ``--no-token-cache``) and its open route.

Then, with one keep-alive client: 100 decisions as one ``POST /access/v1/evaluations`` (100
documents, the subject and action as defaults) against 100 ``POST /access/v1/evaluation``; the
median of the repetitions.

    python benchmarks/bench_authzen.py [--rounds 3] [--duration 8] [--connections 16] [--batches 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_web import POLICY, free_port, run_wrk, wait_for  # noqa: E402

SUBJECT = {"type": "user", "id": "user-3"}
ACTION = {"name": "read"}


def document(i: int) -> Dict[str, object]:
    return {"type": "document", "id": f"d{i}", "properties": {"owner": f"user-{i % 7}", "title": f"document {i}"}}


EVALUATION = {"subject": SUBJECT, "action": ACTION, "resource": document(3)}
BATCH = {"subject": SUBJECT, "action": ACTION, "evaluations": [{"resource": document(i)} for i in range(100)]}


def serve(args: argparse.Namespace) -> None:  # pragma: no cover - runs in the server process
    import uvicorn
    import warden
    from warden.authzen import app

    verifier = None
    if args.jwks_url:
        verifier = warden.JWTVerifier(jwks_url=args.jwks_url, issuer=args.issuer, audience=args.audience)
    pdp = app(warden.Engine.from_directory(args.policy_dir), verifier=verifier)
    uvicorn.run(pdp, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, lifespan="off")


def run_wrk_post(
    url: str, body: dict, headers: Dict[str, str], duration: int, connections: int, cpu: Optional[int]
) -> float:
    """Requests/s of ``wrk`` posting ``body`` as JSON (every answer must be 200)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        lines = [
            'wrk.method = "POST"',
            f"wrk.body = {json.dumps(json.dumps(body))}",
            'wrk.headers["Content-Type"] = "application/json"',
        ]
        lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
        script.write("\n".join(lines) + "\n")
    try:
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", script.name, url]
        if cpu is not None and shutil.which("taskset"):
            cmd = ["taskset", "-c", str(cpu)] + cmd
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    finally:
        os.unlink(script.name)
    if re.search(r"Non-2xx or 3xx responses", out):
        raise RuntimeError(f"wrk saw error responses:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def batch_against_calls(base: str, repetitions: int) -> Dict[str, List[float]]:
    """Milliseconds for 100 decisions: one /evaluations call, and 100 /evaluation calls."""
    import httpx

    timings: Dict[str, List[float]] = {"one call": [], "100 calls": []}
    bodies = [{"subject": SUBJECT, "action": ACTION, "resource": document(i)} for i in range(100)]
    with httpx.Client(base_url=base, timeout=30) as client:
        expected = client.post("/access/v1/evaluations", json=BATCH).json()["evaluations"]
        assert [client.post("/access/v1/evaluation", json=b).json() for b in bodies] == expected  # the same decisions
        for _ in range(repetitions):
            started = time.perf_counter()
            assert client.post("/access/v1/evaluations", json=BATCH).status_code == 200
            timings["one call"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            for body in bodies:
                assert client.post("/access/v1/evaluation", json=body).status_code == 200
            timings["100 calls"].append((time.perf_counter() - started) * 1000)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds per round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batches", type=int, default=30, help="repetitions of the batch comparison")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--policy-dir", help=argparse.SUPPRESS)
    parser.add_argument("--jwks-url", help=argparse.SUPPRESS)
    parser.add_argument("--issuer", help=argparse.SUPPRESS)
    parser.add_argument("--audience", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return 0
    if not shutil.which("wrk"):
        raise SystemExit("bench_authzen: needs wrk (the load generator) on PATH")

    import warden
    from warden.devissuer import DevIssuer

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    pin = ["taskset", "-c", str(server_cpu)] if server_cpu is not None and shutil.which("taskset") else []
    audience = "api://bench"
    rates: Dict[str, List[float]] = {
        "authzen": [],
        "authzen + caller token": [],
        "fastapi load": [],
        "fastapi open": [],
    }
    with (
        tempfile.TemporaryDirectory() as policy_dir,
        DevIssuer(audience=audience, users={"user-3": {"roles": ["user"]}}) as idp,
    ):
        Path(policy_dir, "document.yaml").write_text(POLICY)
        token = {"Authorization": f"Bearer {idp.mint('user-3', lifetime=3600)}"}
        ports = {name: free_port() for name in ("authzen", "authzen + caller token", "fastapi")}
        keys = ["--jwks-url", idp.jwks_url, "--issuer", idp.issuer, "--audience", audience]
        commands = [
            [sys.executable, __file__, "--serve", "--port", str(ports["authzen"]), "--policy-dir", policy_dir],
            [
                sys.executable,
                __file__,
                "--serve",
                "--port",
                str(ports["authzen + caller token"]),
                "--policy-dir",
                policy_dir,
                *keys,
            ],
            [
                sys.executable,
                str(HERE / "bench_web.py"),
                "--serve",
                "--port",
                str(ports["fastapi"]),
                "--policy-dir",
                policy_dir,
                *keys,
                "--no-token-cache",
            ],
        ]
        servers = [subprocess.Popen(pin + command) for command in commands]
        try:
            base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
            wait_for(f"{base['fastapi']}/loaded/d3", token)
            for name in ("authzen", "authzen + caller token"):
                _wait_post(base[name] + "/access/v1/evaluation", token)
            runs = {
                "authzen": lambda d: run_wrk_post(
                    base["authzen"] + "/access/v1/evaluation", EVALUATION, {}, d, args.connections, client_cpu
                ),
                "authzen + caller token": lambda d: run_wrk_post(
                    base["authzen + caller token"] + "/access/v1/evaluation",
                    EVALUATION,
                    token,
                    d,
                    args.connections,
                    client_cpu,
                ),
                "fastapi load": lambda d: run_wrk(
                    f"{base['fastapi']}/loaded/d3", token, d, args.connections, client_cpu
                ),
                "fastapi open": lambda d: run_wrk(f"{base['fastapi']}/open/d3", token, d, args.connections, client_cpu),
            }
            for run in runs.values():  # warm-up, not measured
                run(2)
            for _ in range(args.rounds):
                for name, run in runs.items():
                    rates[name].append(run(args.duration))
            batch = batch_against_calls(base["authzen"], args.batches)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=15)

    import fastapi
    import starlette
    import uvicorn

    print(
        f"warden {warden.__version__}, Starlette {starlette.__version__} / FastAPI {fastapi.__version__}, "
        f"uvicorn {uvicorn.__version__} (1 worker each), Python {platform.python_version()}"
    )
    print(
        f"load: wrk, {args.connections} keep-alive connections, {args.rounds} rounds x {args.duration} s; servers on CPU "
        f"{server_cpu}, wrk on CPU {client_cpu}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print()
    labels = {
        "authzen": "AuthZEN `POST /access/v1/evaluation` (no caller authentication)",
        "authzen + caller token": "AuthZEN `POST /access/v1/evaluation`, caller's bearer JWT checked",
        "fastapi load": 'FastAPI `authz.load("read", "document", ...)` (bearer JWT checked, no token cache)',
        "fastapi open": "FastAPI open route (no decision)",
    }
    print("| endpoint | decisions/s per round | median |")
    print("|---|---|---:|")
    for name, values in rates.items():
        print(f"| {labels[name]} | {', '.join(f'{v:.0f}' for v in values)} | {statistics.median(values):.0f} |")
    print()
    one, many = statistics.median(batch["one call"]), statistics.median(batch["100 calls"])
    print("| 100 decisions | median ms | decisions/s |")
    print("|---|---:|---:|")
    print(f"| one `POST /access/v1/evaluations` (100 evaluations) | {one:.2f} | {100_000 / one:.0f} |")
    print(f"| 100 `POST /access/v1/evaluation` (one keep-alive connection) | {many:.2f} | {100_000 / many:.0f} |")
    print(f"\nthe batch is {many / one:.1f}x faster ({args.batches} repetitions each)")
    return 0


def _wait_post(url: str, headers: Dict[str, str]) -> None:
    import httpx

    for _ in range(200):
        try:
            if httpx.post(url, json=EVALUATION, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer 200")


if __name__ == "__main__":
    sys.exit(main())
