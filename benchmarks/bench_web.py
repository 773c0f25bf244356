"""Requests per second of a FastAPI route, unprotected and protected by warden, under uvicorn.

The same handler is served twice by one uvicorn process on 127.0.0.1:

- ``GET /open/{doc_id}``: loads the document (an async dependency) and returns it;
- ``GET /loaded/{doc_id}``: the same handler with ``Depends(authz.load("read", "document",
  load_document))`` in place of ``Depends(load_document)``: loading, the bearer token
  check (RS256, keys fetched once from a loopback JWKS) and the decision in one dependency;
- ``GET /protected/{doc_id}``: the open route plus ``Depends(authz.require("read",
  "document", resource=load_document))``: one more dependency node (FastAPI solves the
  loader's parameters again, then finds its result cached). With
  ``--no-token-cache`` the signature is verified on every request; by default
  repeated requests with one token find its verified claims in Warden's token cache.

A load generator (``wrk`` when installed, else a bounded threaded Python client)
drives each route in alternating rounds with keep-alive connections; the median
round is reported. On a multi-core machine the server is pinned to one CPU and the
load generator to another so they do not compete. The target (issue 5) is that the
protected route keeps at least 85% of the open route's requests per second.

    python benchmarks/bench_web.py [--rounds 3] [--duration 8] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROUTES = {
    "open": "open: `Depends(load_document)`",
    "loaded": 'protected: `Depends(authz.load("read", "document", load_document))`',
    "protected": "protected: `Depends(load_document)` + `Depends(authz.require(..., resource=load_document))`",
}
POLICY = """\
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: document
  rules:
    - actions: ["read"]
      effect: EFFECT_ALLOW
      roles: ["admin", "user"]
    - actions: ["update"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: request.resource.attr.owner == request.principal.id
"""


def build_app(policy_dir: str, jwks_url: str, issuer: str, audience: str, token_cache: int = 4096):
    """The benchmark app: one open and one protected route with the same handler."""
    import warden
    from fastapi import Depends, FastAPI
    from warden.fastapi import Warden

    verifier = warden.JWTVerifier(jwks_url=jwks_url, issuer=issuer, audience=audience)
    authz = Warden(warden.Client(policy_dir), verifier, token_cache=token_cache)
    app = FastAPI()
    documents = {f"d{i}": {"owner": f"user-{i % 7}", "title": f"document {i}"} for i in range(100)}

    async def load_document(doc_id: str) -> warden.Resource:
        return warden.Resource(doc_id, "document", attr=documents.get(doc_id, {"owner": "nobody", "title": "?"}))

    @app.get("/open/{doc_id}")
    async def read_open(doc_id: str, doc: warden.Resource = Depends(load_document)):
        return {"id": doc_id, "title": doc.attr["title"]}

    @app.get("/loaded/{doc_id}")
    async def read_loaded(doc_id: str, doc: warden.Resource = Depends(authz.load("read", "document", load_document))):
        return {"id": doc_id, "title": doc.attr["title"]}

    @app.get("/protected/{doc_id}")
    async def read_protected(
        doc_id: str,
        doc: warden.Resource = Depends(load_document),
        principal: warden.Principal = Depends(authz.require("read", "document", resource=load_document)),
    ):
        return {"id": doc_id, "title": doc.attr["title"]}

    return app


def serve(args: argparse.Namespace) -> None:
    """Child process: run uvicorn (one worker) on the given port."""
    import uvicorn

    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    app = build_app(args.policy_dir, args.jwks_url, args.issuer, args.audience, 0 if args.no_token_cache else 4096)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, lifespan="off")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, headers: Dict[str, str], attempts: int = 200) -> None:
    import httpx

    for _ in range(attempts):
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server at {url} did not answer 200")


def run_wrk(url: str, headers: Dict[str, str], duration: int, connections: int, cpu: Optional[int]) -> float:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu)] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    if re.search(r"Non-2xx or 3xx responses", out):
        raise RuntimeError(f"wrk saw error responses:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def run_python_client(url: str, headers: Dict[str, str], duration: int, connections: int, cpu: Optional[int]) -> float:
    """Fallback load generator: ``connections`` threads with keep-alive, for ``duration`` seconds."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    stop = time.monotonic() + duration
    counts: List[int] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        done = 0
        while time.monotonic() < stop:
            conn.request("GET", parts.path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            done += 1
        conn.close()
        with lock:
            counts.append(done)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 30)
    return sum(counts) / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds per round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--no-token-cache",
        action="store_true",
        help="verify the token's signature on every request (Warden(token_cache=0))",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--policy-dir", help=argparse.SUPPRESS)
    parser.add_argument("--jwks-url", help=argparse.SUPPRESS)
    parser.add_argument("--issuer", help=argparse.SUPPRESS)
    parser.add_argument("--audience", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return 0

    import tempfile

    import warden
    from warden.devissuer import DevIssuer

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    generator = "wrk" if shutil.which("wrk") else "python"
    load = run_wrk if generator == "wrk" else run_python_client
    audience = "api://bench"
    with (
        tempfile.TemporaryDirectory() as policy_dir,
        DevIssuer(audience=audience, users={"user-3": {"roles": ["user"]}}) as idp,
    ):
        Path(policy_dir, "document.yaml").write_text(POLICY)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                "--port",
                str(port),
                "--policy-dir",
                policy_dir,
                "--jwks-url",
                idp.jwks_url,
                "--issuer",
                idp.issuer,
                "--audience",
                audience,
            ]
            + (["--cpu", str(server_cpu)] if server_cpu is not None else [])
            + (["--no-token-cache"] if args.no_token_cache else []),
        )
        try:
            token = idp.mint("user-3", lifetime=3600)
            headers = {"Authorization": f"Bearer {token}"}
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/open/d3", {})
            wait_for(base + "/protected/d3", headers)  # fetches and caches the JWKS
            # warm-up, not measured
            load(base + "/open/d3", headers, 2, args.connections, client_cpu)
            load(base + "/protected/d3", headers, 2, args.connections, client_cpu)
            load(base + "/loaded/d3", headers, 2, args.connections, client_cpu)
            results: Dict[str, List[float]] = {route: [] for route in ROUTES}
            for _ in range(args.rounds):
                for route in ROUTES:
                    results[route].append(
                        load(f"{base}/{route}/d3", headers, args.duration, args.connections, client_cpu)
                    )
        finally:
            server.terminate()
            server.wait(timeout=10)

    medians = {route: statistics.median(results[route]) for route in ROUTES}
    import fastapi
    import uvicorn

    core = warden._core.__file__
    print(
        f"warden {warden.__version__} ({core}, {os.path.getsize(core) / 1e6:.0f} MB), fastapi {fastapi.__version__}, "
        f"uvicorn {uvicorn.__version__} (1 worker, {'httptools' if _has('httptools') else 'h11'}, "
        f"{'uvloop' if _has('uvloop') else 'asyncio'}), Python {platform.python_version()}"
    )
    print(
        f"token cache: {'off (signature checked on every request)' if args.no_token_cache else 'on (4096 entries, 60 s)'}"
    )
    print(
        f"load: {generator}, {args.connections} keep-alive connections, {args.rounds} rounds x {args.duration} s per route; "
        f"server on CPU {server_cpu}, load generator on CPU {client_cpu}; load average {os.getloadavg()[0]:.2f}"
    )
    print()
    print("| route | req/s per round | median req/s | / open |")
    print("|---|---|---:|---:|")
    for route in ROUTES:
        print(
            f"| {ROUTES[route]} | {', '.join(f'{r:.0f}' for r in results[route])} | {medians[route]:.0f} | {medians[route] / medians['open']:.1%} |"
        )
    print()
    print("target: a protected route keeps >= 85% of the open route's requests per second")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "medians": medians}, indent=2))
    return 0


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    sys.exit(main())
