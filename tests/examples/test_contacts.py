"""examples/contacts: the Stytch + Cerbos demo app on warden, driven like a browser."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import uvicorn_server

from .conftest import load_example

contacts = load_example("contacts")
web_demo = load_example("contacts", "web_demo")


def sign_in(browser, email: str, role: str):
    sent = browser.post("/login_or_create_user", data={"email": email, "role": role})
    assert sent.status_code == 200
    link = sent.text.split('id="magic-link" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    return browser.get(link)


def table_of(html: str):
    parser = web_demo.TableParser()
    parser.feed(html)
    return parser.principal_id, {row[0]: (row[1], tuple(row[2:])) for row in parser.rows if row}


@pytest.fixture
def app(dev_issuer):
    return contacts.create_app(dev_issuer=dev_issuer, session_secret="test")


@pytest.mark.parametrize(
    "email, role, abc123, def456",
    [
        ("alice@example.com", "admin", ("allow", "allow", "allow"), ("allow", "allow", "allow")),
        ("bob@example.com", "user", ("allow", "allow", "allow"), ("allow", "deny", "deny")),
        ("carol@example.com", "user", ("allow", "allow", "allow"), ("allow", "deny", "deny")),
    ],
)
def test_user_page_decision_table(app, email, role, abc123, def456):
    browser = TestClient(app)
    page = sign_in(browser, email, role)
    assert page.status_code == 200 and str(page.url).endswith("/user")
    principal_id, table = table_of(page.text)
    assert principal_id == contacts.user_id_for(email)
    assert table == {"abc123": (principal_id, abc123), "def456": ("other_user_id", def456)}
    assert f'<code id="roles">{role}</code>' in page.text
    assert "&quot;policyVersion&quot;: &quot;20210210&quot;" in page.text


def test_signed_out_user_page_redirects_to_sign_in(app):
    browser = TestClient(app)
    r = browser.get("/user", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?next=%2Fuser"
    assert "Send magic link" in browser.get("/").text


def test_logout_and_tampered_or_foreign_tokens(app, dev_issuer):
    browser = TestClient(app)
    sign_in(browser, "bob@example.com", "user")
    assert browser.get("/user", follow_redirects=False).status_code == 200
    browser.get("/logout")
    assert browser.get("/user", follow_redirects=False).status_code == 303
    # a token for another Stytch project (wrong issuer/audience) does not sign anyone in
    foreign = dev_issuer.mint(
        "user-test-x",
        aud="project-test-11111111-1111-4111-8111-111111111111",
        iss="stytch.com/project-test-11111111-1111-4111-8111-111111111111",
    )
    browser.get(f"/callback?token={foreign}", follow_redirects=False)
    assert browser.get("/user", follow_redirects=False).status_code == 303
    # the bearer header works too (API clients), and answers 401 when wrong... but /user is a page: redirect
    r = browser.get("/user", headers={"Authorization": "Bearer junk"}, follow_redirects=False)
    assert r.status_code == 303


def test_bad_sign_in_input(app):
    browser = TestClient(app)
    assert browser.post("/login_or_create_user", data={"email": "nobody", "role": "user"}).status_code == 400
    assert browser.post("/login_or_create_user", data={"email": "a@b.c", "role": "root"}).status_code == 400


def test_needs_a_project_or_dev_issuer(monkeypatch):
    monkeypatch.delenv("STYTCH_PROJECT_ID", raising=False)
    with pytest.raises(RuntimeError, match="STYTCH_PROJECT_ID"):
        contacts.create_app()
    monkeypatch.setenv("STYTCH_PROJECT_ID", "project-live-00000000-0000-4000-8000-000000000000")
    app = contacts.create_app()
    assert app.state.authz.verifier.issuer == "stytch.com/project-live-00000000-0000-4000-8000-000000000000"


def test_under_uvicorn(app):
    with uvicorn_server(app) as base, httpx.Client(base_url=base, follow_redirects=True) as browser:
        page = sign_in(browser, "bob@example.com", "user")
        _, table = table_of(page.text)
        assert table["def456"] == ("other_user_id", ("allow", "deny", "deny"))


def test_make_demo_script(capsys):
    assert web_demo.main() == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith(("alice ", "bob ", "carol "))]
    assert rows == [
        ["alice", "admin", "abc123", "(the", "user)", "allow", "allow", "allow"],
        ["alice", "admin", "def456", "other_user_id", "allow", "allow", "allow"],
        ["bob", "user", "abc123", "(the", "user)", "allow", "allow", "allow"],
        ["bob", "user", "def456", "other_user_id", "allow", "deny", "deny"],
        ["carol", "user", "abc123", "(the", "user)", "allow", "allow", "allow"],
        ["carol", "user", "def456", "other_user_id", "allow", "deny", "deny"],
    ]
    assert "examples/sales_orders/" in out
