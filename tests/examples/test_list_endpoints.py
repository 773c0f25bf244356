"""The examples' list endpoints, over HTTP (real servers on 127.0.0.1): the rows come from SQLite
through SQLAlchemy, filtered by the database with the policies' query plans."""

from __future__ import annotations

from contextlib import closing

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.web.conftest import uvicorn_server, werkzeug_server

from .conftest import load_example

contacts = load_example("contacts")
apples = load_example("apples")
sales = load_example("sales_orders")


def signed_in(base: str, email: str, role: str) -> httpx.Client:
    """A browser signed in to the contacts app (the development issuer's magic link)."""
    browser = httpx.Client(base_url=base, follow_redirects=True, timeout=10)
    sent = browser.post("/login_or_create_user", data={"email": email, "role": role})
    link = sent.text.split('id="magic-link" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert browser.get(link).status_code == 200
    return browser


@pytest.fixture
def contacts_url(dev_issuer):
    with uvicorn_server(contacts.create_app(dev_issuer=dev_issuer, session_secret="test")) as url:
        yield url


@pytest.mark.parametrize(
    ("email", "role", "editable"),
    [
        ("alice@example.com", "admin", ["c-1", "c-2", "c-3", "c-4"]),
        ("alice@example.com", "user", ["c-1", "c-2"]),
        ("bob@example.com", "user", ["c-3"]),
        ("carol@example.com", "user", []),
    ],
)
def test_contacts_readable_and_editable(contacts_url, email, role, editable):
    with closing(signed_in(contacts_url, email, role)) as browser:
        listed = browser.get("/contacts").json()
    # the contact policy lets users and admins read every contact; update only their own (admins: all)
    assert [c["id"] for c in listed] == ["c-1", "c-2", "c-3", "c-4"]
    assert [c["id"] for c in listed if c["editable"]] == editable
    assert listed[0] == {
        "id": "c-1",
        "owner_id": contacts.user_id_for("alice@example.com"),
        "name": "Ada Lovelace",
        "company": "Analytical Engines",
        "editable": "c-1" in editable,
    }


def test_contacts_pages_and_refusals(contacts_url):
    with closing(signed_in(contacts_url, "bob@example.com", "user")) as browser:
        page = browser.get("/contacts", params={"limit": 2, "offset": 1}).json()
        assert [c["id"] for c in page] == ["c-2", "c-3"]
        assert browser.get("/contacts", params={"limit": 0}).status_code == 422
    anonymous = httpx.get(contacts_url + "/contacts", timeout=10)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")


@pytest.fixture
def apples_app(dev_issuer):
    return apples.create_app({"TESTING": True, "SECRET_KEY": "test"}, dev_issuer=dev_issuer)


def test_apples_list_is_the_policys(apples_app, dev_issuer):
    """The list is the GetApple plan run by SQLite: readers do not see secret apples, admins see all."""
    with werkzeug_server(apples_app) as url:

        def names(user: str) -> list:
            r = httpx.get(url + "/api/v1/apples/list", headers={"Authorization": "Bearer " + dev_issuer.mint(user)})
            assert r.status_code == 200, r.text
            return [a["name"] for a in r.json()]

        assert names("bob") == ["fred", "granny"]
        assert names("alice") == ["fred", "golden", "granny"]
        # a row added to the database is listed (or not) by the same policy, no code involved
        with Session(apples_app.extensions["apples"]) as session:
            session.add_all(
                [
                    apples.Apple(name="pink", weight=60, color="pink", secret=False),
                    apples.Apple(name="black", weight=80, color="black", secret=True),
                ]
            )
            session.commit()
        assert names("bob") == ["fred", "granny", "pink"]
        assert names("alice") == ["black", "fred", "golden", "granny", "pink"]
        r = httpx.get(url + "/api/v1/apples/list", headers={"Authorization": "Bearer " + dev_issuer.mint("eve")})
        assert r.status_code == 403  # guests may not list at all (ListApples)


@pytest.mark.parametrize("jwt", [False, True])
def test_sales_orders_listed_by_scope(dev_issuer, jwt):
    """A customer's own orders with sales_order.read; every order with the read_all application scope."""
    app = sales.create_app({"TESTING": True}, dev_issuer=dev_issuer, jwt=jwt)
    with werkzeug_server(app) as url:

        def ids(user: str) -> list:
            r = httpx.get(url + "/sales-orders", headers={"Authorization": "Bearer " + dev_issuer.mint(user)})
            assert r.status_code == 200, r.text
            return [o["id"] for o in r.json()]

        assert ids("mia") == ["SO-1001", "SO-1002"]
        assert ids("sam") == ["SO-2001"]
        assert ids("stock-sync") == ["SO-1001", "SO-1002", "SO-2001"]
        no_scope = httpx.get(url + "/sales-orders", headers={"Authorization": "Bearer " + dev_issuer.mint("nia")})
        assert no_scope.status_code == 403 and "insufficient_scope" in no_scope.headers["www-authenticate"]
        with Session(app.extensions["sales_orders"]) as session:
            session.add(sales.SalesOrder(id="SO-3001", owner="sam", customer="Hooli", amount=5, status="open"))
            session.commit()
        assert ids("sam") == ["SO-2001", "SO-3001"]
        assert ids("stock-sync") == ["SO-1001", "SO-1002", "SO-2001", "SO-3001"]
