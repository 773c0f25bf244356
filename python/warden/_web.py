"""What the FastAPI and Flask integrations share, free of either framework.

As FastAPI keeps header parsing in ``fastapi/security/utils.py``, the pieces both
integrations need live here once: each integration reads its own request and turns a
:class:`Refusal` into its own answer (an ``HTTPException``, a JSON response).

- route declarations: :func:`check_name`;
- tokens: :func:`bearer_credentials` (RFC 6750 §2.1) and :class:`TokenSources` (the
  header, a cookie, a session key, in that order);
- OAuth scopes: :func:`parse_scopes` (RFC 6749 §3.3: ``"read write"`` is two scopes),
  :func:`token_scopes` and :class:`ScopeRequirement`;
- answers (RFC 6750 §3): :class:`Refusal`, :func:`authentication_refusal`,
  :func:`bearer_challenge`;
- Rego rules: :class:`RuleInput`, the input document a rule is decided on;
- browsers: :func:`login_location`.
"""

from __future__ import annotations

import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, Callable, Generic, NamedTuple, Optional, Tuple, TypeVar, Union
from urllib.parse import urlencode

from warden.jwt import InvalidToken, www_authenticate
from warden.jwt import _quote as _quote_parameter  # RFC 6750 §3 quoting: one rule for every challenge
from warden.models import Principal
from warden.rego import http_input, input_builder_arguments

__all__ = [
    "Refusal",
    "RuleInput",
    "ScopeRequirement",
    "TokenSources",
    "authentication_refusal",
    "bearer_challenge",
    "bearer_credentials",
    "check_name",
    "is_async",
    "login_location",
    "missing_scopes_refusal",
    "parse_scopes",
    "token_scopes",
]

RequestT = TypeVar("RequestT")
Claims = Mapping[str, Any]


def check_name(value: Any, field: str) -> str:
    """``value`` when it is a non-empty string (an action, a resource kind); ValueError naming ``field`` otherwise."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field}: expected a non-empty string, got {value!r}")
    return value


def is_async(fn: Any) -> bool:
    """Whether calling ``fn`` (a function or a callable object) gives an awaitable."""
    return inspect.iscoroutinefunction(fn) or (callable(fn) and inspect.iscoroutinefunction(type(fn).__call__))


# --- tokens ----------------------------------------------------------------------------


def bearer_credentials(authorization: Optional[str]) -> Optional[str]:
    """The token of an ``Authorization: Bearer <token>`` header value, or None (another scheme, no token)."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    return credentials if credentials and scheme.lower() == "bearer" else None


class TokenSources(ABC, Generic[RequestT]):
    """Where a request's bearer token is looked for, in order: the ``Authorization``
    header (``header``), the cookie ``cookie``, the session key ``session_key``.

    The order and the rules are here; a framework says how to read its request by
    implementing :meth:`authorization`, :meth:`cookie_value` and :meth:`session`.
    """

    __slots__ = ("header", "cookie", "session_key")

    def __init__(self, *, header: bool = True, cookie: Optional[str] = None, session_key: Optional[str] = None) -> None:
        self.header = header
        self.cookie = cookie
        self.session_key = session_key

    def __bool__(self) -> bool:
        return bool(self.header or self.cookie or self.session_key)

    def find(self, request: RequestT) -> Tuple[Optional[str], Optional[str]]:
        """``(token, source)`` with source ``"header"``, ``"cookie"`` or ``"session"``; ``(None, None)`` without one."""
        if self.header:
            token = bearer_credentials(self.authorization(request))
            if token:
                return token, "header"
        if self.cookie:
            value = self.cookie_value(request, self.cookie)
            if value:
                return value, "cookie"
        if self.session_key:
            value = self.session(request).get(self.session_key)
            if isinstance(value, str) and value:
                return value, "session"
        return None, None

    def forget(self, request: RequestT, source: Optional[str], error: InvalidToken) -> None:
        """Drop a session token the verifier refused: it will never verify (an outage keeps it)."""
        if source == "session" and error.status_code == 401 and self.session_key:
            self.session(request).pop(self.session_key, None)

    @abstractmethod
    def authorization(self, request: RequestT) -> Optional[str]:
        """The request's first ``Authorization`` header value, or None."""

    @abstractmethod
    def cookie_value(self, request: RequestT, name: str) -> Optional[str]:
        """The value of the request's cookie ``name``, or None."""

    @abstractmethod
    def session(self, request: RequestT) -> MutableMapping[str, Any]:
        """The request's session (raise a clear error when the app has none)."""


# --- OAuth scopes ----------------------------------------------------------------------

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), so it also fits a quoted challenge parameter
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def parse_scopes(value: Union[str, Iterable[str]], field: str = "scopes") -> Tuple[str, ...]:
    """OAuth scopes as a route declares them: a space-separated string (RFC 6749 §3.3, as
    in a token's ``scope`` claim: ``"read write"`` is two scopes) or a list of scopes.

    Each scope must be a scope-token of RFC 6749 (printable ASCII without space, ``"``
    or ``\\``): anything else could never match a token's scopes.
    """
    if isinstance(value, str):
        items: list = value.split()
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        items = list(value)
    else:
        raise TypeError(f"{field}: expected a space-separated string or a list of scopes, got {type(value).__name__}")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{field}[{i}]: expected a string, got {type(item).__name__}")
        if not _SCOPE_TOKEN.fullmatch(item):
            raise ValueError(
                f"{field}[{i}]: {item!r} is not an OAuth scope (printable ASCII without space, quote or backslash; "
                "give several scopes as a list or one space-separated string)"
            )
    return tuple(items)


