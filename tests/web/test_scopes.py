"""Required OAuth scopes behave the same in FastAPI and Flask (warden._web): a space-separated
string is several scopes (RFC 6749 §3.3), as is a list; a malformed scope is refused when the
route is declared. Real apps, tokens from the loopback identity provider."""

from __future__ import annotations

import pytest
import warden
import warden.flask as warden_flask
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from flask import Flask, jsonify
from warden._web import ScopeRequirement, parse_scopes
from warden.fastapi import Warden as FastAPIWarden

from tests.jwt.signing import AUDIENCE, ISSUER

from .conftest import POLICIES, bearer
from .rego_policies import POLICIES as REGO_POLICIES

READ_WRITE = "document.read document.write"
CHALLENGE = (
    'Bearer error="insufficient_scope", error_description="the token lacks scope document.write", '
    'scope="document.read document.write"'
)


def fastapi_app(client, verifier, rego, scopes) -> TestClient:
    authz = FastAPIWarden(client, verifier, rego=rego)
    app = FastAPI()

    @app.get("/require")
    async def by_require(p=Depends(authz.require("list", "document", scopes=scopes))):
        return {"ok": True}

    async def load(doc_id: str):
        return {"owner": "user-1"}

    @app.get("/load/{doc_id}")
    async def by_load(doc=Depends(authz.load("read", "document", load, scopes=scopes))):
        return {"ok": True}

    @app.get("/reports")
    async def by_rule(p=Depends(authz.require_rule("data.web.reports.allow", scopes=scopes))):
        return {"ok": True}

    @app.get("/any")
    async def by_any(p=Depends(authz.require("list", "document", any_scopes="document.read document.read_all"))):
        return {"ok": True}

    return TestClient(app)


def flask_app(idp, tmp_path, scopes) -> Flask:
    for name, text in REGO_POLICIES.items():
        (tmp_path / name).write_text(text)
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        WARDEN_POLICY_DIR=str(POLICIES),
        WARDEN_REGO_DIR=str(tmp_path),
        WARDEN_ISSUER=ISSUER,
        WARDEN_AUDIENCE=AUDIENCE,
        WARDEN_JWKS_URL=idp.jwks_url,
    )
    authz = warden_flask.Warden(app)

    @app.route("/require")
    @authz.require("list", "document", scopes=scopes)
    def by_require():
        return jsonify({"ok": True})

    @app.route("/function")
    def by_function():
        warden_flask.authorize_or_raise("list", "document", scopes=scopes)
        return jsonify({"ok": True})

    @app.route("/reports")
    @authz.require_rule("data.web.reports.allow", scopes=scopes)
    def by_rule():
        return jsonify({"ok": True})

    @app.route("/any")
    def by_any():
        warden_flask.authorize_or_raise("list", "document", any_scopes="document.read document.read_all")
        return jsonify({"ok": True})

    return app


@pytest.fixture
def rego() -> warden.Rego:
    return warden.Rego.from_policies(REGO_POLICIES)


@pytest.mark.parametrize("scopes", [READ_WRITE, ["document.read", "document.write"]], ids=["string", "list"])
def test_fastapi_scopes_are_space_separated(client, verifier, rego, web_key, scopes):
    http = fastapi_app(client, verifier, rego, scopes)
    for path in ("/require", "/load/d1", "/reports"):
        r = http.get(path, headers=bearer(web_key, scope="document.read"))
        assert r.status_code == 403, path
        assert r.headers["www-authenticate"] == CHALLENGE, path
        assert r.json() == {"detail": "insufficient_scope: the token lacks scope document.write"}
        assert http.get(path, headers=bearer(web_key, scope="document.write document.read")).status_code == 200, path
    security = http.get("/openapi.json").json()["paths"]["/require"]["get"]["security"]
    assert security == [{"bearerAuth": ["document.read", "document.write"]}]


@pytest.mark.parametrize("scopes", [READ_WRITE, ["document.read", "document.write"]], ids=["string", "list"])
def test_flask_scopes_are_space_separated(idp, tmp_path, web_key, scopes):
    http = flask_app(idp, tmp_path, scopes).test_client()
    for path in ("/require", "/function", "/reports"):
        r = http.get(path, headers=bearer(web_key, scope="document.read"))
        assert r.status_code == 403, path
        assert r.headers["WWW-Authenticate"] == CHALLENGE, path
        assert r.json == {
            "Authorized": False,
            "error": "insufficient_scope",
            "error_description": "the token lacks scope document.write",
        }
        assert http.get(path, headers=bearer(web_key, scope="document.write document.read")).status_code == 200, path


def test_any_scopes_as_a_string_in_both_frameworks(client, verifier, rego, idp, tmp_path, web_key):
    fast = fastapi_app(client, verifier, rego, ())
    flask_http = flask_app(idp, tmp_path, ()).test_client()
    for http in (fast, flask_http):
        denied = http.get("/any", headers=bearer(web_key, scope="openid"))
        assert denied.status_code == 403
        assert denied.headers["WWW-Authenticate"] == (
            'Bearer error="insufficient_scope", error_description="the token lacks scope document.read or '
            'document.read_all", scope="document.read document.read_all"'
        )
        assert http.get("/any", headers=bearer(web_key, scope="document.read_all")).status_code == 200


@pytest.mark.parametrize(
    "scopes, error, message",
    [
        (["document.read", "a b"], ValueError, r"scopes\[1\]: 'a b' is not an OAuth scope"),
        (['say"hi'], ValueError, r"scopes\[0\]"),
        (["caf\u00e9"], ValueError, r"scopes\[0\]"),
        ([""], ValueError, r"scopes\[0\]"),
        ([3], TypeError, r"scopes\[0\]: expected a string"),
        (7, TypeError, "scopes: expected a space-separated string or a list"),
    ],
)
def test_malformed_scopes_are_refused_when_the_route_is_declared(client, verifier, rego, scopes, error, message):
    authz = FastAPIWarden(client, verifier, rego=rego)
    with pytest.raises(error, match=message):
        authz.require("read", "document", scopes=scopes)
    with pytest.raises(error, match=message):
        authz.require_rule("data.web.reports.allow", scopes=scopes)
    with pytest.raises(error, match=message.replace("scopes", "any_scopes")):
        authz.load("read", "document", lambda doc_id: None, any_scopes=scopes)
    with pytest.raises(error, match=message):
        warden_flask.Warden().require("read", "document", scopes=scopes)
    with pytest.raises(error, match=message.replace("scopes", "any_scopes")):
        warden_flask.Warden().require_rule("data.web.reports.allow", any_scopes=scopes)


def test_scope_parsing():
    assert parse_scopes("  a b\tc ") == ("a", "b", "c")
    assert parse_scopes(("a", "b")) == ("a", "b")
    assert parse_scopes("") == ()
    assert ScopeRequirement.parse("a b", ["c"]) == ScopeRequirement(("a", "b"), ("c",))
    assert ScopeRequirement().refusal({"scope": ""}, None) is None
    refusal = ScopeRequirement.parse("a", "b c").refusal({"scp": ["a"]}, "docs")
    assert refusal is not None and refusal.status == 403 and refusal.error == "insufficient_scope"
    assert refusal.www_authenticate == (
        'Bearer realm="docs", error="insufficient_scope", error_description="the token lacks scope b or c", scope="a b c"'
    )
