"""Django REST framework: bearer tokens, the policy's decision per view and per object, list filtering.

::

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["warden.django.rest_framework.WardenAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["warden.django.rest_framework.WardenPermission"],
        "DEFAULT_FILTER_BACKENDS": ["warden.django.rest_framework.WardenFilterBackend"],
    }

    class ContactViewSet(viewsets.ModelViewSet):
        queryset = Contact.objects.all()
        serializer_class = ContactSerializer
        warden_actions = {"list": "read"}        # optional: the policy's names for the view's actions

**Which action.** A viewset's action is the policy's action: ``list``, ``create``, then
``retrieve`` → ``read``, ``update``/``partial_update`` → ``update``, ``destroy`` → ``delete``, and
an ``@action`` by its name. A view without actions uses the HTTP method: ``GET`` is ``list`` on the
collection and ``read`` on an object, ``POST`` ``create``, ``PUT``/``PATCH`` ``update``,
``DELETE`` ``delete``. A view renames them with ``warden_actions`` (keys: viewset actions or HTTP
methods; a value of None skips the collection decision) or fixes one with ``warden_action``.

**Which resource.** On the collection (``list``, ``create``, a ``@action(detail=False)``) the
permission decides the action on ``Resource(kind, kind)``; on an object route it lets the view
load the object and decides in ``has_object_permission`` on the object as
:class:`~warden.django.attributes.ModelAttributes` reads it. ``kind`` is ``warden_kind`` or the
queryset model's name; ``warden_attributes`` maps attributes to fields (see ``ModelAttributes``).
As with every DRF object permission, a view that never calls ``get_object()`` is not checked on
the object.

**Which rows.** :class:`WardenFilterBackend` narrows a list to the rows the principal may read (the
action ``retrieve`` maps to, or ``warden_list_action``) with the query plan, in the database.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.filters import BaseFilterBackend
from rest_framework.permissions import BasePermission

from warden.django.authentication import authenticate
from warden.django.conf import runtime
from warden.django.policy import is_allowed, resource_of
from warden.django.query import authorized
from warden.models import Principal

__all__ = [
    "PrincipalUser",
    "ProviderUnavailable",
    "WardenAuthentication",
    "WardenFilterBackend",
    "WardenPermission",
    "view_action",
    "view_kind",
]

#: the policy's action for each viewset action
VIEWSET_ACTIONS: Dict[str, str] = {
    "list": "list",
    "create": "create",
    "retrieve": "read",
    "update": "update",
    "partial_update": "update",
    "destroy": "delete",
}
#: the policy's action for each HTTP method, on an object route (GET on the collection is "list")
METHOD_ACTIONS: Dict[str, str] = {
    "GET": "read",
    "HEAD": "read",
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}


class PrincipalUser:
    """``request.user`` for a request authenticated by warden: the verified principal, user-shaped.

    ``is_authenticated`` is True (DRF's ``IsAuthenticated`` passes), ``username``/``id``/``pk``
    are the principal's id, and ``principal`` is the :class:`warden.Principal`.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.pk = self.id = self.username = principal.id

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"PrincipalUser({self.principal!r})"


class ProviderUnavailable(exceptions.APIException):
    """The token could not be checked (the identity provider is unreachable): 503, no challenge."""

    status_code = 503
    default_detail = "authentication is temporarily unavailable"
    default_code = "temporarily_unavailable"


class WardenAuthentication(BaseAuthentication):
    """Bearer tokens as ``settings.WARDEN`` configures them (header, cookie, session key).

    No token: None (another authentication class may try; without one DRF answers 401 with
    ``WWW-Authenticate: Bearer``). A refused token: 401 with ``error="invalid_token"``. An
    unreachable provider: 503. Verified: ``(PrincipalUser, token)``, and ``request.principal``.
    A token the browser sends by itself (a cookie, the session) must come with Django's CSRF token
    on unsafe methods, as DRF's ``SessionAuthentication`` requires; a header token need not.
    """

    def authenticate(self, request: Any) -> Optional[tuple]:
        found = authenticate(request)
        if found.principal is not None:
            if found.source in ("cookie", "session"):
                SessionAuthentication().enforce_csrf(request)  # ambient credentials: DRF's own CSRF check
            return PrincipalUser(found.principal), found.token
        if found.error is None:
            return None
        refusal = found.refusal(runtime().realm)
        if refusal.status == 401:
            raise exceptions.AuthenticationFailed(refusal.description, code=refusal.error)
        raise ProviderUnavailable(refusal.description)

    def authenticate_header(self, request: Any) -> str:
        return authenticate(request).refusal(runtime().realm).www_authenticate or "Bearer"


def is_object_route(view: Any) -> bool:
    """Whether the view acts on one object (a detail route) rather than on the collection."""
    detail = getattr(view, "detail", None)
    if isinstance(detail, bool):
        return detail
    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
    return bool(lookup) and lookup in (getattr(view, "kwargs", None) or {})


def view_action(request: Any, view: Any) -> Optional[str]:
    """The policy's action for this request to ``view`` (None: the view skips the decision)."""
    fixed = getattr(view, "warden_action", None)
    if fixed:
        return fixed
    overrides = getattr(view, "warden_actions", None) or {}
    name = getattr(view, "action", None)
    if name:
        return overrides[name] if name in overrides else VIEWSET_ACTIONS.get(name, name)
    method = request.method.upper()
    if method in overrides:
        return overrides[method]
    if method in ("GET", "HEAD") and not is_object_route(view):
        return overrides.get("list", "list")
    return METHOD_ACTIONS.get(method, method.lower())


def view_kind(view: Any) -> str:
    """The resource kind of ``view``: ``warden_kind``, else its queryset model's name."""
    kind = getattr(view, "warden_kind", None)
    if kind:
        return kind
    queryset = getattr(view, "queryset", None)
    if queryset is None and hasattr(view, "get_queryset"):
        queryset = view.get_queryset()
    if queryset is None:
        raise TypeError(f"{type(view).__name__}: set warden_kind (the resource kind) or a queryset")
    return queryset.model._meta.model_name


class WardenPermission(BasePermission):
    """The policy decides the view's action on the collection, and on each object the view loads."""

    message = "not allowed by the policy"

    def has_permission(self, request: Any, view: Any) -> bool:
        principal = authenticate(request).principal
        if principal is None:
            return False  # DRF answers 401 with the authentication class's challenge
        if request.method == "OPTIONS" or is_object_route(view):
            return True  # OPTIONS describes the view; an object is decided once loaded
        action = view_action(request, view)
        if action is None:
            return True
        return is_allowed(principal, action, None, kind=view_kind(view))

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        principal = authenticate(request).principal
        if principal is None:
            return False
        if request.method == "OPTIONS":
            return True
        action = view_action(request, view)
        if action is None:
            return True
        kind = getattr(view, "warden_kind", None)
        resource = resource_of(obj, kind, getattr(view, "warden_attributes", None))
        return is_allowed(principal, action, resource)


class WardenFilterBackend(BaseFilterBackend):
    """A list narrowed to the rows the principal may read, by the query plan (see the module's docstring)."""

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        if is_object_route(view) or request.method not in ("GET", "HEAD"):
            return queryset  # an object is decided by WardenPermission.has_object_permission
        principal = authenticate(request).principal
        if principal is None:
            return queryset.none()
        action = getattr(view, "warden_list_action", None)
        if not action:
            overrides = getattr(view, "warden_actions", None) or {}
            action = overrides.get("retrieve") or VIEWSET_ACTIONS["retrieve"]
        return authorized(
            queryset,
            principal,
            action,
            kind=getattr(view, "warden_kind", None),
            attributes=getattr(view, "warden_attributes", None),
        )
