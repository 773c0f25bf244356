"""The AuthZEN Authorization API over HTTP: an ASGI app (Starlette) a service in any language can use as its PDP.

::

    import uvicorn, warden
    from warden.authzen import Sources, app

    engine = warden.Engine.from_directory("policies")
    uvicorn.run(app(engine, sources=Sources(actions="policies")), host="127.0.0.1", port=8080)

Endpoints (the specification's default paths): ``POST /access/v1/evaluation``,
``/access/v1/evaluations``, ``/access/v1/search/{subject,resource,action}`` (those the sources can
answer) and ``GET /.well-known/authzen-configuration`` (the PDP's metadata).

Transport as the specification's HTTPS binding asks: requests must be ``application/json`` objects;
a malformed one (bad JSON, an empty body, a missing or mistyped field) answers 400 with an error
message string (as a JSON string) and never 500; ``X-Request-ID`` is echoed on every answer. With a
``verifier`` (``warden.JWTVerifier``, ``Introspector``, ``TokenInfo``) callers must send a bearer
token: 401 with an RFC 6750 challenge otherwise (503 when the token cannot be checked), answered as
the other integrations answer (:mod:`warden._web`).
"""

from __future__ import annotations

import functools
import json
from typing import Any, Awaitable, Callable, Dict, Optional

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from warden._planfilter import PlanError
from warden._web import authentication_refusal, bearer_credentials
from warden.authzen._evaluate import MAX_EVALUATIONS, evaluation, evaluations
from warden.authzen._requests import AuthZENError
from warden.authzen._search import Sources, search_action, search_resource, search_subject
from warden.jwt import InvalidToken

__all__ = ["MAX_BODY_BYTES", "app"]

#: the largest request body accepted (the specification asks PDPs to bound payloads)
MAX_BODY_BYTES = 1024 * 1024
REQUEST_ID = "x-request-id"

Handler = Callable[[Any], Dict[str, Any]]


def app(
    engine: Any,
    *,
    sources: Optional[Sources] = None,
    verifier: Any = None,
    realm: Optional[str] = None,
    base_url: Optional[str] = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_evaluations: int = MAX_EVALUATIONS,
) -> Starlette:
    """The ASGI app serving the AuthZEN API with ``engine`` deciding.

    ``sources`` enables the Search APIs it can answer (see :class:`Sources`); ``verifier``
    requires a bearer token of callers (``realm`` in the challenges); ``base_url`` is the PDP's
    identifier in its metadata (default: the scheme and host the request came to).
    """
    if not (hasattr(engine, "check_resources_json") and hasattr(engine, "plan_resources_json")):
        raise TypeError(f"engine: expected a warden.Engine, got {type(engine).__name__}")
    if verifier is not None and not (hasattr(verifier, "verify_async") or hasattr(verifier, "verify")):
        raise TypeError(
            f"verifier: expected a warden.JWTVerifier, Introspector or TokenInfo, got {type(verifier).__name__}"
        )
    found = sources or Sources()
    # evaluations take microseconds and run inline; searches read the application's sources
    # (a database), so they run in the thread pool, off the event loop
    blocking = set()
    handlers: Dict[str, Handler] = {
        "/access/v1/evaluation": lambda body: evaluation(engine, body),
        "/access/v1/evaluations": lambda body: evaluations(engine, body, max_evaluations=max_evaluations),
    }
    metadata_keys = {
        "/access/v1/evaluation": "access_evaluation_endpoint",
        "/access/v1/evaluations": "access_evaluations_endpoint",
    }
    searches = [
        ("subject", found.subjects, search_subject),
        ("resource", found.resources, search_resource),
        ("action", found.actions, search_action),
    ]
    for what, registered, search in searches:
        if registered is not None:
            path = f"/access/v1/search/{what}"
            handlers[path] = functools.partial(search, engine, sources=found)
            metadata_keys[path] = f"search_{what}_endpoint"
            blocking.add(path)

    async def authenticated(request: Request) -> Optional[Response]:
        """None when the caller may call (or no verifier is set), else the refusal."""
        if verifier is None:
            return None
        token = bearer_credentials(request.headers.get("authorization"))
        error: Optional[InvalidToken] = None
        if token is not None:
            try:
                verify_async = getattr(verifier, "verify_async", None)
                if verify_async is not None:
                    await verify_async(token)
                else:
                    verifier.verify(token)
                return None
            except InvalidToken as exc:
                error = exc
        refusal = authentication_refusal(error, realm)
        headers = {"WWW-Authenticate": refusal.www_authenticate} if refusal.www_authenticate else None
        return JSONResponse(refusal.description, status_code=refusal.status, headers=headers)

    def endpoint(handler: Handler, in_thread: bool) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            refused = await authenticated(request)
            if refused is not None:
                return refused
            try:
                body = await _json_body(request, max_body_bytes)
                answer = await run_in_threadpool(handler, body) if in_thread else handler(body)
                return JSONResponse(answer)
            except AuthZENError as exc:
                return JSONResponse(exc.message, status_code=exc.status)
            except PlanError as exc:  # a valid request this PDP cannot search: its limit, not the caller's fault
                return JSONResponse(f"cannot search: {exc}", status_code=500)

        return handle

    async def configuration(request: Request) -> Response:
        base = (base_url or f"{request.url.scheme}://{request.url.netloc}").rstrip("/")
        document = {"policy_decision_point": base}
        document.update({key: base + path for path, key in metadata_keys.items()})
        return JSONResponse(document)

    routes = [Route(path, endpoint(handler, path in blocking), methods=["POST"]) for path, handler in handlers.items()]
    routes.append(Route("/.well-known/authzen-configuration", configuration, methods=["GET"]))
    application = Starlette(routes=routes)
    return _RequestId(application)  # type: ignore[return-value]


async def _json_body(request: Request, limit: int) -> Any:
    """The request's JSON body; AuthZENError (400, 413) for anything the binding does not allow."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise AuthZENError(f"Content-Type: expected application/json, got {media_type or 'none'}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise AuthZENError(f"request body: larger than {limit} bytes", status=413)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise AuthZENError(f"request body: larger than {limit} bytes", status=413)
    if not raw.strip():
        raise AuthZENError("request body: empty (expected a JSON object)")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise AuthZENError(f"request body: not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise AuthZENError("request body: expected a JSON object")
    return body


class _RequestId:
    """ASGI middleware echoing the request's ``X-Request-ID`` on every answer (errors included)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        request_id = next((value for name, value in scope["headers"] if name == b"x-request-id"), None)
        if request_id is None:
            await self.inner(scope, receive, send)
            return

        async def send_with_id(message: Dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id)]}
            await send(message)

        await self.inner(scope, receive, send_with_id)