def token_scopes(claims: Mapping[str, Any]) -> frozenset:
    """The OAuth scopes a token grants: ``scope`` (space-separated string or list, as in
    RFC 8693/9068 and STUPS tokeninfo) and ``scp`` (Okta, Azure AD)."""
    found: set = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, (list, tuple)):
            found.update(v for v in value if isinstance(v, str))
    return frozenset(found)


class Refusal(NamedTuple):
    """An answer refusing a request, for a framework to send.

    ``error`` is the RFC 6750 code (None when the request carried no token),
    ``description`` is safe to show, ``www_authenticate`` the challenge header (None: no header).
    """

    status: int
    error: Optional[str]
    description: str
    www_authenticate: Optional[str]


def missing_scopes_refusal(
    claims: Optional[Claims], all_of: Tuple[str, ...], any_of: Tuple[str, ...], realm: Optional[str]
) -> Optional[Refusal]:
    """403 ``insufficient_scope`` unless the token grants every scope of ``all_of`` and,
    when ``any_of`` is given, one of ``any_of``; None when it does."""
    granted = token_scopes(claims or {})
    missing = [s for s in all_of if s not in granted]
    if any_of and not granted.intersection(any_of):
        missing.append(" or ".join(any_of))
    if not missing:
        return None
    description = f"the token lacks scope {', '.join(missing)}"
    challenge = bearer_challenge(
        realm, error="insufficient_scope", error_description=description, scope=" ".join(all_of + any_of)
    )
    return Refusal(403, "insufficient_scope", description, challenge)


class ScopeRequirement(NamedTuple):
    """The OAuth scopes a route requires: every one of ``all_of`` and, when given, one of ``any_of``."""

    all_of: Tuple[str, ...] = ()
    any_of: Tuple[str, ...] = ()

    @classmethod
    def parse(
        cls, scopes: Union[str, Iterable[str]] = (), any_scopes: Union[str, Iterable[str]] = ()
    ) -> ScopeRequirement:
        """From a route's ``scopes=`` and ``any_scopes=`` (see :func:`parse_scopes`)."""
        return cls(parse_scopes(scopes, "scopes"), parse_scopes(any_scopes, "any_scopes"))

    def refusal(self, claims: Optional[Claims], realm: Optional[str]) -> Optional[Refusal]:
        """403 ``insufficient_scope`` when the token's scopes fall short, else None."""
        if not (self.all_of or self.any_of):
            return None
        return missing_scopes_refusal(claims, self.all_of, self.any_of, realm)


# --- answers -----------------------------------------------------------------------------


def bearer_challenge(realm: Optional[str] = None, **parameters: str) -> str:
    """A ``WWW-Authenticate`` value: ``Bearer`` with ``realm`` first, then ``parameters`` (RFC 6750 §3)."""
    if realm:
        parameters = {"realm": realm, **parameters}
    if not parameters:
        return "Bearer"
    return "Bearer " + ", ".join(f'{name}="{_quote_parameter(value)}"' for name, value in parameters.items())


def authentication_refusal(error: Optional[InvalidToken], realm: Optional[str]) -> Refusal:
    """The answer to a request without a verified principal.

    No token: 401 with a bare challenge. A refused token: 401 ``invalid_token``. A
    token that could not be checked (the provider is unreachable): its status (503)
    without a challenge, since the client's token is not at fault.
    """
    if error is None:
        return Refusal(401, None, "Not authenticated", bearer_challenge(realm))
    if error.status_code != 401:
        return Refusal(
            error.status_code, "temporarily_unavailable", error.description or "authentication unavailable", None
        )
    return Refusal(401, error.error, error.description or "invalid token", www_authenticate(error, realm))


def login_location(login_url: str, next_path: str) -> str:
    """``login_url`` with ``next=<the page asked for>`` added to its query."""
    return login_url + ("&" if "?" in login_url else "?") + urlencode({"next": next_path})


# --- Rego rules ------------------------------------------------------------------------------


class RuleInput:
    """The input document a Rego rule is decided on.

    By default the one the Okta + OPA apps post to OPA: ``{"method", "api" (the path),
    "jwt": {"tokenValue"}}``. With ``build``, what it returns: it is called with the
    keyword arguments it names among ``request``, ``token``, ``claims`` and
    ``principal`` (an unknown name is refused here, when the route is declared).
    """

    __slots__ = ("build", "arguments", "is_async")

    def __init__(self, build: Optional[Callable[..., Any]] = None) -> None:
        if build is not None and not callable(build):
            raise TypeError(f"input: expected a callable building the input document, got {type(build).__name__}")
        self.build = build
        self.arguments: Tuple[str, ...] = () if build is None else input_builder_arguments(build)
        #: whether :meth:`document` gives an awaitable
        self.is_async = build is not None and is_async(build)

    def document(
        self,
        *,
        method: str,
        path: str,
        token: Optional[str],
        request: Any,
        claims: Optional[Claims],
        principal: Principal,
    ) -> Any:
        """The input document for this request (an awaitable when the builder is async)."""
        if self.build is None:
            return http_input(method, path, token)
        available = {"request": request, "token": token, "claims": claims, "principal": principal}
        return self.build(**{name: available[name] for name in self.arguments})
