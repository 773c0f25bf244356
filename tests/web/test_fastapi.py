"""warden.fastapi: real FastAPI apps, keys fetched over HTTP from the loopback identity provider."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import warden
from fastapi import Depends, FastAPI, Request, Security
from fastapi.testclient import TestClient
from starlette.middleware.sessions import SessionMiddleware
from warden.fastapi import DecisionTable, Warden, resource_of, token_scopes

from tests.jwt.signing import claims, token

from .conftest import POLICIES, bearer, make_verifier, uvicorn_server, wait_until

DOCUMENTS = {
    "d1": {"owner": "user-1", "title": "mine"},
    "d2": {"owner": "user-2", "title": "theirs"},
}


def load_document(doc_id: str):
    """A loader as apps write them: path parameter in, store record (or None) out."""
    record = DOCUMENTS.get(doc_id)
    return None if record is None else warden.Resource(doc_id, "document", attr=dict(record))


async def load_document_attrs(doc_id: str):
    return DOCUMENTS.get(doc_id)


def make_app(authz: Warden) -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key="test-secret-key")

    @app.get("/health")
    async def health():
        return {"ok": True}

    @app.get("/me")
    async def me(principal: warden.Principal = Depends(authz.principal)):
        return {"id": principal.id, "roles": sorted(principal.roles)}

    @app.get("/maybe")
    async def maybe(principal=Depends(authz.optional_principal)):
        return {"id": principal.id if principal else None}

    @app.get("/documents")
    def list_documents(principal: warden.Principal = Depends(authz.require("list", "document"))):
        return {"ids": sorted(DOCUMENTS), "by": principal.id}

    @app.get("/documents/{doc_id}")
    async def read_document(
        doc_id: str,
        document=Depends(load_document),
        principal: warden.Principal = Depends(authz.require("read", "document", resource=load_document)),
    ):
        return {"id": doc_id, "title": document.attr["title"], "by": principal.id}

    @app.put("/documents/{doc_id}")
    def update_document(
        doc_id: str, principal=Depends(authz.require("update", "document", resource=load_document_attrs))
    ):
        return {"updated": doc_id}

    @app.get(
        "/documents/{doc_id}/export",
        dependencies=[Depends(authz.require("export", "document", resource=load_document))],
    )
    async def export_document(doc_id: str):
        return {"exported": doc_id}

    @app.get("/scoped")
    async def scoped(principal=Security(authz.principal, scopes=["document.read"])):
        return {"id": principal.id}

    @app.delete("/documents/{doc_id}")
    async def delete_document(
        doc_id: str,
        principal=Depends(authz.require("delete", "document", resource=load_document, scopes=["document.write"])),
    ):
        return {"deleted": doc_id}

    @app.get("/page")
    async def page(principal=Depends(authz.require("read", "document", resource="d1", login="/login"))):
        return {"page": "d1", "by": principal.id}

    @app.get("/table")
    async def table(
        decisions: DecisionTable = Depends(
            authz.decisions(
                lambda: [warden.Resource(k, "document", attr=dict(v)) for k, v in DOCUMENTS.items()],
                ["read", "update", "delete"],
            )
        ),
    ):
        return {rid: row for rid, row in decisions.rows()}

    @app.post("/session")
    async def sign_in(request: Request, tok: str):
        request.session["token"] = tok
        return {"ok": True}

    @app.get("/session-page")
    async def session_page(request: Request, principal=Depends(authz.login_required("/login"))):
        return {"id": principal.id, "still_in_session": "token" in request.session}

    return app


@pytest.fixture
def authz(client, verifier) -> Warden:
    return Warden(client, verifier, session_key="token", login_url="/login")


@pytest.fixture
def app(authz) -> FastAPI:
    return make_app(authz)


@pytest.fixture
def http(app) -> TestClient:
    return TestClient(app)


# --- authentication answers (RFC 6750) ---------------------------------------------------


def test_no_token_is_401_with_a_bare_challenge(http):
    r = http.get("/me")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json() == {"detail": "Not authenticated"}


def test_other_schemes_are_not_bearer_tokens(http):
    r = http.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert http.get("/me", headers={"Authorization": "Bearer "}).status_code == 401


def test_expired_token_is_401_invalid_token(http, web_key):
    r = http.get("/me", headers={"Authorization": "Bearer " + token(web_key, claims(exp=1, roles=["user"]))})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token", error_description="token has expired"'
    assert r.json() == {"detail": "token has expired"}


def test_token_signed_by_an_unknown_key_is_401(http, stranger_key):
    r = http.get("/me", headers=bearer(stranger_key))
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token", error_description=')


def test_garbage_token_is_401(http):
    r = http.get("/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


def test_valid_token_gives_the_principal(http, web_key):
    r = http.get("/me", headers=bearer(web_key, "user-1", roles=["user", "editor"]))
    assert r.status_code == 200
    assert r.json() == {"id": "user-1", "roles": ["editor", "user"]}


def test_optional_principal(http, web_key, stranger_key):
    assert http.get("/maybe").json() == {"id": None}
    assert http.get("/maybe", headers=bearer(stranger_key)).json() == {"id": None}
    assert http.get("/maybe", headers=bearer(web_key, "user-2")).json() == {"id": "user-2"}


def test_realm_in_challenges(client, verifier, web_key):
    http = TestClient(make_app(Warden(client, verifier, realm="docs", session_key="token", login_url="/login")))
    assert http.get("/me").headers["www-authenticate"] == 'Bearer realm="docs"'
    r = http.get("/me", headers={"Authorization": "Bearer " + token(web_key, claims(exp=1))})
    assert r.headers["www-authenticate"].startswith('Bearer realm="docs", error="invalid_token"')


def test_provider_down_is_503_not_401(client, idp, web_key):
    idp.fail_status = 500
    http = TestClient(make_app(Warden(client, make_verifier(idp), session_key="token")))
    r = http.get("/me", headers=bearer(web_key))
    assert r.status_code == 503
    assert "www-authenticate" not in r.headers


# --- authorization ---------------------------------------------------------------------------


def test_collection_route_without_resource(http, web_key):
    r = http.get("/documents", headers=bearer(web_key, "user-2"))
    assert r.status_code == 200 and r.json() == {"ids": ["d1", "d2"], "by": "user-2"}
    assert http.get("/documents", headers=bearer(web_key, roles=["guest"])).status_code == 403
    assert http.get("/documents").status_code == 401


def test_resource_loaded_from_path_parameters(http, web_key):
    r = http.get("/documents/d2", headers=bearer(web_key, "user-1"))
    assert r.status_code == 200 and r.json() == {"id": "d2", "title": "theirs", "by": "user-1"}


def test_ownership_rule(http, web_key):
    own = http.put("/documents/d1", headers=bearer(web_key, "user-1"))
    assert own.status_code == 200 and own.json() == {"updated": "d1"}
    other = http.put("/documents/d2", headers=bearer(web_key, "user-1"))
    assert other.status_code == 403
    assert "www-authenticate" not in other.headers
    assert other.json() == {"detail": "not allowed to update document d2"}
    admin = http.put("/documents/d2", headers=bearer(web_key, "root", roles=["admin"]))
    assert admin.status_code == 200


def test_missing_resource_is_404_and_unauthenticated_is_401_first(http, web_key):
    assert http.get("/documents/nope", headers=bearer(web_key)).status_code == 404
    assert http.put("/documents/nope", headers=bearer(web_key)).status_code == 404
    assert http.get("/documents/d1").status_code == 401


def test_policy_condition_on_token_scope(http, web_key):
    assert http.get("/documents/d1/export", headers=bearer(web_key, scope="openid document.export")).status_code == 200
    denied = http.get("/documents/d1/export", headers=bearer(web_key, scope="openid"))
    assert denied.status_code == 403


def test_required_scopes_are_insufficient_scope(http, web_key):
    r = http.get("/scoped", headers=bearer(web_key, scope="openid"))
    assert r.status_code == 403
    assert r.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", error_description="the token lacks scope document.read", scope="document.read"'
    )
    assert http.get("/scoped", headers=bearer(web_key, scope="document.read")).status_code == 200
    # scopes as an Okta-style scp list
    assert http.get("/scoped", headers=bearer(web_key, scp=["document.read"])).status_code == 200
    # require(..., scopes=...): scope first, then the policy
    assert http.delete("/documents/d1", headers=bearer(web_key, scope="document.read")).status_code == 403
    assert http.delete("/documents/d1", headers=bearer(web_key, scope="document.write")).status_code == 200
    other = http.delete("/documents/d2", headers=bearer(web_key, scope="document.write"))
    assert other.status_code == 403 and "www-authenticate" not in other.headers


def test_decision_table(http, web_key):
    r = http.get("/table", headers=bearer(web_key, "user-1"))
    assert r.status_code == 200
    assert r.json() == {
        "d1": {"read": True, "update": True, "delete": True},
        "d2": {"read": True, "update": False, "delete": False},
    }
    admin = http.get("/table", headers=bearer(web_key, "root", roles=["admin"])).json()
    assert all(all(row.values()) for row in admin.values())
    assert http.get("/table").status_code == 401


# --- browser routes: sessions and login redirects -----------------------------------------------


def test_browser_route_redirects_to_login(http, web_key):
    r = http.get("/page?x=1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fpage%3Fx%3D1"
    ok = http.get("/page", headers=bearer(web_key))
    assert ok.status_code == 200 and ok.json() == {"page": "d1", "by": "user-1"}
    # signed in but denied: 403, not a redirect loop
    assert http.get("/page", headers=bearer(web_key, roles=["guest"]), follow_redirects=False).status_code == 403


def test_session_token(http, web_key):
    assert http.get("/session-page", follow_redirects=False).status_code == 303
    http.post("/session", params={"tok": token(web_key, claims(sub="user-7", roles=["user"]))})
    r = http.get("/session-page", follow_redirects=False)
    assert r.status_code == 200 and r.json() == {"id": "user-7", "still_in_session": True}


def test_invalid_session_token_is_dropped(http, web_key):
    http.post("/session", params={"tok": token(web_key, claims(exp=1))})
    r = http.get("/session-page", follow_redirects=False)
    assert r.status_code == 303
    # the dropped token is gone from the session cookie: a valid bearer now shows it absent
    r = http.get("/session-page", headers=bearer(web_key))
    assert r.json() == {"id": "user-1", "still_in_session": False}


def test_cookie_source(client, verifier, web_key):
    authz = Warden(client, verifier, header=False, cookie="access_token")
    app = FastAPI()

    @app.get("/me")
    async def me(principal=Depends(authz.principal)):
        return {"id": principal.id}

    http = TestClient(app)
    assert http.get("/me", headers=bearer(web_key)).status_code == 401  # header source is off
    http.cookies.set("access_token", token(web_key, claims(sub="cookie-user")))
    assert http.get("/me").json() == {"id": "cookie-user"}
    schemes = http.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes == {"bearerAuth": {"type": "apiKey", "in": "cookie", "name": "access_token"}}


def test_session_key_without_session_middleware_is_a_clear_error(client, verifier):
    authz = Warden(client, verifier, session_key="token")
    app = FastAPI()

    @app.get("/me")
    async def me(principal=Depends(authz.principal)):
        return {}

    with pytest.raises(RuntimeError, match="SessionMiddleware"):
        TestClient(app).get("/me")


# --- OpenAPI ---------------------------------------------------------------------------------


def test_openapi_marks_protected_routes(http):
    spec = http.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    paths = spec["paths"]
    assert "security" not in paths["/health"]["get"]
    for path, method in [
        ("/me", "get"),
        ("/documents", "get"),
        ("/documents/{doc_id}", "get"),
        ("/documents/{doc_id}", "put"),
        ("/documents/{doc_id}/export", "get"),
        ("/table", "get"),
    ]:
        assert paths[path][method]["security"] == [{"bearerAuth": []}], (path, method)
    assert paths["/scoped"]["get"]["security"] == [{"bearerAuth": ["document.read"]}]
    # the loader's path parameter is documented once
    params = [p["name"] for p in paths["/documents/{doc_id}"]["get"]["parameters"]]
    assert params == ["doc_id"]
    assert "Authorize" in http.get("/docs").text or http.get("/docs").status_code == 200


# --- mechanics -------------------------------------------------------------------------------


def test_token_verified_once_per_request(client, verifier, web_key):
    calls = []

    def mapper(claims):
        calls.append(claims["sub"])
        return verifier.principal(claims)

    authz = Warden(client, verifier, principal_mapper=mapper)
    app = FastAPI()

    @app.get("/two/{doc_id}")
    async def two(
        doc_id: str,
        a=Depends(authz.require("read", "document", resource=load_document)),
        b=Depends(authz.require("update", "document", resource=load_document)),
        c=Security(authz.principal, scopes=["x"]),
    ):
        return {"same": a is b is c}

    r = TestClient(app).get("/two/d1", headers=bearer(web_key, scope="x"))
    assert r.status_code == 200 and r.json() == {"same": True}
    assert calls == ["user-1"]


def test_async_principal_mapper_and_policy_version(client, verifier, web_key):
    async def mapper(claims):
        await asyncio.sleep(0)
        return warden.Principal(claims["sub"], roles={"admin"}, policy_version="default")

    authz = Warden(client, verifier, principal_mapper=mapper)
    app = FastAPI()

    @app.put("/documents/{doc_id}")
    async def update(doc_id: str, p=Depends(authz.require("update", "document", resource=load_document))):
        return {"by": p.id}

    assert TestClient(app).put("/documents/d2", headers=bearer(web_key, roles=["user"])).json() == {"by": "user-1"}


def test_bad_mapper_result_is_a_clear_error(client, verifier, web_key):
    authz = Warden(client, verifier, principal_mapper=lambda claims: {"id": claims["sub"]})
    app = FastAPI()

    @app.get("/me")
    async def me(p=Depends(authz.principal)):
        return {}

    with pytest.raises(TypeError, match="principal_mapper: expected a warden.Principal"):
        TestClient(app).get("/me", headers=bearer(web_key))


def test_configuration_errors(client, verifier):
    with pytest.raises(TypeError, match="authorizer"):
        Warden(42, verifier)
    with pytest.raises(TypeError, match="verifier"):
        Warden(client, object())
    with pytest.raises(ValueError, match="no token source"):
        Warden(client, verifier, header=False)
    authz = Warden(client, verifier)
    with pytest.raises(ValueError, match="action"):
        authz.require("", "document")
    with pytest.raises(ValueError, match="login_url"):
        authz.login_required()
    with pytest.raises(TypeError, match="resource"):
        authz.require("read", "document", resource=3.5)
    assert isinstance(Warden(POLICIES, verifier).client, warden.Client)
    assert isinstance(Warden(client.engine, verifier).engine, warden.Engine)


def test_resource_of_and_token_scopes():
    assert resource_of("document", None) == warden.Resource("document", "document")
    assert resource_of("document", "d1") == warden.Resource("d1", "document")
    assert resource_of("document", 7) == warden.Resource("7", "document")
    assert resource_of("document", {"id": "d9", "owner": "u"}) == warden.Resource(
        "d9", "document", attr={"id": "d9", "owner": "u"}
    )
    assert resource_of("document", {"owner": "u"}).id == "document"
    with pytest.raises(ValueError, match="'order' resource where 'document'"):
        resource_of("document", warden.Resource("o1", "order"))
    assert token_scopes({"scope": "a b", "scp": ["c"]}) == {"a", "b", "c"}
    assert token_scopes({"scope": ["a"], "scp": 5}) == {"a"}


def test_decide_all_input_errors(authz):
    p = warden.Principal("user-1", {"user"})
    with pytest.raises(ValueError, match="no actions"):
        authz.decide_all(p, [warden.Resource("d1", "document")])
    with pytest.raises(TypeError, match=r"resources\[0\]"):
        authz.decide_all(p, ["d1"], ["read"])
    with pytest.raises(ValueError, match="appears twice"):
        authz.decide_all(p, [warden.Resource("d1", "document"), warden.Resource("d1", "document")], ["read"])
    table = authz.decide_all(p, [(warden.Resource("d1", "document", attr={"owner": "user-1"}), ["update"])])
    assert table.allowed("d1", "update") and not table.allowed("d1", "delete") and not table.allowed("zz", "read")
    assert table.response.results[0].resource.id == "d1"


def test_jwks_fetch_does_not_block_the_event_loop(client, idp, web_key):
    """While one request waits for the (hanging) JWKS endpoint, another is served."""
    authz = Warden(client, make_verifier(idp))
    app = make_app(authz)

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
            idp.hang = True
            slow = asyncio.ensure_future(ac.get("/me", headers=bearer(web_key)))
            for _ in range(200):  # bounded: until the JWKS request reached the provider
                if idp.count("/jwks"):
                    break
                await asyncio.sleep(0.01)
            assert idp.count("/jwks") == 1
            fast = await ac.get("/health")
            assert fast.status_code == 200
            assert not slow.done()
            idp.hang = False
            idp.release()
            r = await slow
            assert r.status_code == 200 and r.json()["id"] == "user-1"

    asyncio.run(scenario())


def test_introspection_and_tokeninfo_verifiers(client, idp):
    introspector = warden.Introspector(idp.url + "/introspect", *idp.client_credentials)
    idp.introspection["opaque-1"] = {"active": True, "sub": "user-1", "roles": ["user"], "exp": 2**31}
    tokeninfo = warden.TokenInfo(idp.url + "/tokeninfo")
    idp.tokeninfo["opaque-2"] = {"uid": "user-2", "scope": ["uid"], "realm": "/employees", "expires_in": 300}
    for authz, tok, who in [
        (Warden(client, introspector), "opaque-1", "user-1"),
        (Warden(client, tokeninfo), "opaque-2", "user-2"),
    ]:
        http = TestClient(make_app(authz))
        assert http.get("/me", headers={"Authorization": f"Bearer {tok}"}).json()["id"] == who
        bad = http.get("/me", headers={"Authorization": "Bearer unknown"})
        assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["www-authenticate"]


def test_under_uvicorn_over_http(app, web_key):
    with uvicorn_server(app) as base, httpx.Client(base_url=base) as http:
        assert http.get("/health").json() == {"ok": True}
        r = http.get("/me")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert http.get("/documents/d1", headers=bearer(web_key)).json()["title"] == "mine"
        assert http.put("/documents/d2", headers=bearer(web_key)).status_code == 403
        assert http.put("/documents/d1", headers=bearer(web_key)).status_code == 200
        assert http.get("/page", follow_redirects=False).headers["location"] == "/login?next=%2Fpage"


def test_any_scopes(client, verifier, web_key):
    authz = Warden(client, verifier)
    app = FastAPI()

    @app.get("/documents")
    async def docs(p=Depends(authz.require("list", "document", any_scopes=["document.read", "document.read_all"]))):
        return {"ok": True}

    http = TestClient(app)
    r = http.get("/documents", headers=bearer(web_key, scope="openid"))
    assert r.status_code == 403
    assert r.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", error_description="the token lacks scope document.read or document.read_all", '
        'scope="document.read document.read_all"'
    )
    assert http.get("/documents", headers=bearer(web_key, scope="document.read_all")).status_code == 200
    assert http.get("/documents", headers=bearer(web_key, scope="document.read")).status_code == 200


def _counting(authz: Warden) -> list:
    calls = []
    verify = authz.authenticator.verify

    async def counted(tok):
        calls.append(tok)
        return await verify(tok)

    authz.authenticator.verify = counted
    return calls


def test_verified_tokens_are_cached_within_their_lifetime(client, verifier, web_key):
    authz = Warden(client, verifier, token_cache_ttl=60)
    calls = _counting(authz)
    http = TestClient(make_app(authz))
    headers = bearer(web_key, "user-1")
    for _ in range(3):
        assert http.get("/me", headers=headers).status_code == 200
    assert len(calls) == 1
    tok = calls[0]
    cache = authz.authenticator.token_cache
    claims, cached_principal, deadline = cache.entries[tok]
    assert deadline <= claims["exp"] and cached_principal.id == "user-1"
    # an entry past its deadline is not used: the token is verified again
    cache.entries[tok] = (claims, cached_principal, 0.0)
    assert http.get("/me", headers=headers).status_code == 200
    assert len(calls) == 2
    authz.clear_token_cache()
    assert http.get("/me", headers=headers).status_code == 200
    assert len(calls) == 3
    # refused tokens are never cached
    bad = {"Authorization": "Bearer " + token(web_key, claims_expired())}
    assert http.get("/me", headers=bad).status_code == 401
    assert http.get("/me", headers=bad).status_code == 401
    assert len(calls) == 5 and len(cache) == 1


def claims_expired():
    return claims(exp=1, roles=["user"])


def test_token_cache_bounds_and_off_switch(client, verifier, web_key, idp):
    authz = Warden(client, verifier, token_cache=2)
    http = TestClient(make_app(authz))
    for sub in ("a", "b", "c"):
        assert http.get("/me", headers=bearer(web_key, sub)).status_code == 200
    assert len(authz.authenticator.token_cache) == 2
    off = Warden(client, verifier, token_cache=0)
    calls = _counting(off)
    http = TestClient(make_app(off))
    headers = bearer(web_key)
    http.get("/me", headers=headers)
    http.get("/me", headers=headers)
    assert len(calls) == 2
    introspector = warden.Introspector(idp.url + "/introspect", *idp.client_credentials)
    assert Warden(client, introspector).authenticator.token_cache is None  # revocation must stay visible
    with pytest.raises(ValueError, match="token_cache"):
        Warden(client, verifier, token_cache=-1)


def test_cached_principal_is_a_fresh_copy_per_request(client, verifier, web_key):
    authz = Warden(client, verifier)
    app = FastAPI()

    @app.get("/mutate")
    async def mutate(p=Depends(authz.principal)):
        seen = dict(p.attr)
        p.attr["tampered"] = True
        p.roles.add("admin")
        return {"seen": seen, "roles": sorted(p.roles)}

    http = TestClient(app)
    headers = bearer(web_key, "user-1", email="u@example.com")
    first = http.get("/mutate", headers=headers).json()
    second = http.get("/mutate", headers=headers).json()
    assert first == second == {"seen": {"email": "u@example.com"}, "roles": ["admin", "user"]}


def test_custom_mapper_runs_on_every_request(client, verifier, web_key):
    calls = []

    def mapper(claims):
        calls.append(1)
        return verifier.principal(claims)

    authz = Warden(client, verifier, principal_mapper=mapper)
    http = TestClient(make_app(authz))
    headers = bearer(web_key)
    http.get("/me", headers=headers)
    http.get("/me", headers=headers)
    assert len(calls) == 2 and authz.authenticator.token_cache.entries[headers["Authorization"][7:]][1] is None


def test_load_dependency(client, verifier, web_key):
    authz = Warden(client, verifier)
    app = FastAPI()
    loads = []

    async def load_async(doc_id: str, request: Request, version: int = 1):
        loads.append((doc_id, version, request.method))
        return load_document(doc_id)

    def load_sync_attrs(doc_id: str):  # a plain def loader runs in the thread pool
        loads.append((doc_id, "sync"))
        return DOCUMENTS.get(doc_id)

    @app.get("/loaded/{doc_id}")
    async def read(request: Request, doc=Depends(authz.load("read", "document", load_async))):
        return {"title": doc.attr["title"], "by": authz.principal_of(request).id}

    @app.put("/loaded/{doc_id}")
    def update(doc=Depends(authz.load("update", "document", load_sync_attrs))):
        return {"owner": doc["owner"]}

    @app.delete("/loaded/{doc_id}")
    async def delete(doc=Depends(authz.load("delete", "document", load_async, scopes=["document.write"]))):
        return {"deleted": doc.id}

    http = TestClient(app)
    assert http.get("/loaded/d1").status_code == 401
    assert http.put("/loaded/d1").status_code == 401
    assert loads == []  # unauthenticated callers never reach the store
    r = http.get("/loaded/d2?version=3", headers=bearer(web_key, "user-1"))
    assert r.status_code == 200 and r.json() == {"title": "theirs", "by": "user-1"}
    assert loads == [("d2", 3, "GET")]
    assert http.put("/loaded/d1", headers=bearer(web_key, "user-1")).json() == {"owner": "user-1"}
    assert http.put("/loaded/d2", headers=bearer(web_key, "user-1")).status_code == 403
    assert http.put("/loaded/zz", headers=bearer(web_key, "user-1")).status_code == 404
    r = http.delete("/loaded/d1", headers=bearer(web_key, "user-1", scope="document.read"))
    assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["www-authenticate"]
    assert http.delete("/loaded/d1", headers=bearer(web_key, "user-1", scope="document.write")).json() == {
        "deleted": "d1"
    }
    spec = http.get("/openapi.json").json()["paths"]["/loaded/{doc_id}"]
    assert spec["get"]["security"] == [{"bearerAuth": []}]
    assert spec["delete"]["security"] == [{"bearerAuth": ["document.write"]}]
    assert [p["name"] for p in spec["get"]["parameters"]] == ["doc_id", "version"]


def test_load_rejects_loaders_fastapi_cannot_call(client, verifier):
    authz = Warden(client, verifier)

    def gen(doc_id: str):
        yield doc_id

    def star(*args):
        return None

    with pytest.raises(TypeError, match="generator"):
        authz.load("read", "document", gen)
    with pytest.raises(TypeError, match="cannot be injected"):
        authz.load("read", "document", star)
    with pytest.raises(TypeError, match="callable"):
        authz.load("read", "document", "d1")


def test_load_with_annotations_only_a_type_checker_resolves(client, verifier, web_key):
    """Loaders in modules with `from __future__ import annotations` and local imports still work."""
    authz = Warden(client, verifier)
    app = FastAPI()

    def make_loader():
        from warden import models  # local import: the return annotation cannot be evaluated

        async def loader(doc_id: "str", request: "Request") -> "models.Resource":
            return load_document(doc_id)

        return loader

    @app.get("/d/{doc_id}")
    async def read(doc=Depends(authz.load("read", "document", make_loader()))):
        return {"id": doc.id}

    assert TestClient(app).get("/d/d1", headers=bearer(web_key)).json() == {"id": "d1"}


def test_self_referencing_loaded_object_is_an_error_answer(idp, web_key):
    """A loader returning ``a = {}; a["a"] = a`` gets the request an error answer; the server lives on.

    The app runs in a process of its own (tests/web/selfref_app.py): the conversion of Python
    values to engine values must refuse the cycle (bindings' depth/cycle limit), not crash."""
    import socket
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.web.selfref_app", "--port", str(port), "--jwks-url", idp.jwks_url],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(base + "/health", timeout=2).status_code == 200
            except httpx.TransportError:
                assert server.poll() is None, "the app process exited before serving"
                return False

        wait_until(up, "the app process to serve", attempts=400)
        # a connection per request: uvicorn closes the connection of a request whose app raised (the 500)
        with httpx.Client(base_url=base, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as http:
            assert http.get("/plain/d1", headers=bearer(web_key)).json() == {"title": "d1"}
            try:
                r = http.get("/cyclic/d1", headers=bearer(web_key))
            except httpx.TransportError as exc:
                code = server.wait(timeout=10)
                pytest.fail(f"the server died on a self-referencing loaded object (exit code {code}): {exc!r}")
            assert r.status_code == 500 or (400 <= r.status_code < 500 and isinstance(r.json(), dict)), r.text
            assert http.get("/plain/d1", headers=bearer(web_key)).json() == {"title": "d1"}
            assert server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def test_is_allowed_takes_the_action_by_keyword(authz):
    bob = warden.Principal("user-1", {"user"})
    mine = warden.Resource("d1", "document", attr={"owner": "user-1"})
    theirs = warden.Resource("d2", "document", attr={"owner": "user-2"})
    assert authz.is_allowed(bob, mine, action="update")
    assert not authz.is_allowed(bob, theirs, action="update")
    with pytest.raises(TypeError):
        authz.is_allowed(bob, "update", theirs)  # the old (principal, action, resource) order


def test_requirements_share_one_base_and_carry_the_scheme_without_scopes(client, verifier, rego_policies):
    """require, load and require_rule are Guards; without required scopes each is itself the
    SecurityBase OpenAPI reads (one dependency node), with them its Security parameter is."""
    from fastapi.security.base import SecurityBase
    from warden.fastapi import Guard, LoadRequirement, PolicyGuard, Requirement, RuleRequirement

    authz = Warden(client, verifier, rego=rego_policies)
    made = {
        Requirement: lambda **kw: authz.require("read", "document", **kw),
        LoadRequirement: lambda **kw: authz.load("read", "document", load_document, **kw),
        RuleRequirement: lambda **kw: authz.require_rule("data.web.reports.allow", **kw),
    }
    for cls, make in made.items():
        plain, scoped = make(), make(scopes="document.read")
        assert isinstance(plain, cls) and isinstance(plain, Guard) and isinstance(plain, SecurityBase)
        assert isinstance(scoped, cls) and not isinstance(scoped, SecurityBase)
        assert type(plain).__name__ == cls.__name__ and repr(plain).startswith(cls.__name__ + "(")
        assert plain.scheme_name == "bearerAuth" and type(make()) is type(plain)  # one class per kind
        assert issubclass(cls, PolicyGuard) == (cls is not RuleRequirement)


@pytest.fixture
def rego_policies() -> warden.Rego:
    from .rego_policies import POLICIES as REGO

    return warden.Rego.from_policies(REGO)
