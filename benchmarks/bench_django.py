"""Decisions per second of warden.django under a load generator, next to the same decision through FastAPI.

One decision everywhere: may ``user-3`` (a bearer JWT, RS256, keys fetched once from a loopback
JWKS, the signature checked on every request) ``read`` document ``d3`` (a resource with an
``owner`` attribute) under the policy of ``bench_web.py``. Served on 127.0.0.1, one worker each:

- Django (WSGI, gunicorn, one sync worker): an open function view; the same view under
  ``@require("read", resource=load_document)``; a DRF ``APIView`` whose object is decided by
  ``WardenAuthentication`` + ``WardenPermission`` (``check_object_permissions``);
- FastAPI (uvicorn): ``bench_web.py``'s open route and its ``authz.load(...)`` route, with the
  token cache off (``--no-token-cache``: the signature checked on every request, as in Django) and
  on (its default).

``wrk`` drives each route in alternating rounds (the median round is reported); on a multi-core
machine the server is pinned to one CPU and ``wrk`` to another.

    python benchmarks/bench_django.py [--rounds 3] [--duration 8] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_web import POLICY, free_port, run_python_client, run_wrk, wait_for  # noqa: E402

DOCUMENTS = {f"d{i}": {"owner": f"user-{i % 7}", "title": f"document {i}"} for i in range(100)}


# --- the Django app (imported by gunicorn in the server process) -------------------------------------


def _django_app():  # pragma: no cover - runs in the server process
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "warden.django"],
        MIDDLEWARE=["warden.django.middleware.WardenMiddleware"],
        DATABASES={},
        WARDEN={
            "POLICY_DIR": os.environ["BENCH_POLICY_DIR"],
            "JWKS_URL": os.environ["BENCH_JWKS_URL"],
            "ISSUER": os.environ["BENCH_ISSUER"],
            "AUDIENCE": os.environ["BENCH_AUDIENCE"],
        },
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": ["warden.django.rest_framework.WardenAuthentication"],
            "DEFAULT_PERMISSION_CLASSES": ["warden.django.rest_framework.WardenPermission"],
            "UNAUTHENTICATED_USER": None,
        },
    )
    django.setup()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def _urlpatterns():  # pragma: no cover - runs in the server process
    import warden
    from django.http import JsonResponse
    from django.urls import path
    from rest_framework.response import Response
    from rest_framework.views import APIView
    from warden.django import require

    def load_document(request, doc_id):
        return warden.Resource(doc_id, "document", attr=DOCUMENTS.get(doc_id, {"owner": "nobody", "title": "?"}))

    def read_open(request, doc_id):
        doc = load_document(request, doc_id)
        return JsonResponse({"id": doc.id, "title": doc.attr["title"]})

    @require("read", resource=load_document)
    def read_protected(request, doc_id):
        doc = request.warden_object
        return JsonResponse({"id": doc.id, "title": doc.attr["title"]})

    class ReadDocument(APIView):
        warden_kind = "document"
        detail = True  # an object route: decided on the object only (GET: "read")

        def get(self, request, doc_id):
            doc = load_document(request, doc_id)
            self.check_object_permissions(request, doc)
            return Response({"id": doc.id, "title": doc.attr["title"]})

    return [
        path("open/<str:doc_id>", read_open),
        path("protected/<str:doc_id>", read_protected),
        path("drf/<str:doc_id>", ReadDocument.as_view()),
    ]


if os.environ.get("BENCH_DJANGO_SERVER"):  # pragma: no cover - gunicorn imports this module
    application = _django_app()
    urlpatterns = _urlpatterns()


# --- the runs ------------------------------------------------------------------------------------------

ROUTES = {
    "django open": "Django: open function view",
    "django @require": 'Django: `@require("read", resource=load_document)`',
    "drf permission": "DRF: `WardenAuthentication` + `WardenPermission` (object)",
    "fastapi open": "FastAPI: open route",
    "fastapi load": 'FastAPI: `authz.load("read", "document", ...)`, token cache off',
    "fastapi load (cache)": 'FastAPI: `authz.load("read", "document", ...)`, token cache on',
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds per round")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    import warden
    from warden.devissuer import DevIssuer

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    load = run_wrk if shutil.which("wrk") else run_python_client
    pin = ["taskset", "-c", str(server_cpu)] if server_cpu is not None and shutil.which("taskset") else []
    audience = "api://bench"
    results: Dict[str, List[float]] = {route: [] for route in ROUTES}
    with (
        tempfile.TemporaryDirectory() as policy_dir,
        DevIssuer(audience=audience, users={"user-3": {"roles": ["user"]}}) as idp,
    ):
        Path(policy_dir, "document.yaml").write_text(POLICY)
        headers = {"Authorization": f"Bearer {idp.mint('user-3', lifetime=3600)}"}
        servers = []
        try:
            django_port, fastapi_port, cached_port = free_port(), free_port(), free_port()
            env = {
                **os.environ,
                "BENCH_DJANGO_SERVER": "1",
                "BENCH_POLICY_DIR": policy_dir,
                "BENCH_JWKS_URL": idp.jwks_url,
                "BENCH_ISSUER": idp.issuer,
                "BENCH_AUDIENCE": audience,
            }
            gunicorn = [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "1",
                "-b",
                f"127.0.0.1:{django_port}",
                "--chdir",
                str(HERE),
                "--log-level",
                "warning",
                "bench_django:application",
            ]
            servers.append(subprocess.Popen(pin + gunicorn, env=env))
            for port, extra in ((fastapi_port, ["--no-token-cache"]), (cached_port, [])):
                command = [
                    sys.executable,
                    str(HERE / "bench_web.py"),
                    "--serve",
                    "--port",
                    str(port),
                    "--policy-dir",
                    policy_dir,
                ]
                command += ["--jwks-url", idp.jwks_url, "--issuer", idp.issuer, "--audience", audience, *extra]
                servers.append(subprocess.Popen(pin + command))
            urls = {
                "django open": f"http://127.0.0.1:{django_port}/open/d3",
                "django @require": f"http://127.0.0.1:{django_port}/protected/d3",
                "drf permission": f"http://127.0.0.1:{django_port}/drf/d3",
                "fastapi open": f"http://127.0.0.1:{fastapi_port}/open/d3",
                "fastapi load": f"http://127.0.0.1:{fastapi_port}/loaded/d3",
                "fastapi load (cache)": f"http://127.0.0.1:{cached_port}/loaded/d3",
            }
            for url in urls.values():
                wait_for(url, headers)
            for url in urls.values():  # warm-up, not measured
                load(url, headers, 2, args.connections, client_cpu)
            for _ in range(args.rounds):
                for route, url in urls.items():
                    results[route].append(load(url, headers, args.duration, args.connections, client_cpu))
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=15)

    import django
    import fastapi
    import rest_framework

    medians = {route: statistics.median(values) for route, values in results.items()}
    print(
        f"warden {warden.__version__}, Django {django.__version__} + DRF {rest_framework.VERSION} (gunicorn, 1 sync worker), "
        f"FastAPI {fastapi.__version__} (uvicorn, 1 worker), Python {platform.python_version()}"
    )
    print(
        f"load: {'wrk' if shutil.which('wrk') else 'python'}, {args.connections} keep-alive connections, {args.rounds} rounds x "
        f"{args.duration} s per route; servers on CPU {server_cpu}, load generator on CPU {client_cpu}; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print()
    print("| route | decisions (req)/s per round | median | / its framework's open route |")
    print("|---|---|---:|---:|")
    for route, label in ROUTES.items():
        base = medians["django open"] if not route.startswith("fastapi") else medians["fastapi open"]
        print(
            f"| {label} | {', '.join(f'{r:.0f}' for r in results[route])} | {medians[route]:.0f} | {medians[route] / base:.0%} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
