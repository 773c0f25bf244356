"""warden.fastapi ``require_rule``: Rego rules decided in-process on the input an OPA-calling app posts,
with real FastAPI apps, tokens signed by PyJWT and keys fetched from the loopback identity provider."""

from __future__ import annotations

import httpx
import pytest
import warden
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from warden.fastapi import Warden

from .conftest import bearer, uvicorn_server
from .rego_policies import OWNERS, POLICIES, REPORTS


@pytest.fixture
def rego() -> warden.Rego:
    return warden.Rego.from_policies(POLICIES)


def make_app(authz: Warden) -> FastAPI:
    app = FastAPI()

    @app.get("/reports")
    async def list_reports(principal: warden.Principal = Depends(authz.require_rule("data.web.reports.allow"))):
        return {"by": principal.id}

    @app.delete("/reports/{report_id}")
    def delete_report(
        report_id: str, principal: warden.Principal = Depends(authz.require_rule("data.web.reports.allow"))
    ):
        return {"deleted": report_id, "by": principal.id}

    def owner_input(request: Request, principal: warden.Principal) -> dict:
        return {"user": principal.id, "owner": request.path_params["owner"]}

    @app.get("/owners/{owner}")
    async def owner_page(
        owner: str,
        principal: warden.Principal = Depends(authz.require_rule("data.web.owners.allow", input=owner_input)),
    ):
        return {"owner": owner}

    async def subject_input(claims: dict, token: str) -> dict:
        assert token.count(".") == 2  # the raw bearer token is handed over too
        return {"user": claims["sub"], "owner": "user-1"}

    @app.get("/user-1-only")
    async def user_one(
        principal: warden.Principal = Depends(authz.require_rule("data.web.owners.allow", input=subject_input)),
    ):
        return {"ok": True}

    @app.get("/scoped")
    async def scoped(principal=Depends(authz.require_rule("data.web.reports.allow", scopes=["reports.read"]))):
        return {"ok": True}

    @app.get("/verdict")
    async def verdict(principal=Depends(authz.require_rule("data.web.reports.verdict"))):
        return {"ok": True}

    return app


@pytest.fixture
def api(rego, verifier):
    return TestClient(make_app(Warden(rego, verifier)))


def test_no_token_is_401_with_a_challenge(api):
    r = api.get("/reports")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_refused_token_is_401_before_the_rule_runs(api, stranger_key, web_key):
    r = api.get("/reports", headers=bearer(stranger_key))
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
    r = api.get("/reports", headers=bearer(web_key, exp=1))
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


def test_default_input_method_path_and_token(api, web_key):
    """The policy decodes the token itself from input.jwt.tokenValue, as the OPA apps' policies do."""
    r = api.get("/reports", headers=bearer(web_key, roles=["user"]))
    assert r.status_code == 200 and r.json() == {"by": "user-1"}
    r = api.get("/reports", headers=bearer(web_key, roles=["guest"]))
    assert r.status_code == 403 and r.json() == {"detail": "not allowed by data.web.reports.allow"}
    assert api.delete("/reports/7", headers=bearer(web_key, roles=["user"])).status_code == 403
    r = api.delete("/reports/7", headers=bearer(web_key, sub="root", roles=["admin"]))
    assert r.status_code == 200 and r.json() == {"deleted": "7", "by": "root"}


def test_input_builder_with_request_and_principal(api, web_key):
    assert api.get("/owners/user-1", headers=bearer(web_key, sub="user-1")).status_code == 200
    assert api.get("/owners/user-2", headers=bearer(web_key, sub="user-1")).status_code == 403
    assert api.get("/owners/user-2", headers=bearer(web_key, sub="user-2")).status_code == 200


def test_async_input_builder_with_claims_and_token(api, web_key):
    assert api.get("/user-1-only", headers=bearer(web_key, sub="user-1")).status_code == 200
    assert api.get("/user-1-only", headers=bearer(web_key, sub="user-9")).status_code == 403


