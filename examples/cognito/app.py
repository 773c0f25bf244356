"""The Cognito + Cerbos FastAPI demo (cerbos/python-cognito-cerbos), with warden deciding in-process.

Routes as in the original: ``/`` (sign-in form), ``POST /login`` (user name and
password; Cognito returns tokens and the access token goes into
``request.session``), ``/user`` (the decision table for contacts ``abc123``,
owned by the user, and ``def456``, someone else's, × read/update/delete),
``/protected`` (the verified claims, for API clients with a bearer token),
``/logout``.

Access tokens are verified locally with the Cognito preset
(``JWTVerifier.cognito``: issuer of the user pool, ``token_use=access``,
``client_id``, RS256 keys from the pool's JWKS); roles are the ``cognito:groups``
claim; the principal carries ``policy_version="20210210"`` and the user name,
e-mail, scope and client id as attributes, as the original built it.

Without AWS settings the app embeds a development issuer that plays the user
pool: it mints Cognito-shaped access tokens (same issuer string, same claims) for
the users below. Run::

    python examples/cognito/app.py                      # http://127.0.0.1:3000, development issuer
    AWS_DEFAULT_REGION=eu-west-1 AWS_COGNITO_POOL_ID=eu-west-1_AbC123 \\
    AWS_COGNITO_CLIENT_ID=... python examples/cognito/app.py   # a real user pool
"""

from __future__ import annotations

import html
import json
import os
import uuid
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import parse_qs

import warden
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.middleware.sessions import SessionMiddleware
from warden.devissuer import DevIssuer
from warden.fastapi import DecisionTable, Warden

POLICIES = Path(__file__).resolve().parent / "policies"
SESSION_TOKEN_KEY = "access_token"
ACTIONS = ["read", "update", "delete"]
DEV_REGION, DEV_POOL, DEV_CLIENT = "eu-west-1", "eu-west-1_Warden01", "warden-dev-client"
#: The development user pool: user name -> groups.
DEV_USERS: Dict[str, List[str]] = {"alice": ["admin"], "bob": ["user"], "carol": ["user"]}


def dev_claims(username: str, groups: List[str]) -> dict:
    """Claims of a Cognito access token for ``username`` (the shape Cognito issues)."""
    return {
        "sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{username}.{DEV_POOL}")),
        "cognito:groups": groups,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": 0,
        "client_id": DEV_CLIENT,
        "username": username,
        "email": f"{username}@example.com",
    }


