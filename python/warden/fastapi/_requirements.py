"""The dependencies protecting a route: ``authz.require(...)`` and ``authz.load(...)``, and their common base.

Each is one FastAPI dependency node: the token check runs inline (shared with any
other warden dependency of the request), so a protected route costs FastAPI little
more than an open one. A FastAPI signature is built per instance (``__signature__``):
``request``, ``Security(authz.principal, scopes=...)`` when OAuth scopes are required
(which also lists them in OpenAPI), and the resource loader's own parameters.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Optional, Type, TypeVar

from fastapi import Depends, Request, Security
from starlette.concurrency import run_in_threadpool

from warden._web import ScopeRequirement, is_async
from warden.fastapi._authentication import Authentication, PrincipalDependency
from warden.fastapi._openapi import as_security_dependency
from warden.fastapi._policy import PolicyCheck
from warden.models import Principal, Resource

G = TypeVar("G", bound="Guard")

_KEYWORD = inspect.Parameter.KEYWORD_ONLY


class Guard:
    """What every route requirement does first: authenticate the caller and check the token's scopes.

    ``principal`` is the principal dependency of the route (``authz.principal``, or
    ``authz.login_required(url)`` for browser routes: 303 to the login page instead of
    401); ``scopes`` the OAuth scopes required. Scopes of ``scopes.all_of`` are checked
    by a ``Security(principal, scopes=...)`` parameter, which lists them in OpenAPI;
    those of ``scopes.any_of`` by :meth:`_check_any_scopes`. Subclasses start their
    ``__call__`` with ``self.authenticator.authenticated(request, self.login_url)``: 401
    (or 303 to the login page, or 503) without a principal. Make guards with
    :meth:`declare`, which picks the class OpenAPI needs.
    """

    def __init__(self, principal: PrincipalDependency, scopes: ScopeRequirement) -> None:
        self.authenticator = principal.authenticator
        self.login_url = principal.login_url
        self.scopes = scopes
        # read by FastAPI when the guard is a SecurityBase (see declare)
        self.model = principal.model
        self.scheme_name = principal.scheme_name
        params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
        if scopes.all_of:
            scoped = Security(principal, scopes=list(scopes.all_of))
            params.append(inspect.Parameter("scoped", _KEYWORD, annotation=Any, default=scoped))
        self.__signature__ = inspect.Signature(params)

    @classmethod
    def declare(cls: Type[G], principal: PrincipalDependency, scopes: ScopeRequirement, *args: Any) -> G:
        """A new guard, of a ``SecurityBase`` subclass when it must carry the security scheme itself
        (no required scopes; see :func:`warden.fastapi._openapi.as_security_dependency`)."""
        made = cls if scopes.all_of else as_security_dependency(cls)
        return made(principal, scopes, *args)

    def _check_any_scopes(self, state: Authentication) -> None:
        if self.scopes.any_of:
            self.authenticator.check_scopes(state.claims, (), self.scopes.any_of)


class PolicyGuard(Guard):
    """A guard deciding a Cerbos policy (``check``): ``action`` on a resource of ``kind``."""

    def __init__(self, principal: PrincipalDependency, scopes: ScopeRequirement, check: PolicyCheck) -> None:
        super().__init__(principal, scopes)
        self.check = check

    @property
    def action(self) -> str:
        """The action the policy decides."""
        return self.check.action

    @property
    def kind(self) -> str:
        """The resource kind."""
        return self.check.kind

    def _decide(self, request: Request, state: Authentication, loaded: Any) -> None:
        """404 when nothing was loaded, 403 when a scope of ``any_of`` is missing or the policy denies."""
        target = self.check.target(request, loaded)
        self._check_any_scopes(state)
        self.check.enforce(state.principal, target, request)  # type: ignore[arg-type]  # authenticated: a principal

    def __repr__(self) -> str:
        return f"{type(self).__name__}(action={self.action!r}, kind={self.kind!r}, scopes={list(self.scopes.all_of)!r})"


class Requirement(PolicyGuard):
    """The dependency ``authz.require(...)`` returns: the Principal, once the policy allows.

    The resource is ``fixed`` (a :class:`Resource`), or what ``loader`` returns: the
    loader is a ``Depends(loader)`` parameter, so a route using the same loader gets
    the loaded object without a second load (FastAPI caches a dependency per request).
    """

    def __init__(
        self,
        principal: PrincipalDependency,
        scopes: ScopeRequirement,
        check: PolicyCheck,
        fixed: Optional[Resource],
        loader: Optional[Callable[..., Any]],
    ) -> None:
        super().__init__(principal, scopes, check)
        self.fixed = fixed
        self.loader = loader
        if loader is not None:
            loaded = inspect.Parameter("loaded", _KEYWORD, annotation=Any, default=Depends(loader))
            self.__signature__ = self.__signature__.replace(
                parameters=[*self.__signature__.parameters.values(), loaded]
            )

    async def __call__(self, request: Request, scoped: Optional[Principal] = None, loaded: Any = None) -> Principal:
        state = await self.authenticator.authenticated(request, self.login_url)
        self._decide(request, state, self.fixed if self.loader is None else loaded)
        return state.principal  # type: ignore[return-value]  # authenticated: a principal


class LoadRequirement(PolicyGuard):
    """The dependency ``authz.load(action, kind, loader)`` returns: the loaded object, once allowed.

    The loader's own parameters (path and query parameters, ``Request``, other
    dependencies) become this dependency's, so loading, the token check and the
    decision are one dependency node: a route protected this way has as many nodes
    as the same route loading its object unprotected. The caller is authenticated
    before the loader runs, so callers without a valid token never reach the store.
    """

    def __init__(
        self,
        principal: PrincipalDependency,
        scopes: ScopeRequirement,
        check: PolicyCheck,
        loader: Callable[..., Any],
    ) -> None:
        super().__init__(principal, scopes, check)
        self.loaded_by = loader
        self._loader_is_async = is_async(loader)
        loader_params, loader_request, self.__globals__ = _loader_parameters(loader)
        # warden's own parameters, renamed so they cannot collide with the loader's
        own = [p.replace(name="_warden_" + p.name, kind=_KEYWORD) for p in self.__signature__.parameters.values()]
        taken = {p.name for p in own} & {p.name for p in loader_params}
        if taken:
            raise TypeError(f"loader: parameter {sorted(taken)[0]!r} cannot be injected by FastAPI")
        # FastAPI passes the Request to one parameter only: share the loader's when it has one
        self._request_name = loader_request or "_warden_request"
        if loader_request is not None:
            own = [p for p in own if p.name != "_warden_request"]
        self.__signature__ = inspect.Signature(own + loader_params)

    async def __call__(self, **arguments: Any) -> Any:
        if self._request_name == "_warden_request":
            request = arguments.pop("_warden_request")
        else:
            request = arguments[self._request_name]
        arguments.pop("_warden_scoped", None)
        state = await self.authenticator.authenticated(request, self.login_url)
        if self._loader_is_async:
            loaded = await self.loaded_by(**arguments)
        else:
            loaded = await run_in_threadpool(self.loaded_by, **arguments)  # as FastAPI runs sync dependencies
        self._decide(request, state, loaded)
        return loaded


def _loader_parameters(loader: Callable[..., Any]) -> "tuple[List[inspect.Parameter], Optional[str], Dict[str, Any]]":
    """The loader's parameters as keyword-only ones, the name of its ``Request`` parameter
    (None without one) and the globals its string annotations are resolved in."""
    if inspect.isgeneratorfunction(loader) or inspect.isasyncgenfunction(loader):
        raise TypeError("loader: generator dependencies (with yield) are not supported here; use require(resource=...)")
    try:
        signature = inspect.signature(loader, eval_str=True)
    except NameError:
        # an annotation (often the return type) names something only a type checker
        # sees: keep the strings, and let FastAPI read them in the loader's globals
        signature = inspect.signature(loader)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"loader: cannot read its signature ({exc})") from exc
    loader_globals = getattr(inspect.unwrap(loader), "__globals__", {})
    params = []
    request_name = None
    for param in signature.parameters.values():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(f"loader: parameter {param.name!r} cannot be injected by FastAPI")
        annotation = param.annotation
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, dict(loader_globals))  # noqa: S307 - the loader's own annotation
            except Exception:  # noqa: BLE001 - unresolvable here: not a Request, FastAPI reports it
                annotation = None
        if isinstance(annotation, type) and issubclass(annotation, Request):
            request_name = param.name
        params.append(param.replace(kind=_KEYWORD))
    return params, request_name, loader_globals
