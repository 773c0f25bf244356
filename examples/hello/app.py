"""The Okta + OPA "hello" FastAPI microservice, with warden instead of an OPA server.

The original (stackstalk.com, "Python FastAPI microservice with Okta and OPA")
exposes ``/sayhello`` and ``/saysecret``; clients get an access token from Okta
(client credentials, custom scope ``read_sayhello``), the service validates it
locally (Okta's JWT verifier) or remotely (Okta's introspection endpoint), and
asks OPA whether ``{method, path, scopes}`` is allowed. The Rego rule allows
``GET /sayhello`` with scope ``read_sayhello`` and nothing else.

Here the token is checked by warden (``JWTVerifier.okta`` locally, or
``warden.Introspector`` remotely) and the rule is decided in-process: either the
Cerbos policy in ``policies/api.yaml``, or (``--rego``) the app's Rego policy
``opa/demoapi_authz.rego`` loaded unchanged and evaluated on the very input the app
posted to OPA. Without Okta settings an embedded development issuer plays the
authorization server (same issuer string, ``scp``, ``cid`` claims, introspection
endpoint). Run::

    python examples/hello/app.py                    # development issuer, local validation
    python examples/hello/app.py --introspect       # development issuer, remote validation
    python examples/hello/app.py --rego             # the OPA policy, in-process (combines with --introspect)
    OKTA_ISSUER=https://dev-123.okta.com/oauth2/default OKTA_AUDIENCE=api://default \\
    OKTA_CLIENT_ID=... [OKTA_CLIENT_SECRET=... --introspect] python examples/hello/app.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import warden
from fastapi import Depends, FastAPI
from warden.devissuer import DevIssuer
from warden.fastapi import Warden, token_scopes

POLICIES = Path(__file__).resolve().parent / "policies"
#: The Rego policy the app deployed to its OPA server, and the rule it queried.
OPA_POLICIES = Path(__file__).resolve().parent / "opa"
OPA_RULE = "data.demoapi.authz.allow"
DEV_ISSUER = "https://warden-dev.okta.com/oauth2/default"
DEV_AUDIENCE = "api://default"
#: Development clients (client-credentials grants) and the scopes their tokens carry.
DEV_CLIENTS: Dict[str, List[str]] = {
    "hello-client": ["read_sayhello"],
    "nosy-client": ["read_saysecret"],
    "bare-client": [],
}


def to_principal(claims: Mapping[str, Any]) -> warden.Principal:
    """The principal OPA's input described: who (``sub``) and which scopes, from ``scp`` (JWT) or ``scope`` (introspection)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise warden.InvalidClaims("the token names no subject")
    groups = claims.get("groups")
    roles = {g for g in groups if isinstance(g, str)} if isinstance(groups, list) and groups else {"client"}
    return warden.Principal(
        subject,
        roles,
        {"scopes": sorted(token_scopes(claims)), "client_id": claims.get("cid") or claims.get("client_id")},
    )


def create_app(
    *,
    dev_issuer: Optional[DevIssuer] = None,
    introspect: bool = False,
    issuer: Optional[str] = None,
    audience: Optional[str] = None,
    client_id: Optional[str] = None,
    client_secret: Optional[str] = None,
    rego: bool = False,
) -> FastAPI:
    """The service. ``introspect`` picks remote validation (RFC 7662) over local JWT checks;
    ``rego`` decides with the app's OPA policy instead of the Cerbos one."""
    if dev_issuer is not None:
        issuer, audience = issuer or DEV_ISSUER, audience or DEV_AUDIENCE
        for name, scopes in DEV_CLIENTS.items():
            dev_issuer.add_user(name, iss=issuer, aud=audience, cid=name, scp=scopes)
        if introspect:
            verifier: Any = warden.Introspector(
                dev_issuer.introspection_url, dev_issuer.client_id, dev_issuer.client_secret, issuer=issuer
            )
        else:
            verifier = warden.JWTVerifier.okta(issuer, audience, jwks_url=dev_issuer.jwks_url)
    else:
        issuer = issuer or os.environ.get("OKTA_ISSUER")
        audience = audience or os.environ.get("OKTA_AUDIENCE", "api://default")
        client_id = client_id or os.environ.get("OKTA_CLIENT_ID")
        client_secret = client_secret or os.environ.get("OKTA_CLIENT_SECRET")
        if not issuer:
            raise RuntimeError("hello: set OKTA_ISSUER (and OKTA_AUDIENCE, OKTA_CLIENT_ID), or pass dev_issuer=")
        if introspect:
            if not (client_id and client_secret):
                raise RuntimeError("hello: remote validation needs OKTA_CLIENT_ID and OKTA_CLIENT_SECRET")
            verifier = warden.Introspector(
                issuer.rstrip("/") + "/v1/introspect", client_id, client_secret, issuer=issuer
            )
        else:
            verifier = warden.JWTVerifier.okta(issuer, audience, client_id=client_id)

    if rego:
        return _rego_app(warden.Rego.from_directory(OPA_POLICIES), verifier)
    authz = Warden(warden.Client(POLICIES), verifier, principal_mapper=to_principal)
    app = FastAPI(title="hello (Okta + warden)")
    app.state.authz = authz

    @app.get("/sayhello")
    async def sayhello(principal: warden.Principal = Depends(authz.require("GET", "api", resource="sayhello"))):
        return {"message": f"Hello {principal.id}"}

    @app.get("/saysecret")
    async def saysecret(principal: warden.Principal = Depends(authz.require("GET", "api", resource="saysecret"))):
        return {"message": "The secret"}

    return app


def _rego_app(policy: warden.Rego, verifier: Any) -> FastAPI:
    """The routes with the OPA policy: each request's ``{method, api, jwt: {tokenValue}}`` goes to
    ``data.demoapi.authz.allow`` in-process, where the app used to POST it to OPA."""
    authz = Warden(policy, verifier, principal_mapper=to_principal)
    app = FastAPI(title="hello (Okta + OPA policy on warden)")
    app.state.authz = authz

    @app.get("/sayhello")
    async def sayhello(principal: warden.Principal = Depends(authz.require_rule(OPA_RULE))):
        return {"message": f"Hello {principal.id}"}

    @app.get("/saysecret")
    async def saysecret(principal: warden.Principal = Depends(authz.require_rule(OPA_RULE))):
        return {"message": "The secret"}

    return app


def main(argv: List[str]) -> None:  # pragma: no cover - interactive entry point
    import uvicorn

    introspect, rego = "--introspect" in argv, "--rego" in argv
    if os.environ.get("OKTA_ISSUER"):
        uvicorn.run(create_app(introspect=introspect, rego=rego), host="127.0.0.1", port=8000)
        return
    with DevIssuer() as issuer:
        app = create_app(dev_issuer=issuer, introspect=introspect, rego=rego)
        print(f"development authorization server at {issuer.url}; client tokens:")
        for name in DEV_CLIENTS:
            print(f"  {name:<13} {issuer.mint(name)}")
        uvicorn.run(app, host="127.0.0.1", port=8000)


if __name__ == "__main__":
    main(sys.argv)
