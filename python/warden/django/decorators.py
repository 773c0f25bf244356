"""``@require``: a function view runs only when the policy allows the action.

::

    from warden.django import require

    @require("read", "contact")                                   # the collection
    def contact_list(request): ...

    @require("update", resource=lambda request, pk: get_object_or_404(Contact, pk=pk))
    def contact_edit(request, pk):
        contact = request.warden_object                            # loaded once, already checked
        ...

API views answer as the other integrations do (RFC 6750, JSON bodies): no token 401 with
``WWW-Authenticate: Bearer``, a refused token 401 ``invalid_token``, an unreachable provider 503,
missing OAuth scopes 403 ``insufficient_scope``, a denied principal 403. Pages (``login=True``)
send visitors without a valid token to the login page (``?next=`` the page asked for) and answer a
denied principal with Django's 403 page (``PermissionDenied``). OPTIONS requests pass unchecked
(CORS preflight), as Flask-Login and ``warden.flask`` do.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterable, Optional, TypeVar, Union

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse

from warden import _access
from warden._web import ScopeRequirement, check_name, login_location
from warden.django.attributes import AttributeSpec, ModelAttributes
from warden.django.authentication import (
    Authentication,
    authenticate,
    authenticate_async,
    refusal_response,
    request_facts,
)
from warden.django.conf import runtime
from warden.django.policy import resource_of

__all__ = ["require"]

F = TypeVar("F", bound=Callable[..., Any])
#: OAuth scopes: a space-separated string (RFC 6749 §3.3) or a list of scopes
Scopes = Union[str, Iterable[str]]
#: where the loaded object is kept for the view
OBJECT_ATTRIBUTE = "warden_object"


def require(
    action: str,
    kind: Optional[str] = None,
    resource: Union[None, Callable[..., Any], Any] = None,
    *,
    attributes: Union[AttributeSpec, ModelAttributes] = None,
    scopes: Scopes = (),
    any_scopes: Scopes = (),
    login: bool = False,
) -> Callable[[F], F]:
    """Decorator: run the view only when the principal may ``action`` on the resource.

    ``resource`` is None (the collection of ``kind``), a fixed resource (see
    :func:`warden.django.policy.resource_of`), or a callable receiving the view's arguments
    (``request``, then its URL arguments) and returning a model instance, a ``Resource``, a dict of
    attributes or None (404). The caller is authenticated before it runs, so unknown callers learn
    nothing, not even a 404; what it returned is kept as ``request.warden_object``. ``kind``
    defaults to the model's name for model instances. ``scopes`` must all be granted by the token
    and one of ``any_scopes`` when given (space-separated strings or lists). ``login=True`` is for
    pages (see the module's docstring). Sync and async views alike.
    """
    check_name(action, "action")
    if kind is not None:
        check_name(kind, "kind")
    if resource is None and kind is None:
        raise ValueError("require: give kind (the collection) or resource")
    required = ScopeRequirement.parse(scopes, any_scopes)
    loader = resource if callable(resource) and not isinstance(resource, type) else None

    def decide(request: Any, authentication: Authentication, loaded: Any) -> Optional[HttpResponse]:
        rt = runtime()
        principal = authentication.principal
        refusal = required.refusal(authentication.claims, rt.realm)
        if refusal is not None:
            return refusal_response(refusal)
        target = resource_of(loaded, kind, attributes)
        if _access.decide(rt.engine, lambda: request_facts(request), principal, target, action):
            return None
        if login:
            raise PermissionDenied(f"not allowed to {action} {target.kind} {target.id}")
        return JsonResponse(
            {"error": "forbidden", "error_description": f"not allowed to {action} {target.kind} {target.id}"},
            status=403,
        )

    def unauthenticated(request: Any, authentication: Authentication) -> HttpResponse:
        rt = runtime()
        error = authentication.error
        if login and (error is None or error.status_code == 401):
            return HttpResponseRedirect(login_location(rt.login_url, request.get_full_path()))
        return refusal_response(authentication.refusal(rt.realm))

    def decorate(view: F) -> F:
        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
                if request.method != "OPTIONS":
                    authentication = await authenticate_async(request)
                    if authentication.principal is None:
                        return unauthenticated(request, authentication)
                    loaded = resource
                    if loader is not None:
                        loaded = await _call(loader, request, *args, **kwargs)
                        if loaded is None:
                            return _not_found(login)
                        setattr(request, OBJECT_ATTRIBUTE, loaded)
                    answer = await sync_to_async(decide)(request, authentication, loaded)
                    if answer is not None:
                        return answer
                return await view(request, *args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if request.method != "OPTIONS":
                authentication = authenticate(request)
                if authentication.principal is None:
                    return unauthenticated(request, authentication)
                loaded = resource
                if loader is not None:
                    loaded = loader(request, *args, **kwargs)
                    if loaded is None:
                        return _not_found(login)
                    setattr(request, OBJECT_ATTRIBUTE, loaded)
                answer = decide(request, authentication, loaded)
                if answer is not None:
                    return answer
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


async def _call(loader: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    if iscoroutinefunction(loader):
        return await loader(*args, **kwargs)
    return await sync_to_async(loader)(*args, **kwargs)


def _not_found(page: bool) -> HttpResponse:
    if page:
        raise Http404("not found")
    return JsonResponse({"error": "not_found", "error_description": "not found"}, status=404)
