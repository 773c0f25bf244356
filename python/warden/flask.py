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

List endpoints filter in the database: ``authorized_query("apples", "GetApple", Apple, ATTRS)``
is ``select(Apple)`` restricted to the rows the principal may act on (``plan(...)`` gives
the query plan itself; see ``warden.sqlalchemy``).

With Rego policies (``WARDEN_REGO_DIR``, or ``Warden(app, rego=warden.Rego(...))``),
``@authz.require_rule("data.demoapi.authz.allow")`` decides a rule on the input an
OPA-calling app posts: ``{"method", "api" (the path), "jwt": {"tokenValue"}}``.

Answers follow RFC 6750 with JSON bodies: no token gives 401 with
``WWW-Authenticate: Bearer``, a refused token 401 with ``error="invalid_token"``,
a principal who is denied 403 (``error="insufficient_scope"`` when required OAuth
scopes are missing). ``authorize_or_login`` redirects to the login view instead.
Required scopes (``scopes=``, ``any_scopes=``) are a space-separated string, as RFC 6749
§3.3 writes them (``"read write"`` is two scopes), or a list, as in ``warden.fastapi``.

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
from typing import Any, Callable, Dict, Iterable, NoReturn, Optional, Tuple, TypeVar, Union

from flask import (
    Flask,
    Request,
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

from warden._access import RequestFacts, decide, refused
from warden._planning import everything, plan_for
from warden._web import (
    Refusal,
    RuleInput,
    ScopeRequirement,
    TokenSources,
    authentication_refusal,
    check_name,
    login_location,
)
from warden.client import Client
from warden.jwt import Introspector, InvalidToken, JWTVerifier, TokenInfo
from warden.models import PlanResourcesResponse, Principal, Resource
from warden.rego import Rego, check_rule

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
    "authorized_query",
    "current_principal",
    "plan",
]

log = logging.getLogger("warden.flask")

F = TypeVar("F", bound=Callable[..., Any])
Claims = Dict[str, Any]
#: OAuth scopes: a space-separated string (RFC 6749 §3.3: ``"read write"`` is two scopes) or a list of scopes.
Scopes = Union[str, Iterable[str]]

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

    @classmethod
    def from_refusal(cls, refusal: Refusal) -> AuthenticationFailed:
        """The exception answering ``refusal`` (401, or 503 when the provider is unreachable)."""
        return cls(
            refusal.description,
            error=refusal.error,
            status_code=refusal.status,
            www_authenticate=refusal.www_authenticate or "",
        )


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

    # --- decorators -----------------------------------------------------------------

    def require(
        self,
        action: str,
        kind: str,
        id_arg: Optional[str] = None,
        attr: Union[None, Mapping[str, Any], Callable[..., Optional[Mapping[str, Any]]]] = None,
        *,
        scopes: Scopes = (),
        any_scopes: Scopes = (),
        login: bool = False,
    ) -> Callable[[F], F]:
        """Decorator: run the view only when ``action`` on the resource is allowed.

        The resource id is the view argument ``id_arg`` (the collection,
        ``Resource(kind, kind)``, without one); ``attr`` is a dict, or a callable
        receiving the view's arguments and returning the resource's attributes (None
        answers 404). ``scopes``/``any_scopes`` as in :func:`authorize`. ``login=True`` redirects browsers without a token to the login
        view. OPTIONS requests pass unchecked (CORS preflight), as Flask-Login does.
        """
        check_name(action, "action")
        check_name(kind, "kind")
        required = ScopeRequirement.parse(scopes, any_scopes)

        def decorate(view: F) -> F:
            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if request.method != "OPTIONS":
                    rid = kwargs.get(id_arg) if id_arg else None
                    if id_arg and rid is None:
                        raise TypeError(f"require: the view has no argument {id_arg!r} (id_arg)")
                    if callable(attr):
                        # authenticate before loading, so unknown callers learn nothing (not even a 404)
                        _ensure_authenticated(login)
                        attributes = attr(**kwargs)
                        if attributes is None:
                            abort(404)
                    else:
                        attributes = attr
                    decide = _authorize_or_login if login else _authorize
                    decide(action, kind, None if rid is None else str(rid), attributes, required)
                return current_app.ensure_sync(view)(*args, **kwargs)

            return wrapper  # type: ignore[return-value]

        return decorate

    def require_rule(
        self,
        rule: str,
        input: Optional[Callable[..., Mapping[str, Any]]] = None,  # noqa: A002 - the Rego word
        *,
        scopes: Scopes = (),
        any_scopes: Scopes = (),
        login: bool = False,
    ) -> Callable[[F], F]:
        """Decorator: run the view only when the Rego ``rule`` is true (see :func:`authorize_rule`).

        ``login=True`` redirects browsers without a token to the login view. OPTIONS
        requests pass unchecked (CORS preflight).
        """
        if self._rego is not None:
            check_rule(self._rego, rule)
        rule_input = RuleInput(input)
        required = ScopeRequirement.parse(scopes, any_scopes)

        def decorate(view: F) -> F:
            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if request.method != "OPTIONS":
                    if login:
                        _ensure_authenticated(True)
                    _authorize_rule(rule, rule_input, required)
                return current_app.ensure_sync(view)(*args, **kwargs)

            return wrapper  # type: ignore[return-value]

        return decorate


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


