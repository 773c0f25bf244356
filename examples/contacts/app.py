"""The Stytch + Cerbos FastAPI demo (cerbos/python-stytch-cerbos), with warden deciding in-process.

Routes as in the original: ``/`` (sign-in form), ``POST /login_or_create_user``
(email + role; Stytch e-mails a magic link), ``/callback?token=...`` (the magic
link: the session token goes into ``request.session``), ``/user`` (the decision
table for contacts ``abc123``, owned by the user, and ``def456``, someone else's,
× read/update/delete), ``/logout``; and, added here, ``GET /contacts``: the contacts the
signed-in user may read, from a SQLite database through SQLAlchemy, filtered by the
database with a query plan (``Depends(authz.plan("contact", "read"))`` and
``warden.sqlalchemy.get_query``), each marked ``editable`` by a second plan.

What changed from the original: the Cerbos PDP round trip became
``Depends(authz.decisions(...))``, and the Stytch API call that checked the
session became a local JWT check (Stytch session JWTs, ``JWTVerifier.stytch``),
with roles read from the user's ``trusted_metadata.roles`` claim.

Without a Stytch project the app embeds a development issuer: the "magic link"
is shown on the page instead of e-mailed, and carries a session JWT minted on
the spot for that e-mail address and role. Run::

    python examples/contacts/app.py            # http://127.0.0.1:3000, development issuer
    STYTCH_PROJECT_ID=project-test-... python examples/contacts/app.py   # real Stytch session JWTs
"""

from __future__ import annotations

import html
import json
import os
import uuid
from pathlib import Path
from typing import List, Optional
from urllib.parse import parse_qs, quote

import warden
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column
from sqlalchemy.pool import StaticPool
from starlette.middleware.sessions import SessionMiddleware
from warden.devissuer import DevIssuer
from warden.fastapi import DecisionTable, Warden
from warden.models import PlanResourcesResponse
from warden.sqlalchemy import get_query, where_clause

HERE = Path(__file__).resolve().parent
POLICIES = HERE / "policies"
SESSION_TOKEN_KEY = "session_token"
ACTIONS = ["read", "update", "delete"]
# A Stytch test-project id for the development issuer (the preset checks the format).
DEV_PROJECT_ID = "project-test-00000000-0000-4000-8000-000000000000"


def user_id_for(email: str) -> str:
    """A stable Stytch-style user id for an e-mail address (development issuer only)."""
    return f"user-test-{uuid.uuid5(uuid.NAMESPACE_URL, 'mailto:' + email.lower())}"


class Base(DeclarativeBase):
    pass


class Contact(Base):
    """A contact of the address book (the table ``GET /contacts`` lists)."""

    __tablename__ = "contacts"
    id = mapped_column(String, primary_key=True)
    owner_id = mapped_column(String, nullable=False, index=True)
    name = mapped_column(String, nullable=False)
    company = mapped_column(String, nullable=False)

    def as_dict(self) -> dict:
        return {"id": self.id, "owner_id": self.owner_id, "name": self.name, "company": self.company}


#: The policy's attributes of a contact, as columns: what a plan's condition may read.
CONTACT_ATTRS = {"request.resource.id": Contact.id, "request.resource.attr.owner_id": Contact.owner_id}

#: Contacts in a new store: owned by alice@example.com, bob@example.com and someone else.
SAMPLE_CONTACTS = [
    ("c-1", "alice@example.com", "Ada Lovelace", "Analytical Engines"),
    ("c-2", "alice@example.com", "Grace Hopper", "Navy"),
    ("c-3", "bob@example.com", "Edsger Dijkstra", "Burroughs"),
    ("c-4", None, "Barbara Liskov", "MIT"),
]


