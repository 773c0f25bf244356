"""Flask extension: bearer tokens and Cerbos policies checked in-process, tinyauth-style helpers.

::

    from flask import Flask, jsonify
    from warden.flask import Warden, authorize_or_401

    app = Flask(__name__)
    app.config.update(WARDEN_POLICY_DIR="policies", WARDEN_ISSUER="https://idp.example.com",
                      WARDEN_AUDIENCE="api://apples")
    authz = Warden(app)                                   # or authz.init_app(app) in a factory

    @app.route("/api/v1/apples/list")
    def list_apples():
        authorize_or_401("ListApples", "apples")
        return jsonify([...])

    @app.route("/api/v1/apples/<name>")
    @authz.require("GetApple", "apples", id_arg="name")
    def get_apple(name):
        return jsonify({"name": name, "by": current_principal.id})

With Rego policies (``WARDEN_REGO_DIR``, or ``Warden(app, rego=warden.Rego(...))``),
``@authz.require_rule("data.demoapi.authz.allow")`` decides a rule on the input an
OPA-calling app posts: ``{"method", "api" (the path), "jwt": {"tokenValue"}}``.

Answers follow RFC 6750 with JSON bodies: no token gives 401 with
``WWW-Authenticate: Bearer``, a refused token 401 with ``error="invalid_token"``,
a principal who is denied 403 (``error="insufficient_scope"`` when required OAuth
scopes are missing). ``authorize_or_login`` redirects to the login view instead.

Configuration (``app.config``, read when the app is initialised; defaults below):
``WARDEN_POLICY_DIR`` (Cerbos policies) and/or ``WARDEN_REGO_DIR`` (Rego policies and
data documents); token verification by ``WARDEN_JWKS_URL`` and/or
``WARDEN_ISSUER`` (OIDC discovery when no JWKS URL), ``WARDEN_AUDIENCE``,
``WARDEN_ALGORITHMS``; or ``WARDEN_INTROSPECTION_URL`` with ``WARDEN_CLIENT_ID`` /
``WARDEN_CLIENT_SECRET``; or ``WARDEN_TOKENINFO_URL``; or pass ``verifier=`` to
``Warden``. Token sources: the ``Authorization`` header, ``WARDEN_TOKEN_COOKIE``,
``WARDEN_SESSION_KEY`` (Flask's session). ``WARDEN_LOGIN_VIEW`` is the endpoint
``authorize_or_login`` redirects to. ``WARDEN_BYPASS`` (development only: refused
unless the app is in debug or testing mode, and logged loudly) allows every request
as ``WARDEN_BYPASS_PRINCIPAL``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any, Callable, Dict, NoReturn, Optional, Sequence, Tuple, TypeVar, Union

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from werkzeug.local import LocalProxy

from warden.client import Client
from warden.jwt import Introspector, InvalidToken, JWTVerifier, TokenInfo, www_authenticate
from warden.models import Principal, Resource
from warden.rego import Rego, check_rule, http_input, input_builder_arguments

__all__ = [
    "AuthenticationFailed",
    "AuthorizationFailed",
    "DEFAULTS",
    "Warden",
    "authorize",
    "authorize_or_401",
    "authorize_or_login",
    "authorize_or_raise",
    "authorize_rule",
    "current_principal",
]

log = logging.getLogger("warden.flask")

F = TypeVar("F", bound=Callable[..., Any])
Claims = Dict[str, Any]

#: Configuration keys and their defaults (``app.config.setdefault`` at ``init_app``).
DEFAULTS: Dict[str, Any] = {
    "WARDEN_POLICY_DIR": None,
    "WARDEN_REGO_DIR": None,
    "WARDEN_ISSUER": None,
    "WARDEN_AUDIENCE": None,
    "WARDEN_JWKS_URL": None,
    "WARDEN_ALGORITHMS": None,
    "WARDEN_INTROSPECTION_URL": None,
    "WARDEN_CLIENT_ID": None,
    "WARDEN_CLIENT_SECRET": None,
    "WARDEN_TOKENINFO_URL": None,
    "WARDEN_TOKEN_COOKIE": None,
    "WARDEN_SESSION_KEY": None,
    "WARDEN_HEADER": True,
    "WARDEN_REALM": None,
    "WARDEN_LOGIN_VIEW": "login.login",
    "WARDEN_BYPASS": False,
    "WARDEN_BYPASS_PRINCIPAL": {"id": "warden-bypass", "roles": ["bypass"]},
}


class AuthenticationFailed(Exception):
    """No usable bearer token: answered 401 (or 503 when the provider is unreachable).

    ``error`` is the RFC 6750 code (None when the request carried no token),
    ``description`` is safe to show, ``www_authenticate`` the challenge header.
    """

    def __init__(
        self, description: str, *, error: Optional[str] = None, status_code: int = 401, www_authenticate: str = "Bearer"
    ) -> None:
        super().__init__(description)
        self.description = description
        self.error = error
        self.status_code = status_code
        self.www_authenticate = www_authenticate


class AuthorizationFailed(Exception):
    """The verified principal may not do ``action`` on the resource: answered 403."""

    def __init__(
        self,
        principal: Optional[Principal],
        action: str,
        resource: Optional[Resource],
        *,
        error: str = "forbidden",
        description: Optional[str] = None,
        www_authenticate: Optional[str] = None,
    ) -> None:
        what = f"{resource.kind} {resource.id}" if resource is not None else "this resource"
        self.description = description or f"not allowed to {action} {what}"
        super().__init__(self.description)
        self.principal = principal
        self.action = action
        self.resource = resource
        self.error = error
        self.status_code = 403
        self.www_authenticate = www_authenticate


def _error_response(exc: Union[AuthenticationFailed, AuthorizationFailed]) -> Response:
    body: Dict[str, Any] = {
        "Authorized": False,
        "error": exc.error or "missing_token",
        "error_description": exc.description,
    }
    response = jsonify(body)
    response.status_code = exc.status_code
    if exc.www_authenticate:
        response.headers["WWW-Authenticate"] = exc.www_authenticate
    return response


class _State:
    """Per-app state kept in ``app.extensions["warden"]``."""

    def __init__(
        self, ext: "Warden", app: Flask, client: Optional[Client], rego: Optional[Rego], verifier: Any
    ) -> None:
        self.ext = ext
        self.client = client
        self.engine = client.engine if client is not None else None
        self.rego = rego
        self.verifier = verifier
        self.config = app.config


class Warden:
    """The Flask extension. ``Warden(app)`` or ``authz = Warden(); authz.init_app(app)``.

    ``client`` (a :class:`warden.Client`, an Engine or a policy directory), ``rego``
    (a :class:`warden.Rego`) and ``verifier`` (``JWTVerifier``, ``Introspector``,
    ``TokenInfo``) override the configuration. The extension object holds only settings; each app's state
    lives in ``app.extensions["warden"]``, so application factories work.
    """

    def __init__(
        self, app: Optional[Flask] = None, *, client: Any = None, verifier: Any = None, rego: Optional[Rego] = None
    ) -> None:
        if rego is not None and not isinstance(rego, Rego):
            raise TypeError(f"rego: expected a warden.Rego, got {type(rego).__name__}")
        self._client = client
        self._verifier = verifier
        self._rego = rego
        self._principal_loader: Optional[Callable[[Claims], Principal]] = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read ``app.config``, build the client and verifier, register error handlers."""
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        config = app.config
        if config["WARDEN_BYPASS"]:
            if not (app.debug or app.testing):
                raise RuntimeError(
                    "WARDEN_BYPASS is set but the app is neither in debug nor in testing mode: refusing to start "
                    "with authentication and authorization switched off"
                )
            log.warning("!" * 72)
            log.warning(
                "WARDEN_BYPASS is ON for %s: every request is allowed WITHOUT authentication or policy checks", app.name
            )
            log.warning("!" * 72)
        client = _make_client(self._client if self._client is not None else config["WARDEN_POLICY_DIR"])
        rego = self._rego
        if rego is None and config["WARDEN_REGO_DIR"]:
            rego = Rego.from_directory(config["WARDEN_REGO_DIR"])
        verifier = self._verifier if self._verifier is not None else _make_verifier(config)
        if not config["WARDEN_BYPASS"]:
            if client is None and rego is None:
                raise RuntimeError(
                    "warden: set WARDEN_POLICY_DIR or WARDEN_REGO_DIR (or pass client= or rego= to Warden)"
                )
            if verifier is None:
                raise RuntimeError(
                    "warden: configure token verification: WARDEN_JWKS_URL or WARDEN_ISSUER, WARDEN_INTROSPECTION_URL, "
                    "WARDEN_TOKENINFO_URL, or pass verifier= to Warden"
                )
        app.extensions["warden"] = _State(self, app, client, rego, verifier)
        app.register_error_handler(AuthenticationFailed, _error_response)
        app.register_error_handler(AuthorizationFailed, _error_response)
        app.context_processor(lambda: {"current_principal": _current_principal()})

    # --- callbacks ------------------------------------------------------------------

    def principal_loader(self, fn: Callable[[Claims], Principal]) -> Callable[[Claims], Principal]:
        """Decorator: ``fn(claims) -> Principal`` replaces the verifier's claim mapping."""
        self._principal_loader = fn
        return fn

    # --- decorator ------------------------------------------------------------------

    def require(
        self,
        action: str,
        kind: str,
        id_arg: Optional[str] = None,
        attr: Union[None, Mapping[str, Any], Callable[..., Optional[Mapping[str, Any]]]] = None,
        *,
        scopes: Sequence[str] = (),
        any_scopes: Sequence[str] = (),
        login: bool = False,
    ) -> Callable[[F], F]:
        """Decorator: run the view only when ``action`` on the resource is allowed.

        The resource id is the view argument ``id_arg`` (the collection,
        ``Resource(kind, kind)``, without one); ``attr`` is a dict, or a callable
        receiving the view's arguments and returning the resource's attributes (None
        answers 404). ``scopes``/``any_scopes`` as in :func:`authorize`. ``login=True`` redirects browsers without a token to the login
        view. OPTIONS requests pass unchecked (CORS preflight), as Flask-Login does.
        """
        _check_name(action, "action")
        _check_name(kind, "kind")

        def decorate(view: F) -> F:
            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if request.method != "OPTIONS":
                    rid = kwargs.get(id_arg) if id_arg else None
                    if id_arg and rid is None:
                        raise TypeError(f"require: the view has no argument {id_arg!r} (id_arg)")
                    helper = authorize_or_login if login else authorize_or_raise
                    if callable(attr):
                        # authenticate before loading, so unknown callers learn nothing (not even a 404)
                        _ensure_authenticated(login)
                        attributes = attr(**kwargs)
                        if attributes is None:
                            abort(404)
                    else:
                        attributes = attr
                    helper(
                        action,
                        kind,
                        None if rid is None else str(rid),
                        attributes,
                        scopes=scopes,
                        any_scopes=any_scopes,
                    )
                return current_app.ensure_sync(view)(*args, **kwargs)

            return wrapper  # type: ignore[return-value]

        return decorate

    def require_rule(
        self,
        rule: str,
        input: Optional[Callable[..., Mapping[str, Any]]] = None,
        *,
        scopes: Sequence[str] = (),
        any_scopes: Sequence[str] = (),
        login: bool = False,
    ) -> Callable[[F], F]:
        """Decorator: run the view only when the Rego ``rule`` is true (see :func:`authorize_rule`).

        ``login=True`` redirects browsers without a token to the login view. OPTIONS
        requests pass unchecked (CORS preflight).
        """
        if self._rego is not None:
            check_rule(self._rego, rule)
        arguments = _input_arguments(input)

        def decorate(view: F) -> F:
            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if request.method != "OPTIONS":
                    if login:
                        _ensure_authenticated(True)
                    _authorize_rule(rule, input, arguments, scopes, any_scopes)
                return current_app.ensure_sync(view)(*args, **kwargs)

            return wrapper  # type: ignore[return-value]

        return decorate


