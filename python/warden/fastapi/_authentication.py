"""Who is calling: the request's token found, verified and mapped to a Principal, once per request."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, NamedTuple, Optional, Sequence, Union

from fastapi import HTTPException, Request
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase
from starlette.concurrency import run_in_threadpool

from warden._access import RequestFacts, refused
from warden._web import (
    Refusal,
    TokenSources,
    authentication_refusal,
    is_async,
    login_location,
    missing_scopes_refusal,
)
from warden.fastapi._openapi import SecurityScheme
from warden.fastapi._token_cache import TokenCache
from warden.jwt import InvalidToken
from warden.models import Principal

Claims = Dict[str, Any]
#: Turns verified claims into the request's Principal (sync or async).
PrincipalMapper = Callable[[Claims], Union[Principal, Awaitable[Principal]]]


class StarletteTokenSources(TokenSources[Request]):
    """:class:`warden._web.TokenSources` reading a Starlette request."""

    __slots__ = ()

    def authorization(self, request: Request) -> Optional[str]:
        # read the ASGI header list directly: building Starlette's Headers costs more than
        # the rest of a cached token check (ASGI servers give header names in lower case)
        for name, raw in request.scope["headers"]:
            if name == b"authorization":
                return raw.decode("latin-1")  # the first one decides, as Headers.get would
        return None

    def cookie_value(self, request: Request, name: str) -> Optional[str]:
        return request.cookies.get(name)

    def session(self, request: Request) -> Any:
        session = request.scope.get("session")
        if session is None:
            raise RuntimeError(
                "warden: session_key is set but the app has no SessionMiddleware "
                "(app.add_middleware(SessionMiddleware, secret_key=...))"
            )
        return session


class ClaimsToPrincipal:
    """The mapping from verified claims to the request's :class:`Principal`.

    ``mapper`` may be sync or async. The verifier's own mapping (``mapper=None``) is a
    pure function of the claims, so its principal may be cached with them
    (``cacheable``); a custom mapper may consult the app's data and runs every time.
    """

    __slots__ = ("mapper", "cacheable", "_is_async")

    def __init__(self, verifier: Any, mapper: Optional[PrincipalMapper]) -> None:
        self.cacheable = mapper is None
        if mapper is None:
            mapper = getattr(verifier, "principal", None)
            if mapper is None:
                raise TypeError("principal_mapper: required when the verifier has no principal() method")
        self.mapper: PrincipalMapper = mapper
        self._is_async = is_async(mapper)

    async def __call__(self, claims: Claims) -> Principal:
        mapped: Any = self.mapper(claims)
        principal = await mapped if self._is_async else mapped
        if not isinstance(principal, Principal):
            raise TypeError(f"principal_mapper: expected a warden.Principal, got {type(principal).__name__}")
        return principal


class Authentication(NamedTuple):
    """What authenticating one request found (kept in its ASGI scope)."""

    principal: Optional[Principal]
    claims: Optional[Claims]
    #: why there is no principal when a token was given (None: no token, or a principal)
    error: Optional[InvalidToken]
    token: Optional[str]


_NO_TOKEN = Authentication(None, None, None, None)
# Authentication(...) without NamedTuple's Python-level __new__: the request path makes one per request
_new_authentication = tuple.__new__


class Authenticator:
    """Finds the request's token (``sources``), verifies it (``verify_async``, or ``verify``
    in the thread pool), maps the claims to a Principal (``to_principal``) and keeps the
    result in the ASGI scope, so several warden dependencies of one request verify the
    token once. Verified JWTs may be kept in ``token_cache`` across requests. Refusals
    follow RFC 6750 (``realm`` in the challenges).
    """

    def __init__(
        self,
        verifier: Any,
        sources: StarletteTokenSources,
        to_principal: ClaimsToPrincipal,
        token_cache: Optional[TokenCache],
        realm: Optional[str],
    ) -> None:
        self.verifier = verifier
        verify_async = getattr(verifier, "verify_async", None)
        #: ``await verify(token)`` gives the verified claims or raises InvalidToken
        self.verify: Callable[[str], Awaitable[Claims]] = (
            verify_async if verify_async is not None else self._verify_in_thread
        )
        self.sources = sources
        self.to_principal = to_principal
        self.token_cache = token_cache
        self.realm = realm
        # the key of the request's Authentication in the ASGI scope
        self.scope_key = f"warden.{id(self):x}"

    #: The Cerbos engine whose decision log records token failures (set by ``Warden``).
    engine: Any = None

    async def _verify_in_thread(self, token: str) -> Claims:
        return await run_in_threadpool(self.verifier.verify, token)

    async def authenticate(self, request: Request) -> Authentication:
        """The request's :class:`Authentication`, found on the first call and kept for the request."""
        state = request.scope.get(self.scope_key)
        if state is None:
            state = request.scope[self.scope_key] = await self._authenticate(request)
        return state

    async def authenticated(self, request: Request, login_url: Optional[str] = None) -> Authentication:
        """As :meth:`authenticate`, raising the refusal when there is no principal."""
        state = request.scope.get(self.scope_key)
        if state is None:
            state = request.scope[self.scope_key] = await self._authenticate(request)
        if state.principal is None:
            raise self.refusal(request, state.error, login_url)
        return state

    async def _authenticate(self, request: Request) -> Authentication:
        token, source = self.sources.find(request)
        if token is None:
            return _NO_TOKEN
        cache = self.token_cache
        try:
            hit = None if cache is None else cache.get(token)
            if hit is not None and hit[1] is not None:
                return _new_authentication(Authentication, (copy_principal(hit[1]), hit[0], None, token))
            claims = hit[0] if hit is not None else await self.verify(token)
            principal = await self.to_principal(claims)
        except InvalidToken as exc:
            self.sources.forget(request, source, exc)
            refused(self.engine, lambda: request_facts(request), exc)
            return Authentication(None, None, exc, token)
        if hit is None and cache is not None:
            cache.put(token, claims, copy_principal(principal) if self.to_principal.cacheable else None)
        return _new_authentication(Authentication, (principal, claims, None, token))

    def refusal(self, request: Request, error: Optional[InvalidToken], login_url: Optional[str]) -> HTTPException:
        """401 (or 503 when the token could not be checked); for browser routes (``login_url``), a 303 to the login page."""
        if login_url and (error is None or error.status_code == 401):
            return HTTPException(303, "sign in required", headers={"Location": _login_location(request, login_url)})
        refusal = authentication_refusal(error, self.realm)
        return HTTPException(refusal.status, refusal.description, headers=_challenge_header(refusal))

    def check_scopes(self, claims: Optional[Claims], all_of: Sequence[str], any_of: Sequence[str] = ()) -> None:
        """Raise 403 ``insufficient_scope`` unless the token grants the scopes."""
        refusal = missing_scopes_refusal(claims, tuple(all_of), tuple(any_of), self.realm)
        if refusal is not None:
            raise HTTPException(403, f"{refusal.error}: {refusal.description}", headers=_challenge_header(refusal))


