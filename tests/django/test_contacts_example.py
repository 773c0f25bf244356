"""The contacts example in Django (examples/django_contacts): its pages and its API, with Django's test
client, then the project as shipped (its own settings, migrations and development issuer) under
uvicorn on 127.0.0.1, driven over HTTP like a browser and an API client."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from html.parser import HTMLParser
from typing import Dict, Iterator, List

import httpx
import pytest
from django.test import Client
from django.test.utils import override_settings

from tests.django.configuration import CONTACT_POLICIES, EXAMPLE
from tests.web.conftest import wait_until

ACTIONS = ["read", "update", "delete"]


class DecisionTable(HTMLParser):
    """The rows of the page's ``#decisions`` table: ``{contact: {action: "allow" | "deny"}}``."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.rows: Dict[str, Dict[str, str]] = {}
        self._cell: List[str] = []
        self._class = ""
        self._row: Dict[str, str] = {}
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            self._class, self._cell = dict(attrs).get("class", ""), []
        elif tag == "tr":
            self._row = {}

    def handle_data(self, data):
        self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td":
            self._row[self._class] = "".join(self._cell).strip()
        elif tag == "tr" and "resource" in self._row:
            self.rows[self._row["resource"]] = {a: self._row[a] for a in ACTIONS}


EXPECTED = {
    # the contact policy: admins do everything, users read all and change what they own
    "alice": {c: {a: "allow" for a in ACTIONS} for c in ("abc123", "def456", "ghi789")},
    "bob": {
        "abc123": {"read": "allow", "update": "allow", "delete": "allow"},
        "def456": {"read": "allow", "update": "deny", "delete": "deny"},
        "ghi789": {"read": "allow", "update": "deny", "delete": "deny"},
    },
}


@pytest.fixture
def example_settings(demo_contacts) -> Iterator[None]:
    """``settings.WARDEN`` as the example's settings build it, with its development issuer."""
    from contactbook.devauth import issuer

    config = {
        "POLICY_DIR": CONTACT_POLICIES,
        "ISSUER": issuer.issuer,
        "JWKS_URL": issuer.jwks_url,
        "AUDIENCE": "api://contacts",
        "SESSION_KEY": "access_token",
        "REALM": "contacts",
        "LOGIN_URL": "/",
    }
    with override_settings(WARDEN=config):
        yield


def test_pages_with_the_test_client(example_settings):
    client = Client()
    assert client.get("/contacts/").headers["Location"] == "/?next=%2Fcontacts%2F"
    for user, expected in EXPECTED.items():
        assert client.post("/", {"user": user}).headers["Location"] == "/contacts/"
        page = client.get("/contacts/").content.decode()
        assert f'<code id="principal-id">{user}</code>' in page
        assert DecisionTable(page).rows == expected
        assert "You may add contacts" in page
        assert client.get("/logout").status_code == 302
    assert client.get("/contacts/").status_code == 302
    assert client.post("/", {"user": "mallory"}).status_code == 400


def test_the_api_with_the_test_client(example_settings):
    from contactbook.devauth import issuer

    bob = {"HTTP_AUTHORIZATION": "Bearer " + issuer.mint("bob")}
    client = Client()
    assert [c["id"] for c in client.get("/api/contacts/", **bob).json()] == ["abc123", "def456", "ghi789"]
    assert [c["id"] for c in client.get("/api/contacts/editable/", **bob).json()] == ["abc123"]
    assert (
        client.patch("/api/contacts/def456/", '{"name": "x"}', content_type="application/json", **bob).status_code
        == 403
    )
    missing = client.get("/api/contacts/")
    assert (missing.status_code, missing.headers["WWW-Authenticate"]) == (401, 'Bearer realm="contacts"')


# --- the project as shipped, under a real ASGI server -----------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_example(tmp_path) -> Iterator[str]:
    """examples/django_contacts migrated into a fresh SQLite file and served by uvicorn; yields its URL."""
    env = {
        **os.environ,
        "CONTACTS_DB": str(tmp_path / "contacts.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "contacts_site.settings",
    }
    env.pop("CONTACTS_ISSUER", None)
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr  # the example's settings pass warden's system checks
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "contacts_site.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=EXAMPLE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(base + "/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return server.poll() is not None  # stop waiting: it exited

    try:
        wait_until(up, "the example under uvicorn", attempts=400)
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _signed_in(base: str, user: str) -> httpx.Client:
    """A browser session: the sign-in form (with its CSRF token) posted for ``user``."""
    browser = httpx.Client(base_url=base, timeout=10)
    form = browser.get("/").text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    signed = browser.post("/", data={"user": user, "csrfmiddlewaretoken": csrf})
    assert (signed.status_code, signed.headers["location"]) == (302, "/contacts/")
    return browser


def test_the_example_under_uvicorn(served_example):
    bob, alice = _signed_in(served_example, "bob"), _signed_in(served_example, "alice")
    try:
        for user, browser in (("bob", bob), ("alice", alice)):
            page = browser.get("/contacts/")
            assert page.status_code == 200
            assert DecisionTable(page.text).rows == EXPECTED[user]
        # the API, authenticated by the session's token (a browser's), CSRF-protected for changes
        assert [c["id"] for c in bob.get("/api/contacts/editable/").json()] == ["abc123"]
        csrf = {"X-CSRFToken": bob.cookies["csrftoken"]}
        assert bob.patch("/api/contacts/abc123/", json={"name": "Ada"}).status_code == 403  # no CSRF token
        assert bob.patch("/api/contacts/abc123/", json={"name": "Ada"}, headers=csrf).json()["name"] == "Ada"
        assert bob.patch("/api/contacts/def456/", json={"name": "x"}, headers=csrf).status_code == 403  # carol's
        assert bob.get("/logout").status_code == 302
        assert bob.get("/contacts/").headers["location"] == "/?next=%2Fcontacts%2F"
    finally:
        bob.close()
        alice.close()
    anonymous = httpx.get(served_example + "/api/contacts/", timeout=10)
    assert (anonymous.status_code, anonymous.headers["www-authenticate"]) == (401, 'Bearer realm="contacts"')
    refused = httpx.get(served_example + "/api/contacts/", headers={"Authorization": "Bearer x.y.z"}, timeout=10)
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["www-authenticate"]
