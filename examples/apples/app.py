"""The tinyauth Flask apples service (tinyauth/flask_tinyauth's README), on warden.

Same routes and helpers as the original:

- ``/api/v1/apples/list``: ``authorize_or_401("ListApples", "apples")``, then the apples the
  user may get, filtered by the database with the policy's query plan
  (``authorized_query("apples", "GetApple", Apple, APPLE_ATTRS)``): no copy of the policy
  in the code (the original filtered with ``not apple["secret"] or "admin" in roles``);
- ``/api/v1/apples/<name>``: ``authorize_or_401("GetApple", "apples", name, attr)``;
- ``DELETE /api/v1/apples/<name>``: ``authorize_or_raise("DeleteApple", ...)``, with
  the app's own ``errorhandler`` for ``AuthorizationFailed``;
- ``/``: the web interface, ``authorize_or_login("AccessWebInterface", "ui")``;
- a login blueprint (``/login``, ``/logout``) that keeps the token in the
  ``tinysess`` cookie, as tinyauth's did.

The apples live in a SQLite database (SQLAlchemy; in memory unless ``APPLES_DATABASE_URL``).
tinyauth asked its server (``authorize-by-token``) on every request; here the
bearer token (or the ``tinysess`` cookie) is verified locally and the policy in
``policies/`` decides in-process. Configuration is Flask's: ``WARDEN_*`` keys.
Without an identity provider configured the app embeds a development issuer that
mints tokens for the users below. Run::

    python examples/apples/app.py                  # http://127.0.0.1:5000, development issuer
    WARDEN_ISSUER=https://idp.example.com WARDEN_AUDIENCE=apples python examples/apples/app.py
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from flask import Blueprint, Flask, jsonify, redirect, render_template_string, request, url_for
from sqlalchemy import Boolean, Engine, Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column
from sqlalchemy.pool import StaticPool
from warden.devissuer import DevIssuer
from warden.flask import (
    AuthorizationFailed,
    Warden,
    authorize_or_401,
    authorize_or_login,
    authorize_or_raise,
    authorized_query,
)

POLICIES = Path(__file__).resolve().parent / "policies"
AUDIENCE = "apples"
#: Development users and their roles.
DEV_USERS: Dict[str, List[str]] = {"alice": ["admin"], "bob": ["reader"], "eve": ["guest"]}
APPLES: Dict[str, Dict[str, Any]] = {
    "fred": {"name": "fred", "weight": 50, "color": "red", "secret": False},
    "granny": {"name": "granny", "weight": 70, "color": "green", "secret": False},
    "golden": {"name": "golden", "weight": 99, "color": "gold", "secret": True},
}

warden_ext = Warden()


class Base(DeclarativeBase):
    pass


class Apple(Base):
    __tablename__ = "apples"
    name = mapped_column(String, primary_key=True)
    weight = mapped_column(Integer, nullable=False)
    color = mapped_column(String, nullable=False)
    secret = mapped_column(Boolean, nullable=False)

    def as_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "weight": self.weight, "color": self.color, "secret": self.secret}


#: The policy's attributes of an apple, as columns: what a plan's condition may read.
APPLE_ATTRS = {"request.resource.id": Apple.name, "request.resource.attr.secret": Apple.secret}


def open_store(url: Optional[str] = None) -> Engine:
    """The apples database: ``url`` (or ``APPLES_DATABASE_URL``), else in-memory SQLite holding ``APPLES``."""
    url = url or os.environ.get("APPLES_DATABASE_URL")
    if url:
        return create_engine(url)
    db = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(db)
    with Session(db) as session:
        session.add_all(Apple(**apple) for apple in APPLES.values())
        session.commit()
    return db


def login_blueprint(dev_issuer: Optional[DevIssuer]) -> Blueprint:
    """Sign in and out; the token lives in the ``tinysess`` cookie (HttpOnly, SameSite=Lax)."""
    login = Blueprint("login", __name__)

    def login_view():
        if request.method == "GET":
            return render_template_string(
                LOGIN_PAGE, users=list(DEV_USERS) if dev_issuer else [], next=request.args.get("next", "/")
            )
        if dev_issuer is None:
            return jsonify({"error": "sign in with your identity provider; this service only verifies its tokens"}), 501
        username = request.form.get("username", "")
        if username not in DEV_USERS:
            return render_template_string(LOGIN_PAGE, users=list(DEV_USERS), error="unknown user", next="/"), 401
        target = request.form.get("next") or "/"
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # only local redirects after sign-in
        response = redirect(target, code=303)
        response.set_cookie(
            "tinysess",
            dev_issuer.mint(username),
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            max_age=dev_issuer.lifetime,
        )
        return response

    login.add_url_rule("/login", "login", login_view, methods=["GET", "POST"])

    @login.route("/logout")
    def logout():
        response = redirect(url_for("login.login"))
        response.delete_cookie("tinysess")
        return response

    return login


def create_app(
    config: Optional[Mapping[str, Any]] = None,
    *,
    dev_issuer: Optional[DevIssuer] = None,
    database: Optional[Engine] = None,
) -> Flask:
    """The service. ``config`` overrides ``WARDEN_*`` settings from the environment;
    with ``dev_issuer`` (started) tokens come from the development issuer. ``database``
    holds the apples (default: :func:`open_store`)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY") or os.urandom(16).hex(),
        WARDEN_POLICY_DIR=str(POLICIES),
        WARDEN_TOKEN_COOKIE="tinysess",
        WARDEN_LOGIN_VIEW="login.login",
        WARDEN_ISSUER=os.environ.get("WARDEN_ISSUER"),
        WARDEN_AUDIENCE=os.environ.get("WARDEN_AUDIENCE", AUDIENCE),
        WARDEN_JWKS_URL=os.environ.get("WARDEN_JWKS_URL"),
    )
    if dev_issuer is not None:
        app.config.update(
            WARDEN_ISSUER=dev_issuer.issuer, WARDEN_JWKS_URL=dev_issuer.jwks_url, WARDEN_AUDIENCE=AUDIENCE
        )
        dev_issuer.audience = AUDIENCE
        for name, roles in DEV_USERS.items():
            dev_issuer.add_user(name, roles=roles)
    app.config.update(config or {})
    warden_ext.init_app(app)
    app.register_blueprint(login_blueprint(dev_issuer))
    db = database if database is not None else open_store()
    app.extensions["apples"] = db

    def load(name: str) -> Optional[Dict[str, Any]]:
        with Session(db) as session:
            apple = session.get(Apple, name)
            return None if apple is None else apple.as_dict()

    @app.errorhandler(AuthorizationFailed)
    def authorization_failed(error: AuthorizationFailed):
        # the app's own answer for authorize_or_raise, as in tinyauth's README
        return jsonify({"message": "Authorization has failed", "action": error.action}), 403

    @app.route("/api/v1/apples/list")
    def list_apples():
        authorize_or_401("ListApples", "apples")
        # the apples this user may get: the policy's condition, run by the database
        query = authorized_query("apples", "GetApple", Apple, APPLE_ATTRS)
        with Session(db) as session:
            return jsonify([apple.as_dict() for apple in session.scalars(query.order_by(Apple.name))])

    @app.route("/api/v1/apples/<path:name>", methods=["GET"])
    def get_apple(name: str):
        apple = load(name)
        authorize_or_401("GetApple", "apples", name, {"secret": bool(apple and apple["secret"])})
        if apple is None:
            return jsonify({"error": "no such apple"}), 404
        return jsonify(apple)

    @app.route("/api/v1/apples/<path:name>", methods=["DELETE"])
    def delete_apple(name: str):
        authorize_or_raise("DeleteApple", "apples", name)
        with Session(db) as session:
            apple = session.get(Apple, name)
            if apple is None:
                return jsonify({"error": "no such apple"}), 404
            session.delete(apple)
            session.commit()
        return "", 204

    @app.route("/api/v1/apples/<name>/color")
    @warden_ext.require("GetApple", "apples", id_arg="name", attr=load)
    def apple_color(name: str):
        return jsonify({"name": name, "color": load(name)["color"]})  # type: ignore[index]  # loaded: allowed

    @app.route("/")
    def index():
        authorize_or_login("AccessWebInterface", "ui")
        with Session(db) as session:
            names = list(session.scalars(select(Apple.name).order_by(Apple.name)))
        return render_template_string(INDEX_PAGE, apples=names)

    return app


LOGIN_PAGE = """<!doctype html><title>Sign in</title><h1>Sign in</h1>
{% if error %}<p class="error">{{ error }}</p>{% endif %}
<form method="post" action="/login"><input type="hidden" name="next" value="{{ next }}">
<label>User <input name="username" required></label><button>Sign in</button></form>
{% if users %}<p>Development users: {{ users|join(", ") }}</p>{% endif %}"""

INDEX_PAGE = """<!doctype html><title>Apples</title>
<h1>Apples for {{ current_principal.id }}</h1>
<ul>{% for name in apples %}<li>{{ name }}</li>{% endfor %}</ul><a href="/logout">Sign out</a>"""


def main() -> None:  # pragma: no cover - interactive entry point
    if os.environ.get("WARDEN_ISSUER") or os.environ.get("WARDEN_JWKS_URL"):
        create_app().run(host="127.0.0.1", port=5000)
        return
    with DevIssuer() as issuer:
        print(f"development issuer at {issuer.url}: users {', '.join(DEV_USERS)}")
        create_app(dev_issuer=issuer).run(host="127.0.0.1", port=5000)


if __name__ == "__main__":
    main()
