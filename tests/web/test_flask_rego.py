"""warden.flask ``require_rule`` / ``authorize_rule``: Rego rules decided in-process in real Flask apps,
tokens signed by PyJWT, keys fetched from the loopback identity provider."""

from __future__ import annotations

import httpx
import pytest
import warden
from flask import Flask, jsonify, request, session
from warden.flask import Warden, authorize_rule, current_principal

from tests.jwt.signing import AUDIENCE, ISSUER

from .conftest import bearer, werkzeug_server
from .rego_policies import POLICIES


def create_app(idp, rego_dir=None, ext=None, **extra) -> Flask:
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        SECRET_KEY="test-secret",
        WARDEN_ISSUER=ISSUER,
        WARDEN_AUDIENCE=AUDIENCE,
        WARDEN_JWKS_URL=idp.jwks_url,
        WARDEN_SESSION_KEY="token",
        WARDEN_LOGIN_VIEW="/login",
        **extra,
    )
    if rego_dir is not None:
        app.config["WARDEN_REGO_DIR"] = str(rego_dir)
    authz = ext or Warden()
    authz.init_app(app)

    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "POST":
            session["token"] = request.form["token"]
            return "signed in"
        return "please sign in"

    @app.route("/reports")
    @authz.require_rule("data.web.reports.allow")
    def list_reports():
        return jsonify({"by": current_principal.id})

    @app.route("/reports/<report_id>", methods=["DELETE"])
    def delete_report(report_id):
        principal = authorize_rule("data.web.reports.allow")
        return jsonify({"deleted": report_id, "by": principal.id})

    @app.route("/owners/<owner>")
    @authz.require_rule(
        "data.web.owners.allow",
        input=lambda request, principal: {"user": principal.id, "owner": request.view_args["owner"]},
    )
    def owner_page(owner):
        return jsonify({"owner": owner})

    @app.route("/scoped")
    @authz.require_rule("data.web.reports.allow", scopes=["reports.read"])
    def scoped():
        return jsonify({"ok": True})

    @app.route("/page")
    @authz.require_rule(
        "data.web.owners.allow", input=lambda claims: {"user": claims["sub"], "owner": "user-1"}, login=True
    )
    def page():
        return "welcome"

    return app


@pytest.fixture
def rego_dir(tmp_path):
    for name, text in POLICIES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.fixture
def http(idp, rego_dir):
    return create_app(idp, rego_dir).test_client()


def test_no_token_is_401_json_with_a_challenge(http):
    r = http.get("/reports")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    assert r.get_json() == {"Authorized": False, "error": "missing_token", "error_description": "Not authenticated"}


def test_refused_token_is_401(http, stranger_key):
    r = http.get("/reports", headers=bearer(stranger_key))
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]


def test_decorator_and_function_with_the_default_input(http, web_key):
    r = http.get("/reports", headers=bearer(web_key, roles=["user"]))
    assert r.status_code == 200 and r.get_json() == {"by": "user-1"}
    r = http.get("/reports", headers=bearer(web_key, roles=["guest"]))
    assert r.status_code == 403
    assert r.get_json() == {
        "Authorized": False,
        "error": "forbidden",
        "error_description": "not allowed by data.web.reports.allow",
    }
    assert http.delete("/reports/3", headers=bearer(web_key, roles=["user"])).status_code == 403
    r = http.delete("/reports/3", headers=bearer(web_key, sub="root", roles=["admin"]))
    assert r.status_code == 200 and r.get_json() == {"deleted": "3", "by": "root"}


def test_input_builder(http, web_key):
    assert http.get("/owners/user-1", headers=bearer(web_key, sub="user-1")).status_code == 200
    assert http.get("/owners/user-2", headers=bearer(web_key, sub="user-1")).status_code == 403


def test_required_scopes(http, web_key):
    r = http.get("/scoped", headers=bearer(web_key, roles=["user"]))
    assert r.status_code == 403 and r.get_json()["error"] == "insufficient_scope"


def test_login_redirect_then_session_token(http, web_key):
    r = http.get("/page")
    assert r.status_code == 303 and r.headers["Location"].startswith("/login?next=")
    http.post("/login", data={"token": bearer(web_key, sub="user-1")["Authorization"].split()[1]})
    assert http.get("/page").status_code == 200


def test_rego_passed_to_the_extension_with_cerbos_policies(idp, web_key):
    from .conftest import POLICIES as CERBOS_POLICIES

    ext = Warden(rego=warden.Rego.from_policies(POLICIES))
    app = create_app(idp, None, ext, WARDEN_POLICY_DIR=str(CERBOS_POLICIES))

    @app.route("/documents")
    def documents():
        from warden.flask import authorize_or_401

        authorize_or_401("list", "document")
        return "ok"

    http = app.test_client()
    assert http.get("/reports", headers=bearer(web_key, roles=["user"])).status_code == 200
    assert http.get("/documents", headers=bearer(web_key, roles=["user"])).status_code == 200


def test_configuration_errors(idp, rego_dir, tmp_path):
    with pytest.raises(RuntimeError, match="WARDEN_REGO_DIR"):
        create_app(idp, None)
    with pytest.raises(ValueError, match="in no loaded package"):
        Warden(rego=warden.Rego.from_policies(POLICIES)).require_rule("data.web.nothing.allow")
    with pytest.raises(TypeError, match="unknown argument"):
        Warden().require_rule("data.web.owners.allow", input=lambda user: {})
    with pytest.raises(TypeError, match="expected a warden.Rego"):
        Warden(rego=str(rego_dir))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "bad.rego").write_text("package broken\n\nallow if {\n")
    with pytest.raises(warden.RegoLoadError, match="bad.rego"):
        create_app(idp, tmp_path / "broken")


def test_rego_only_app_refuses_cerbos_checks(idp, rego_dir, web_key):
    app = create_app(idp, rego_dir)

    @app.route("/documents")
    def documents():
        from warden.flask import authorize_or_401

        authorize_or_401("list", "document")
        return "ok"

    app.testing = False  # let Flask answer the error as it would in production
    r = app.test_client().get("/documents", headers=bearer(web_key))
    assert r.status_code == 500


def test_under_werkzeug_over_http(idp, rego_dir, web_key):
    with werkzeug_server(create_app(idp, rego_dir)) as base, httpx.Client(base_url=base) as http:
        assert http.get("/reports", headers=bearer(web_key, roles=["user"])).status_code == 200
        assert http.get("/reports", headers=bearer(web_key, roles=["guest"])).status_code == 403
        assert http.get("/reports").status_code == 401
        assert http.get("/owners/user-1", headers=bearer(web_key, sub="user-1")).status_code == 200
