"""A FastAPI app whose loader returns a self-referencing object (``a = {}; a["a"] = a``), run by
uvicorn in a process of its own (``test_fastapi.py::test_self_referencing_loaded_object_is_an_error_answer``),
so that a crash in the conversion to engine values shows as a dead server, not as a dead pytest.

    python -m tests.web.selfref_app --port PORT --jwks-url URL
"""

from __future__ import annotations

import argparse

import warden
from fastapi import Depends, FastAPI
from warden.fastapi import Warden

from tests.jwt.signing import AUDIENCE, ISSUER
from tests.web.conftest import MAPPING, POLICIES


def build_app(jwks_url: str) -> FastAPI:
    verifier = warden.JWTVerifier(jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE, principal_mapping=MAPPING)
    authz = Warden(warden.Client(POLICIES), verifier)
    app = FastAPI()

    async def load_self_referencing(doc_id: str) -> dict:
        document: dict = {"owner": "user-1", "title": doc_id}
        document["self"] = document
        return document

    async def load_plain(doc_id: str) -> dict:
        return {"owner": "user-1", "title": doc_id}

    @app.get("/health")
    async def health():
        return {"ok": True}

    @app.get("/cyclic/{doc_id}")
    async def cyclic(doc=Depends(authz.load("read", "document", load_self_referencing))):
        return {"title": doc["title"]}

    @app.get("/plain/{doc_id}")
    async def plain(doc=Depends(authz.load("read", "document", load_plain))):
        return {"title": doc["title"]}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jwks-url", required=True)
    args = parser.parse_args()
    uvicorn.run(build_app(args.jwks_url), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