class FlaskTokenSources(TokenSources[Request]):
    """:class:`warden._web.TokenSources` reading Flask's request and session."""

    __slots__ = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FlaskTokenSources:
        """From ``WARDEN_HEADER``, ``WARDEN_TOKEN_COOKIE`` and ``WARDEN_SESSION_KEY``."""
        return cls(
            header=config["WARDEN_HEADER"],
            cookie=config["WARDEN_TOKEN_COOKIE"],
            session_key=config["WARDEN_SESSION_KEY"],
        )

    def authorization(self, request: Request) -> Optional[str]:
        return request.headers.get("Authorization")

    def cookie_value(self, request: Request, name: str) -> Optional[str]:
        return request.cookies.get(name)

    def session(self, request: Request) -> Any:
        return session


#: What authenticating the current request found: (principal, claims, failure, token).
Authentication = Tuple[Optional[Principal], Optional[Claims], Optional[AuthenticationFailed], Optional[str]]


def _authenticate() -> Authentication:
    """The current request's authentication, computed once and kept in ``g``."""
    cached = g.get("_warden_auth")
    if cached is not None:
        return cached
    state = _state()
    if _bypass(state):
        result: Authentication = (_bypass_principal(state), {}, None, None)
    else:
        result = _verify(state)
    g._warden_auth = result
    return result


def _verify(state: _State) -> Authentication:
    config = state.config
    if state.verifier is None or (state.engine is None and state.rego is None):
        # only reachable when a bypass app leaves debug/testing mode: deny
        return None, None, AuthenticationFailed("authentication is not configured", www_authenticate="Bearer"), None
    # the token sources are read from the configuration at each request, as the other WARDEN_* keys are
    sources = FlaskTokenSources.from_config(config)
    token, source = sources.find(request)
    if token is None:
        return None, None, AuthenticationFailed.from_refusal(authentication_refusal(None, config["WARDEN_REALM"])), None
    try:
        claims = state.verifier.verify(token)
        loader = state.ext._principal_loader
        principal = loader(claims) if loader is not None else state.verifier.principal(claims)
    except InvalidToken as exc:
        sources.forget(request, source, exc)
        refused(state.engine, _request_facts, exc)
        refusal = authentication_refusal(exc, config["WARDEN_REALM"])
        return None, None, AuthenticationFailed.from_refusal(refusal), token
    if not isinstance(principal, Principal):
        raise TypeError(f"principal_loader: expected a warden.Principal, got {type(principal).__name__}")
    return principal, claims, None, token


def _request_facts() -> RequestFacts:
    """The current request as decision-log entries and access-log lines describe it."""
    headers = request.headers
    return RequestFacts(
        method=request.method,
        route=request.url_rule.rule if request.url_rule is not None else request.path,
        address=request.remote_addr,
        user_agent=headers.get("User-Agent"),
        forwarded_for=headers.get("X-Forwarded-For"),
        request_id=headers.get("X-Request-ID"),
        headers=dict(headers),
    )


def _current_principal() -> Optional[Principal]:
    if not has_request_context():
        return None
    return _authenticate()[0]


#: The verified principal of the current request, or None (a proxy, like Flask-Login's ``current_user``).
current_principal: Principal = LocalProxy(_current_principal)  # type: ignore[assignment]


def _authenticated() -> Tuple[_State, Authentication, bool]:
    """(state, authentication, bypassed) for a request that must be authenticated; raises
    ``AuthenticationFailed`` otherwise. ``bypassed``: WARDEN_BYPASS applies, decide nothing."""
    state = _state()
    authentication = _authenticate()
    if state.config["WARDEN_BYPASS"] and _bypass(state):
        return state, authentication, True
    failure = authentication[2]
    if failure is not None:
        raise failure
    return state, authentication, False


