"""Who is calling: a Django request's bearer token found, verified and mapped to a Principal, once per request.

The middleware, the DRF authentication class and the view decorator all ask :func:`authenticate`,
which keeps its answer on the ``HttpRequest``: however many of them a request passes through, the
token is verified once. Where the token is looked for, and the RFC 6750 answers, are
:mod:`warden._web`'s, shared with FastAPI and Flask.
"""

from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse

from warden._access import RequestFacts, refused
from warden._web import Refusal, authentication_refusal
from warden.django.conf import Runtime, runtime
from warden.jwt import InvalidToken
from warden.models import Principal

__all__ = ["Authentication", "authenticate", "authenticate_async", "principal_of", "refusal_response"]

#: the HttpRequest attribute keeping the request's Authentication
ATTRIBUTE = "_warden_authentication"


class Authentication(NamedTuple):
    """What authenticating one request found."""

    principal: Optional[Principal]
    claims: Optional[Dict[str, Any]]
    #: why there is no principal although a token was given (None: no token, or a principal)
    error: Optional[InvalidToken]
    token: Optional[str]
    #: where the token was found: "header", "cookie" or "session" (None without a token)
    source: Optional[str] = None

    def refusal(self, realm: Optional[str]) -> Refusal:
        """The RFC 6750 answer for a request without a principal (401, or 503 when the provider is unreachable)."""
        return authentication_refusal(self.error, realm)


NO_TOKEN = Authentication(None, None, None, None)


def _http_request(request: Any) -> HttpRequest:
    # a DRF Request wraps the HttpRequest: keep the answer on the one both see
    return getattr(request, "_request", request)


def authenticate(request: Any) -> Authentication:
    """The request's :class:`Authentication` (verified on the first call, then kept on the request)."""
    http = _http_request(request)
    found = http.__dict__.get(ATTRIBUTE)
    if found is None:
        rt = runtime()
        token, source = rt.sources.find(http)
        if token is None:
            found = NO_TOKEN
        else:
            try:
                claims = rt.verifier.verify(token)
            except InvalidToken as exc:
                found = _refused(rt, http, token, source, exc)
            else:
                found = _mapped(rt, http, token, source, claims)
        _keep(http, found)
    return found


async def authenticate_async(request: Any) -> Authentication:
    """As :func:`authenticate`, without blocking the event loop on a key fetch or an introspection call."""
    http = _http_request(request)
    found = http.__dict__.get(ATTRIBUTE)
    if found is not None:
        return found
    rt = runtime()
    verify_async = getattr(rt.verifier, "verify_async", None)
    if verify_async is None or rt.sources.session_key:
        # a session is read from its store (the database, a cache): Django's sync world
        return await sync_to_async(authenticate)(http)
    token, source = rt.sources.find(http)
    if token is None:
        found = NO_TOKEN
    else:
        try:
            claims = await verify_async(token)
        except InvalidToken as exc:
            found = _refused(rt, http, token, source, exc)
        else:
            found = _mapped(rt, http, token, source, claims)
    _keep(http, found)
    return found


def _keep(request: HttpRequest, found: Authentication) -> None:
    setattr(request, ATTRIBUTE, found)
    request.principal = found.principal  # type: ignore[attr-defined]  # as the middleware sets it


def _mapped(
    rt: Runtime, request: HttpRequest, token: str, source: Optional[str], claims: Dict[str, Any]
) -> Authentication:
    try:
        principal = rt.to_principal(claims)
    except InvalidToken as exc:  # the mapping refuses claims it cannot use (no subject, ...)
        return _refused(rt, request, token, source, exc)
    if not isinstance(principal, Principal):
        raise TypeError(f"PRINCIPAL_MAPPER: expected a warden.Principal, got {type(principal).__name__}")
    return Authentication(principal, claims, None, token, source)


def _refused(
    rt: Runtime, request: HttpRequest, token: str, source: Optional[str], error: InvalidToken
) -> Authentication:
    rt.sources.forget(request, source, error)
    refused(rt.engine, lambda: request_facts(request), error)
    return Authentication(None, None, error, token, source)


def request_facts(request: HttpRequest) -> RequestFacts:
    """The request as decision-log entries and access-log lines describe it (route pattern, peer, headers)."""
    match = getattr(request, "resolver_match", None)
    headers = request.headers
    return RequestFacts(
        method=request.method or "",
        route="/" + match.route if match is not None and match.route else request.path,
        address=request.META.get("REMOTE_ADDR"),
        user_agent=headers.get("User-Agent"),
        forwarded_for=headers.get("X-Forwarded-For"),
        request_id=headers.get("X-Request-ID"),
        headers=dict(headers),
    )


def principal_of(request: Any) -> Optional[Principal]:
    """The request's verified principal, or None (no token, or a refused one)."""
    return authenticate(request).principal


def refusal_response(refusal: Refusal) -> HttpResponse:
    """A JSON answer for ``refusal``: ``{"error", "error_description"}`` with its status and challenge header."""
    body = {"error": refusal.error or "unauthorized", "error_description": refusal.description}
    response = JsonResponse(body, status=refusal.status)
    if refusal.www_authenticate:
        response["WWW-Authenticate"] = refusal.www_authenticate
    return response
