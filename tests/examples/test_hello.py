"""examples/hello: the Okta + OPA hello service on warden, validated locally (JWT) and remotely (introspection)."""
from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import uvicorn_server

from .conftest import load_example

hello = load_example("hello")


@pytest.fixture(params=["local", "introspection"])
def setup(request, dev_issuer):
    app = hello.create_app(dev_issuer=dev_issuer, introspect=request.param == "introspection")
    return app, dev_issuer, request.param


def bearer(issuer, client, **claims):
    return {"Authorization": "Bearer " + issuer.mint(client, **claims)}


def test_verifier_kind(setup):
    app, _, mode = setup
    assert type(app.state.authz.verifier).__name__ == ("JWTVerifier" if mode == "local" else "Introspector")


def test_sayhello_needs_the_scope(setup):
    app, issuer, _ = setup
    api = TestClient(app)
    r = api.get("/sayhello", headers=bearer(issuer, "hello-client"))
    assert r.status_code == 200 and r.json() == {"message": "Hello hello-client"}
    for client in ("nosy-client", "bare-client"):
        r = api.get("/sayhello", headers=bearer(issuer, client))
        assert r.status_code == 403 and r.json() == {"detail": "not allowed to GET api sayhello"}


def test_saysecret_is_denied_to_everyone(setup):
    app, issuer, _ = setup
    api = TestClient(app)
    for client in hello.DEV_CLIENTS:
        assert api.get("/saysecret", headers=bearer(issuer, client)).status_code == 403


def test_tokens_refused(setup):
    app, issuer, mode = setup
    api = TestClient(app)
    r = api.get("/sayhello")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    for bad in (issuer.mint("hello-client", exp=1), issuer.mint("hello-client", iss="https://evil.example/oauth2/default"), "garbage"):
        r = api.get("/sayhello", headers={"Authorization": "Bearer " + bad})
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"], (mode, bad[:20])
    revoked = issuer.mint("hello-client")
    issuer.revoke(revoked)
    expected = 401 if mode == "introspection" else 200  # a local check cannot know about revocation
    assert api.get("/sayhello", headers={"Authorization": "Bearer " + revoked}).status_code == expected


def test_wrong_audience_refused_locally(dev_issuer):
    api = TestClient(hello.create_app(dev_issuer=dev_issuer))
    r = api.get("/sayhello", headers=bearer(dev_issuer, "hello-client", aud="api://other"))
    assert r.status_code == 401


def test_real_okta_settings(monkeypatch):
    for name in ("OKTA_ISSUER", "OKTA_AUDIENCE", "OKTA_CLIENT_ID", "OKTA_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="OKTA_ISSUER"):
        hello.create_app()
    app = hello.create_app(issuer="https://dev-1.okta.com/oauth2/default", audience="api://default", client_id="cid")
    assert app.state.authz.verifier.issuer == "https://dev-1.okta.com/oauth2/default"
    with pytest.raises(RuntimeError, match="OKTA_CLIENT_SECRET"):
        hello.create_app(issuer="https://dev-1.okta.com/oauth2/default", introspect=True)


def test_openapi_shows_the_lock(dev_issuer):
    spec = TestClient(hello.create_app(dev_issuer=dev_issuer)).get("/openapi.json").json()
    assert spec["paths"]["/sayhello"]["get"]["security"] == [{"bearerAuth": []}]


def test_under_uvicorn(setup):
    app, issuer, _ = setup
    with uvicorn_server(app) as base, httpx.Client(base_url=base) as http:
        assert http.get("/sayhello", headers=bearer(issuer, "hello-client")).status_code == 200
        assert http.get("/saysecret", headers=bearer(issuer, "hello-client")).status_code == 403
        assert http.get("/sayhello").status_code == 401
