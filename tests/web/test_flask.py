"""warden.flask: real Flask apps configured from app.config, keys fetched from the loopback identity provider."""

from __future__ import annotations

import logging

import httpx
import pytest
import warden
from flask import Blueprint, Flask, jsonify, redirect, render_template_string, request, session
from warden.flask import (
    AuthenticationFailed,
    AuthorizationFailed,
    Warden,
    authorize_or_401,
    authorize_or_login,
    authorize_or_raise,
    current_principal,
)

from tests.jwt.signing import AUDIENCE, ISSUER, claims, token

from .conftest import MAPPING, POLICIES, bearer, werkzeug_server

DOCUMENTS = {"d1": {"owner": "user-1"}, "d2": {"owner": "user-2"}}


def config_for(idp, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WARDEN_POLICY_DIR": str(POLICIES),
        "WARDEN_ISSUER": ISSUER,
        "WARDEN_AUDIENCE": AUDIENCE,
        "WARDEN_JWKS_URL": idp.jwks_url,
        "WARDEN_SESSION_KEY": "token",
        "WARDEN_LOGIN_VIEW": "login.login",
    }
    config.update(extra)
    return config


def create_app(config, ext: Warden | None = None) -> Flask:
    """An application factory, as the extension guide recommends."""
    app = Flask(__name__)
    app.config.update(config)
    authz = ext or Warden()
    authz.init_app(app)

    login = Blueprint("login", __name__)

    def login_view():
        if request.method == "POST":
            session["token"] = request.form["token"]
            return redirect(request.args.get("next", "/"))
        return "please sign in"

    login.add_url_rule("/login", "login", login_view, methods=["GET", "POST"])

    @login.route("/logout")
    def logout():
        session.pop("token", None)
        return redirect("/login")

    app.register_blueprint(login)

    @app.route("/api/v1/documents/list")
    def list_documents():
        principal = authorize_or_401("list", "document")
        return jsonify({"ids": sorted(DOCUMENTS), "by": principal.id})

    @app.route("/api/v1/documents/<doc_id>", methods=["GET", "PUT"])
    @authz.require("update", "document", id_arg="doc_id", attr=lambda doc_id: DOCUMENTS.get(doc_id))
    def update_document(doc_id):
        return jsonify({"updated": doc_id, "by": current_principal.id})

    @app.route("/api/v1/documents/<doc_id>/raw")
    def raw(doc_id):
        authorize_or_raise("delete", "document", doc_id, DOCUMENTS.get(doc_id))
        return jsonify({"deleted": doc_id})

    @app.route("/api/v1/scoped")
    @authz.require("read", "document", scopes=["document.read"])
    def scoped():
        return jsonify({"ok": True})

    @app.route("/ui")
    def ui():
        authorize_or_login("read", "document", "d1")
        return render_template_string("hello {{ current_principal.id }}")

    @app.route("/whoami")
    def whoami():
        return jsonify({"id": current_principal.id if current_principal else None})

    app.authz = authz  # for the tests
    return app


@pytest.fixture
def app(idp):
    return create_app(config_for(idp))


@pytest.fixture
def http(app):
    return app.test_client()


def test_no_token_401_json(http):
    r = http.get("/api/v1/documents/list")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json == {"Authorized": False, "error": "missing_token", "error_description": "Not authenticated"}


def test_invalid_token_401(http, web_key, stranger_key):
    r = http.get("/api/v1/documents/list", headers={"Authorization": "Bearer " + token(web_key, claims(exp=1))})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token", error_description="token has expired"'
    assert r.json == {"Authorized": False, "error": "invalid_token", "error_description": "token has expired"}
    assert http.get("/api/v1/documents/list", headers=bearer(stranger_key)).status_code == 401


def test_allowed_and_denied(http, web_key):
    r = http.get("/api/v1/documents/list", headers=bearer(web_key, "user-2"))
    assert r.status_code == 200 and r.json == {"ids": ["d1", "d2"], "by": "user-2"}
    denied = http.get("/api/v1/documents/list", headers=bearer(web_key, roles=["guest"]))
    assert denied.status_code == 403
    assert "WWW-Authenticate" not in denied.headers
    assert denied.json == {
        "Authorized": False,
        "error": "forbidden",
        "error_description": "not allowed to list document document",
    }


