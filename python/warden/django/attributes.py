"""Model rows as Cerbos resources: which attribute is which field, read one way for checks and for filters.

A list endpoint filters rows with the plan (``warden.django.query``); a detail endpoint checks one
row (``Engine.is_allowed``). They agree only if both see the same attributes, so both go through
one :class:`ModelAttributes`: the filter compares the fields it names, and :meth:`ModelAttributes.resource`
builds the row's resource from the same fields, with NULL values as the filter reads them: ``nulls="explicit"``, the default, sends a NULL as ``None`` (CEL's
``null``), ``nulls="omitted"`` leaves the attribute out (a missing attribute: every comparison
with it fails), the two conventions of ``warden.sqlalchemy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Tuple, Type, Union

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from warden.models import Resource

__all__ = ["AttributeField", "ModelAttributes", "field_kind"]

#: attribute name -> field path (``"owner__username"``), or the names of fields kept under their own names
AttributeSpec = Union[Mapping[str, str], Iterable[str], None]


def field_kind(field: models.Field) -> Optional[str]:
    """The CEL kind a field's values have (string, int, double, bool), or None for other types."""
    if isinstance(field, models.ForeignKey):
        return field_kind(field.target_field)
    if isinstance(field, models.BooleanField):
        return "bool"
    if isinstance(field, (models.CharField, models.TextField)):
        return "string"
    if isinstance(field, (models.IntegerField, models.BigIntegerField, models.SmallIntegerField)):
        return "int"
    if isinstance(field, models.FloatField):
        return "double"
    return None


_CONVERT = {"string": str, "int": int, "double": float, "bool": bool}
#: what a NULL value stands for: the attribute is null (explicit) or missing (omitted)
NULLS = ("explicit", "omitted")


class AttributeField(NamedTuple):
    """One resource attribute: the field path a query uses, the attribute path to read on an instance, its kind."""

    name: str
    #: the ORM lookup path, e.g. ``owner__username`` (a foreign key itself: ``owner``, its key column)
    path: str
    #: attribute names followed on an instance (``("owner", "username")``; ``("owner_id",)`` for a key)
    chain: Tuple[str, ...]
    #: the CEL kind of its values (see :func:`field_kind`); None for an id field of another type
    value_kind: Optional[str]
    field: models.Field
    #: whether the path can be NULL (a nullable field, or a nullable foreign key on the way)
    nullable: bool


