"""The OpenAPI security scheme warden's dependencies carry, so Swagger UI shows its lock."""

from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional, Type, TypeVar, cast

from fastapi.openapi.models import APIKey, APIKeyIn
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

T = TypeVar("T")


class SecurityScheme(NamedTuple):
    """What FastAPI reads from a ``SecurityBase`` dependency: the scheme's model and its name."""

    model: Any
    scheme_name: str


def security_scheme(
    scheme_name: str, *, header: bool, cookie: Optional[str], description: Optional[str]
) -> SecurityScheme:
    """HTTP bearer (JWT) when the ``Authorization`` header is a token source; else an API key in a cookie
    (the token cookie, or the session cookie)."""
    if header:
        model: Any = HTTPBearerModel(bearerFormat="JWT", description=description)
    else:
        model = APIKey(**{"in": APIKeyIn.cookie}, name=cookie or "session", description=description)  # type: ignore[arg-type]  # "in" is a keyword
    return SecurityScheme(model, scheme_name)


_SECURITY_DEPENDENCY_CLASSES: Dict[type, type] = {}


def as_security_dependency(cls: Type[T]) -> Type[T]:
    """``cls`` as a FastAPI ``SecurityBase``, so OpenAPI lists the scheme of a route using it.

    FastAPI recognises a security scheme by its class. A guard without required scopes
    is made of this class and carries the scheme itself, which costs no dependency node;
    a guard with required scopes stays of ``cls``: its ``Security(authz.principal,
    scopes=...)`` parameter lists the scheme with the scopes (listed twice, once without
    them, it would tell clients that no scope is needed).
    """
    made = _SECURITY_DEPENDENCY_CLASSES.get(cls)
    if made is None:
        namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__}
        made = _SECURITY_DEPENDENCY_CLASSES[cls] = type(cls.__name__, (cls, SecurityBase), namespace)
    return cast(Type[T], made)