def create_app(
    *,
    dev_issuer: Optional[DevIssuer] = None,
    region: Optional[str] = None,
    user_pool_id: Optional[str] = None,
    client_id: Optional[str] = None,
    session_secret: Optional[str] = None,
) -> FastAPI:
    """The app: with ``dev_issuer`` (started) it plays the user pool; otherwise the AWS settings
    (arguments or ``AWS_DEFAULT_REGION``, ``AWS_COGNITO_POOL_ID``, ``AWS_COGNITO_CLIENT_ID``) name a real one."""
    if dev_issuer is not None:
        region, user_pool_id, client_id = region or DEV_REGION, user_pool_id or DEV_POOL, client_id or DEV_CLIENT
        verifier = warden.JWTVerifier.cognito(region, user_pool_id, client_id, jwks_url=dev_issuer.jwks_url)
        for name, groups in DEV_USERS.items():
            dev_issuer.add_user(name, iss=verifier.issuer, **dev_claims(name, groups))
    else:
        region = region or os.environ.get("AWS_DEFAULT_REGION")
        user_pool_id = user_pool_id or os.environ.get("AWS_COGNITO_POOL_ID")
        client_id = client_id or os.environ.get("AWS_COGNITO_CLIENT_ID")
        if not (region and user_pool_id and client_id):
            raise RuntimeError(
                "cognito: set AWS_DEFAULT_REGION, AWS_COGNITO_POOL_ID and AWS_COGNITO_CLIENT_ID, or pass dev_issuer="
            )
        verifier = warden.JWTVerifier.cognito(region, user_pool_id, client_id)

    def to_principal(claims: dict) -> warden.Principal:
        return verifier.principal(claims, policy_version="20210210")

    authz = Warden(
        warden.Client(POLICIES), verifier, session_key=SESSION_TOKEN_KEY, principal_mapper=to_principal, login_url="/"
    )
    app = FastAPI(title="cognito (Cognito + warden)")
    app.add_middleware(
        SessionMiddleware, secret_key=session_secret or os.environ.get("SESSION_SECRET") or os.urandom(32).hex()
    )
    app.state.authz = authz

    def page_resources(principal: warden.Principal = Depends(authz.login_required())) -> List[warden.Resource]:
        # resources would usually come from the app's data store
        return [
            warden.Resource("abc123", "contact", attr={"owner_id": principal.id}),
            warden.Resource("def456", "contact", attr={"owner_id": "other_user_id"}),
        ]

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request):
        if request.session.get(SESSION_TOKEN_KEY):
            return RedirectResponse("/user", status_code=303)
        error = request.session.pop("error", None)
        users = ", ".join(DEV_USERS) if dev_issuer is not None else ""
        return _page(
            "Sign in",
            (f'<p class="error">{html.escape(error)}</p>' if error else "")
            + (f"<p>Development user pool: {html.escape(users)}</p>" if users else "")
            + LOGIN_FORM,
        )

    @app.post("/login")
    async def login(request: Request):
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        username = form.get("username", [""])[0].strip()
        if dev_issuer is None:
            raise HTTPException(501, "passwords are checked by Cognito (pycognito); this app only verifies its tokens")
        if username not in DEV_USERS:
            request.session["error"] = "Incorrect username or password."
            return RedirectResponse("/", status_code=303)
        # The development pool signs the user in without a password check.
        request.session[SESSION_TOKEN_KEY] = dev_issuer.mint(username)
        return RedirectResponse("/user", status_code=303)

    @app.get("/user", response_class=HTMLResponse)
    async def user(
        principal: warden.Principal = Depends(authz.login_required()),
        decisions: DecisionTable = Depends(authz.decisions(page_resources, ACTIONS, login=True)),
    ):
        return _page(f"Hello {principal.attr.get('username', principal.id)}", render_table(principal, decisions))

    @app.get("/protected")
    async def protected(request: Request, principal: warden.Principal = Depends(authz.principal)):
        return {"id": principal.id, "roles": sorted(principal.roles), "attr": principal.attr}

    @app.get("/logout")
    async def logout(request: Request):
        request.session.pop(SESSION_TOKEN_KEY, None)
        return RedirectResponse("/", status_code=303)

    return app


LOGIN_FORM = """
<form method="post" action="/login">
  <label>User name <input name="username" required></label>
  <label>Password <input name="password" type="password"></label>
  <button>Sign in</button>
</form>"""


def render_table(principal: warden.Principal, decisions: DecisionTable) -> str:
    owners = {r.resource.id: r.resource.attr.get("owner_id", "") for r in decisions.response.results}
    rows = "".join(
        f'<tr><td class="resource">{html.escape(rid)}</td><td class="owner">{html.escape(str(owners.get(rid, "")))}</td>'
        + "".join(f'<td class="{a}">{"allow" if allowed[a] else "deny"}</td>' for a in ACTIONS)
        + "</tr>"
        for rid, allowed in decisions.rows()
    )
    principal_json = json.dumps(
        {
            "id": principal.id,
            "roles": sorted(principal.roles),
            "policyVersion": principal.policy_version,
            "attr": principal.attr,
        },
        indent=2,
        sort_keys=True,
    )
    return (
        f'<p>Signed in as <code id="principal-id">{html.escape(principal.id)}</code> '
        f'with groups <code id="roles">{html.escape(",".join(sorted(principal.roles)))}</code></p>'
        '<table id="decisions"><thead><tr><th>resource</th><th>owner_id</th>'
        + "".join(f"<th>{a}</th>" for a in ACTIONS)
        + f"</tr></thead><tbody>{rows}</tbody></table>"
        f'<h2>Principal</h2><pre id="principal">{html.escape(principal_json)}</pre>'
        '<p><a href="/logout">Sign out</a></p>'
    )


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def main() -> None:  # pragma: no cover - interactive entry point
    import uvicorn

    if os.environ.get("AWS_COGNITO_POOL_ID"):
        uvicorn.run(create_app(), host="127.0.0.1", port=3000)
        return
    with DevIssuer() as issuer:
        print(f"development user pool at {issuer.url}: users {', '.join(DEV_USERS)}")
        uvicorn.run(create_app(dev_issuer=issuer), host="127.0.0.1", port=3000)


if __name__ == "__main__":
    main()