def open_store(url: Optional[str] = None) -> Engine:
    """The contacts database: ``url`` (or ``CONTACTS_DATABASE_URL``), else an in-memory SQLite
    database with the sample contacts."""
    url = url or os.environ.get("CONTACTS_DATABASE_URL")
    if url:
        return create_engine(url)
    db = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(db)
    with Session(db) as session:
        for cid, email, name, company in SAMPLE_CONTACTS:
            owner = user_id_for(email) if email else "other_user_id"
            session.add(Contact(id=cid, owner_id=owner, name=name, company=company))
        session.commit()
    return db


def contacts_for(principal: warden.Principal) -> List[warden.Resource]:
    """The page's resources, as the original builds them (usually from a data store)."""
    return [
        warden.Resource("abc123", "contact", attr={"owner_id": principal.id}),  # owned by the user
        warden.Resource("def456", "contact", attr={"owner_id": "other_user_id"}),  # someone else's
    ]


def create_app(
    *,
    dev_issuer: Optional[DevIssuer] = None,
    project_id: Optional[str] = None,
    session_secret: Optional[str] = None,
    database: Optional[Engine] = None,
) -> FastAPI:
    """The app. With ``dev_issuer`` (a started :class:`DevIssuer`) tokens come from it;
    otherwise ``project_id`` (or ``STYTCH_PROJECT_ID``) selects a real Stytch project.
    ``database`` holds the contacts (default: :func:`open_store`)."""
    if dev_issuer is not None:
        project_id = project_id or DEV_PROJECT_ID
        verifier = warden.JWTVerifier.stytch(project_id, jwks_url=dev_issuer.jwks_url)
    else:
        project_id = project_id or os.environ.get("STYTCH_PROJECT_ID")
        if not project_id:
            raise RuntimeError("contacts: set STYTCH_PROJECT_ID, or pass dev_issuer= for local development")
        verifier = warden.JWTVerifier.stytch(project_id, live=project_id.startswith("project-live-"))

    def to_principal(claims: dict) -> warden.Principal:
        # as the original: the user's id, roles from trusted metadata, policy version 20210210
        return verifier.principal(claims, policy_version="20210210")

    authz = Warden(
        warden.Client(POLICIES),
        verifier,
        header=True,
        session_key=SESSION_TOKEN_KEY,
        principal_mapper=to_principal,
        login_url="/",
    )
    app = FastAPI(title="contacts (Stytch + warden)")
    app.add_middleware(
        SessionMiddleware, secret_key=session_secret or os.environ.get("SESSION_SECRET") or os.urandom(32).hex()
    )
    app.state.authz = authz
    app.state.dev_issuer = dev_issuer
    db = database if database is not None else open_store()
    app.state.database = db

    def page_decisions(principal: warden.Principal = Depends(authz.login_required())) -> List[warden.Resource]:
        return contacts_for(principal)

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request):
        if request.session.get(SESSION_TOKEN_KEY):
            return RedirectResponse("/user", status_code=303)
        error = request.session.pop("errors", None)
        return _page("Sign in", (f'<p class="error">{html.escape(error)}</p>' if error else "") + LOGIN_FORM)

    @app.post("/login_or_create_user", response_class=HTMLResponse)
    async def login_or_create_user(request: Request):
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        email = form.get("email", [""])[0].strip()
        role = form.get("role", [""])[0].strip()
        if "@" not in email or role not in ("user", "admin"):
            raise HTTPException(400, "email and a role (user or admin) are required")
        if dev_issuer is None:
            raise HTTPException(501, "magic links are sent by Stytch; this app only verifies Stytch session JWTs")
        # Development stand-in for Stytch: the "magic link" carries a session JWT for this user.
        token = dev_issuer.mint(
            user_id_for(email),
            aud=project_id,
            iss=f"stytch.com/{project_id}",
            email=email,
            trusted_metadata={"roles": [role]},
            **{"https://stytch.com/session": {"id": "session-test-" + uuid.uuid4().hex, "roles": []}},
        )
        link = f"/callback?token={quote(token)}"
        return _page(
            "Check your e-mail",
            f"<p>Magic link for {html.escape(email)} (development issuer):</p>"
            f'<p><a id="magic-link" href="{html.escape(link)}">sign in</a></p>',
        )

    @app.get("/callback")
    async def callback(request: Request, token: str = ""):
        if not token:
            request.session["errors"] = "Error authenticating token"
            return RedirectResponse("/logout")
        request.session[SESSION_TOKEN_KEY] = token
        return RedirectResponse("/user", status_code=303)

    @app.get("/user", response_class=HTMLResponse)
    async def user(
        principal: warden.Principal = Depends(authz.login_required()),
        decisions: DecisionTable = Depends(authz.decisions(page_decisions, ACTIONS, login=True)),
    ):
        return _page(f"Hello {principal.id}", render_table(principal, decisions))

    @app.get("/contacts")
    def list_contacts(
        readable: PlanResourcesResponse = Depends(authz.plan("contact", "read")),
        editable: PlanResourcesResponse = Depends(authz.plan("contact", "update")),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ):
        """The contacts the caller may read, a page at a time; ``editable``: may update too.

        The database does the filtering (the plan's condition as a WHERE clause), so a page of
        100 out of a million rows costs what the page costs."""
        may_update = where_clause(editable, Contact, CONTACT_ATTRS).label("editable")
        query = get_query(readable, Contact, CONTACT_ATTRS).add_columns(may_update)
        with Session(db) as session:
            rows = session.execute(query.order_by(Contact.id).limit(limit).offset(offset)).all()
        return [{**contact.as_dict(), "editable": bool(can)} for contact, can in rows]

    @app.get("/logout")
    async def logout(request: Request):
        request.session.pop(SESSION_TOKEN_KEY, None)
        return RedirectResponse("/", status_code=303)

    return app


