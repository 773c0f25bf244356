"""The Cerbos decision about a Django object: the resource it is, then the engine's answer.

Model instances become resources through :class:`warden.django.attributes.ModelAttributes`, the
same mapping the list filters use, so a row a list shows is a row its detail page allows.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Type, Union

from django.db import models

from warden.django.attributes import AttributeSpec, ModelAttributes
from warden.models import Principal, Resource

__all__ = ["decision_table", "is_allowed", "model_attributes", "principal_from", "resource_of"]


def model_attributes(
    model: Type[models.Model], attributes: Union[AttributeSpec, ModelAttributes] = None, kind: Optional[str] = None
) -> ModelAttributes:
    """The :class:`ModelAttributes` of ``model`` (kept per model and kind when ``attributes`` is None)."""
    if isinstance(attributes, ModelAttributes):
        return attributes
    if attributes is None:
        return _default_attributes(model, kind)  # type: ignore[arg-type]  # model classes are hashable
    return ModelAttributes(model, attributes, kind=kind)


@functools.lru_cache(maxsize=256)
def _default_attributes(model: Any, kind: Optional[str]) -> ModelAttributes:
    return ModelAttributes(model, kind=kind)


def resource_of(
    obj: Any, kind: Optional[str] = None, attributes: Union[AttributeSpec, ModelAttributes] = None
) -> Resource:
    """The :class:`Resource` ``obj`` describes.

    ``obj`` is a model instance (its attributes as :class:`ModelAttributes` reads them), a
    ``Resource`` (its kind must be ``kind`` when given), a mapping of attributes (the id is its
    ``"id"``), a string or int (the id), or None: the collection of ``kind``, ``Resource(kind, kind)``.
    """
    if isinstance(obj, models.Model):
        return model_attributes(type(obj), attributes, kind).resource(obj)
    if isinstance(obj, Resource):
        if kind is not None and obj.kind != kind:
            raise ValueError(f"resource: a {obj.kind!r} resource where {kind!r} was required")
        return obj
    if not kind:
        raise ValueError(f"kind: required for a {type(obj).__name__} resource")
    if obj is None:
        return Resource(kind, kind)
    if isinstance(obj, bool):
        raise TypeError("resource: expected an id, not a bool")
    if isinstance(obj, (str, int)):
        if obj == "":
            raise ValueError("resource: the id must not be empty")
        return Resource(str(obj), kind)
    if isinstance(obj, Mapping):
        rid = obj.get("id")
        return Resource(str(rid) if isinstance(rid, (str, int)) and rid != "" else kind, kind, attr=dict(obj))
    raise TypeError(
        f"resource: expected a model instance, a warden.Resource, a dict of attributes, an id or None, got {type(obj).__name__}"
    )


def principal_from(request_or_principal: Any) -> Optional[Principal]:
    """The principal given, or the verified principal of a request (None without one)."""
    if request_or_principal is None or isinstance(request_or_principal, Principal):
        return request_or_principal
    from warden.django.authentication import principal_of

    return principal_of(request_or_principal)


def is_allowed(
    request_or_principal: Any,
    action: str,
    obj: Any = None,
    *,
    kind: Optional[str] = None,
    attributes: Union[AttributeSpec, ModelAttributes] = None,
    aux_data: Optional[Mapping[str, Any]] = None,
    engine: Any = None,
) -> bool:
    """Whether the request's principal (or ``principal``) may ``action`` on ``obj`` (see :func:`resource_of`).

    False without a verified principal. ``engine`` defaults to the one ``settings.WARDEN`` configures.
    """
    principal = principal_from(request_or_principal)
    if principal is None:
        return False
    if engine is None:
        from warden.django.conf import runtime

        engine = runtime().engine
    resource = resource_of(obj, kind, attributes)
    return engine.is_allowed(principal, resource, action=action, aux_data=None if aux_data is None else dict(aux_data))


def decision_table(
    request_or_principal: Any,
    objects: Iterable[Any],
    actions: Sequence[str],
    *,
    kind: Optional[str] = None,
    attributes: Union[AttributeSpec, ModelAttributes] = None,
    engine: Any = None,
) -> List[Tuple[Any, Dict[str, bool]]]:
    """``(object, {action: allowed})`` for each of ``objects``, decided in one engine call (all False
    without a principal): what a page needs to show or hide its buttons."""
    items = list(objects)
    principal = principal_from(request_or_principal)
    if principal is None:
        return [(obj, {a: False for a in actions}) for obj in items]
    if engine is None:
        from warden.django.conf import runtime

        engine = runtime().engine
    resources = [resource_of(obj, kind, attributes) for obj in items]
    rows = engine.decision_table(principal, resources, list(actions))
    return [(obj, dict(zip(actions, row, strict=True))) for obj, row in zip(items, rows, strict=True)]
