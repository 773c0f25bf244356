"""Fixtures for the web integration tests: the loopback identity provider of tests/jwt,
a signing key it publishes, and verifiers that fetch keys from it over HTTP."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import warden

from tests.jwt.idp import IdP
from tests.jwt.signing import AUDIENCE, ISSUER, SigningKey, claims, rsa_key, token

POLICIES = Path(__file__).resolve().parent / "policies"
MAPPING = warden.PrincipalMapping(roles_claim="roles", attr_claims={"scope": "scope", "email": "email"})


@pytest.fixture(scope="session")
def web_key() -> SigningKey:
    return SigningKey("web-1", "RS256", rsa_key(2048, 10))


@pytest.fixture(scope="session")
def stranger_key() -> SigningKey:
    """A key the identity provider does not publish."""
    return SigningKey("web-1", "RS256", rsa_key(2048, 11))


@pytest.fixture
def idp(web_key) -> Iterator[IdP]:
    with IdP([web_key]) as server:
        yield server


def make_verifier(idp: IdP, **options) -> warden.JWTVerifier:
    options.setdefault("failure_backoff", 0)
    options.setdefault("http_timeout", 5.0)
    options.setdefault("principal_mapping", MAPPING)
    return warden.JWTVerifier(jwks_url=idp.jwks_url, issuer=ISSUER, audience=AUDIENCE, **options)


@pytest.fixture
def verifier(idp) -> warden.JWTVerifier:
    return make_verifier(idp)


@pytest.fixture(scope="session")
def client() -> warden.Client:
    return warden.Client(POLICIES)


def bearer(key: SigningKey, sub: str = "user-1", roles=("user",), **extra) -> dict:
    """An Authorization header with a token for ``sub``."""
    return {"Authorization": "Bearer " + token(key, claims(sub=sub, roles=list(roles), **extra))}


def wait_until(predicate, what: str, attempts: int = 200, pause: float = 0.025) -> None:
    """Poll ``predicate`` a bounded number of times (a start-up wait, not a timing assertion)."""
    for _ in range(attempts):
        if predicate():
            return
        time.sleep(pause)
    raise AssertionError(f"gave up waiting for {what}")


@contextmanager
def uvicorn_server(app) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 (an ephemeral port); yields the base URL."""
    import socket

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, "uvicorn to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def werkzeug_server(app) -> Iterator[str]:
    """Run a WSGI ``app`` under Werkzeug's ``make_server`` on 127.0.0.1; yields the base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
