"""The documented FastAPI dependency, end to end with keys fetched from the loopback IdP."""

from __future__ import annotations

import pytest
import warden

from .conftest import remote_verifier
from .signing import claims, token

fastapi = pytest.importorskip("fastapi")
from fastapi import Depends, FastAPI, HTTPException, Request  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402


def make_app(verifier: warden.JWTVerifier) -> FastAPI:
    app = FastAPI()

    async def current_principal(request: Request) -> warden.Principal:
        scheme, _, tok = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not tok:
            raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})
        try:
            return verifier.principal(await verifier.verify_async(tok))
        except warden.InvalidToken as e:
            raise HTTPException(
                e.status_code, e.description, headers={"WWW-Authenticate": warden.www_authenticate(e)}
            ) from e

    @app.get("/me")
    async def me(principal: warden.Principal = Depends(current_principal)):
        return {"id": principal.id, "roles": sorted(principal.roles)}

    return app


def test_fastapi_dependency(idp, keys):
    client = TestClient(make_app(remote_verifier(idp)))
    ok = client.get("/me", headers={"Authorization": "Bearer " + token(keys["rs"], claims(roles=["admin"]))})
    assert ok.status_code == 200 and ok.json() == {"id": "user-1", "roles": ["admin"]}
    expired = client.get("/me", headers={"Authorization": "Bearer " + token(keys["rs"], claims(exp=1))})
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"] == 'Bearer error="invalid_token", error_description="token has expired"'
    assert client.get("/me").status_code == 401
    idp.fail_status = 500
    client2 = TestClient(make_app(remote_verifier(idp)))
    down = client2.get("/me", headers={"Authorization": "Bearer " + token(keys["rs"])})
    assert down.status_code == 503
    assert idp.count() == 2