def test_required_scopes_checked_before_the_rule(api, web_key):
    r = api.get("/scoped", headers=bearer(web_key, roles=["user"]))
    assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["www-authenticate"]
    # the scope alone is not enough either: the rule wants GET /reports
    assert api.get("/scoped", headers=bearer(web_key, roles=["user"], scope="reports.read")).status_code == 403


def test_a_non_boolean_rule_is_an_error_never_an_allow(rego, verifier, web_key):
    api = TestClient(make_app(Warden(rego, verifier)), raise_server_exceptions=False)
    assert api.get("/verdict", headers=bearer(web_key)).status_code == 500
    with pytest.raises(warden.RegoEvalError):
        TestClient(make_app(Warden(rego, verifier))).get("/verdict", headers=bearer(web_key))


def test_reload_changes_decisions_and_a_broken_set_keeps_serving(rego, verifier, web_key):
    api = TestClient(make_app(Warden(rego, verifier)))
    headers = bearer(web_key, roles=["guest"])
    assert api.get("/reports", headers=headers).status_code == 403
    rego.reload(
        {"reports.rego": REPORTS.replace('"user" in claims.roles', '"guest" in claims.roles'), "owners.rego": OWNERS}
    )
    assert api.get("/reports", headers=headers).status_code == 200
    with pytest.raises(warden.RegoLoadError):
        rego.reload({"reports.rego": "package web.reports\n\nallow if {", "owners.rego": OWNERS})
    assert api.get("/reports", headers=headers).status_code == 200


def test_declaration_errors(rego, verifier, client):
    authz = Warden(rego, verifier)
    with pytest.raises(ValueError, match="in no loaded package"):
        authz.require_rule("data.web.reprts.allow")
    with pytest.raises(ValueError, match="data.<package>"):
        authz.require_rule("web.reports.allow")
    with pytest.raises(TypeError, match="unknown argument 'user'"):
        authz.require_rule("data.web.owners.allow", input=lambda user: {})
    with pytest.raises(TypeError, match="no \\*args"):
        authz.require_rule("data.web.owners.allow", input=lambda **kw: {})
    with pytest.raises(TypeError, match="expected a callable"):
        authz.require_rule("data.web.owners.allow", input={"user": "x"})
    with pytest.raises(TypeError, match="Rego rules only"):
        authz.require("read", "document")
    with pytest.raises(TypeError, match="no Rego policies"):
        Warden(client, verifier).require_rule("data.web.reports.allow")
    with pytest.raises(TypeError, match="given twice"):
        Warden(rego, verifier, rego=rego)
    with pytest.raises(TypeError, match="expected a warden.Rego"):
        Warden(client, verifier, rego="policies/")


def test_cerbos_and_rego_side_by_side(rego, verifier, client, web_key):
    authz = Warden(client, verifier, rego=rego)
    app = make_app(authz)

    @app.get("/documents")
    async def documents(principal=Depends(authz.require("list", "document"))):
        return {"ok": True}

    api = TestClient(app)
    assert api.get("/documents", headers=bearer(web_key, roles=["user"])).status_code == 200
    assert api.get("/reports", headers=bearer(web_key, roles=["user"])).status_code == 200
    assert api.get("/reports", headers=bearer(web_key, roles=["guest"])).status_code == 403


def test_openapi_lists_the_security_scheme(api):
    spec = api.get("/openapi.json").json()
    assert spec["paths"]["/reports"]["get"]["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/scoped"]["get"]["security"] == [{"bearerAuth": ["reports.read"]}]


def test_under_uvicorn(rego, verifier, web_key):
    with uvicorn_server(make_app(Warden(rego, verifier))) as base, httpx.Client(base_url=base) as http:
        assert http.get("/reports", headers=bearer(web_key, roles=["user"])).status_code == 200
        assert http.get("/reports", headers=bearer(web_key, roles=["guest"])).status_code == 403
        assert http.get("/owners/user-1", headers=bearer(web_key, sub="user-1")).status_code == 200
        r = http.get("/reports")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
