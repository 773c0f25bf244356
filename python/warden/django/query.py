"""Query plans as Django ``Q`` objects: a list endpoint filtered in the database by the policies.

::

    from warden.django.query import authorized, plan_q

    contacts = authorized(Contact.objects.all(), principal, "read")          # plan + filter
    q = plan_q(engine.plan_resources(principal, {"kind": "contact"}, "read"), Contact)

What each node of a plan means is decided once, for every backend, in :mod:`warden._planfilter` (its two-sided walk, :mod:`warden._planfilter.decision`)
(CEL's semantics: missing attributes, heterogeneous equality, errors absorbed by ``&&``/``||``);
this module writes the comparisons in Django's terms. Every comparison is a lookup expression
(``Exact(F("owner_id"), Value("bob"))``) wrapped in a ``Q``, and no ``Q`` is ever negated, so
Django's ``IS NOT NULL`` additions to negated lookups never apply.

Strings compare as CEL compares them, by code point and case-sensitively, on SQLite and
PostgreSQL: equality with SQLite's ``BINARY`` collation (a column declared ``NOCASE`` would fold
case), ordering with ``COLLATE "C"`` on PostgreSQL (its default collation orders by locale), and
``contains``/``startsWith``/``endsWith`` as ``INSTR``/``STRPOS`` and ``SUBSTR`` (no ``LIKE``, which
ignores case on SQLite: nothing needs escaping). On other databases a string comparison raises
``NotSupportedError`` when the query runs rather than risk a case-insensitive match.
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple, Type, Union

from django.db import NotSupportedError, models
from django.db.models import Case, F, Func, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Length, Substr
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Lookup,
)

from warden._planfilter.decision import Backend, PlanError, Term, kind_of, translate
from warden.django.attributes import AttributeSpec, ModelAttributes

__all__ = ["PlanError", "authorized", "plan_q"]

#: a Q matching no row (Django turns an empty IN into "nothing" without querying)
NOTHING = Q(pk__in=[])


def plan_q(
    plan: Any,
    model: Union[Type[models.Model], ModelAttributes],
    attributes: AttributeSpec = None,
) -> Q:
    """The ``Q`` selecting the rows ``plan`` allows (``Engine.plan_resources``'s answer).

    ``model`` is the model class (its attributes as :class:`ModelAttributes` describes them, with
    ``attributes``) or a :class:`ModelAttributes`. An always-allowed plan gives ``Q()``, an
    always-denied one a ``Q`` matching nothing. An operator, attribute or operand that cannot be
    translated raises :class:`PlanError` naming it; the query is never widened.
    """
    mapping = model if isinstance(model, ModelAttributes) else ModelAttributes(model, attributes)
    where = translate(plan, QBackend(mapping))
    if where is True:
        return Q()
    if where is False:
        return NOTHING
    return where


def authorized(
    queryset: QuerySet,
    principal: Any,
    action: str,
    *,
    kind: Optional[str] = None,
    attributes: Union[AttributeSpec, ModelAttributes] = None,
    engine: Any = None,
    aux_data: Optional[dict] = None,
) -> QuerySet:
    """``queryset`` narrowed to the rows ``principal`` may ``action`` (an exact plan, then filter in
    the database: the rows are those ``check`` allows).

    ``principal`` is a :class:`warden.Principal` or a dict; ``kind`` the resource kind (default the
    model's name in lower case); ``attributes`` as for :class:`ModelAttributes`; ``engine`` defaults
    to the one ``settings.WARDEN`` configures.
    """
    if engine is None:
        from warden.django.conf import runtime

        engine = runtime().engine
    mapping = (
        attributes
        if isinstance(attributes, ModelAttributes)
        else ModelAttributes(queryset.model, attributes, kind=kind)
    )
    # exact: the rows are the rows check allows (what the DRF permission class checks one by one)
    plan = engine.plan_resources(principal, {"kind": mapping.kind}, action, aux_data=aux_data, exact=True)
    where = translate(plan, QBackend(mapping))
    if where is True:
        return queryset
    if where is False:
        return queryset.none()
    return queryset.filter(where)


# --- SQL that must keep CEL's string semantics -------------------------------------------------


class _VendorSQL(Func):
    """A function written per database; others refuse (see the module's docstring)."""

    what = "this string comparison"

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        raise NotSupportedError(
            f"warden.django: {self.what} is translated for SQLite and PostgreSQL only, not {connection.vendor} "
            "(its collation could match case-insensitively)"
        )


class _Exact(_VendorSQL):
    """A string compared for equality exactly: SQLite's BINARY collation; PostgreSQL's deterministic
    collations already compare equal only identical strings."""

    output_field = models.TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super(_VendorSQL, self).as_sql(
            compiler, connection, template="(%(expressions)s COLLATE BINARY)", **extra
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super(_VendorSQL, self).as_sql(compiler, connection, template="%(expressions)s", **extra)


class _CodePoints(_VendorSQL):
    """A string ordered by code point (UTF-8 byte order is code point order)."""

    output_field = models.TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super(_VendorSQL, self).as_sql(
            compiler, connection, template="(%(expressions)s COLLATE BINARY)", **extra
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super(_VendorSQL, self).as_sql(compiler, connection, template='(%(expressions)s COLLATE "C")', **extra)


class _Position(_VendorSQL):
    """Where ``needle`` first occurs in ``haystack`` (1-based; 0: nowhere), case-sensitively."""

    what = "a substring test"
    output_field = models.IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super(_VendorSQL, self).as_sql(compiler, connection, function="INSTR", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super(_VendorSQL, self).as_sql(compiler, connection, function="STRPOS", **extra)


class _NotEqual(Lookup):
    lookup_name = "warden_ne"

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} <> {rhs}", (*lhs_params, *rhs_params)


class _NotIn(In):
    lookup_name = "warden_not_in"

    def get_rhs_op(self, connection: Any, rhs: str) -> str:
        return f"NOT IN {rhs}"


_LOOKUPS = {
    "eq": Exact,
    "ne": _NotEqual,
    "lt": LessThan,
    "le": LessThanOrEqual,
    "gt": GreaterThan,
    "ge": GreaterThanOrEqual,
}
_OUTPUT = {
    "string": models.TextField,
    "int": models.BigIntegerField,
    "double": models.FloatField,
    "bool": models.BooleanField,
}


class QBackend(Backend[Q]):
    """:class:`warden._planfilter.decision.Backend` writing Django ``Q`` objects over ``attributes``' fields."""

    def __init__(self, attributes: ModelAttributes) -> None:
        self.attributes = attributes

    def attribute(self, name: str, where: str) -> Term:
        field = self.attributes.field(name)
        if field is None:
            raise PlanError(
                f"{where}: attribute {name!r} of {self.attributes.kind!r} is not a field of {self.attributes.model.__name__} "
                f"(map it with attributes=; mapped: {', '.join(self.attributes.names()) or 'none'})"
            )
        null_means = "null" if self.attributes.nulls == "explicit" else "error"
        return Term(field.value_kind or "", F(field.path), nullable=field.nullable, null_means=null_means)

    def resource_id(self, where: str) -> Term:
        field = self.attributes.id
        expr: Any = F(field.path)
        if field.value_kind != "string":
            expr = Cast(expr, models.TextField())  # the resource id is the key as a string
        return Term("string", expr, nullable=False)

    def and_(self, conditions: List[Q]) -> Q:
        return Q(*conditions)

    def or_(self, conditions: List[Q]) -> Q:
        return Q(*conditions, _connector=Q.OR)

    def present(self, term: Term) -> Q:
        return Q(IsNull(term.expr, False))

    def is_null(self, term: Term) -> Q:
        return Q(IsNull(term.expr, True))

    def not_true(self, condition: Q) -> Q:
        # CASE WHEN takes only TRUE: FALSE and NULL both go to the ELSE branch
        holds = Case(When(condition, then=Value(True)), default=Value(False), output_field=models.BooleanField())
        return Q(Exact(holds, False))

    def compare(self, operator: str, left: Term, right: Term) -> Q:
        lhs, rhs = self._expr(left), self._expr(right)
        if left.kind == "string":
            wrap = _Exact if operator in ("eq", "ne") else _CodePoints
            lhs, rhs = wrap(lhs), wrap(rhs)
        return Q(_LOOKUPS[operator](lhs, rhs))

    def member(self, term: Term, values: List[Any], negated: bool) -> Q:
        lhs = self._expr(term)
        if term.kind == "string":
            lhs = _Exact(lhs)
        rhs = [self._expr(Term(kind_of(v), v, True)) for v in values]
        return Q((_NotIn if negated else In)(lhs, rhs))

    def string_test(self, operator: str, haystack: Term, needle: Term) -> Tuple[Q, Q]:
        h, n = self._expr(haystack), self._expr(needle)
        if operator == "contains":
            position = _Position(h, n)
            return Q(GreaterThan(position, 0)), Q(Exact(position, 0))
        if operator == "startsWith":
            position = _Position(h, n)
            return Q(Exact(position, 1)), Q(_NotEqual(position, 1))
        # endsWith: the last len(needle) characters are the needle
        needle_length = Value(len(needle.expr)) if needle.literal else Length(n)
        tail = _Exact(Substr(h, Length(h) - needle_length + 1))
        fits = GreaterThanOrEqual(Length(h), needle_length)
        too_short = LessThan(Length(h), needle_length)
        return Q(fits, Exact(tail, _Exact(n))), Q(Q(too_short), Q(_NotEqual(tail, _Exact(n))), _connector=Q.OR)

    def size(self, term: Term) -> Term:
        return Term("int", Length(self._expr(term)), nullable=term.nullable)  # size(null) fails: NULL

    @staticmethod
    def _expr(term: Term) -> Any:
        if not term.literal:
            return term.expr
        # typed by the value itself: an IntegerField would round 1.5 to 1 before comparing
        return Value(term.expr, output_field=_OUTPUT[term.kind]())
