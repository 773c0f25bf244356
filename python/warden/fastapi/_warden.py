"""``Warden``: one object wiring authentication, requirements, decision tables and Rego rules for an app."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional, Sequence, Union

from fastapi import Depends, Request, Security

from warden._web import RuleInput, ScopeRequirement, check_name
from warden.client import Client
from warden.fastapi._authentication import (
    Authenticator,
    ClaimsToPrincipal,
    PrincipalDependency,
    PrincipalMapper,
    StarletteTokenSources,
)
from warden.fastapi._decisions import DecisionTable, decide_all
from warden.fastapi._openapi import security_scheme
from warden.fastapi._plans import PlanRequirement
from warden.fastapi._policy import PolicyCheck, resource_of
from warden.fastapi._requirements import LoadRequirement, Requirement
from warden.fastapi._rules import RuleRequirement
from warden.fastapi._token_cache import TokenCache
from warden.jwt import JWTVerifier
from warden.models import Principal, Resource
from warden.rego import Rego, check_rule

#: What ``require(..., resource=...)`` accepts: None, an id, a Resource, attributes, or a loader.
ResourceSpec = Union[None, str, Resource, Mapping, Callable[..., Any]]
#: Builds a Rego rule's input; called with the keyword arguments it names among
#: ``request``, ``token``, ``claims`` and ``principal`` (sync or async).
InputBuilder = Callable[..., Union[Mapping[str, Any], Awaitable[Mapping[str, Any]]]]
#: OAuth scopes: a space-separated string (RFC 6749 §3.3) or a list of scopes.
Scopes = Union[str, Sequence[str]]


class Warden:
    """Authentication and authorization for a FastAPI app.

    ``authorizer`` decides: a :class:`warden.Client`, a :class:`warden.Engine` or a
    policy directory (Cerbos policies, for ``require``/``load``/``decisions``), or a
    :class:`warden.Rego` (for ``require_rule``); ``rego=`` adds Rego policies next to
    Cerbos ones. ``verifier`` authenticates: a ``JWTVerifier``, ``Introspector``
    or ``TokenInfo`` (anything with ``verify_async`` or ``verify``).

    Token sources, tried in order: the ``Authorization: Bearer`` header (unless
    ``header=False``), the cookie ``cookie`` and the Starlette session key
    ``session_key`` (needs ``SessionMiddleware``). ``principal_mapper(claims)`` turns
    verified claims into the :class:`Principal` (sync or async; default
    ``verifier.principal``). ``login_url`` (a path, a URL or a route name) is where
    ``login_required()`` and ``require(..., login=True)`` send browsers that are not
    signed in, with ``?next=`` set to the page asked for.

    With a ``JWTVerifier``, verified claims are cached by token (``token_cache``
    entries, each kept ``token_cache_ttl`` seconds at most and never past the token's
    ``exp``), so a client's repeated requests skip the signature check; a key removed
    from the JWKS stops being honoured after at most that TTL (``clear_token_cache()``
    forgets at once). ``token_cache=0`` verifies every request. ``Introspector`` and
    ``TokenInfo`` keep their own answer caches. Claims are shared between the requests
    of one token: treat them (and nested values the mapper copies) as read-only.

    OAuth scopes (``scopes=``, ``any_scopes=``) are a space-separated string, as in a
    token's ``scope`` claim (``"read write"`` is two scopes), or a list of scopes.
    """

    def __init__(
        self,
        authorizer: Union[Client, Any, str, "os.PathLike[str]"],
        verifier: Any,
        *,
        principal_mapper: Optional[PrincipalMapper] = None,
        header: bool = True,
        cookie: Optional[str] = None,
        session_key: Optional[str] = None,
        login_url: Optional[str] = None,
        realm: Optional[str] = None,
        scheme_name: str = "bearerAuth",
        description: Optional[str] = None,
        token_cache: int = 4096,
        token_cache_ttl: float = 60.0,
        rego: Optional[Rego] = None,
    ) -> None:
        self.client, self.rego = _authorizers(authorizer, rego)
        self.engine = None if self.client is None else self.client.engine
        if not (hasattr(verifier, "verify_async") or hasattr(verifier, "verify")):
            raise TypeError(
                f"verifier: expected a warden.JWTVerifier, Introspector or TokenInfo (with verify_async), got {type(verifier).__name__}"
            )
        to_principal = ClaimsToPrincipal(verifier, principal_mapper)
        sources = StarletteTokenSources(header=header, cookie=cookie, session_key=session_key)
        if not sources:
            raise ValueError("Warden: no token source; enable header, or give cookie or session_key")
        if token_cache < 0 or token_cache_ttl < 0:
            raise ValueError("token_cache and token_cache_ttl: must not be negative")
        # only for local JWT checks: Introspector/TokenInfo answers must show revocations
        cache = (
            TokenCache(token_cache, token_cache_ttl)
            if token_cache and token_cache_ttl and isinstance(verifier, JWTVerifier)
            else None
        )
        #: finds, verifies and maps the request's token (once per request)
        self.authenticator = Authenticator(verifier, sources, to_principal, cache, realm)
        self.authenticator.engine = self.engine
        self.login_url = login_url
        self.scheme = security_scheme(scheme_name, header=header, cookie=cookie, description=description)
        #: Dependency: the verified Principal; 401 without a valid token.
        self.principal = PrincipalDependency(self.authenticator, self.scheme)
        #: Dependency: the verified Principal, or None when the request carries no valid token.
        self.optional_principal = PrincipalDependency(self.authenticator, self.scheme, optional=True)
        self._login_dependencies: Dict[str, PrincipalDependency] = {}

    # --- settings, as given ------------------------------------------------------------

    @property
    def verifier(self) -> Any:
        """The token verifier."""
        return self.authenticator.verifier

    @property
    def principal_mapper(self) -> PrincipalMapper:
        """The mapping from verified claims to the Principal (the verifier's ``principal`` by default)."""
        return self.authenticator.to_principal.mapper

    @property
    def header(self) -> bool:
        """Whether the ``Authorization: Bearer`` header is a token source."""
        return self.authenticator.sources.header

    @property
    def cookie(self) -> Optional[str]:
        """The cookie holding a token, if any."""
        return self.authenticator.sources.cookie

    @property
    def session_key(self) -> Optional[str]:
        """The session key holding a token, if any."""
        return self.authenticator.sources.session_key

    @property
    def realm(self) -> Optional[str]:
        """The ``realm`` of the ``WWW-Authenticate`` challenges."""
        return self.authenticator.realm

    @property
    def scheme_name(self) -> str:
        """The name of the OpenAPI security scheme."""
        return self.scheme.scheme_name

    def __repr__(self) -> str:
        return f"Warden(verifier={self.verifier!r}, header={self.header}, cookie={self.cookie!r}, session_key={self.session_key!r})"

    # --- dependencies -------------------------------------------------------------

    def login_required(self, login_url: Optional[str] = None) -> PrincipalDependency:
        """Dependency for browser routes: the Principal, or a 303 redirect to the login page."""
        url = login_url or self.login_url
        if not url:
            raise ValueError("login_required: give login_url here or to Warden(login_url=...)")
        dep = self._login_dependencies.get(url)
        if dep is None:
            dep = self._login_dependencies[url] = PrincipalDependency(self.authenticator, self.scheme, login_url=url)
        return dep

    def require(
        self,
        action: str,
        kind: str,
        resource: ResourceSpec = None,
        *,
        scopes: Scopes = (),
        any_scopes: Scopes = (),
        login: Union[bool, str] = False,
        aux_data: Optional[Mapping[str, Any]] = None,
    ) -> Requirement:
        """Dependency: the Principal, once the policy allows ``action`` on the resource.

        ``resource`` is None (the collection: ``Resource(kind, kind)``), an id, a
        ``Resource``, a dict of attributes, or a callable that FastAPI resolves as a
        dependency (so it receives path parameters by name, queries, ``Request`` or
        other dependencies) and that returns one of those; a dict of attributes
        without ``"id"`` takes the id from the route's only path parameter. Use the same callable in
        the route to get the loaded object without a second load (FastAPI caches a
        dependency per request). A callable returning None answers 404.

        ``scopes`` are OAuth scopes the token must all grant, ``any_scopes`` scopes of
        which it must grant at least one (403 ``insufficient_scope`` otherwise); each is a
        space-separated string or a list. ``login`` (True, or a login URL) redirects
        browsers without a valid token to the login page instead of answering 401.
        """
        check = self._policy_check("require", action, kind, aux_data)
        loader = resource if callable(resource) and not isinstance(resource, (Resource, Mapping)) else None
        fixed = None if loader is not None else resource_of(kind, resource)
        required = ScopeRequirement.parse(scopes, any_scopes)
        return Requirement.declare(self._principal_dependency(login), required, check, fixed, loader)

    def load(
        self,
        action: str,
        kind: str,
        loader: Callable[..., Any],
        *,
        scopes: Scopes = (),
        any_scopes: Scopes = (),
        login: Union[bool, str] = False,
        aux_data: Optional[Mapping[str, Any]] = None,
    ) -> LoadRequirement:
        """Dependency: what ``loader`` returns, once the policy allows ``action`` on it.

        ``loader`` takes what FastAPI can inject (path parameters by name, queries,
        ``Request``, other dependencies) and returns a ``Resource`` or a dict of
        attributes (None answers 404), as for :meth:`require`; the route receives it::

            @app.get("/orders/{order_id}")
            async def read_order(order=Depends(authz.load("read", "order", load_order))): ...

        Loading, the token check and the decision run as one dependency, the caller
        authenticated first. :meth:`principal_of` gives the route the principal without
        another dependency. ``scopes``, ``any_scopes``, ``login`` and ``aux_data`` as in
        :meth:`require`.
        """
        check = self._policy_check("load", action, kind, aux_data)
        if not callable(loader):
            raise TypeError(f"loader: expected a callable, got {type(loader).__name__}")
        required = ScopeRequirement.parse(scopes, any_scopes)
        return LoadRequirement.declare(self._principal_dependency(login), required, check, loader)

    def require_rule(
        self,
        rule: str,
        input: Optional[InputBuilder] = None,  # noqa: A002 - the Rego word
        *,
        scopes: Scopes = (),
        any_scopes: Scopes = (),
        login: Union[bool, str] = False,
    ) -> RuleRequirement:
        """Dependency: the Principal, once the Rego ``rule`` (e.g. ``"data.demoapi.authz.allow"``) is true.

        The input is ``{"method", "api" (the URL path), "jwt": {"tokenValue"}}``, what
        the Okta + OPA apps post to ``/v1/data/...``, so their policies run unchanged.
        ``input`` builds another: a callable (sync or async) called with the keyword
        arguments it names among ``request``, ``token``, ``claims`` (verified) and
        ``principal``, returning the input document. The token is verified before the
        rule runs (401 otherwise); a rule that is not true answers 403. ``scopes``,
        ``any_scopes`` and ``login`` work as in :meth:`require`.
        """
        if self.rego is None:
            raise TypeError(
                "require_rule: this Warden has no Rego policies (pass a warden.Rego as the authorizer, or rego=)"
            )
        check_rule(self.rego, rule)
        rule_input = RuleInput(input)
        required = ScopeRequirement.parse(scopes, any_scopes)
        return RuleRequirement.declare(self._principal_dependency(login), required, self.rego, rule, rule_input)

    def principal_of(self, request: Request) -> Optional[Principal]:
        """The principal a warden dependency verified for ``request`` (None before one ran, or without a valid token)."""
        state = request.scope.get(self.authenticator.scope_key)
        return None if state is None else state.principal

    def decisions(
        self,
        resources: Union[Callable[..., Any], Sequence[Any]],
        actions: Sequence[str] = (),
        *,
        login: Union[bool, str] = False,
        aux_data: Optional[Mapping[str, Any]] = None,
    ) -> Callable[..., Awaitable[DecisionTable]]:
        """Dependency: the :class:`DecisionTable` for a page, in one engine call.

        ``resources`` is a list (or a callable resolved as a FastAPI dependency that
        returns one) whose entries are ``Resource`` objects (checked for ``actions``),
        ``(Resource, actions)`` pairs or ``ResourceAction`` objects. The callable may
        take ``principal: Principal = Depends(authz.principal)`` to build resources
        owned by the caller. No decision is made for the page itself: combine with
        ``require`` when the page needs one.
        """
        client = self._cerbos("decisions")
        principal_dep = self._principal_dependency(login)
        default_actions = list(actions)

        if callable(resources):
            loader = resources

            async def decision_table(
                principal: Principal = Security(principal_dep), loaded: Any = Depends(loader)
            ) -> DecisionTable:
                return decide_all(client, principal, loaded, default_actions, aux_data)

            return decision_table
        fixed = list(resources)

        async def fixed_decision_table(principal: Principal = Security(principal_dep)) -> DecisionTable:
            return decide_all(client, principal, fixed, default_actions, aux_data)

        return fixed_decision_table

    def plan(
        self,
        kind: str,
        action: Union[str, Sequence[str]],
        *,
        policy_version: Optional[str] = None,
        scope: Optional[str] = None,
        attr: Optional[Mapping[str, Any]] = None,
        scopes: Scopes = (),
        any_scopes: Scopes = (),
        login: Union[bool, str] = False,
        aux_data: Optional[Mapping[str, Any]] = None,
        presence_tests: bool = False,
    ) -> PlanRequirement:
        """Dependency: the caller's query plan for ``action`` (or every one of a list of actions)
        on resources of ``kind``, a ``PlanResourcesResponse``, for a list endpoint::

            @app.get("/contacts")
            def contacts(plan=Depends(authz.plan("contact", "read")), db=Depends(session)):
                return db.scalars(get_query(plan, Contact, ATTRS).limit(100)).all()

        ``attr`` are attributes every listed resource has (folded into the plan);
        ``policy_version``/``scope`` select the policies as a resource's would. ``scopes``,
        ``any_scopes``, ``login`` and ``aux_data`` as in :meth:`require`. A plan admitting
        nothing (``KIND_ALWAYS_DENIED``) lists nothing; it is not a 403. The plan is exact
        (``Engine.plan_resources(exact=True)``): its rows are the rows ``check`` allows, ``has()``
        tests included, for ``warden.sqlalchemy`` (``cerbos_sqlalchemy`` does not read its
        ``isTrue``/``has`` operators; feed it ``Client.plan_resources``). ``presence_tests`` is
        kept for compatibility (exact plans always keep presence tests).
        """
        check_name(kind, "kind")
        actions = [action] if isinstance(action, str) else list(action)
        if not actions:
            raise ValueError("action: at least one action is required")
        for a in actions:
            check_name(a, "action")
        resource = {"policy_version": policy_version, "scope": scope, "attr": attr}
        required = ScopeRequirement.parse(scopes, any_scopes)
        engine = self._cerbos("plan").engine
        return PlanRequirement.declare(
            self._principal_dependency(login), required, engine, kind, actions, resource, aux_data
        )

    # --- direct calls --------------------------------------------------------------

    def is_allowed(self, principal: Principal, resource: Union[Resource, Mapping], *, action: str) -> bool:
        """True iff the policy allows ``principal`` to do ``action`` on ``resource``."""
        return self._cerbos("is_allowed").is_allowed(action, principal, resource)

    def decide_all(
        self,
        principal: Principal,
        resources: Iterable[Any],
        actions: Sequence[str] = (),
        *,
        aux_data: Optional[Mapping[str, Any]] = None,
    ) -> DecisionTable:
        """Every action on every resource in one engine call (see :meth:`decisions`)."""
        return decide_all(self._cerbos("decide_all"), principal, resources, actions, aux_data)

    def clear_token_cache(self) -> None:
        """Forget every verified token (e.g. after removing a compromised signing key)."""
        if self.authenticator.token_cache is not None:
            self.authenticator.token_cache.clear()

    # --- internals ---------------------------------------------------------------------

    def _cerbos(self, what: str) -> Client:
        if self.client is None:
            raise TypeError(
                f"{what}: this Warden decides Rego rules only (use require_rule, or give it Cerbos policies)"
            )
        return self.client

    def _policy_check(self, what: str, action: str, kind: str, aux_data: Optional[Mapping[str, Any]]) -> PolicyCheck:
        check_name(action, "action")
        check_name(kind, "kind")
        return PolicyCheck(self._cerbos(what).engine, action, kind, aux_data)

    def _principal_dependency(self, login: Union[bool, str]) -> PrincipalDependency:
        if login is True:
            return self.login_required()
        if isinstance(login, str) and login:
            return self.login_required(login)
        return self.principal


def _authorizers(authorizer: Any, rego: Optional[Rego]) -> "tuple[Optional[Client], Optional[Rego]]":
    """(Cerbos client, Rego policies) from ``Warden``'s ``authorizer`` and ``rego`` arguments."""
    if rego is not None and not isinstance(rego, Rego):
        raise TypeError(f"rego: expected a warden.Rego, got {type(rego).__name__}")
    if isinstance(authorizer, Rego):
        if rego is not None:
            raise TypeError("rego: given twice (as the authorizer and as rego=)")
        return None, authorizer
    if isinstance(authorizer, Client):
        return authorizer, rego
    if isinstance(authorizer, (str, os.PathLike)) or (
        hasattr(authorizer, "check") and hasattr(authorizer, "is_allowed")
    ):
        return Client(authorizer), rego
    raise TypeError(
        "authorizer: expected a warden.Client, a warden.Engine, a policy directory or a warden.Rego, "
        f"got {type(authorizer).__name__}"
    )