def _check_name(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a non-empty string, got {value!r}")


def _make_client(source: Any) -> Optional[Client]:
    if source is None:
        return None
    if isinstance(source, Client):
        return source
    return Client(source)


def _make_verifier(config: Mapping[str, Any]) -> Any:
    if config["WARDEN_TOKENINFO_URL"]:
        return TokenInfo(config["WARDEN_TOKENINFO_URL"])
    if config["WARDEN_INTROSPECTION_URL"]:
        if not (config["WARDEN_CLIENT_ID"] and config["WARDEN_CLIENT_SECRET"]):
            raise RuntimeError("warden: WARDEN_INTROSPECTION_URL needs WARDEN_CLIENT_ID and WARDEN_CLIENT_SECRET")
        return Introspector(
            config["WARDEN_INTROSPECTION_URL"],
            config["WARDEN_CLIENT_ID"],
            config["WARDEN_CLIENT_SECRET"],
            issuer=config["WARDEN_ISSUER"],
            audience=config["WARDEN_AUDIENCE"],
        )
    if config["WARDEN_JWKS_URL"] or config["WARDEN_ISSUER"]:
        options: Dict[str, Any] = {"issuer": config["WARDEN_ISSUER"], "audience": config["WARDEN_AUDIENCE"]}
        if config["WARDEN_ALGORITHMS"]:
            options["algorithms"] = list(config["WARDEN_ALGORITHMS"])
        if config["WARDEN_JWKS_URL"]:
            return JWTVerifier(jwks_url=config["WARDEN_JWKS_URL"], **options)
        return JWTVerifier(discovery=True, **options)
    return None


def _state() -> _State:
    try:
        return current_app.extensions["warden"]
    except KeyError:
        raise RuntimeError("warden: the app has no Warden extension (Warden(app) or warden.init_app(app))") from None


def _bypass(state: _State) -> bool:
    if not state.config["WARDEN_BYPASS"]:
        return False
    if current_app.debug or current_app.testing:
        return True
    # debug/testing was switched off after start-up: the bypass no longer applies
    log.error("WARDEN_BYPASS ignored: the app is no longer in debug or testing mode")
    return False


def _bypass_principal(state: _State) -> Principal:
    spec = state.config["WARDEN_BYPASS_PRINCIPAL"]
    if isinstance(spec, Principal):
        return spec
    return Principal(spec["id"], set(spec["roles"]), dict(spec.get("attr", {})))


def _token(config: Mapping[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    if config["WARDEN_HEADER"]:
        value = request.headers.get("Authorization")
        if value:
            scheme, _, credentials = value.partition(" ")
            credentials = credentials.strip()
            if scheme.lower() == "bearer" and credentials:
                return credentials, "header"
    if config["WARDEN_TOKEN_COOKIE"]:
        value = request.cookies.get(config["WARDEN_TOKEN_COOKIE"])
        if value:
            return value, "cookie"
    if config["WARDEN_SESSION_KEY"]:
        value = session.get(config["WARDEN_SESSION_KEY"])
        if isinstance(value, str) and value:
            return value, "session"
    return None, None


def _authenticate() -> Tuple[Optional[Principal], Optional[Claims], Optional[AuthenticationFailed]]:
    """(principal, claims, failure) for this request, computed once and kept in ``g``."""
    cached = g.get("_warden_auth")
    if cached is not None:
        return cached
    state = _state()
    if _bypass(state):
        result: Tuple[Any, Any, Any] = (_bypass_principal(state), {}, None)
    else:
        result = _verify(state)
    g._warden_auth = result
    return result


def _verify(state: _State) -> Tuple[Optional[Principal], Optional[Claims], Optional[AuthenticationFailed]]:
    config = state.config
    realm = config["WARDEN_REALM"]
    if state.verifier is None or (state.engine is None and state.rego is None):
        # only reachable when a bypass app leaves debug/testing mode: deny
        return None, None, AuthenticationFailed("authentication is not configured", www_authenticate="Bearer")
    token, source = _token(config)
    if token is None:
        challenge = f'Bearer realm="{realm}"' if realm else "Bearer"
        return None, None, AuthenticationFailed("Not authenticated", www_authenticate=challenge)
    try:
        claims = state.verifier.verify(token)
        loader = state.ext._principal_loader
        principal = loader(claims) if loader is not None else state.verifier.principal(claims)
    except InvalidToken as exc:
        if source == "session" and exc.status_code == 401:
            session.pop(config["WARDEN_SESSION_KEY"], None)  # a token that will never verify again
        if exc.status_code != 401:
            return (
                None,
                None,
                AuthenticationFailed(
                    exc.description or "authentication unavailable",
                    error="temporarily_unavailable",
                    status_code=exc.status_code,
                    www_authenticate="",
                ),
            )
        return (
            None,
            None,
            AuthenticationFailed(
                exc.description or "invalid token", error=exc.error, www_authenticate=www_authenticate(exc, realm)
            ),
        )
    if not isinstance(principal, Principal):
        raise TypeError(f"principal_loader: expected a warden.Principal, got {type(principal).__name__}")
    return principal, claims, None


def _current_principal() -> Optional[Principal]:
    if not has_request_context():
        return None
    return _authenticate()[0]


#: The verified principal of the current request, or None (a proxy, like Flask-Login's ``current_user``).
current_principal: Principal = LocalProxy(_current_principal)  # type: ignore[assignment]


def _scopes(claims: Mapping[str, Any]) -> set:
    found: set = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, (list, tuple)):
            found.update(v for v in value if isinstance(v, str))
    return found


def _scope_failure(
    principal: Principal,
    action: str,
    resource: Optional[Resource],
    granted: set,
    scopes: Sequence[str],
    any_scopes: Sequence[str],
    realm: Optional[str],
) -> Optional[AuthorizationFailed]:
    """The insufficient_scope refusal when the token lacks a required scope, else None."""
    required = [scopes] if isinstance(scopes, str) else list(scopes)
    alternatives = [any_scopes] if isinstance(any_scopes, str) else list(any_scopes)
    missing = [s for s in required if s not in granted]
    if alternatives and not granted.intersection(alternatives):
        missing.append(" or ".join(alternatives))
    if not missing:
        return None
    wanted = " ".join(required + alternatives)
    description = f"the token lacks scope {', '.join(missing)}"
    parts = ([f'realm="{realm}"'] if realm else []) + [
        'error="insufficient_scope"',
        f'error_description="{description}"',
        f'scope="{wanted}"',
    ]
    return AuthorizationFailed(
        principal,
        action,
        resource,
        error="insufficient_scope",
        description=description,
        www_authenticate="Bearer " + ", ".join(parts),
    )


def _authenticated() -> Tuple[_State, Principal, Optional[Claims], bool]:
    """(state, principal, claims, bypassed) for a request that must be authenticated; raises
    ``AuthenticationFailed`` otherwise. ``bypassed``: WARDEN_BYPASS applies, decide nothing."""
    state = _state()
    principal, claims, failure = _authenticate()
    if state.config["WARDEN_BYPASS"] and _bypass(state):
        return state, principal, claims, True  # type: ignore[return-value]
    if failure is not None:
        raise failure
    assert principal is not None
    return state, principal, claims, False


def authorize(
    action: str,
    kind: str,
    id: Optional[str] = None,  # noqa: A002 - tinyauth's name
    attr: Optional[Mapping[str, Any]] = None,
    *,
    scopes: Sequence[str] = (),
    any_scopes: Sequence[str] = (),
) -> Principal:
    """Authenticate the request and decide ``action`` on ``Resource(id or kind, kind, attr)``.

    ``scopes`` must all be granted by the token, and at least one of ``any_scopes``
    when given (403 ``insufficient_scope`` otherwise), before the policy decides.
    Returns the principal; raises ``AuthenticationFailed`` or ``AuthorizationFailed``.
    """
    state, principal, claims, bypassed = _authenticated()
    if bypassed:
        return principal
    if state.engine is None:
        raise RuntimeError(
            "warden: no Cerbos policies (set WARDEN_POLICY_DIR); this app decides Rego rules (authorize_rule)"
        )
    resource = Resource(str(id) if id not in (None, "") else kind, kind, attr=dict(attr) if attr else {})
    refusal = _scope_failure(
        principal, action, resource, _scopes(claims or {}), scopes, any_scopes, state.config["WARDEN_REALM"]
    )
    if refusal is not None:
        raise refusal
    if not state.engine.is_allowed(principal, resource, action=action):
        raise AuthorizationFailed(principal, action, resource)
    return principal


def authorize_rule(
    rule: str,
    input: Optional[Callable[..., Mapping[str, Any]]] = None,  # noqa: A002 - the Rego word
    *,
    scopes: Sequence[str] = (),
    any_scopes: Sequence[str] = (),
) -> Principal:
    """Authenticate the request and evaluate the Rego ``rule`` (e.g. ``"data.demoapi.authz.allow"``).

    The input is ``{"method", "api" (the path), "jwt": {"tokenValue"}}``, what the
    Okta + OPA apps post to OPA; ``input`` builds another, called with the keyword
    arguments it names among ``request``, ``token``, ``claims`` and ``principal``.
    Only ``true`` allows. Returns the principal; raises ``AuthenticationFailed`` (401)
    or ``AuthorizationFailed`` (403), which the extension answers as JSON.
    """
    return _authorize_rule(rule, input, _input_arguments(input), scopes, any_scopes)


def _input_arguments(build: Optional[Callable[..., Any]]) -> Tuple[str, ...]:
    if build is None:
        return ()
    if not callable(build):
        raise TypeError(f"input: expected a callable building the input document, got {type(build).__name__}")
    return input_builder_arguments(build)


def _authorize_rule(
    rule: str,
    build: Optional[Callable[..., Any]],
    arguments: Tuple[str, ...],
    scopes: Sequence[str],
    any_scopes: Sequence[str],
) -> Principal:
    state, principal, claims, bypassed = _authenticated()
    if bypassed:
        return principal
    if state.rego is None:
        raise RuntimeError("warden: no Rego policies (set WARDEN_REGO_DIR or pass rego= to Warden)")
    refusal = _scope_failure(
        principal, rule, None, _scopes(claims or {}), scopes, any_scopes, state.config["WARDEN_REALM"]
    )
    if refusal is not None:
        raise refusal
    token = _token(state.config)[0]
    if build is None:
        document: Any = http_input(request.method, request.path, token)
    else:
        available = {"request": request, "token": token, "claims": claims, "principal": principal}
        document = build(**{name: available[name] for name in arguments})
    if not state.rego.allowed(rule, document):
        raise AuthorizationFailed(principal, rule, None, description=f"not allowed by {rule}")
    return principal


def _ensure_authenticated(login: bool) -> None:
    """Raise (or redirect, for ``login``) unless the request carries a valid token."""
    state = _state()
    if _bypass(state):
        return
    failure = _authenticate()[2]
    if failure is None:
        return
    if login and failure.status_code == 401:
        _redirect_to_login()
    raise failure


def _redirect_to_login() -> NoReturn:
    view = current_app.config["WARDEN_LOGIN_VIEW"]
    target = view if view.startswith("/") else url_for(view)
    nxt = request.full_path if request.query_string else request.path
    abort(redirect(target + ("&" if "?" in target else "?") + "next=" + _quote(nxt), code=303))


def authorize_or_raise(
    action: str,
    kind: str,
    id: Optional[str] = None,  # noqa: A002 - tinyauth's name
    attr: Optional[Mapping[str, Any]] = None,
    *,
    scopes: Sequence[str] = (),
    any_scopes: Sequence[str] = (),
) -> Principal:
    """As tinyauth's: raise ``AuthenticationFailed`` / ``AuthorizationFailed`` for ``app.errorhandler``.

    Without a handler of its own the app answers them as ``authorize_or_401`` does.
    """
    return authorize(action, kind, id, attr, scopes=scopes, any_scopes=any_scopes)


def authorize_or_401(
    action: str,
    kind: str,
    id: Optional[str] = None,  # noqa: A002 - tinyauth's name
    attr: Optional[Mapping[str, Any]] = None,
    *,
    scopes: Sequence[str] = (),
    any_scopes: Sequence[str] = (),
) -> Principal:
    """As tinyauth's: abort with a JSON answer unless allowed; returns the principal.

    401 (with ``WWW-Authenticate``) when the request is not authenticated; a principal
    who is denied gets 403, as RFC 6750 asks (tinyauth answered 401 to both).
    """
    try:
        return authorize(action, kind, id, attr, scopes=scopes, any_scopes=any_scopes)
    except (AuthenticationFailed, AuthorizationFailed) as exc:
        abort(_error_response(exc))


def authorize_or_login(
    action: str,
    kind: str,
    id: Optional[str] = None,  # noqa: A002 - tinyauth's name
    attr: Optional[Mapping[str, Any]] = None,
    *,
    scopes: Sequence[str] = (),
    any_scopes: Sequence[str] = (),
) -> Principal:
    """As tinyauth's, for pages: redirect to ``WARDEN_LOGIN_VIEW`` (with ``?next=``) when not signed in.

    A signed-in principal who is denied gets 403 rather than the login page, which
    could only send them back here.
    """
    try:
        return authorize(action, kind, id, attr, scopes=scopes, any_scopes=any_scopes)
    except AuthenticationFailed as exc:
        if exc.status_code != 401:
            abort(_error_response(exc))
        _redirect_to_login()
    except AuthorizationFailed as exc:
        abort(_error_response(exc))


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
