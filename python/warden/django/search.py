"""A Django queryset as a resource source of the AuthZEN Resource Search API.

::

    from warden.authzen import Sources, app
    from warden.django.search import QuerySetResources

    pdp = app(engine, sources=Sources(resources={"contact": QuerySetResources(Contact.objects.all())}))

The engine's plan for the search becomes a ``Q`` (:mod:`warden.django.query`), so the database
returns only the rows the policy admits, a page at a time in primary key order.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from warden.authzen._search import ResourceSource
from warden.django.attributes import AttributeSpec, ModelAttributes
from warden.django.query import plan_q

__all__ = ["QuerySetResources"]


class QuerySetResources(ResourceSource):
    """The rows of ``queryset`` as resources (attributes as :class:`ModelAttributes` maps them)."""

    def __init__(
        self, queryset: Any, attributes: Union[AttributeSpec, ModelAttributes] = None, *, kind: Optional[str] = None
    ) -> None:
        self.queryset = queryset
        self.attributes = (
            attributes
            if isinstance(attributes, ModelAttributes)
            else ModelAttributes(queryset.model, attributes, kind=kind)
        )

    def search(self, plan: Mapping[str, Any], after: Any, limit: int) -> Tuple[List[Dict[str, Any]], Any]:
        key = self.attributes.model._meta.pk.attname
        rows = self.queryset.filter(plan_q(plan, self.attributes)).order_by(key)
        if after is not None:
            rows = rows.filter(**{f"{key}__gt": after})
        page = list(rows[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        found = [{"type": self.attributes.kind, "id": self.attributes.resource_id(row)} for row in page]
        if not (more and page):
            return found, None
        last = getattr(page[-1], key)
        return found, last if isinstance(last, (int, str)) else str(last)  # a JSON value for the page token