def test_decorator_with_ownership(http, web_key):
    own = http.put("/api/v1/documents/d1", headers=bearer(web_key, "user-1"))
    assert own.status_code == 200 and own.json == {"updated": "d1", "by": "user-1"}
    other = http.put("/api/v1/documents/d2", headers=bearer(web_key, "user-1"))
    assert other.status_code == 403 and other.json["error_description"] == "not allowed to update document d2"
    assert http.put("/api/v1/documents/d2", headers=bearer(web_key, "boss", roles=["admin"])).status_code == 200
    assert http.put("/api/v1/documents/missing", headers=bearer(web_key)).status_code == 404
    assert http.put("/api/v1/documents/d1").status_code == 401
    # CORS preflight passes unchecked, as with Flask-Login's login_required
    assert http.options("/api/v1/documents/d1").status_code == 200


def test_authorize_or_raise_default_and_custom_handlers(idp, web_key):
    default = create_app(config_for(idp)).test_client()
    assert default.get("/api/v1/documents/d2/raw", headers=bearer(web_key)).status_code == 403
    assert default.get("/api/v1/documents/d2/raw").status_code == 401
    assert default.get("/api/v1/documents/d1/raw", headers=bearer(web_key)).json == {"deleted": "d1"}
    app = create_app(config_for(idp))

    @app.errorhandler(AuthorizationFailed)
    def forbidden(error):
        return f"Authorization has failed: {error.action} {error.resource.id}", 403

    @app.errorhandler(AuthenticationFailed)
    def unauthenticated(error):
        return "who are you?", 401, {"WWW-Authenticate": error.www_authenticate}

    http = app.test_client()
    r = http.get("/api/v1/documents/d2/raw", headers=bearer(web_key))
    assert r.status_code == 403 and r.text == "Authorization has failed: delete d2"
    r = http.get("/api/v1/documents/d2/raw")
    assert r.status_code == 401 and r.text == "who are you?" and r.headers["WWW-Authenticate"] == "Bearer"


def test_insufficient_scope(idp, web_key):
    app = create_app(config_for(idp))
    http = app.test_client()
    r = http.get("/api/v1/scoped", headers=bearer(web_key, scope="openid"))
    assert r.status_code == 403 and r.json["error"] == "insufficient_scope"
    assert r.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", error_description="the token lacks scope document.read", scope="document.read"'
    )
    assert http.get("/api/v1/scoped", headers=bearer(web_key, scope="openid document.read")).status_code == 200


def test_login_flow_with_session(http, web_key):
    r = http.get("/ui?tab=2")
    assert r.status_code == 303 and r.headers["Location"] == "/login?next=%2Fui%3Ftab%3D2"
    r = http.post("/login?next=/ui", data={"token": token(web_key, claims(sub="user-5", roles=["user"]))})
    assert r.status_code == 302
    page = http.get("/ui")
    assert page.status_code == 200 and page.text == "hello user-5"
    http.get("/logout")
    assert http.get("/ui").status_code == 303


def test_signed_in_but_denied_page_is_403_not_a_redirect(http, web_key):
    r = http.get("/ui", headers=bearer(web_key, roles=["guest"]))
    assert r.status_code == 403


def test_expired_session_token_is_dropped(http, web_key):
    http.post("/login", data={"token": token(web_key, claims(exp=1))})
    assert http.get("/ui").status_code == 303
    with http.session_transaction() as s:
        assert "token" not in s


def test_current_principal(http, web_key):
    assert http.get("/whoami").json == {"id": None}
    assert http.get("/whoami", headers=bearer(web_key, "user-9")).json == {"id": "user-9"}


def test_cookie_token_and_principal_loader(idp, web_key):
    ext = Warden()

    @ext.principal_loader
    def load(claims):
        return MAPPING.principal(claims)

    app = create_app(config_for(idp, WARDEN_TOKEN_COOKIE="access_token", WARDEN_HEADER=False), ext)
    http = app.test_client()
    assert http.get("/whoami", headers=bearer(web_key)).json == {"id": None}  # header disabled
    http.set_cookie("access_token", token(web_key, claims(sub="cookie-user", roles=["user"], scope="document.read")))
    assert http.get("/whoami").json == {"id": "cookie-user"}
    assert http.get("/api/v1/scoped").status_code == 200


def test_provider_down_is_503(idp, web_key):
    idp.fail_status = 500
    http = create_app(config_for(idp)).test_client()
    r = http.get("/api/v1/documents/list", headers=bearer(web_key))
    assert r.status_code == 503 and "WWW-Authenticate" not in r.headers
    assert r.json["error"] == "temporarily_unavailable"