def _check_scopes(
    state: _State,
    authentication: Authentication,
    required: ScopeRequirement,
    action: str,
    resource: Optional[Resource],
) -> None:
    """Raise 403 ``insufficient_scope`` unless the token grants the required scopes."""
    refusal = required.refusal(authentication[1], state.config["WARDEN_REALM"])
    if refusal is not None:
        raise AuthorizationFailed(
            authentication[0],
            action,
            resource,
            error="insufficient_scope",
            description=refusal.description,
            www_authenticate=refusal.www_authenticate,
        )


def authorize(
    action: str,
    kind: str,
    id: Optional[str] = None,  # noqa: A002 - tinyauth's name
    attr: Optional[Mapping[str, Any]] = None,
    *,
    scopes: Scopes = (),
    any_scopes: Scopes = (),
) -> Principal:
    """Authenticate the request and decide ``action`` on ``Resource(id or kind, kind, attr)``.

    ``scopes`` must all be granted by the token, and at least one of ``any_scopes``
    when given (403 ``insufficient_scope`` otherwise), before the policy decides. Each
    is a space-separated string (``"read write"`` is two scopes, as in a token's
    ``scope`` claim) or a list of scopes. Returns the principal; raises
    ``AuthenticationFailed`` or ``AuthorizationFailed``.
    """
    return _authorize(action, kind, id, attr, ScopeRequirement.parse(scopes, any_scopes))


def _authorize(
    action: str, kind: str, id: Optional[str], attr: Optional[Mapping[str, Any]], required: ScopeRequirement
) -> Principal:
    state, authentication, bypassed = _authenticated()
    principal: Principal = authentication[0]  # type: ignore[assignment]  # authenticated: a principal
    if bypassed:
        return principal
    if state.engine is None:
        raise RuntimeError(
            "warden: no Cerbos policies (set WARDEN_POLICY_DIR); this app decides Rego rules (authorize_rule)"
        )
    resource = Resource(str(id) if id not in (None, "") else kind, kind, attr=dict(attr) if attr else {})
    _check_scopes(state, authentication, required, action, resource)
    if not decide(state.engine, _request_facts, principal, resource, action):
        raise AuthorizationFailed(principal, action, resource)
    return principal


def plan(
    kind: str,
    action: Union[str, Iterable[str]],
    *,
    policy_version: Optional[str] = None,
    scope: Optional[str] = None,
    attr: Optional[Mapping[str, Any]] = None,
    scopes: Scopes = (),
    any_scopes: Scopes = (),
    aux_data: Optional[Mapping[str, Any]] = None,
    presence_tests: bool = False,
) -> PlanResourcesResponse:
    """Authenticate the request and plan which resources of ``kind`` the principal may act on
    with ``action`` (or every one of a list of actions), for a list endpoint.

    Returns the Cerbos SDK's ``PlanResourcesResponse``, for ``warden.sqlalchemy.get_query``;
    :func:`authorized_query` does both. The plan is exact: its rows are the rows ``check`` allows
    (``Engine.plan_resources(exact=True)``; ``cerbos_sqlalchemy`` does not read its ``isTrue``
    operator: feed it ``Client.plan_resources``). ``attr`` are
    attributes every listed resource has (folded into the plan); ``policy_version``/``scope``
    select the policies as a resource's would; ``scopes``/``any_scopes`` as in
    :func:`authorize`. Raises ``AuthenticationFailed`` (401) or ``AuthorizationFailed`` (403,
    missing scopes), which the extension answers as JSON. A plan admitting nothing lists nothing.
    ``presence_tests`` is kept for compatibility (exact plans always keep ``has()`` tests).
    """
    check_name(kind, "kind")
    actions = [action] if isinstance(action, str) else list(action)
    if not actions:
        raise ValueError("action: at least one action is required")
    for a in actions:
        check_name(a, "action")
    state, authentication, bypassed = _authenticated()
    if bypassed:
        return everything(kind, actions)
    if state.engine is None:
        raise RuntimeError("warden: no Cerbos policies (set WARDEN_POLICY_DIR); plans need them")
    _check_scopes(state, authentication, ScopeRequirement.parse(scopes, any_scopes), actions[0], Resource(kind, kind))
    return plan_for(
        state.engine,
        authentication[0],
        kind,
        actions,
        policy_version=policy_version,
        scope=scope,
        attr=attr,
        aux_data=aux_data,
        presence_tests=presence_tests,
    )


