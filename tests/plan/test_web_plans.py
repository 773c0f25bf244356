"""List endpoints in the web integrations: FastAPI's ``Depends(authz.plan(kind, action))`` and Flask's
``plan(...)`` / ``authorized_query(...)``, with tokens from the loopback identity provider and rows in
SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import warden
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from flask import Flask, jsonify
from warden.fastapi import Warden as FastAPIWarden
from warden.flask import Warden as FlaskWarden
from warden.flask import authorized_query, plan
from warden.models import PlanResourcesResponse
from warden.sqlalchemy import get_query

from tests.jwt.signing import AUDIENCE, ISSUER
from tests.web.conftest import bearer, idp, make_verifier, verifier, web_key  # noqa: F401 (fixtures)

POLICIES = Path(__file__).resolve().parents[2] / "examples" / "contacts" / "policies"
metadata = sa.MetaData()
contact = sa.Table(
    "contact",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("owner_id", sa.String, nullable=False),
)
ATTRS = {"request.resource.attr.owner_id": contact.c.owner_id}


@pytest.fixture
def database():
    db = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool, connect_args={"check_same_thread": False})
    metadata.create_all(db)
    with db.begin() as conn:
        conn.execute(contact.insert(), [{"id": "k1", "owner_id": "u1"}, {"id": "k2", "owner_id": "u2"}])
    yield db
    db.dispose()


def listed(db, p) -> list:
    with db.connect() as conn:
        return sorted(conn.execute(get_query(p, contact, ATTRS).with_only_columns(contact.c.id)).scalars())


@pytest.fixture
def fastapi_app(verifier, database):  # noqa: F811 (a fixture)
    authz = FastAPIWarden(warden.Client(POLICIES), verifier, login_url="/login")
    app = FastAPI()

    @app.get("/editable")
    def editable(p: PlanResourcesResponse = Depends(authz.plan("contact", "update"))):
        return {"kind": p.filter.kind.value, "ids": listed(database, p)}

    @app.get("/both")
    def both(p: PlanResourcesResponse = Depends(authz.plan("contact", ["update", "delete"], scopes="contacts:read"))):
        return {"actions": p.action, "ids": listed(database, p)}

    @app.get("/page")
    def page(p: PlanResourcesResponse = Depends(authz.plan("contact", "update", login=True))):
        return listed(database, p)

    @app.get("/known")
    def known(p: PlanResourcesResponse = Depends(authz.plan("contact", "update", attr={"owner_id": "u1"}))):
        return p.filter.kind.value

    return app, authz


def test_fastapi_plan_dependency(fastapi_app, web_key):  # noqa: F811
    app, authz = fastapi_app
    api = TestClient(app)
    assert api.get("/editable").status_code == 401
    user = api.get("/editable", headers=bearer(web_key, "u1", roles=["user"])).json()
    assert user == {"kind": "KIND_CONDITIONAL", "ids": ["k1"]}
    admin = api.get("/editable", headers=bearer(web_key, "a1", roles=["admin"])).json()
    assert admin == {"kind": "KIND_ALWAYS_ALLOWED", "ids": ["k1", "k2"]}
    guest = api.get("/editable", headers=bearer(web_key, "g1", roles=["guest"])).json()
    assert guest == {"kind": "KIND_ALWAYS_DENIED", "ids": []}  # an empty list, not a 403
    # several actions: every one of them; OAuth scopes required as for require()
    denied = api.get("/both", headers=bearer(web_key, "u2", roles=["user"]))
    assert denied.status_code == 403 and "insufficient_scope" in denied.headers["www-authenticate"]
    ok = api.get("/both", headers=bearer(web_key, "u2", roles=["user"], scope="contacts:read")).json()
    assert ok == {"actions": ["update", "delete"], "ids": ["k2"]}
    # browsers without a token go to the login page; known attributes fold into the plan
    assert api.get("/page", follow_redirects=False).headers["location"] == "/login?next=%2Fpage"
    assert api.get("/known", headers=bearer(web_key, "u1", roles=["user"])).json() == "KIND_ALWAYS_ALLOWED"
    with pytest.raises(ValueError, match="kind"):
        authz.plan("", "read")
    with pytest.raises(ValueError, match="action"):
        authz.plan("contact", [])


@pytest.fixture
def flask_app(idp, database):  # noqa: F811
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        WARDEN_POLICY_DIR=str(POLICIES),
        WARDEN_JWKS_URL=idp.jwks_url,
        WARDEN_ISSUER=ISSUER,
        WARDEN_AUDIENCE=AUDIENCE,
    )
    FlaskWarden(app, verifier=make_verifier(idp))

    @app.get("/editable")
    def editable():
        query = authorized_query("contact", "update", contact, ATTRS, any_scopes="contacts:read contacts:all")
        with database.connect() as conn:
            return jsonify(sorted(conn.execute(query.with_only_columns(contact.c.id)).scalars()))

    @app.get("/plan")
    def the_plan():
        return jsonify(plan("contact", ["update", "delete"]).to_dict(encode_json=True)["filter"])

    return app


def test_flask_plan_and_authorized_query(flask_app, web_key):  # noqa: F811
    api = flask_app.test_client()
    assert api.get("/editable").status_code == 401
    scoped = {"scope": "contacts:read"}
    assert api.get("/editable", headers=bearer(web_key, "u1", roles=["user"], **scoped)).json == ["k1"]
    assert api.get("/editable", headers=bearer(web_key, "a1", roles=["admin"], **scoped)).json == ["k1", "k2"]
    assert api.get("/editable", headers=bearer(web_key, "g1", roles=["guest"], **scoped)).json == []
    refused = api.get("/editable", headers=bearer(web_key, "u1", roles=["user"]))
    assert refused.status_code == 403 and "insufficient_scope" in refused.headers["WWW-Authenticate"]
    # the list helpers plan exactly: the condition leaf in isTrue (a row where it fails is not listed)
    owner_is_u2 = {
        "expression": {"operator": "eq", "operands": [{"variable": "request.resource.attr.owner_id"}, {"value": "u2"}]}
    }
    assert api.get("/plan", headers=bearer(web_key, "u2", roles=["user"])).json == {
        "kind": "KIND_CONDITIONAL",
        "condition": {"expression": {"operator": "isTrue", "operands": [owner_is_u2]}},
    }


def test_flask_bypass_plans_everything(idp, database):  # noqa: F811
    app = Flask(__name__)
    app.config.update(TESTING=True, WARDEN_POLICY_DIR=str(POLICIES), WARDEN_BYPASS=True)
    FlaskWarden(app, verifier=make_verifier(idp))

    @app.get("/plan")
    def the_plan():
        return plan("contact", "update").filter.kind.value

    assert app.test_client().get("/plan").text == "KIND_ALWAYS_ALLOWED"