def test_one_extension_many_apps(idp, web_key):
    ext = Warden()
    a = create_app(config_for(idp), ext)
    b = create_app(config_for(idp, WARDEN_AUDIENCE="api://other"), ext)
    headers = bearer(web_key)
    assert a.test_client().get("/whoami", headers=headers).json == {"id": "user-1"}
    assert b.test_client().get("/whoami", headers=headers).json == {"id": None}  # wrong audience there
    assert a.extensions["warden"] is not b.extensions["warden"]


def test_introspection_and_tokeninfo_from_config(idp):
    idp.introspection["opaque-1"] = {"active": True, "sub": "user-1", "roles": ["user"], "exp": 2**31}
    idp.tokeninfo["opaque-2"] = {"uid": "user-2", "scope": ["uid"], "realm": "/employees", "expires_in": 300}
    cid, secret = idp.client_credentials
    by_introspection = create_app(
        config_for(
            idp,
            WARDEN_INTROSPECTION_URL=idp.url + "/introspect",
            WARDEN_CLIENT_ID=cid,
            WARDEN_CLIENT_SECRET=secret,
            WARDEN_ISSUER=None,
            WARDEN_AUDIENCE=None,
        )
    )
    assert isinstance(by_introspection.extensions["warden"].verifier, warden.Introspector)
    assert by_introspection.test_client().get("/whoami", headers={"Authorization": "Bearer opaque-1"}).json == {
        "id": "user-1"
    }
    by_tokeninfo = create_app(config_for(idp, WARDEN_TOKENINFO_URL=idp.url + "/tokeninfo"))
    assert by_tokeninfo.test_client().get("/whoami", headers={"Authorization": "Bearer opaque-2"}).json == {
        "id": "user-2"
    }
    assert by_tokeninfo.test_client().get("/whoami", headers={"Authorization": "Bearer nope"}).json == {"id": None}


def test_configuration_errors(idp):
    with pytest.raises(RuntimeError, match="WARDEN_POLICY_DIR"):
        create_app(config_for(idp, WARDEN_POLICY_DIR=None))
    with pytest.raises(RuntimeError, match="configure token verification"):
        create_app(config_for(idp, WARDEN_JWKS_URL=None, WARDEN_ISSUER=None))
    with pytest.raises(RuntimeError, match="WARDEN_CLIENT_ID"):
        create_app(config_for(idp, WARDEN_INTROSPECTION_URL=idp.url + "/introspect"))
    with pytest.raises(ValueError, match="action"):
        Warden().require("", "document")
    app = Flask(__name__)
    app.testing = True  # exceptions propagate to the test

    @app.route("/")
    def index():
        authorize_or_401("read", "document")
        return "never"

    with pytest.raises(RuntimeError, match="no Warden extension"):
        app.test_client().get("/")


def test_bypass_refused_outside_debug_and_testing(idp):
    with pytest.raises(RuntimeError, match="WARDEN_BYPASS"):
        create_app(config_for(idp, TESTING=False, WARDEN_BYPASS=True))


def test_bypass_in_testing_allows_everything_and_warns(idp, caplog):
    with caplog.at_level(logging.WARNING, logger="warden.flask"):
        app = create_app(
            config_for(idp, WARDEN_BYPASS=True, WARDEN_POLICY_DIR=None, WARDEN_JWKS_URL=None, WARDEN_ISSUER=None)
        )
    assert any("WARDEN_BYPASS is ON" in r.getMessage() for r in caplog.records)
    http = app.test_client()
    assert http.get("/api/v1/documents/list").json == {"ids": ["d1", "d2"], "by": "warden-bypass"}
    assert http.put("/api/v1/documents/d2").status_code == 200
    # switched out of testing after start-up: the bypass no longer applies (deny by default)
    app.testing = False
    r = app.test_client().get("/api/v1/documents/list")
    assert r.status_code == 401 and r.json["error_description"] == "authentication is not configured"


def test_under_werkzeug_over_http(app, web_key):
    with werkzeug_server(app) as base, httpx.Client(base_url=base) as http:
        r = http.get("/api/v1/documents/list")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert http.get("/api/v1/documents/list", headers=bearer(web_key)).json()["by"] == "user-1"
        assert http.put("/api/v1/documents/d2", headers=bearer(web_key)).status_code == 403
        assert http.put("/api/v1/documents/d1", headers=bearer(web_key)).status_code == 200
        assert http.get("/ui", follow_redirects=False).headers["location"] == "/login?next=%2Fui"