def authorized_query(
    kind: str,
    action: Union[str, Iterable[str]],
    table: Any,
    attr_map: Mapping[str, Any],
    table_mapping: Any = None,
    operator_override_fns: Any = None,
    *,
    policy_version: Optional[str] = None,
    scope: Optional[str] = None,
    attr: Optional[Mapping[str, Any]] = None,
    scopes: Scopes = (),
    any_scopes: Scopes = (),
    aux_data: Optional[Mapping[str, Any]] = None,
    **options: Any,
) -> Any:
    """``select(table)`` of the rows the principal may act on: :func:`plan` then
    ``warden.sqlalchemy.get_query`` (``attr_map``, ``table_mapping``,
    ``operator_override_fns`` and ``options`` are its arguments; the plan keeps ``has()``
    tests, which warden's adapter translates)::

        @app.get("/contacts")
        def contacts():
            query = authorized_query("contact", "read", Contact, ATTRS)
            return jsonify([c.as_dict() for c in db.session.scalars(query.limit(100))])
    """
    from warden.sqlalchemy import get_query  # SQLAlchemy is optional: only list endpoints need it

    found = plan(
        kind,
        action,
        policy_version=policy_version,
        scope=scope,
        attr=attr,
        scopes=scopes,
        any_scopes=any_scopes,
        aux_data=aux_data,
        presence_tests=True,
    )
    return get_query(found, table, attr_map, table_mapping, operator_override_fns, **options)


def authorize_rule(
    rule: str,
    input: Optional[Callable[..., Mapping[str, Any]]] = None,  # noqa: A002 - the Rego word
    *,
    scopes: Scopes = (),
    any_scopes: Scopes = (),
) -> Principal:
    """Authenticate the request and evaluate the Rego ``rule`` (e.g. ``"data.demoapi.authz.allow"``).

    The input is ``{"method", "api" (the path), "jwt": {"tokenValue"}}``, what the
    Okta + OPA apps post to OPA; ``input`` builds another, called with the keyword
    arguments it names among ``request``, ``token``, ``claims`` and ``principal``.
    Only ``true`` allows. ``scopes`` and ``any_scopes`` as in :func:`authorize`.
    Returns the principal; raises ``AuthenticationFailed`` (401) or
    ``AuthorizationFailed`` (403), which the extension answers as JSON.
    """
    return _authorize_rule(rule, RuleInput(input), ScopeRequirement.parse(scopes, any_scopes))


def _authorize_rule(rule: str, rule_input: RuleInput, required: ScopeRequirement) -> Principal:
    state, authentication, bypassed = _authenticated()
    principal: Principal = authentication[0]  # type: ignore[assignment]  # authenticated: a principal
    if bypassed:
        return principal
    if state.rego is None:
        raise RuntimeError("warden: no Rego policies (set WARDEN_REGO_DIR or pass rego= to Warden)")
    _check_scopes(state, authentication, required, rule, None)
    document = rule_input.document(
        method=request.method,
        path=request.path,
        token=authentication[3],
        request=request,
        claims=authentication[1],
        principal=principal,
    )
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
    here = request.full_path if request.query_string else request.path
    abort(redirect(login_location(target, here), code=303))


def authorize_or_raise(
    action: str,
    kind: str,
    id: Optional[str] = None,  # noqa: A002 - tinyauth's name
    attr: Optional[Mapping[str, Any]] = None,
    *,
    scopes: Scopes = (),
    any_scopes: Scopes = (),
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
    scopes: Scopes = (),
    any_scopes: Scopes = (),
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
    scopes: Scopes = (),
    any_scopes: Scopes = (),
) -> Principal:
    """As tinyauth's, for pages: redirect to ``WARDEN_LOGIN_VIEW`` (with ``?next=``) when not signed in.

    A signed-in principal who is denied gets 403 rather than the login page, which
    could only send them back here.
    """
    return _authorize_or_login(action, kind, id, attr, ScopeRequirement.parse(scopes, any_scopes))


def _authorize_or_login(
    action: str, kind: str, id: Optional[str], attr: Optional[Mapping[str, Any]], required: ScopeRequirement
) -> Principal:
    try:
        return _authorize(action, kind, id, attr, required)
    except AuthenticationFailed as exc:
        if exc.status_code != 401:
            abort(_error_response(exc))
        _redirect_to_login()
    except AuthorizationFailed as exc:
        abort(_error_response(exc))
