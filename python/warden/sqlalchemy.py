"""Query plans as SQLAlchemy 2 queries: list the rows a principal may act on, filtered in the database.

``get_query`` has the signature of ``cerbos_sqlalchemy.get_query``, so code written for
``CerbosClient`` and ``cerbos-sqlalchemy`` runs unchanged on ``warden.Client``::

    from warden import Client
    from warden.models import Principal, ResourceDesc
    from warden.sqlalchemy import get_query

    plan = client.plan_resources("read", principal, ResourceDesc("contact"))
    query = get_query(plan, Contact, {"request.resource.attr.owner_id": Contact.owner_id})
    rows = session.scalars(query.limit(100)).all()

The plan may also be the dict ``Engine.plan_resources`` returns, the Cerbos SDK's response, or a
gRPC ``PlanResourcesResponse``. Every operator keeps CEL's meaning, NULLs included: the query
returns exactly the rows ``Engine.check`` allows, and a plan it cannot translate exactly raises
:class:`PlanTranslationError` naming the operator or attribute (see docs/list-endpoints.md).

What a NULL column stands for is the application's choice, made when it builds the attributes it
sends to ``check``: ``null_attribute_representation="explicit"`` (the default) for
``{"owner": None}``, ``"omitted"`` for leaving the attribute out (then reading it fails, and a
condition on it does not hold); ``attribute_null_representation`` sets it per attribute.

Lists are related tables: map the attribute to the column holding the elements (or, for a list of
objects, the attribute to the table and ``attribute.field`` to its columns), and give the
condition joining that table to the resource's in ``table_mapping``. ``exists``, ``all``,
``filter``, ``in``, ``size``, ``hasIntersection``... become correlated subqueries. A related
table's column used as a single value (a to-one relation) is read by a correlated subquery too, so
the query never joins: it returns each row of ``table`` at most once.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

from sqlalchemy import false, select, true
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from warden._planfilter.plan import ALWAYS_ALLOWED, ALWAYS_DENIED, NotAPlan, PlanError, parse_operand, read_plan
from warden._sqlplan.errors import PlanTranslationError
from warden._sqlplan.logic import holds
from warden._sqlplan.schema import Schema
from warden._sqlplan.translate import Translator

__all__ = ["OperatorFnMap", "PlanTranslationError", "get_query", "where_clause"]

#: ``{operator: fn(column, value) -> SQL expression}``, as in ``cerbos_sqlalchemy``.
OperatorFnMap = Dict[str, Callable[[Any, Any], Any]]
TableMapping = Sequence[Tuple[Any, Any]]


def get_query(
    query_plan: Any,
    table: Any,
    attr_map: Mapping[str, Any],
    table_mapping: Optional[TableMapping] = None,
    operator_override_fns: Optional[OperatorFnMap] = None,
    *,
    null_attribute_representation: str = "explicit",
    attribute_null_representation: Optional[Mapping[str, str]] = None,
    now: Optional[datetime] = None,
) -> Select[Any]:
    """``select(table)`` restricted to the rows the plan admits.

    :param query_plan: ``Client.plan_resources``'s response, ``Engine.plan_resources``'s dict, the
        Cerbos SDK's ``PlanResourcesResponse`` (HTTP or gRPC).
    :param table: a Core ``Table`` or a mapped ORM class (the query then selects its entities).
    :param attr_map: attribute path (``request.resource.attr.owner``, ``request.resource.id``) to
        a column, an ORM attribute or a SQL expression; a list of objects to its table.
    :param table_mapping: ``[(related table, condition joining it), ...]`` for the tables of
        ``attr_map`` other than ``table``.
    :param operator_override_fns: ``{operator: fn(column, value)}`` replacing an operator's SQL
        (the result is used as given: its NULL handling is the function's).
    :param null_attribute_representation: ``"explicit"`` or ``"omitted"`` (see the module).
    :param attribute_null_representation: the same, per attribute path.
    :param now: the time ``timeSince()`` counts from (default: the current time); ``now()`` in
        conditions is already fixed in the plan.
    :raises PlanTranslationError: an operator or attribute without an exact SQL translation.
    """
    kind, condition = _filter(query_plan)
    if kind == ALWAYS_ALLOWED:
        return select(table)
    if kind == ALWAYS_DENIED:
        return select(table).where(false())
    b = _translate(
        condition,
        table,
        attr_map,
        table_mapping,
        operator_override_fns,
        null_attribute_representation,
        attribute_null_representation,
        now,
    )
    return select(table).where(b.expr())


def where_clause(
    query_plan: Any,
    table: Any,
    attr_map: Mapping[str, Any],
    table_mapping: Optional[TableMapping] = None,
    operator_override_fns: Optional[OperatorFnMap] = None,
    *,
    null_attribute_representation: str = "explicit",
    attribute_null_representation: Optional[Mapping[str, str]] = None,
    now: Optional[datetime] = None,
) -> ColumnElement[bool]:
    """The plan's condition alone, to add to a query over ``table`` (``query.where(clause)``).

    Arguments as :func:`get_query`. The clause is TRUE for the rows the plan admits and FALSE for
    every other row (never NULL), so ``not_(clause)`` selects exactly the rows it does not admit.
    """
    kind, condition = _filter(query_plan)
    if kind == ALWAYS_ALLOWED:
        return true()
    if kind == ALWAYS_DENIED:
        return false()
    b = _translate(
        condition,
        table,
        attr_map,
        table_mapping,
        operator_override_fns,
        null_attribute_representation,
        attribute_null_representation,
        now,
    )
    return holds(b)


def _translate(
    condition: Any,
    table: Any,
    attr_map: Mapping[str, Any],
    table_mapping: Optional[TableMapping],
    overrides: Optional[OperatorFnMap],
    null_attribute_representation: str,
    attribute_null_representation: Optional[Mapping[str, str]],
    now: Optional[datetime],
) -> Any:
    schema = Schema(table, attr_map, table_mapping, null_attribute_representation, attribute_null_representation)
    translator = Translator(schema, overrides, now or datetime.now(timezone.utc))
    return translator.condition(condition)


def _filter(plan: Any) -> Tuple[str, Any]:
    """``(kind, condition dict)`` of any supported plan shape (``warden._planfilter.read_plan``)."""
    try:
        kind, condition = read_plan(plan)
        if condition is not None:
            parse_operand(condition)  # a malformed operand is named as every adapter names it
        return kind, condition
    except NotAPlan:  # no plan at all: a TypeError, as before
        raise
    except PlanError as exc:
        raise PlanTranslationError(str(exc)) from exc
