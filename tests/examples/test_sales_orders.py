"""examples/sales_orders: a STUPS-style resource server; tokens checked by tokeninfo and, alternatively, as JWTs."""

from __future__ import annotations

import httpx
import pytest

from tests.web.conftest import werkzeug_server

from .conftest import load_example

sales = load_example("sales_orders")


@pytest.fixture(params=["tokeninfo", "jwt"])
def setup(request, dev_issuer):
    app = sales.create_app({"TESTING": True}, dev_issuer=dev_issuer, jwt=request.param == "jwt")
    return app, dev_issuer


def bearer(issuer, user, **claims):
    return {"Authorization": "Bearer " + issuer.mint(user, **claims)}


def test_verifier_kind(setup):
    app, _ = setup
    verifier = app.extensions["warden"].verifier
    assert type(verifier).__name__ in ("TokenInfo", "JWTVerifier")


def test_missing_and_invalid_tokens_are_401(setup):
    app, issuer = setup
    api = app.test_client()
    r = api.get("/sales-orders/SO-1001")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="sales-orders"'
    r = api.get("/sales-orders/SO-1001", headers={"Authorization": "Bearer made-up-token"})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    revoked = issuer.mint("mia")
    issuer.revoke(revoked)
    if app.extensions["warden"].verifier.__class__.__name__ == "TokenInfo":
        assert api.get("/sales-orders", headers={"Authorization": "Bearer " + revoked}).status_code == 401
    expired = api.get("/sales-orders", headers=bearer(issuer, "mia", exp=1))
    assert expired.status_code == 401
    # unknown callers learn nothing about which orders exist
    assert api.get("/sales-orders/SO-9999").status_code == 401


def test_owner_scopes(setup):
    app, issuer = setup
    api = app.test_client()
    assert api.get("/sales-orders/SO-1001", headers=bearer(issuer, "mia")).json["customer"] == "ACME"
    assert [o["id"] for o in api.get("/sales-orders", headers=bearer(issuer, "mia")).json] == ["SO-1001", "SO-1002"]
    assert [o["id"] for o in api.get("/sales-orders", headers=bearer(issuer, "sam")).json] == ["SO-2001"]
    r = api.put("/sales-orders/SO-1001", json={"status": "cancelled"}, headers=bearer(issuer, "mia"))
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert api.put("/sales-orders/SO-1001", json={}, headers=bearer(issuer, "mia")).status_code == 400
    assert api.get("/sales-orders/SO-0000", headers=bearer(issuer, "mia")).status_code == 404


def test_someone_elses_order_is_403(setup):
    app, issuer = setup
    api = app.test_client()
    r = api.get("/sales-orders/SO-1001", headers=bearer(issuer, "sam"))
    assert r.status_code == 403 and r.json["error"] == "forbidden" and "WWW-Authenticate" not in r.headers
    assert api.put("/sales-orders/SO-2001", json={"status": "x"}, headers=bearer(issuer, "mia")).status_code == 403


def test_missing_scope_is_403_insufficient_scope(setup):
    app, issuer = setup
    api = app.test_client()
    r = api.get("/sales-orders/SO-1001", headers=bearer(issuer, "nia"))
    assert r.status_code == 403 and r.json["error"] == "insufficient_scope"
    assert r.headers["WWW-Authenticate"] == (
        'Bearer realm="sales-orders", error="insufficient_scope", '
        'error_description="the token lacks scope sales_order.read or sales_order.read_all", '
        'scope="sales_order.read sales_order.read_all"'
    )
    assert api.get("/sales-orders", headers=bearer(issuer, "nia")).status_code == 403
    r = api.put("/sales-orders/SO-2001", json={"status": "x"}, headers=bearer(issuer, "sam"))
    assert r.status_code == 403 and 'scope="sales_order.write"' in r.headers["WWW-Authenticate"]


def test_application_scope_reads_everything_but_writes_nothing(setup):
    app, issuer = setup
    api = app.test_client()
    assert len(api.get("/sales-orders", headers=bearer(issuer, "stock-sync")).json) == 3
    assert api.get("/sales-orders/SO-2001", headers=bearer(issuer, "stock-sync")).status_code == 200
    assert (
        api.put("/sales-orders/SO-2001", json={"status": "x"}, headers=bearer(issuer, "stock-sync")).status_code == 403
    )


def test_under_werkzeug(setup):
    app, issuer = setup
    with werkzeug_server(app) as base, httpx.Client(base_url=base) as http:
        assert http.get("/sales-orders").status_code == 401
        assert http.get("/sales-orders/SO-2001", headers=bearer(issuer, "sam")).json()["owner"] == "sam"
        assert http.get("/sales-orders/SO-2001", headers=bearer(issuer, "mia")).status_code == 403