def request_facts(request: Request) -> RequestFacts:
    """The request as decision-log entries and access-log lines describe it (route template, peer, headers)."""
    route = request.scope.get("route")
    headers = request.headers
    return RequestFacts(
        method=request.method,
        route=getattr(route, "path", None) or request.url.path,
        address=request.client.host if request.client else None,
        user_agent=headers.get("user-agent"),
        forwarded_for=headers.get("x-forwarded-for"),
        request_id=headers.get("x-request-id"),
        headers=dict(headers),
    )


def copy_principal(p: Principal) -> Principal:
    """A copy for one request, so a route changing its principal cannot affect the next request."""
    return Principal(p.id, set(p.roles), dict(p.attr), p.policy_version, p.scope)


def _challenge_header(refusal: Refusal) -> Optional[Dict[str, str]]:
    return None if refusal.www_authenticate is None else {"WWW-Authenticate": refusal.www_authenticate}


def _login_location(request: Request, login_url: str) -> str:
    if not (login_url.startswith("/") or "://" in login_url):
        login_url = str(request.url_for(login_url))  # a route name
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return login_location(login_url, here)


class PrincipalDependency(SecurityBase):
    """A FastAPI security dependency giving the request's verified :class:`Principal`.

    Made by :class:`warden.fastapi.Warden` (``authz.principal``,
    ``authz.optional_principal``, ``authz.login_required()``); as a ``SecurityBase`` it
    puts the security scheme on every route that uses it, directly or through
    ``authz.require``. With ``Security(authz.principal, scopes=[...])`` the token must
    grant those OAuth scopes.
    """

    def __init__(
        self,
        authenticator: Authenticator,
        scheme: SecurityScheme,
        *,
        optional: bool = False,
        login_url: Optional[str] = None,
    ) -> None:
        self.authenticator = authenticator
        self.optional = optional
        self.login_url = login_url
        self.model = scheme.model
        self.scheme_name = scheme.scheme_name

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> Optional[Principal]:
        state = await self.authenticator.authenticate(request)
        if state.principal is None:
            if self.optional:
                return None
            raise self.authenticator.refusal(request, state.error, self.login_url)
        if security_scopes.scopes:
            self.authenticator.check_scopes(state.claims, security_scopes.scopes)
        return state.principal

    def __repr__(self) -> str:
        return f"PrincipalDependency(optional={self.optional}, login_url={self.login_url!r})"
