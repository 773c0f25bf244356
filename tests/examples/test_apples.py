"""examples/apples: the tinyauth Flask service on warden, with the development issuer."""

from __future__ import annotations

import httpx
import pytest

from tests.web.conftest import werkzeug_server

from .conftest import load_example

apples = load_example("apples")


@pytest.fixture
def app(dev_issuer):
    store = {k: dict(v) for k, v in apples.APPLES.items()}
    app = apples.create_app({"TESTING": True, "SECRET_KEY": "test"}, dev_issuer=dev_issuer)
    yield app
    apples.APPLES.clear()
    apples.APPLES.update(store)


def auth(dev_issuer, user):
    return {"Authorization": "Bearer " + dev_issuer.mint(user)}


def test_list_apples(app, dev_issuer):
    api = app.test_client()
    r = api.get("/api/v1/apples/list")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json["Authorized"] is False
    assert [a["name"] for a in api.get("/api/v1/apples/list", headers=auth(dev_issuer, "bob")).json] == [
        "fred",
        "granny",
    ]
    assert len(api.get("/api/v1/apples/list", headers=auth(dev_issuer, "alice")).json) == 3
    denied = api.get("/api/v1/apples/list", headers=auth(dev_issuer, "eve"))
    assert denied.status_code == 403 and denied.json["error"] == "forbidden"


def test_get_apple(app, dev_issuer):
    api = app.test_client()
    assert api.get("/api/v1/apples/fred", headers=auth(dev_issuer, "bob")).json["color"] == "red"
    assert api.get("/api/v1/apples/golden", headers=auth(dev_issuer, "bob")).status_code == 403
    assert api.get("/api/v1/apples/golden", headers=auth(dev_issuer, "alice")).status_code == 200
    assert api.get("/api/v1/apples/nope", headers=auth(dev_issuer, "bob")).status_code == 404
    expired = api.get("/api/v1/apples/fred", headers={"Authorization": "Bearer " + dev_issuer.mint("bob", exp=1)})
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    assert api.get("/api/v1/apples/fred/color", headers=auth(dev_issuer, "bob")).json == {
        "name": "fred",
        "color": "red",
    }
    assert api.get("/api/v1/apples/golden/color", headers=auth(dev_issuer, "bob")).status_code == 403
    assert api.get("/api/v1/apples/nope/color", headers=auth(dev_issuer, "alice")).status_code == 404


def test_delete_apple_uses_the_apps_error_handler(app, dev_issuer):
    api = app.test_client()
    r = api.delete("/api/v1/apples/fred", headers=auth(dev_issuer, "bob"))
    assert r.status_code == 403 and r.json == {"message": "Authorization has failed", "action": "DeleteApple"}
    assert api.delete("/api/v1/apples/fred").status_code == 401  # not signed in: the extension's answer
    assert api.delete("/api/v1/apples/fred", headers=auth(dev_issuer, "alice")).status_code == 204
    assert api.get("/api/v1/apples/fred", headers=auth(dev_issuer, "alice")).status_code == 404


def test_web_interface_login_flow(app):
    browser = app.test_client()
    r = browser.get("/")
    assert r.status_code == 303 and r.headers["Location"] == "/login?next=%2F"
    assert "Development users: alice, bob, eve" in browser.get("/login").text
    assert browser.post("/login", data={"username": "mallory"}).status_code == 401
    r = browser.post("/login", data={"username": "bob", "next": "/"})
    assert r.status_code == 303 and "HttpOnly" in r.headers["Set-Cookie"]
    page = browser.get("/")
    assert page.status_code == 200 and "Apples for bob" in page.text
    # an open redirect is not offered after sign-in
    assert browser.post("/login", data={"username": "bob", "next": "//evil.example"}).headers["Location"] == "/"
    browser.get("/logout")
    assert browser.get("/").status_code == 303
    browser.post("/login", data={"username": "eve"})
    assert browser.get("/").status_code == 403  # signed in, not allowed: no redirect loop


def test_under_werkzeug(app, dev_issuer):
    with werkzeug_server(app) as base, httpx.Client(base_url=base) as http:
        assert http.get("/api/v1/apples/list").status_code == 401
        assert http.get("/api/v1/apples/fred", headers=auth(dev_issuer, "bob")).json()["name"] == "fred"
        signed_in = http.post("/login", data={"username": "alice"})
        assert signed_in.status_code == 303
        assert "Apples for alice" in http.get("/").text


def test_real_identity_provider_settings(dev_issuer):
    app = apples.create_app(
        {"TESTING": True, "WARDEN_ISSUER": dev_issuer.issuer, "WARDEN_JWKS_URL": dev_issuer.jwks_url}
    )
    assert app.test_client().post("/login", data={"username": "bob"}).status_code == 501
    token = dev_issuer.mint("zed", aud="apples", roles=["reader"])
    assert app.test_client().get("/api/v1/apples/fred", headers={"Authorization": "Bearer " + token}).status_code == 200
