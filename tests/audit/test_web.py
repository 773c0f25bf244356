"""Web decisions and token failures in the decision log, and the access log, with real FastAPI
and Flask apps (TestClient / Flask's test client, and FastAPI under uvicorn on 127.0.0.1)."""

from __future__ import annotations

import logging

import httpx
import pytest
import warden
import warden.audit
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from flask import Flask
from warden.fastapi import Warden

from tests.web.conftest import POLICIES, bearer, make_verifier, uvicorn_server

DOCUMENTS = {"d1": {"owner": "user-1"}, "d2": {"owner": "user-2"}}


def load_document(doc_id: str):
    record = DOCUMENTS.get(doc_id)
    return None if record is None else warden.Resource(doc_id, "document", attr=dict(record))


def fastapi_app(authz: Warden) -> FastAPI:
    app = FastAPI()

    @app.put("/documents/{doc_id}")
    def update(doc_id: str, principal=Depends(authz.require("update", "document", resource=load_document))):
        return {"updated": doc_id}

    return app


@pytest.fixture
def logged(idp):
    entries: list = []
    client = warden.Client(POLICIES, audit=entries.append)
    return client, entries, Warden(client, make_verifier(idp))


HEADERS = {"X-Request-ID": "req-42", "User-Agent": "pytest-agent", "X-Forwarded-For": "203.0.113.9"}


def test_fastapi_decisions_carry_the_request(logged, web_key):
    client, entries, authz = logged
    http = TestClient(fastapi_app(authz))
    assert http.put("/documents/d1", headers={**bearer(web_key), **HEADERS}).status_code == 200
    assert http.put("/documents/d2", headers={**bearer(web_key), **HEADERS}).status_code == 403
    client.engine.flush_audit()
    allowed, denied = entries
    assert allowed["peer"] == {"address": "testclient", "userAgent": "pytest-agent", "forwardedFor": "203.0.113.9"}
    assert allowed["requestContext"] == {
        "annotations": {"method": "PUT", "route": "/documents/{doc_id}", "requestId": "req-42"}
    }
    assert allowed["checkResources"]["inputs"][0]["principal"]["id"] == "user-1"
    assert denied["checkResources"]["outputs"][0]["actions"]["update"]["effect"] == "EFFECT_DENY"
    assert "metadata" not in allowed, "headers only with include/exclude keys"


def test_fastapi_token_failure_is_logged(logged, web_key, stranger_key):
    client, entries, authz = logged
    http = TestClient(fastapi_app(authz))
    assert http.put("/documents/d1", headers={**bearer(stranger_key), **HEADERS}).status_code == 401
    client.engine.flush_audit()
    (e,) = entries
    assert e["checkResources"]["error"].startswith("token verification failed")
    assert e["requestContext"]["annotations"]["requestId"] == "req-42"


def test_fastapi_access_log_one_line_per_protected_request(logged, web_key, stranger_key, caplog):
    client, entries, authz = logged
    http = TestClient(fastapi_app(authz))
    with caplog.at_level(logging.INFO, logger="warden.access"):
        http.put("/documents/d1", headers={**bearer(web_key), **HEADERS})
        http.put("/documents/d2", headers=bearer(web_key))
        http.put("/documents/d1", headers=bearer(stranger_key))
    lines = [r for r in caplog.records if r.name == "warden.access"]
    assert [r.warden_access["effect"] for r in lines] == ["EFFECT_ALLOW", "EFFECT_DENY", "UNAUTHENTICATED"]
    first = lines[0].warden_access
    assert {k: first[k] for k in ("principal", "route", "action", "kind", "resource", "policy", "request_id")} == {
        "principal": "user-1",
        "route": "/documents/{doc_id}",
        "action": "update",
        "kind": "document",
        "resource": "d1",
        "policy": "resource.document.vdefault",
        "request_id": "req-42",
    }
    assert first["latency_ms"] >= 0
    assert "principal=user-1" in lines[0].getMessage() and "effect=EFFECT_ALLOW" in lines[0].getMessage()
    client.engine.flush_audit()
    assert len(entries) == 3, "the access log's decision is the logged one"


def test_fastapi_under_a_real_server_logs_the_peer_address(logged, web_key):
    client, entries, authz = logged
    with uvicorn_server(fastapi_app(authz)) as base:
        r = httpx.put(base + "/documents/d1", headers=bearer(web_key), timeout=10)
    assert r.status_code == 200
    client.engine.flush_audit()
    assert entries[0]["peer"]["address"] == "127.0.0.1"


def flask_app(idp, client) -> Flask:
    from warden.flask import Warden as FlaskWarden
    from warden.flask import authorize

    from tests.jwt.signing import AUDIENCE, ISSUER

    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        WARDEN_POLICY_DIR=client,
        WARDEN_ISSUER=ISSUER,
        WARDEN_AUDIENCE=AUDIENCE,
        WARDEN_JWKS_URL=idp.jwks_url,
    )
    FlaskWarden().init_app(app)

    @app.put("/documents/<doc_id>")
    def update(doc_id):
        authorize("update", "document", doc_id, DOCUMENTS.get(doc_id))
        return {"updated": doc_id}

    return app


def test_flask_decisions_token_failures_and_access_log(idp, web_key, stranger_key, caplog):
    entries: list = []
    client = warden.Client(
        POLICIES, audit=warden.audit.AuditOptions(entries.append, include_metadata_keys=["x-request-id"])
    )
    http = flask_app(idp, client).test_client()
    with caplog.at_level(logging.INFO, logger="warden.access"):
        assert http.put("/documents/d1", headers={**bearer(web_key), **HEADERS}).status_code == 200
        assert http.put("/documents/d2", headers=bearer(web_key)).status_code == 403
        assert http.put("/documents/d1", headers=bearer(stranger_key)).status_code == 401
    client.engine.flush_audit()
    allowed, denied, refused = entries
    assert allowed["peer"] == {"address": "127.0.0.1", "userAgent": "pytest-agent", "forwardedFor": "203.0.113.9"}
    assert allowed["requestContext"]["annotations"] == {
        "method": "PUT",
        "route": "/documents/<doc_id>",
        "requestId": "req-42",
    }
    assert allowed["metadata"] == {"x-request-id": {"values": ["req-42"]}}
    assert denied["checkResources"]["outputs"][0]["actions"]["update"]["effect"] == "EFFECT_DENY"
    assert refused["checkResources"]["error"].startswith("token verification failed")
    lines = [r.warden_access for r in caplog.records if r.name == "warden.access"]
    assert [(x["principal"], x["effect"]) for x in lines] == [
        ("user-1", "EFFECT_ALLOW"),
        ("user-1", "EFFECT_DENY"),
        ("-", "UNAUTHENTICATED"),
    ]
