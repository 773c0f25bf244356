"""examples/cognito: the Cognito + Cerbos demo app on warden, with the development user pool."""

from __future__ import annotations

import html
import json

import pytest
from fastapi.testclient import TestClient

from .conftest import load_example

cognito = load_example("cognito")
table_parser = load_example("contacts", "web_demo").TableParser


def page_table(text: str):
    parser = table_parser()
    parser.feed(text)
    return {row[0]: tuple(row[2:]) for row in parser.rows if row}


@pytest.fixture
def app(dev_issuer):
    return cognito.create_app(dev_issuer=dev_issuer, session_secret="test")


@pytest.mark.parametrize(
    "username, def456",
    [("alice", ("allow", "allow", "allow")), ("bob", ("allow", "deny", "deny")), ("carol", ("allow", "deny", "deny"))],
)
def test_user_page(app, username, def456):
    browser = TestClient(app)
    page = browser.post("/login", data={"username": username, "password": "x"})
    assert page.status_code == 200 and str(page.url).endswith("/user")
    assert page_table(page.text) == {"abc123": ("allow", "allow", "allow"), "def456": def456}
    principal = json.loads(html.unescape(page.text.split('<pre id="principal">', 1)[1].split("</pre>", 1)[0]))
    assert principal["policyVersion"] == "20210210"
    assert principal["roles"] == cognito.DEV_USERS[username]
    assert principal["attr"] == {
        "username": username,
        "email": f"{username}@example.com",
        "scope": "aws.cognito.signin.user.admin",
        "client_id": cognito.DEV_CLIENT,
    }


def test_unknown_user_and_sign_out(app):
    browser = TestClient(app)
    r = browser.post("/login", data={"username": "mallory"})
    assert "Incorrect username or password." in r.text
    browser.post("/login", data={"username": "bob"})
    browser.get("/logout")
    assert browser.get("/user", follow_redirects=False).status_code == 303


def test_protected_api_with_bearer_tokens(app, dev_issuer):
    api = TestClient(app)
    assert api.get("/protected").status_code == 401
    r = api.get("/protected", headers={"Authorization": "Bearer " + dev_issuer.mint("carol")})
    assert r.status_code == 200 and r.json()["roles"] == ["user"]
    # an ID token is not an access token; a token for another app client is refused
    for wrong in (dev_issuer.mint("carol", token_use="id"), dev_issuer.mint("carol", client_id="other-client")):
        r = api.get("/protected", headers={"Authorization": "Bearer " + wrong})
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


def test_real_pool_settings(monkeypatch):
    for name in ("AWS_DEFAULT_REGION", "AWS_COGNITO_POOL_ID", "AWS_COGNITO_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="AWS_COGNITO_POOL_ID"):
        cognito.create_app()
    app = cognito.create_app(region="us-east-1", user_pool_id="us-east-1_Pool42", client_id="abc")
    assert app.state.authz.verifier.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool42"
    assert TestClient(app).post("/login", data={"username": "bob"}).status_code == 501
