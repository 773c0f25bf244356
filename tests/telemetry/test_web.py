"""FastAPI and Flask apps instrumented with OpenTelemetry's own instrumentation: warden's token and
decision spans nest under the framework's request span."""

from __future__ import annotations

import pytest
import warden

from tests.jwt.idp import IdP
from tests.jwt.signing import SigningKey, rsa_key
from tests.web.conftest import POLICIES, bearer, make_verifier


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey("web-tel", "RS256", rsa_key(2048, 22))


def assert_nested_in_request(otel, path: str) -> None:
    (server,) = [s for s in otel.spans() if s.kind.name == "SERVER"]
    assert path in server.name
    check = otel.spans("engine.Check")[-1]
    verify = otel.spans("auth.VerifyToken")[-1]
    by_id = {s.context.span_id: s for s in otel.spans()}
    for span in (check, verify):
        assert span.context.trace_id == server.context.trace_id
        ancestor = span
        while ancestor.parent is not None and ancestor.context.span_id != server.context.span_id:
            ancestor = by_id[ancestor.parent.span_id]
        assert ancestor is server, f"{span.name} is not under the request span"
    assert check.attributes["warden.principal.id"] == "user-1"
    assert check.attributes["warden.resource.kind"] == "document"


def test_fastapi_request_span_holds_the_decision(otel, key):
    pytest.importorskip("opentelemetry.instrumentation.fastapi", reason="in the test extra")
    from fastapi.testclient import TestClient
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from warden.fastapi import Warden

    from tests.web.test_fastapi import make_app

    with IdP([key]) as idp:
        authz = Warden(warden.Client(POLICIES), make_verifier(idp), session_key="token")
        app = make_app(authz)
        FastAPIInstrumentor.instrument_app(app, tracer_provider=otel.tracer_provider)
        try:
            r = TestClient(app).put("/documents/d1", headers=bearer(key))
            assert r.status_code == 200, r.text
        finally:
            FastAPIInstrumentor.uninstrument_app(app)
    assert otel.spans("engine.Check")[-1].attributes["warden.action"] == "update"
    assert_nested_in_request(otel, "/documents/{doc_id}")


def test_flask_request_span_holds_the_decision(otel, key):
    pytest.importorskip("opentelemetry.instrumentation.flask", reason="in the test extra")
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    from tests.web.test_flask import config_for, create_app

    with IdP([key]) as idp:
        app = create_app(config_for(idp))
        FlaskInstrumentor().instrument_app(app, tracer_provider=otel.tracer_provider)
        try:
            r = app.test_client().put("/api/v1/documents/d1", headers=bearer(key))
            assert r.status_code == 200, r.get_data(as_text=True)
        finally:
            FlaskInstrumentor().uninstrument_app(app)
    assert otel.spans("engine.Check")[-1].attributes["warden.action"] == "update"
    assert_nested_in_request(otel, "/api/v1/documents/<doc_id>")
