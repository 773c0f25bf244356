"""``WardenMiddleware``: every request's bearer token verified once, its principal as ``request.principal``.

::

    MIDDLEWARE = [
        ...,
        "django.contrib.sessions.middleware.SessionMiddleware",   # before warden's, for SESSION_KEY
        "warden.django.middleware.WardenMiddleware",
    ]

``request.principal`` is the verified :class:`warden.Principal`, or None when the request carries
no token or a refused one. The middleware refuses nothing itself: views decide what needs a
principal (``@require``, DRF's ``WardenPermission``), and answer the refusal the request earned
(401 ``invalid_token`` for a refused token, 503 when the provider is unreachable). Works in sync
and async stacks; under ASGI the token check awaits the verifier's ``verify_async``.
"""

from __future__ import annotations

from typing import Any, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from warden.django.authentication import authenticate, authenticate_async

__all__ = ["WardenMiddleware"]


class WardenMiddleware:
    """Sets ``request.principal`` (see the module's docstring)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self.__acall__(request)
        request.principal = authenticate(request).principal
        return self.get_response(request)

    async def __acall__(self, request: Any) -> Any:
        request.principal = (await authenticate_async(request)).principal
        return await self.get_response(request)