class ModelAttributes:
    """The resource attributes of a model's rows.

    ``attributes`` is None (every field of a supported type under its own name, foreign keys as
    ``<name>_id``, e.g. ``owner_id``), a list of field names, or a mapping from attribute name to a
    field path across forward foreign keys (``{"owner": "owner__username"}``). Attribute names may
    contain dots to stand for nested attributes (``"owner.name"``: ``R.attr.owner.name``). Supported
    fields hold strings (``CharField``, ``TextField`` and their subclasses), integers, floats and
    booleans; naming another type raises ``TypeError``.

    ``kind`` is the resource kind (default: the model's name in lower case, ``contact`` for
    ``Contact``); ``id_field`` gives the resource id (default the primary key, as a string).
    ``nulls`` is what a NULL value stands for: ``"explicit"`` (the attribute is ``null``) or
    ``"omitted"`` (the attribute is missing).
    """

    def __init__(
        self,
        model: Type[models.Model],
        attributes: AttributeSpec = None,
        *,
        kind: Optional[str] = None,
        id_field: str = "pk",
        nulls: str = "explicit",
    ) -> None:
        if nulls not in NULLS:
            raise ValueError(f"nulls: expected 'explicit' or 'omitted', got {nulls!r}")
        self.nulls = nulls
        if not (isinstance(model, type) and issubclass(model, models.Model)):
            raise TypeError(f"model: expected a Django model class, got {model!r}")
        self.model = model
        self.kind = kind or model._meta.model_name
        if not isinstance(self.kind, str) or not self.kind:
            raise ValueError(f"kind: expected a non-empty string, got {kind!r}")
        self.id = _resolve(model, "<id>", model._meta.pk.name if id_field == "pk" else id_field, any_type=True)
        self.fields: Dict[str, AttributeField] = {}
        if attributes is None:
            for field in model._meta.concrete_fields:
                if field_kind(field) is not None and not field.primary_key:
                    name = field.attname if isinstance(field, models.ForeignKey) else field.name
                    self.fields[name] = _resolve(model, name, name)
        else:
            pairs = attributes.items() if isinstance(attributes, Mapping) else ((a, a) for a in attributes)
            for name, path in pairs:
                if not isinstance(name, str) or not name:
                    raise ValueError(f"attributes: expected non-empty attribute names, got {name!r}")
                self.fields[name] = _resolve(model, name, path)

    def field(self, name: str) -> Optional[AttributeField]:
        """The field of attribute ``name``, or None when the model does not map it."""
        return self.fields.get(name)

    def attributes(self, instance: models.Model) -> Dict[str, Any]:
        """The instance's attributes (dotted names nest: ``{"owner": {"name": ...}}``); a NULL value is
        None, or left out with ``nulls="omitted"``."""
        found: Dict[str, Any] = {}
        for name, attribute in self.fields.items():
            value = _read(instance, attribute)
            if value is None and self.nulls == "omitted":
                continue
            target = found
            *outer, last = name.split(".")
            for part in outer:
                nested = target.setdefault(part, {})
                if not isinstance(nested, dict):
                    raise ValueError(f"attributes: {name!r} nests inside {part!r}, which is also an attribute")
                target = nested
            target[last] = value
        return found

    def resource_id(self, instance: models.Model) -> str:
        """The instance's resource id (its primary key, or ``id_field``, as a string)."""
        value = _read(instance, self.id)
        if value is None:
            raise ValueError(f"{self.model.__name__}: the instance has no {self.id.path} (save it first)")
        return str(value)

    def resource(self, instance: models.Model) -> Resource:
        """The instance as a :class:`warden.Resource` of this kind."""
        if not isinstance(instance, self.model):
            raise TypeError(f"expected a {self.model.__name__} instance, got {type(instance).__name__}")
        return Resource(self.resource_id(instance), self.kind, attr=self.attributes(instance))

    def names(self) -> List[str]:
        """The attribute names, in declaration order."""
        return list(self.fields)

    def __repr__(self) -> str:
        return f"ModelAttributes({self.model.__name__}, kind={self.kind!r}, {{{', '.join(f'{n!r}: {a.path!r}' for n, a in self.fields.items())}}})"


def _resolve(model: Type[models.Model], name: str, path: str, any_type: bool = False) -> AttributeField:
    """The field at ``path`` from ``model``, across forward foreign keys and one-to-ones only (a
    to-many relation would repeat rows)."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"attributes[{name!r}]: expected a field path, got {path!r}")
    parts = path.split("__")
    current = model
    chain: List[str] = []
    field: Any = None
    nullable = False
    for i, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            raise ValueError(
                f"attributes[{name!r}]: {current.__name__} has no field {part!r} (path {path!r})"
            ) from None
        last = i == len(parts) - 1
        nullable = nullable or bool(field.null)
        if field.is_relation:
            if not (field.concrete and (field.many_to_one or field.one_to_one)):
                raise ValueError(
                    f"attributes[{name!r}]: {current.__name__}.{part} is a to-many or reverse relation (path {path!r}); "
                    "only forward foreign keys and one-to-ones can be followed"
                )
            if last:
                chain.append(field.attname)  # the key column, without loading the related row
                break
            chain.append(field.name)
            current = field.related_model
            continue
        if not last:
            raise ValueError(f"attributes[{name!r}]: {current.__name__}.{part} is not a relation (path {path!r})")
        chain.append(field.attname)
    kind = field_kind(field)
    if kind is None and not any_type:
        raise TypeError(
            f"attributes[{name!r}]: {type(field).__name__} {path!r} is not supported "
            "(strings, integers, floats and booleans are)"
        )
    return AttributeField(name, path, tuple(chain), kind, field, nullable)


def _read(instance: Any, attribute: AttributeField) -> Any:
    value = instance
    for part in attribute.chain:
        value = getattr(value, part, None)
        if value is None:
            return None
    return value if attribute.value_kind is None else _CONVERT[attribute.value_kind](value)
