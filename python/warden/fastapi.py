"""FastAPI integration: one object, a few dependencies, every check in-process.

::

    from fastapi import Depends, FastAPI
    import warden
    from warden.fastapi import Warden

    verifier = warden.JWTVerifier.okta("https://example.okta.com/oauth2/default", "api://default")
    authz = Warden(warden.Client("policies/"), verifier)
    app = FastAPI()

    @app.get("/orders/{order_id}")
    async def read_order(order=Depends(authz.load("read", "order", load_order))):
        ...

``Depends(authz.principal)`` gives the verified :class:`warden.Principal`;
``Depends(authz.require(action, kind, resource=...))`` also decides the policy and
gives the principal; ``Depends(authz.load(action, kind, loader))`` loads, checks and
gives the loaded object; ``Depends(authz.decisions(...))`` a page's decision table.
With a :class:`warden.Rego` as the authorizer (or ``rego=``),
``Depends(authz.require_rule("data.demoapi.authz.allow"))`` decides a Rego rule on
the input an OPA-calling app posts (``{"method", "api", "jwt": {"tokenValue"}}``).
Answers follow RFC 6750: no token gives 401 with ``WWW-Authenticate: Bearer``, a
refused token 401 with ``error="invalid_token"``, a principal who is denied 403
(with ``error="insufficient_scope"`` when required OAuth scopes are missing). Browser
routes can redirect to a login page instead of answering 401.

Token checks go through the verifier's ``verify_async``, so a JWKS fetch or an
introspection call never blocks the event loop; decisions take microseconds and
run inline.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Mapping
from typing import Any, Awaitable, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request, Security
from fastapi.openapi.models import APIKey, APIKeyIn
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase
from starlette.concurrency import run_in_threadpool

from warden.client import Client
from warden.jwt import InvalidToken, JWTVerifier, www_authenticate
from warden.models import CheckResourcesResponse, Principal, Resource, ResourceAction, ResourceList
from warden.rego import Rego, check_rule, http_input, input_builder_arguments

__all__ = [
    "DecisionTable",
    "LoadRequirement",
    "PrincipalDependency",
    "Requirement",
    "RuleRequirement",
    "Warden",
    "resource_of",
    "token_scopes",
]

Claims = Dict[str, Any]
PrincipalMapper = Callable[[Claims], Union[Principal, Awaitable[Principal]]]
ResourceSpec = Union[None, str, Resource, Mapping, Callable[..., Any]]
#: Builds a Rego rule's input; called with the keyword arguments it names among
#: ``request``, ``token``, ``claims`` and ``principal`` (sync or async).
InputBuilder = Callable[..., Union[Mapping[str, Any], Awaitable[Mapping[str, Any]]]]


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


def resource_of(kind: str, value: Any, default_id: Optional[str] = None) -> Resource:
    """The :class:`Resource` of kind ``kind`` that ``value`` describes.

    ``value`` is a ``Resource`` (its kind must be ``kind``), a mapping of attributes
    (the resource id is its ``"id"`` entry when that is a string or int, else
    ``default_id``, else ``kind``), a string or int (the id, no attributes), or None
    (the collection itself: ``Resource(kind, kind)``).
    """
    if isinstance(value, Resource):
        if value.kind != kind:
            raise ValueError(f"resource: the callable returned a {value.kind!r} resource where {kind!r} was required")
        return value
    if value is None:
        return Resource(kind, kind)
    if isinstance(value, str):
        if not value:
            raise ValueError("resource: the id must not be empty")
        return Resource(value, kind)
    if isinstance(value, int) and not isinstance(value, bool):
        return Resource(str(value), kind)
    if isinstance(value, Mapping):
        rid = value.get("id")
        rid = (
            str(rid)
            if isinstance(rid, (str, int)) and not isinstance(rid, bool) and rid != ""
            else (default_id or kind)
        )
        return Resource(rid, kind, attr=dict(value))
    raise TypeError(
        f"resource: expected a warden.Resource, a dict of attributes, an id or None, got {type(value).__name__}"
    )


class DecisionTable(Mapping):
    """The decisions for several resources × actions, taken in one engine call.

    ``table["abc123"]["update"]`` is a bool; ``table.allowed(id, action)`` the same;
    iterating gives resource ids in request order; ``table.response`` is the
    ``CheckResourcesResponse`` (as ``CerbosClient.check_resources`` returns it).
    """

    def __init__(self, response: CheckResourcesResponse, actions: Dict[str, List[str]]) -> None:
        self.response = response
        self._rows: Dict[str, Dict[str, bool]] = {}
        for result in response.results or ():
            rid = result.resource.id
            self._rows[rid] = {a: result.is_allowed(a) for a in actions[rid]}

    def __getitem__(self, resource_id: str) -> Dict[str, bool]:
        return self._rows[resource_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def allowed(self, resource_id: str, action: str) -> bool:
        """True iff ``action`` is allowed on ``resource_id`` (False for anything not asked)."""
        return self._rows.get(resource_id, {}).get(action, False)

    def rows(self) -> List[Tuple[str, Dict[str, bool]]]:
        """``(resource id, {action: allowed})`` in request order."""
        return list(self._rows.items())

    def __repr__(self) -> str:
        return f"DecisionTable({self._rows!r})"


class PrincipalDependency(SecurityBase):
    """A FastAPI security dependency giving the request's verified :class:`Principal`.

    Made by :class:`Warden` (``authz.principal``, ``authz.optional_principal``,
    ``authz.login_required()``); as a ``SecurityBase`` it puts the security scheme on
    every route that uses it, directly or through ``authz.require``. With
    ``Security(authz.principal, scopes=[...])`` the token must grant those OAuth scopes.
    """

    def __init__(self, owner: "Warden", *, optional: bool = False, login_url: Optional[str] = None) -> None:
        self.owner = owner
        self.optional = optional
        self.login_url = login_url
        self.model = owner._openapi_model
        self.scheme_name = owner.scheme_name

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> Optional[Principal]:
        owner = self.owner
        state = request.scope.get(owner._scope_key)
        if state is None:
            state = await owner._authenticate(request)
            request.scope[owner._scope_key] = state
        principal, claims, error = state
        if principal is None:
            if self.optional:
                return None
            raise owner._unauthenticated(request, error, self.login_url)
        if security_scopes.scopes:
            owner._check_scopes(claims, security_scopes.scopes)
        return principal

    def __repr__(self) -> str:
        return f"PrincipalDependency(optional={self.optional}, login_url={self.login_url!r})"


class Requirement:
    """The dependency ``authz.require(...)`` returns: the Principal, once the policy allows.

    One dependency node (the token check runs inline, shared with any other warden
    dependency of the request), so a protected route costs FastAPI little more than
    an open one. Its FastAPI signature is built per instance: ``request``, the
    resource loader as ``Depends(loader)`` when there is one, and
    ``Security(authz.principal, scopes=...)`` when OAuth scopes are required (which
    also lists them in OpenAPI).
    """

    def __init__(
        self,
        owner: "Warden",
        action: str,
        kind: str,
        loader: Optional[Callable[..., Any]],
        fixed: Optional[Resource],
        scopes: List[str],
        any_scopes: List[str],
        login_url: Optional[str],
        aux_data: Optional[Mapping[str, Any]],
    ) -> None:
        self.owner, self.action, self.kind = owner, action, kind
        self.loader, self.fixed, self.scopes, self.any_scopes = loader, fixed, scopes, any_scopes
        self.login_url = login_url
        self.aux_data = None if aux_data is None else dict(aux_data)
        self._engine = owner._cerbos("require").engine
        self.__signature__ = _requirement_signature(owner, scopes, login_url, loader)

    async def __call__(self, request: Request, scoped: Optional[Principal] = None, loaded: Any = None) -> Principal:
        principal, claims = await self._principal(request, scoped)
        self._decide(request, principal, claims, self.fixed if self.loader is None else loaded)
        return principal

    async def _principal(self, request: Request, scoped: Optional[Principal]) -> Tuple[Principal, Optional[Claims]]:
        owner = self.owner
        if scoped is not None:
            return scoped, request.scope[owner._scope_key][1]
        state = request.scope.get(owner._scope_key)
        if state is None:
            state = await owner._authenticate(request)
            request.scope[owner._scope_key] = state
        principal, claims, error = state
        if principal is None:
            raise owner._unauthenticated(request, error, self.login_url)
        return principal, claims

    def _decide(self, request: Request, principal: Principal, claims: Optional[Claims], loaded: Any) -> None:
        """Raise 404 (nothing loaded), 403 (scopes or policy) unless the action is allowed."""
        if loaded is None:
            raise HTTPException(404, f"{self.kind} not found")
        if type(loaded) is Resource and loaded.kind == self.kind:
            target = loaded
        elif isinstance(loaded, Mapping):
            # attributes without an id: the route's only path parameter names the resource
            params = request.path_params
            target = resource_of(self.kind, loaded, next(iter(params.values())) if len(params) == 1 else None)
        else:
            target = resource_of(self.kind, loaded)
        if self.any_scopes:
            self.owner._check_scopes(claims, (), self.any_scopes)
        try:
            allowed = self._engine.is_allowed(principal, target, action=self.action, aux_data=self.aux_data)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"warden: cannot decide {self.action!r} on {self.kind!r}: {exc}") from exc
        if not allowed:
            raise HTTPException(403, f"not allowed to {self.action} {self.kind} {target.id}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(action={self.action!r}, kind={self.kind!r}, scopes={self.scopes!r})"


class LoadRequirement(Requirement):
    """The dependency ``authz.load(action, kind, loader)`` returns: the loaded object, once allowed.

    The loader's own parameters (path and query parameters, ``Request``, other
    dependencies) become this dependency's, so loading, the token check and the
    decision are one dependency node: a route protected this way has as many nodes
    as the same route loading its object unprotected. The caller is authenticated
    before the loader runs, so callers without a valid token never reach the store.
    """

    def __init__(
        self,
        owner: "Warden",
        action: str,
        kind: str,
        loader: Callable[..., Any],
        scopes: List[str],
        any_scopes: List[str],
        login_url: Optional[str],
        aux_data: Optional[Mapping[str, Any]],
    ) -> None:
        super().__init__(owner, action, kind, None, None, scopes, any_scopes, login_url, aux_data)
        if inspect.isgeneratorfunction(loader) or inspect.isasyncgenfunction(loader):
            raise TypeError(
                "loader: generator dependencies (with yield) are not supported here; use require(resource=...)"
            )
        try:
            loader_signature = inspect.signature(loader, eval_str=True)
        except NameError:
            # an annotation (often the return type) names something only a type checker
            # sees: keep the strings, and let FastAPI read them in the loader's globals
            loader_signature = inspect.signature(loader)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"loader: cannot read its signature ({exc})") from exc
        loader_globals = getattr(inspect.unwrap(loader), "__globals__", {})
        self.__globals__ = loader_globals  # FastAPI resolves string annotations there
        own = [
            p.replace(name="_warden_" + p.name, kind=inspect.Parameter.KEYWORD_ONLY)
            for p in self.__signature__.parameters.values()
        ]
        taken = {p.name for p in own}
        loader_params = []
        # FastAPI passes the Request to one parameter only: share the loader's when it has one
        self._request_name = "_warden_request"
        for param in loader_signature.parameters.values():
            if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD) or param.name in taken:
                raise TypeError(f"loader: parameter {param.name!r} cannot be injected by FastAPI")
            annotation = param.annotation
            if isinstance(annotation, str):
                try:
                    annotation = eval(annotation, dict(loader_globals))  # noqa: S307 - the loader's own annotation
                except Exception:  # noqa: BLE001 - unresolvable here: not a Request, FastAPI reports it
                    annotation = None
            if isinstance(annotation, type) and issubclass(annotation, Request):
                self._request_name = param.name
            loader_params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))
        if self._request_name != "_warden_request":
            own = [p for p in own if p.name != "_warden_request"]
        self.loaded_by = loader
        self._loader_is_async = _is_async(loader)
        self.__signature__ = inspect.Signature(own + loader_params)

    async def __call__(self, **arguments: Any) -> Any:  # type: ignore[override]
        request = (
            arguments.pop("_warden_request")
            if self._request_name == "_warden_request"
            else arguments[self._request_name]
        )
        principal, claims = await self._principal(request, arguments.pop("_warden_scoped", None))
        if self._loader_is_async:
            loaded = await self.loaded_by(**arguments)
        else:
            loaded = await run_in_threadpool(self.loaded_by, **arguments)  # as FastAPI runs sync dependencies
        self._decide(request, principal, claims, loaded)
        return loaded


class _SecuredLoadRequirement(LoadRequirement, SecurityBase):
    """A load requirement without scopes is itself the security dependency OpenAPI reads."""

    def __init__(self, owner: "Warden", *args: Any) -> None:
        super().__init__(owner, *args)
        self.model = owner._openapi_model
        self.scheme_name = owner.scheme_name


class _SecuredRequirement(Requirement, SecurityBase):
    """A requirement without scopes is itself the security dependency OpenAPI reads."""

    def __init__(self, owner: "Warden", *args: Any) -> None:
        super().__init__(owner, *args)
        self.model = owner._openapi_model
        self.scheme_name = owner.scheme_name


class RuleRequirement(Requirement):
    """The dependency ``authz.require_rule(rule)`` returns: the Principal, once a Rego rule allows.

    The caller is authenticated first (401 without a valid token, as for every warden
    dependency); then ``rule`` is evaluated on the request's input, by default the
    one the Okta + OPA apps post to OPA: ``{"method": ..., "api": <path>, "jwt":
    {"tokenValue": <token>}}``. Only ``true`` allows: ``false``, undefined (no rule
    body matched) and a missing input all answer 403.
    """

    def __init__(
        self,
        owner: "Warden",
        rego: Rego,
        rule: str,
        build_input: Optional[InputBuilder],
        scopes: List[str],
        any_scopes: List[str],
        login_url: Optional[str],
    ) -> None:
        # only what the inherited _principal() reads, plus this requirement's own state
        self.owner, self.rego, self.rule = owner, rego, rule
        self.scopes, self.any_scopes, self.login_url = scopes, any_scopes, login_url
        self._builder = build_input
        self._builder_args: Tuple[str, ...] = ()
        self._builder_is_async = False
        if build_input is not None:
            self._builder_args = input_builder_arguments(build_input)
            self._builder_is_async = _is_async(build_input)
        self.__signature__ = _requirement_signature(owner, scopes, login_url, None)

    async def __call__(self, request: Request, scoped: Optional[Principal] = None, loaded: Any = None) -> Principal:
        principal, claims = await self._principal(request, scoped)
        if self.any_scopes:
            self.owner._check_scopes(claims, (), self.any_scopes)
        token = self.owner._token(request)[0]
        if self._builder is None:
            document: Any = http_input(request.method, request.url.path, token)
        else:
            available = {"request": request, "token": token, "claims": claims, "principal": principal}
            document = self._builder(**{name: available[name] for name in self._builder_args})
            if self._builder_is_async:
                document = await document
        if not self.rego.allowed(self.rule, document):
            raise HTTPException(403, f"not allowed by {self.rule}")
        return principal

    def __repr__(self) -> str:
        return f"RuleRequirement(rule={self.rule!r}, scopes={self.scopes!r})"


class _SecuredRuleRequirement(RuleRequirement, SecurityBase):
    """A rule requirement without scopes is itself the security dependency OpenAPI reads."""

    def __init__(self, owner: "Warden", *args: Any) -> None:
        super().__init__(owner, *args)
        self.model = owner._openapi_model
        self.scheme_name = owner.scheme_name


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
        if rego is not None and not isinstance(rego, Rego):
            raise TypeError(f"rego: expected a warden.Rego, got {type(rego).__name__}")
        self.rego: Optional[Rego] = rego
        self.client: Optional[Client]
        if isinstance(authorizer, Rego):
            if rego is not None:
                raise TypeError("rego: given twice (as the authorizer and as rego=)")
            self.rego, self.client = authorizer, None
        elif isinstance(authorizer, Client):
            self.client = authorizer
        elif isinstance(authorizer, (str, os.PathLike)):
            self.client = Client(authorizer)
        elif hasattr(authorizer, "check") and hasattr(authorizer, "is_allowed"):
            self.client = Client(authorizer)
        else:
            raise TypeError(
                "authorizer: expected a warden.Client, a warden.Engine, a policy directory or a warden.Rego, "
                f"got {type(authorizer).__name__}"
            )
        self.engine = None if self.client is None else self.client.engine
        if not (hasattr(verifier, "verify_async") or hasattr(verifier, "verify")):
            raise TypeError(
                f"verifier: expected a warden.JWTVerifier, Introspector or TokenInfo (with verify_async), got {type(verifier).__name__}"
            )
        # The default mapping is a pure function of the claims, so its result can be
        # cached with them; a custom mapper may consult the app's data and runs every time.
        self._principal_cacheable = principal_mapper is None
        if principal_mapper is None:
            principal_mapper = getattr(verifier, "principal", None)
            if principal_mapper is None:
                raise TypeError("principal_mapper: required when the verifier has no principal() method")
        if not (header or cookie or session_key):
            raise ValueError("Warden: no token source; enable header, or give cookie or session_key")
        self.verifier = verifier
        self.principal_mapper = principal_mapper
        self._mapper_is_async = _is_async(principal_mapper)
        self._verify_async = getattr(verifier, "verify_async", None)
        if token_cache < 0 or token_cache_ttl < 0:
            raise ValueError("token_cache and token_cache_ttl: must not be negative")
        # Verified JWT claims by token, so a client's repeated requests skip the signature
        # check (Envoy's jwt_cache_config does the same). Only for local JWT checks:
        # Introspector/TokenInfo cache answers themselves and must see revocations.
        self._token_cache: Optional[Dict[str, Tuple[Claims, Optional[Principal], float]]] = (
            {} if token_cache and token_cache_ttl and isinstance(verifier, JWTVerifier) else None
        )
        self._token_cache_size = token_cache
        self._token_cache_ttl = token_cache_ttl
        self.header = header
        self.cookie = cookie
        self.session_key = session_key
        self.login_url = login_url
        self.realm = realm
        self.scheme_name = scheme_name
        if header:
            self._openapi_model: Any = HTTPBearerModel(bearerFormat="JWT", description=description)
        elif cookie:
            self._openapi_model = APIKey(**{"in": APIKeyIn.cookie}, name=cookie, description=description)  # type: ignore[arg-type]  # "in" is a keyword
        else:
            self._openapi_model = APIKey(**{"in": APIKeyIn.cookie}, name="session", description=description)  # type: ignore[arg-type]
        self._challenge = f'Bearer realm="{realm}"' if realm else "Bearer"
        # The request's authentication result is kept in the ASGI scope under this key, so
        # several warden dependencies in one request verify the token once.
        self._scope_key = f"warden.{id(self):x}"
        #: Dependency: the verified Principal; 401 without a valid token.
        self.principal = PrincipalDependency(self)
        #: Dependency: the verified Principal, or None when the request carries no valid token.
        self.optional_principal = PrincipalDependency(self, optional=True)
        self._login_dependencies: Dict[Optional[str], PrincipalDependency] = {}

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
            dep = self._login_dependencies[url] = PrincipalDependency(self, login_url=url)
        return dep

    def require(
        self,
        action: str,
        kind: str,
        resource: ResourceSpec = None,
        *,
        scopes: Sequence[str] = (),
        any_scopes: Sequence[str] = (),
        login: Union[bool, str] = False,
        aux_data: Optional[Mapping[str, Any]] = None,
    ) -> "Requirement":
        """Dependency: the Principal, once the policy allows ``action`` on the resource.

        ``resource`` is None (the collection: ``Resource(kind, kind)``), an id, a
        ``Resource``, a dict of attributes, or a callable that FastAPI resolves as a
        dependency (so it receives path parameters by name, queries, ``Request`` or
        other dependencies) and that returns one of those; a dict of attributes
        without ``"id"`` takes the id from the route's only path parameter. Use the same callable in
        the route to get the loaded object without a second load (FastAPI caches a
        dependency per request). A callable returning None answers 404.

        ``scopes`` are OAuth scopes the token must all grant, ``any_scopes`` scopes of
        which it must grant at least one (403 ``insufficient_scope`` otherwise). ``login`` (True, or a login URL) redirects browsers without a
        valid token to the login page instead of answering 401.
        """
        _check_name(action, "action")
        _check_name(kind, "kind")
        self._cerbos("require")
        login_url = self._principal_dependency(login).login_url
        required = _scope_list(scopes)
        loader = resource if callable(resource) and not isinstance(resource, (Resource, Mapping)) else None
        fixed = None if loader is not None else resource_of(kind, resource)
        cls = Requirement if required else _SecuredRequirement
        return cls(self, action, kind, loader, fixed, required, _scope_list(any_scopes), login_url, aux_data)

    def require_rule(
        self,
        rule: str,
        input: Optional[InputBuilder] = None,
        *,
        scopes: Sequence[str] = (),
        any_scopes: Sequence[str] = (),
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
        if input is not None and not callable(input):
            raise TypeError(f"input: expected a callable building the input document, got {type(input).__name__}")
        login_url = self._principal_dependency(login).login_url
        required = _scope_list(scopes)
        cls = RuleRequirement if required else _SecuredRuleRequirement
        return cls(self, self.rego, rule, input, required, _scope_list(any_scopes), login_url)

    def load(
        self,
        action: str,
        kind: str,
        loader: Callable[..., Any],
        *,
        scopes: Sequence[str] = (),
        any_scopes: Sequence[str] = (),
        login: Union[bool, str] = False,
        aux_data: Optional[Mapping[str, Any]] = None,
    ) -> "LoadRequirement":
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
        _check_name(action, "action")
        _check_name(kind, "kind")
        self._cerbos("load")
        if not callable(loader):
            raise TypeError(f"loader: expected a callable, got {type(loader).__name__}")
        login_url = self._principal_dependency(login).login_url
        required = _scope_list(scopes)
        cls = LoadRequirement if required else _SecuredLoadRequirement
        return cls(self, action, kind, loader, required, _scope_list(any_scopes), login_url, aux_data)

    def principal_of(self, request: Request) -> Optional[Principal]:
        """The principal a warden dependency verified for ``request`` (None before one ran, or without a valid token)."""
        state = request.scope.get(self._scope_key)
        return None if state is None else state[0]

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
        self._cerbos("decisions")
        principal_dep = self._principal_dependency(login)
        default_actions = list(actions)

        if callable(resources):
            loader = resources

            async def decision_table(
                principal: Principal = Security(principal_dep), loaded: Any = Depends(loader)
            ) -> DecisionTable:
                return self.decide_all(principal, loaded, default_actions, aux_data=aux_data)

            return decision_table
        fixed = list(resources)

        async def fixed_decision_table(principal: Principal = Security(principal_dep)) -> DecisionTable:
            return self.decide_all(principal, fixed, default_actions, aux_data=aux_data)

        return fixed_decision_table

    # --- direct calls --------------------------------------------------------------

    def is_allowed(self, principal: Principal, action: str, resource: Union[Resource, Mapping]) -> bool:
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
        resource_list = ResourceList()
        asked: Dict[str, List[str]] = {}
        for i, entry in enumerate(resources):
            if isinstance(entry, ResourceAction):
                target, wanted = entry.resource, list(entry.actions)
            elif isinstance(entry, tuple) and len(entry) == 2:
                target, wanted = entry[0], list(entry[1])
            elif isinstance(entry, Resource):
                target, wanted = entry, list(actions)
            else:
                raise TypeError(
                    f"resources[{i}]: expected a Resource, a (Resource, actions) pair or a ResourceAction, got {type(entry).__name__}"
                )
            if not isinstance(target, Resource):
                raise TypeError(f"resources[{i}]: expected a Resource, got {type(target).__name__}")
            if not wanted:
                raise ValueError(f"resources[{i}]: no actions to check (pass actions=...)")
            if target.id in asked:
                raise ValueError(f"resources[{i}]: resource id {target.id!r} appears twice")
            asked[target.id] = wanted
            resource_list.add(target, wanted)
        if not asked:
            raise ValueError("resources: at least one resource is required")
        response = self._cerbos("decide_all").check_resources(principal, resource_list, aux_data=aux_data)
        response.raise_if_failed()
        return DecisionTable(response, asked)

    # --- internals ---------------------------------------------------------------------

    def _cerbos(self, what: str) -> Client:
        if self.client is None:
            raise TypeError(
                f"{what}: this Warden decides Rego rules only (use require_rule, or give it Cerbos policies)"
            )
        return self.client

    def _principal_dependency(self, login: Union[bool, str]) -> PrincipalDependency:
        if login is True:
            return self.login_required()
        if isinstance(login, str) and login:
            return self.login_required(login)
        return self.principal

    def _token(self, request: Request) -> Tuple[Optional[str], Optional[str]]:
        """(token, where it came from) from the configured sources, or (None, None)."""
        if self.header:
            # read the ASGI header list directly: building Starlette's Headers costs more than
            # the rest of a cached token check (ASGI servers give header names in lower case)
            for name, raw in request.scope["headers"]:
                if name == b"authorization":
                    scheme, _, credentials = raw.decode("latin-1").partition(" ")
                    credentials = credentials.strip()
                    if scheme.lower() == "bearer" and credentials:
                        return credentials, "header"
                    break  # the first Authorization header decides, as Headers.get would
        if self.cookie:
            value = request.cookies.get(self.cookie)
            if value:
                return value, "cookie"
        if self.session_key:
            session = request.scope.get("session")
            if session is None:
                raise RuntimeError(
                    "warden: session_key is set but the app has no SessionMiddleware "
                    "(app.add_middleware(SessionMiddleware, secret_key=...))"
                )
            value = session.get(self.session_key)
            if isinstance(value, str) and value:
                return value, "session"
        return None, None

    async def _authenticate(
        self, request: Request
    ) -> Tuple[Optional[Principal], Optional[Claims], Optional[InvalidToken]]:
        token, source = self._token(request)
        if token is None:
            return None, None, None
        try:
            hit = self._cached(token)
            if hit is not None:
                claims, principal = hit
                if principal is not None:
                    return _copy_principal(principal), claims, None
            else:
                if self._verify_async is not None:
                    claims = await self._verify_async(token)
                else:
                    claims = await run_in_threadpool(self.verifier.verify, token)
            mapped: Any = self.principal_mapper(claims)
            principal = await mapped if self._mapper_is_async else mapped
            if hit is None and isinstance(principal, Principal):
                self._remember(token, claims, _copy_principal(principal) if self._principal_cacheable else None)
        except InvalidToken as exc:
            if source == "session" and exc.status_code == 401:
                # The session holds a token that will never verify: forget it, as the demo apps do.
                request.scope["session"].pop(self.session_key, None)
            return None, None, exc
        if not isinstance(principal, Principal):
            raise TypeError(f"principal_mapper: expected a warden.Principal, got {type(principal).__name__}")
        return principal, claims, None

    def _cached(self, token: str) -> Optional[Tuple[Claims, Optional[Principal]]]:
        cache = self._token_cache
        if cache is None:
            return None
        hit = cache.get(token)
        if hit is None:
            return None
        if hit[2] > time.time():
            return hit[0], hit[1]
        cache.pop(token, None)
        return None

    def _remember(self, token: str, claims: Claims, principal: Optional[Principal]) -> None:
        cache = self._token_cache
        if cache is None:
            return
        # kept until the token expires (no leeway) or the TTL passes, whichever is first
        deadline = time.time() + self._token_cache_ttl
        exp = claims.get("exp")
        if isinstance(exp, (int, float)) and not isinstance(exp, bool):
            deadline = min(deadline, float(exp))
        if len(cache) >= self._token_cache_size:
            cache.pop(next(iter(cache)), None)  # the oldest entry
        cache[token] = (claims, principal, deadline)

    def clear_token_cache(self) -> None:
        """Forget every verified token (e.g. after removing a compromised signing key)."""
        if self._token_cache is not None:
            self._token_cache.clear()

    def _unauthenticated(
        self, request: Request, error: Optional[InvalidToken], login_url: Optional[str]
    ) -> HTTPException:
        if error is not None and error.status_code != 401:
            # The token could not be checked (provider down): not the client's fault, no challenge.
            return HTTPException(error.status_code, error.description or "authentication unavailable")
        if login_url:
            return HTTPException(
                303, "sign in required", headers={"Location": self._login_location(request, login_url)}
            )
        if error is None:
            return HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": self._challenge})
        return HTTPException(
            401, error.description or "invalid token", headers={"WWW-Authenticate": www_authenticate(error, self.realm)}
        )

    def _login_location(self, request: Request, login_url: str) -> str:
        if not (login_url.startswith("/") or "://" in login_url):
            login_url = str(request.url_for(login_url))
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return login_url + ("&" if "?" in login_url else "?") + urlencode({"next": here})

    def _check_scopes(self, claims: Optional[Claims], required: Sequence[str], any_of: Sequence[str] = ()) -> None:
        granted = token_scopes(claims or {})
        missing = [s for s in required if s not in granted]
        if any_of and not granted.intersection(any_of):
            missing.append(" or ".join(any_of))
        if missing:
            wanted = " ".join(list(required) + list(any_of))
            description = f"the token lacks scope {', '.join(missing)}"
            parts = ([f'realm="{self.realm}"'] if self.realm else []) + [
                'error="insufficient_scope"',
                f'error_description="{description}"',
                f'scope="{wanted}"',
            ]
            raise HTTPException(
                403, f"insufficient_scope: {description}", headers={"WWW-Authenticate": "Bearer " + ", ".join(parts)}
            )


def _copy_principal(p: Principal) -> Principal:
    # each request gets its own principal, so a route changing it cannot affect the next request
    return Principal(p.id, set(p.roles), dict(p.attr), p.policy_version, p.scope)


def _is_async(fn: Any) -> bool:
    """Whether calling `fn` (a function or a callable object) gives an awaitable."""
    return inspect.iscoroutinefunction(fn) or (callable(fn) and inspect.iscoroutinefunction(type(fn).__call__))


def _check_name(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a non-empty string, got {value!r}")


def _scope_list(scopes: Union[str, Sequence[str]]) -> List[str]:
    if isinstance(scopes, str):
        return scopes.split()
    items = list(scopes)
    for item in items:
        _check_name(item, "scopes[]")
    return items


def _ident(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def _requirement_signature(
    owner: "Warden", scopes: List[str], login_url: Optional[str], loader: Optional[Callable[..., Any]]
) -> inspect.Signature:
    """A requirement's FastAPI signature: ``request``, plus the scoped principal and the loader when needed."""
    params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    if scopes:
        principal_dep = owner.login_required(login_url) if login_url else owner.principal
        params.append(
            inspect.Parameter(
                "scoped", inspect.Parameter.KEYWORD_ONLY, annotation=Any, default=Security(principal_dep, scopes=scopes)
            )
        )
    if loader is not None:
        params.append(
            inspect.Parameter("loaded", inspect.Parameter.KEYWORD_ONLY, annotation=Any, default=Depends(loader))
        )
    return inspect.Signature(params)
