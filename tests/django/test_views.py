"""warden.django in a running Django app (the test client): the middleware, ``@require`` on sync and
async function views, pages and their login redirect, token sources, ``{% allowed %}``."""

from __future__ import annotations

import asyncio

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import AsyncClient, Client
from django.test.utils import override_settings

from tests.django.conftest import warden_settings
from tests.jwt.signing import claims, token
from tests.web.conftest import bearer

pytestmark = pytest.mark.usefixtures("demo_contacts")


def auth(key, sub="bob", roles=("user",), **extra) -> dict:
    """Client keyword arguments carrying a bearer token."""
    return {"HTTP_AUTHORIZATION": bearer(key, sub, roles, **extra)["Authorization"]}


def challenge(response) -> str:
    return response.headers.get("WWW-Authenticate", "")


# --- the middleware ----------------------------------------------------------------------------


def test_the_middleware_sets_request_principal(warden_config, web_key):
    client = Client()
    assert client.get("/t/whoami", **auth(web_key, "bob")).json() == {"principal": "bob"}
    assert client.get("/t/whoami").json() == {"principal": None}
    assert client.get("/t/whoami", HTTP_AUTHORIZATION="Bearer not.a.token").json() == {"principal": None}
    assert client.get("/t/whoami", HTTP_AUTHORIZATION="Basic Ym9iOng=").json() == {"principal": None}


def test_a_token_from_another_key_is_refused(warden_config, stranger_key):
    response = Client().get("/t/contacts", **auth(stranger_key))
    assert response.status_code == 401
    assert 'error="invalid_token"' in challenge(response)


# --- @require on API views ------------------------------------------------------------------------


def test_the_collection_is_decided(warden_config, web_key):
    client = Client()
    assert client.get("/t/contacts", **auth(web_key, "bob")).json() == {"principal": "bob"}
    denied = client.get("/t/contacts", **auth(web_key, "mallory", roles=["guest"]))
    assert denied.status_code == 403
    assert denied.json() == {"error": "forbidden", "error_description": "not allowed to read contact contact"}


def test_rfc6750_answers_without_a_valid_token(warden_config, web_key):
    client = Client()
    missing = client.get("/t/contacts")
    assert (missing.status_code, challenge(missing)) == (401, "Bearer")
    assert missing.json()["error_description"] == "Not authenticated"
    expired = client.get("/t/contacts", HTTP_AUTHORIZATION="Bearer " + token(web_key, claims(sub="bob", exp=1000)))
    assert expired.status_code == 401
    assert challenge(expired).startswith('Bearer error="invalid_token"')
    assert expired.json()["error"] == "invalid_token"


def test_an_unreachable_provider_answers_503_without_a_challenge(web_key):
    unreachable = {"JWKS_URL": "http://127.0.0.1:9/jwks"}
    with override_settings(WARDEN={**warden_settings(type("P", (), {"jwks_url": ""})), **unreachable}):
        response = Client().get("/t/contacts", **auth(web_key))
    assert response.status_code == 503
    assert "WWW-Authenticate" not in response.headers
    assert response.json()["error"] == "temporarily_unavailable"


def test_an_object_is_loaded_after_authentication_and_decided(warden_config, web_key):
    client = Client()
    assert client.get("/t/contacts/abc123/update", **auth(web_key, "bob")).json() == {"updated": "abc123"}
    assert client.get("/t/contacts/def456/update", **auth(web_key, "bob")).status_code == 403
    assert client.get("/t/contacts/def456/update", **auth(web_key, "alice", roles=["admin"])).status_code == 200
    assert client.get("/t/contacts/nope/update", **auth(web_key, "bob")).status_code == 404
    # unknown callers learn nothing, not even whether the contact exists
    assert client.get("/t/contacts/nope/update").status_code == 401


def test_required_scopes(warden_config, web_key):
    client = Client()
    lacking = client.get("/t/contacts/abc123/update-scoped", **auth(web_key, "bob", scope="contacts:read"))
    assert lacking.status_code == 403
    assert 'error="insufficient_scope"' in challenge(lacking) and 'scope="contacts:write"' in challenge(lacking)
    granted = client.get(
        "/t/contacts/abc123/update-scoped", **auth(web_key, "bob", scope="contacts:read contacts:write")
    )
    assert granted.status_code == 200


def test_options_pass_unchecked(warden_config):
    assert Client().options("/t/contacts").json() == {"principal": None}


def test_async_views_under_asgi(warden_config, web_key):
    async def run() -> None:
        client = AsyncClient()
        bob, carol = bearer(web_key, "bob"), bearer(web_key, "carol")
        allowed = await client.get("/t/contacts/abc123/update-async", headers=bob)
        assert allowed.json() == {"updated": "abc123", "async": True}
        assert (await client.get("/t/contacts/def456/update-async", headers=bob)).status_code == 403
        assert (await client.get("/t/contacts/abc123/update-async")).status_code == 401
        assert (await client.get("/t/whoami", headers=carol)).json() == {"principal": "carol"}

    asyncio.run(asyncio.wait_for(run(), timeout=60))


# --- pages ---------------------------------------------------------------------------------------


def test_pages_send_visitors_without_a_token_to_the_login_page(warden_config, web_key):
    client = Client()
    response = client.get("/t/contacts/def456/delete?confirm=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=%2Ft%2Fcontacts%2Fdef456%2Fdelete%3Fconfirm%3D1"
    assert client.get("/t/contacts/def456/delete", **auth(web_key, "bob")).status_code == 403  # Django's 403 page
    assert client.get("/t/contacts/def456/delete", **auth(web_key, "carol")).content == b"deleted def456"
    assert client.get("/t/contacts/nope/delete", **auth(web_key, "carol")).status_code == 404


def test_a_session_token_is_a_token_source_and_is_forgotten_when_refused(idp, web_key, stranger_key):
    with override_settings(WARDEN=warden_settings(idp, SESSION_KEY="access_token", HEADER=False)):
        client = Client()
        session = client.session
        session["access_token"] = token(web_key, claims(sub="carol", roles=["user"]))
        session.save()
        assert client.get("/t/whoami").json() == {"principal": "carol"}
        # the header is not a source here
        assert client.get("/t/whoami", **auth(web_key, "bob")).json() == {"principal": "carol"}
        session = client.session
        session["access_token"] = token(stranger_key, claims(sub="carol", roles=["user"]))
        session.save()
        assert client.get("/t/contacts/def456/delete").status_code == 302
        assert "access_token" not in client.session


def test_a_cookie_is_a_token_source(idp, web_key):
    with override_settings(WARDEN=warden_settings(idp, COOKIE="auth")):
        client = Client()
        client.cookies["auth"] = token(web_key, claims(sub="alice", roles=["admin"]))
        assert client.get("/t/whoami").json() == {"principal": "alice"}


# --- templates --------------------------------------------------------------------------------------


def test_the_allowed_tag(warden_config, web_key):
    client = Client()
    assert (
        client.get("/t/decisions", **auth(web_key, "bob")).content
        == b"abc123=True;def456=False;ghi789=False;create=True"
    )
    assert client.get("/t/decisions").content == b"abc123=False;def456=False;ghi789=False;create=False"


def test_the_allowed_tag_needs_the_request():
    with pytest.raises(TemplateSyntaxError, match="context_processors.request"):
        Template("{% load warden %}{% allowed 'read' kind='contact' as ok %}").render(Context({}))
