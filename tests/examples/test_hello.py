"""examples/hello: the Okta + OPA hello service on warden, validated locally (JWT) and remotely
(introspection), decided by the Cerbos policy or by the app's own Rego policy (``rego=True``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import uvicorn_server

from .conftest import load_example

hello = load_example("hello")


@pytest.fixture(params=["local", "introspection", "local+rego", "introspection+rego"])
def setup(request, dev_issuer):
    mode = request.param
    app = hello.create_app(
        dev_issuer=dev_issuer, introspect=mode.startswith("introspection"), rego=mode.endswith("+rego")
    )
    return app, dev_issuer, mode


def denial(mode, path):
    """The 403 body each mode answers."""
    return {
        "detail": "not allowed by data.demoapi.authz.allow"
        if mode.endswith("+rego")
        else f"not allowed to GET api {path.strip('/')}"
    }


def bearer(issuer, client, **claims):
    return {"Authorization": "Bearer " + issuer.mint(client, **claims)}


def test_verifier_kind(setup):
    app, _, mode = setup
    assert type(app.state.authz.verifier).__name__ == ("JWTVerifier" if mode.startswith("local") else "Introspector")
    assert (app.state.authz.rego is not None) == mode.endswith("+rego")


def test_sayhello_needs_the_scope(setup):
    app, issuer, mode = setup
    api = TestClient(app)
    r = api.get("/sayhello", headers=bearer(issuer, "hello-client"))
    assert r.status_code == 200 and r.json() == {"message": "Hello hello-client"}
    for client in ("nosy-client", "bare-client"):
        r = api.get("/sayhello", headers=bearer(issuer, client))
        assert r.status_code == 403 and r.json() == denial(mode, "/sayhello")


def test_saysecret_is_denied_to_everyone(setup):
    app, issuer, mode = setup
    api = TestClient(app)
    for client in hello.DEV_CLIENTS:
        r = api.get("/saysecret", headers=bearer(issuer, client))
        assert r.status_code == 403 and r.json() == denial(mode, "/saysecret")
    # a token granting every scope the policies know still cannot read the secret
    r = api.get("/saysecret", headers=bearer(issuer, "hello-client", scp=["read_sayhello", "read_saysecret"]))
    assert r.status_code == 403


def test_tokens_refused(setup):
    app, issuer, mode = setup
    api = TestClient(app)
    r = api.get("/sayhello")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    for bad in (
        issuer.mint("hello-client", exp=1),
        issuer.mint("hello-client", iss="https://evil.example/oauth2/default"),
        "garbage",
    ):
        r = api.get("/sayhello", headers={"Authorization": "Bearer " + bad})
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"], (mode, bad[:20])
    revoked = issuer.mint("hello-client")
    issuer.revoke(revoked)
    expected = 401 if mode.startswith("introspection") else 200  # a local check cannot know about revocation
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


@pytest.mark.parametrize("rego", [False, True])
def test_openapi_shows_the_lock(dev_issuer, rego):
    spec = TestClient(hello.create_app(dev_issuer=dev_issuer, rego=rego)).get("/openapi.json").json()
    assert spec["paths"]["/sayhello"]["get"]["security"] == [{"bearerAuth": []}]


def test_rego_mode_loads_the_opa_policy_file_unchanged(dev_issuer):
    app = hello.create_app(dev_issuer=dev_issuer, rego=True)
    policy = app.state.authz.rego
    assert [(Path(f).name, syntax) for f, syntax in policy.files] == [("demoapi_authz.rego", "v0")]
    assert policy.packages == ["data.demoapi.authz"]
    # the file on disk is what the app deployed to OPA: `default allow = false` and the v0 rule bodies
    text = (hello.OPA_POLICIES / "demoapi_authz.rego").read_text()
    assert "default allow = false" in text and "allow {" in text and "io.jwt.decode(input.jwt.tokenValue)" in text


def test_rego_mode_sees_the_input_the_app_posted_to_opa(dev_issuer):
    """The same decisions as OPA's REST answer for the app's request body."""
    app = hello.create_app(dev_issuer=dev_issuer, rego=True)
    policy, token = app.state.authz.rego, dev_issuer.mint("hello-client")
    for path, status in (("/sayhello", 200), ("/saysecret", 403)):
        body = {"input": {"method": "GET", "api": path, "jwt": {"tokenValue": token}}}
        expected = policy.eval_data_api("demoapi/authz/allow", body)["result"]
        assert (
            TestClient(app).get(path, headers={"Authorization": "Bearer " + token}).status_code
            == (200 if expected else 403)
            == status
        )


def test_under_uvicorn(setup):
    app, issuer, _ = setup
    with uvicorn_server(app) as base, httpx.Client(base_url=base) as http:
        assert http.get("/sayhello", headers=bearer(issuer, "hello-client")).status_code == 200
        assert http.get("/saysecret", headers=bearer(issuer, "hello-client")).status_code == 403
        assert http.get("/sayhello").status_code == 401