LOGIN_FORM = """
<form method="post" action="/login_or_create_user">
  <label>E-mail <input name="email" type="email" required></label>
  <label>Role <select name="role"><option>user</option><option>admin</option></select></label>
  <button>Send magic link</button>
</form>"""


def render_table(principal: warden.Principal, decisions: DecisionTable) -> str:
    """The /user page body: who is asking, and the decision table."""
    owners = {r.resource.id: r.resource.attr.get("owner_id", "") for r in decisions.response.results}
    rows = "".join(
        f'<tr><td class="resource">{html.escape(rid)}</td><td class="owner">{html.escape(str(owners.get(rid, "")))}</td>'
        + "".join(f'<td class="{a}">{"allow" if allowed[a] else "deny"}</td>' for a in ACTIONS)
        + "</tr>"
        for rid, allowed in decisions.rows()
    )
    principal_json = json.dumps(
        {"id": principal.id, "roles": sorted(principal.roles), "policyVersion": principal.policy_version}, indent=2
    )
    return (
        f'<p>Signed in as <code id="principal-id">{html.escape(principal.id)}</code> '
        f'with roles <code id="roles">{html.escape(",".join(sorted(principal.roles)))}</code></p>'
        f'<table id="decisions"><thead><tr><th>resource</th><th>owner_id</th>'
        + "".join(f"<th>{a}</th>" for a in ACTIONS)
        + f"</tr></thead><tbody>{rows}</tbody></table>"
        '<p><a href="/contacts">The contacts you may read</a> (JSON)</p>'
        f"<h2>Principal</h2><pre>{html.escape(principal_json)}</pre>"
        '<p><a href="/logout">Sign out</a></p>'
    )


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def main() -> None:  # pragma: no cover - interactive entry point
    import uvicorn

    if os.environ.get("STYTCH_PROJECT_ID"):
        uvicorn.run(create_app(), host="127.0.0.1", port=3000)
        return
    with DevIssuer() as issuer:
        print(f"development issuer at {issuer.url} (keys made on start)")
        uvicorn.run(create_app(dev_issuer=issuer), host="127.0.0.1", port=3000)


if __name__ == "__main__":
    main()
