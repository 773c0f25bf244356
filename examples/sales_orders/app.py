"""A STUPS-style OAuth2 resource server for sales orders, on warden.flask.

In Zalando's STUPS platform a resource server (typically Connexion on Flask)
checks each bearer token against the OAuth2 tokeninfo endpoint, which answers
with ``uid``, ``realm`` (``/employees`` for people, ``/services`` for
applications) and the granted ``scope`` list. Here:

- resource-owner scopes ``sales_order.read`` / ``sales_order.write`` act on the
  caller's own orders only (``uid`` equals the order's ``owner``);
- the application scope ``sales_order.read_all`` lets batch clients read every order;
- no token: 401; invalid token: 401 ``invalid_token``; no suitable scope: 403
  ``insufficient_scope``; someone else's order: 403.

Routes: ``GET /sales-orders`` (the caller's orders; all of them with
``read_all``: the policy's ``read`` rule as a query plan, run by the database, so the
app holds no copy of it), ``GET /sales-orders/<id>``, ``PUT /sales-orders/<id>`` (JSON body,
changes ``status``). Tokens are checked through a tokeninfo endpoint
(``WARDEN_TOKENINFO_URL``, the STUPS way) or, alternatively, as JWTs
(``WARDEN_JWKS_URL`` + ``WARDEN_ISSUER``). Without either, an embedded
development issuer plays the OAuth2 provider. Run::

    python examples/sales_orders/app.py              # development issuer, tokeninfo
    python examples/sales_orders/app.py --jwt        # development issuer, local JWT checks
    WARDEN_TOKENINFO_URL=https://auth.example.com/oauth2/tokeninfo python examples/sales_orders/app.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import warden
from flask import Flask, abort, jsonify, request
from sqlalchemy import Engine, Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column
from sqlalchemy.pool import StaticPool
from warden.devissuer import DevIssuer
from warden.flask import Warden, authorize_or_401, authorized_query

POLICIES = Path(__file__).resolve().parent / "policies"
READ, WRITE, READ_ALL = "sales_order.read", "sales_order.write", "sales_order.read_all"
AUDIENCE = "sales-orders"

#: Development identities: people (realm /employees) with resource-owner scopes, and a batch client.
DEV_USERS: Dict[str, Dict[str, Any]] = {
    "mia": {"uid": "mia", "realm": "/employees", "scope": f"uid {READ} {WRITE}"},
    "sam": {"uid": "sam", "realm": "/employees", "scope": f"uid {READ}"},
    "nia": {"uid": "nia", "realm": "/employees", "scope": "uid"},
    "stock-sync": {"uid": "stock-sync", "realm": "/services", "scope": f"uid {READ_ALL}"},
}

SAMPLE_ORDERS: Dict[str, Dict[str, Any]] = {
    "SO-1001": {"id": "SO-1001", "owner": "mia", "customer": "ACME", "amount": 1200, "status": "open"},
    "SO-1002": {"id": "SO-1002", "owner": "mia", "customer": "Globex", "amount": 90, "status": "shipped"},
    "SO-2001": {"id": "SO-2001", "owner": "sam", "customer": "Initech", "amount": 310, "status": "open"},
}

ext = Warden()


class Base(DeclarativeBase):
    pass


class SalesOrder(Base):
    __tablename__ = "sales_orders"
    id = mapped_column(String, primary_key=True)
    owner = mapped_column(String, nullable=False, index=True)
    customer = mapped_column(String, nullable=False)
    amount = mapped_column(Integer, nullable=False)
    status = mapped_column(String, nullable=False)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "owner": self.owner,
            "customer": self.customer,
            "amount": self.amount,
            "status": self.status,
        }


#: The policy's attributes of an order, as columns: what a plan's condition may read.
ORDER_ATTRS = {"request.resource.id": SalesOrder.id, "request.resource.attr.owner": SalesOrder.owner}


def open_store(url: Optional[str] = None) -> Engine:
    """The orders database: ``url`` (or ``SALES_ORDERS_DATABASE_URL``), else in-memory SQLite
    holding ``SAMPLE_ORDERS``."""
    url = url or os.environ.get("SALES_ORDERS_DATABASE_URL")
    if url:
        return create_engine(url)
    db = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(db)
    with Session(db) as session:
        session.add_all(SalesOrder(**order) for order in SAMPLE_ORDERS.values())
        session.commit()
    return db


@ext.principal_loader
def to_principal(claims: Mapping[str, Any]) -> warden.Principal:
    """The same principal from a tokeninfo answer (scope list) or a JWT (scope string)."""
    uid = claims.get("uid") or claims.get("sub")
    if not isinstance(uid, str) or not uid:
        raise warden.InvalidClaims("the token names no uid")
    scope = claims.get("scope", [])
    scopes = sorted(scope.split() if isinstance(scope, str) else [s for s in scope if isinstance(s, str)])
    realm = claims.get("realm") if isinstance(claims.get("realm"), str) else "/employees"
    return warden.Principal(uid, {realm.strip("/") or "employees"}, {"scope": scopes, "realm": realm})


def create_app(
    config: Optional[Mapping[str, Any]] = None,
    *,
    dev_issuer: Optional[DevIssuer] = None,
    jwt: bool = False,
    database: Optional[Engine] = None,
) -> Flask:
    """The resource server. ``dev_issuer`` (started) plays the OAuth2 provider, answering
    tokeninfo requests (or, with ``jwt=True``, serving the keys to verify JWTs locally).
    ``database`` holds the orders (default: :func:`open_store`)."""
    app = Flask(__name__)
    app.config.update(
        WARDEN_POLICY_DIR=str(POLICIES),
        WARDEN_TOKENINFO_URL=os.environ.get("WARDEN_TOKENINFO_URL"),
        WARDEN_JWKS_URL=os.environ.get("WARDEN_JWKS_URL"),
        WARDEN_ISSUER=os.environ.get("WARDEN_ISSUER"),
        WARDEN_AUDIENCE=os.environ.get("WARDEN_AUDIENCE", AUDIENCE),
        WARDEN_REALM="sales-orders",
    )
    if dev_issuer is not None:
        dev_issuer.audience = AUDIENCE
        for name, claims in DEV_USERS.items():
            dev_issuer.add_user(name, **claims)
        if jwt:
            app.config.update(
                WARDEN_JWKS_URL=dev_issuer.jwks_url, WARDEN_ISSUER=dev_issuer.issuer, WARDEN_TOKENINFO_URL=None
            )
        else:
            app.config.update(WARDEN_TOKENINFO_URL=dev_issuer.tokeninfo_url)
    app.config.update(config or {})
    ext.init_app(app)
    db = database if database is not None else open_store()
    app.extensions["sales_orders"] = db

    def load(order_id: str) -> Optional[Dict[str, Any]]:
        with Session(db) as session:
            order = session.get(SalesOrder, order_id)
            return None if order is None else order.as_dict()

    @app.get("/sales-orders")
    def list_orders():
        authorize_or_401("list", "sales_order", any_scopes=[READ, READ_ALL])
        # the orders this caller may read: its own, or all of them with read_all (the policy decides)
        query = authorized_query("sales_order", "read", SalesOrder, ORDER_ATTRS)
        with Session(db) as session:
            return jsonify([order.as_dict() for order in session.scalars(query.order_by(SalesOrder.id))])

    @app.get("/sales-orders/<order_id>")
    @ext.require("read", "sales_order", id_arg="order_id", attr=load, any_scopes=[READ, READ_ALL])
    def get_order(order_id: str):
        return jsonify(load(order_id))

    @app.put("/sales-orders/<order_id>")
    @ext.require("write", "sales_order", id_arg="order_id", attr=load, scopes=[WRITE])
    def update_order(order_id: str):
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("status"), str):
            abort(400, "expected a JSON object with a string 'status'")
        with Session(db) as session:
            order = session.get(SalesOrder, order_id)
            assert order is not None  # loaded and allowed above
            order.status = body["status"]
            session.commit()
            return jsonify(order.as_dict())

    return app


def main(argv: List[str]) -> None:  # pragma: no cover - interactive entry point
    if os.environ.get("WARDEN_TOKENINFO_URL") or os.environ.get("WARDEN_JWKS_URL"):
        create_app().run(host="127.0.0.1", port=8080)
        return
    with DevIssuer() as issuer:
        app = create_app(dev_issuer=issuer, jwt="--jwt" in argv)
        print(f"development OAuth2 provider at {issuer.url}; tokens:")
        for name in DEV_USERS:
            print(f"  {name:<11} {issuer.mint(name)}")
        app.run(host="127.0.0.1", port=8080)


if __name__ == "__main__":
    main(sys.argv)
