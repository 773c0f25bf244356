"""A plan's condition as SQLAlchemy: each operator with CEL's meaning, NULLs and failures included.

The operand tree is walked once. Known values are folded as CEL computes them; values read from
rows become SQL; booleans follow :mod:`warden._sqlplan.logic` (NULL is a failed evaluation).
Lists of a related table become correlated subqueries (``EXISTS``, ``COUNT``), each aliasing its
tables, so lists nested in list elements and tables related to themselves work. String functions
and hierarchies are in :mod:`text`, arithmetic and timestamps in :mod:`arithmetic`. An operator or
operand without an exact translation raises :class:`PlanTranslationError` naming it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import Boolean, Float, Integer, String, and_, case, cast, false, func, literal, null, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.util import ClauseAdapter

from warden._planfilter.operators import BOOLEAN, COMPREHENSIONS, HAS, IS_TRUE, MIRRORED, RESOURCE_ATTR
from warden._sqlplan import arithmetic, dialect, text
from warden._sqlplan.errors import PlanTranslationError
from warden._sqlplan.logic import (
    ERROR,
    FALSE,
    TRUE,
    B,
    and_k,
    const,
    failed,
    fails_when,
    holds,
    if_k,
    is_true,
    not_k,
    or_k,
)
from warden._sqlplan.schema import Schema, kind_of
from warden._sqlplan.values import (
    ERR,
    Coll,
    Cond,
    Const,
    Duration,
    Instant,
    Items,
    Pred,
    Related,
    Row,
    Scalar,
    Shifted,
    Since,
    Val,
    as_items,
    as_scalar,
    cel_equal,
    cel_kind,
    cel_order,
    compatible,
    is_boolean,
    is_integral,
    known_list,
    lift,
)

Env = Mapping[str, Val]
_MIRROR = MIRRORED
_EXACT_INT = 2.0**53  # doubles hold every integer up to here
_ATTR = RESOURCE_ATTR
_BOOLEAN_OPS = BOOLEAN


def _positive(operand: Any) -> Any:
    """The condition without the ``isTrue`` of an exact plan where only its truth counts: at the top
    and under ``and``/``or`` (not under ``not``), a row is kept exactly where ``x`` is TRUE whether
    or not ``x`` is wrapped, and the bare comparison keeps the database's indexes usable."""
    if not isinstance(operand, Mapping) or not isinstance(operand.get("expression"), Mapping):
        return operand
    expression = operand["expression"]
    op, operands = expression.get("operator"), expression.get("operands") or []
    if op == IS_TRUE and len(operands) == 1:
        return _positive(operands[0])
    if op in ("and", "or"):
        return {"expression": {"operator": op, "operands": [_positive(o) for o in operands]}}
    return operand


class Translator:
    """Translates one plan condition; holds the aliases of the enclosing subqueries."""

    def __init__(self, schema: Schema, overrides: Optional[Mapping[str, Callable[..., Any]]], now: datetime):
        self.schema = schema
        self.overrides = dict(overrides or {})
        if now.tzinfo is None:
            raise ValueError("now: expected an aware datetime (with a timezone)")
        since = now - datetime(1970, 1, 1, tzinfo=timezone.utc)
        self.now = Instant(((since.days * 86400 + since.seconds) * 10**6 + since.microseconds) * 1000)
        # related table -> its alias in the enclosing subqueries (innermost last)
        self.aliases: Dict[Any, Any] = {}

    # ------------------------------------------------------------------ entry points
    def condition(self, operand: Any) -> B:
        return self.to_bool(self.value(_positive(operand), {}), "the condition")

    # ------------------------------------------------------------------ operands
    def value(self, operand: Any, env: Env) -> Val:
        if not isinstance(operand, Mapping):
            raise PlanTranslationError(f"operand {operand!r}: expected a value, variable or expression")
        if "expression" in operand:
            expr = operand["expression"]
            return self.call(expr.get("operator"), list(expr.get("operands") or []), env)
        if "variable" in operand:
            return self.variable(operand["variable"], env)
        if "value" in operand:
            return Const(operand["value"])
        raise PlanTranslationError(f"operand {operand!r}: expected a value, variable or expression")

    def variable(self, name: Any, env: Env) -> Val:
        if not isinstance(name, str):
            raise PlanTranslationError(f"variable {name!r}: expected a name")
        if name in env:
            return env[name]
        head, _, rest = name.partition(".")
        if head in env and rest:
            value = env[head]
            for part in rest.split("."):
                value = self.field(value, part, name)
            return value
        if name.startswith("request.resource."):
            return self.attribute(name)
        raise PlanTranslationError(
            f"variable {name!r} cannot be translated (only resource attributes are in the database)"
        )

    def field(self, value: Val, key: str, name: str) -> Val:
        """``value.key`` (also ``value["key"]``)."""
        if isinstance(value, Row):
            return self.attribute(f"{value.path}.{key}")
        if isinstance(value, Const):
            if isinstance(value.value, dict):
                return Const(value.value[key]) if key in value.value else ERR
            return ERR  # no such field on a list, string, number...
        if value is ERR:
            return ERR
        if isinstance(value, Cond):
            return Cond(value.cond, self.field(value.then, key, name), self.field(value.other, key, name))
        if isinstance(value, Scalar):
            if value.kind == "unknown":
                raise PlanTranslationError(f"{name}: field selection on an overridden value")
            return ERR  # a scalar has no fields
        raise PlanTranslationError(f"{name}: field selection on a list cannot be translated")

    def attribute(self, path: str) -> Val:
        """A resource attribute (or a field of a list element) read from its column."""
        target = self.schema.target(path)
        if target is None:
            related = self.schema.fields_table(path)
            if related is not None:
                return self._object_list(path, related)
            raise PlanTranslationError(f"attribute {path!r} is not in attr_map")
        if not isinstance(target, ColumnElement):  # a table: a list of objects
            return self._object_list(path, target)
        table = getattr(target, "table", None)
        if table is None or table is self.schema.table:
            return self._scalar(path, target)
        if table in self.aliases:
            return self._scalar(path, self._adapt(target))
        if table in self.schema.relations:
            return Related(path, target)
        raise PlanTranslationError(
            f"attribute {path!r} is a column of {getattr(table, 'name', table)!r}, which is not the resource's"
            " table: add that table to table_mapping with the condition joining it"
        )

    def _scalar(self, path: str, column: Any, nulls: Optional[str] = None) -> Scalar:
        kind, sql_integer = kind_of(column.type)
        if nulls is None:
            nulls = self.schema.null_means(path) if getattr(column, "nullable", True) else "none"
        timezone_aware = bool(getattr(column.type, "timezone", False))
        return Scalar(column, kind, nulls, sql_integer=sql_integer, timezone=timezone_aware, name=path)

    def _adapt(self, clause: Any) -> Any:
        """``clause`` with the enclosing subqueries' tables replaced by their aliases."""
        for alias in self.aliases.values():
            clause = ClauseAdapter(alias).traverse(clause)
        return clause

    # ------------------------------------------------------------------ related tables
    @contextlib.contextmanager
    def _rows(self, table: Any) -> Iterator[Tuple[List[Any], List[ColumnElement[Any]]]]:
        """Inside: the tables joining ``table`` are aliased; yields their aliases and join conditions."""
        chain = self.schema.join_chain(table, self.aliases)
        saved = dict(self.aliases)
        new = {t: t.alias() for t in chain}
        self.aliases.update(new)
        try:
            conditions = [self._adapt(self.schema.relations[t]) for t in chain]
            yield list(new.values()), conditions
        finally:
            self.aliases = saved

    def _object_list(self, path: str, table: Any) -> Coll:
        if table not in self.schema.relations:
            raise PlanTranslationError(
                f"attribute {path!r} is a list of {getattr(table, 'name', table)!r} rows: add that table to"
                " table_mapping with the condition joining it"
            )
        return Coll(path, table, lambda: Row(path))

    def collection(self, value: Val, what: str) -> Optional[Coll]:
        """``value`` as a list of a related table's rows, or None when it is not one."""
        if isinstance(value, Coll):
            return value
        if isinstance(value, Related):
            column = value.column
            path = value.path
            nulls = "null" if getattr(column, "nullable", True) else "none"  # an element cannot be missing
            return Coll(path, column.table, lambda: self._scalar(path, self._adapt(column), nulls))
        return None

    def scalar(self, value: Val) -> Val:
        """A related table's column read as a single value (to-one): a correlated subquery."""
        if not isinstance(value, Related):
            return value
        column = value.column
        with self._rows(column.table) as (froms, conditions):
            sub = (
                select(self._adapt(column))
                .select_from(*froms)
                .where(*conditions)
                .correlate_except(*froms)
                .scalar_subquery()
            )
        scalar = self._scalar(value.path, column, self.schema.null_means(value.path))
        return Scalar(
            sub, scalar.kind, scalar.nulls, sql_integer=scalar.sql_integer, timezone=scalar.timezone, name=value.path
        )

    def _iterate(self, coll: Coll, body: Callable[[Val], Any]) -> Tuple[Any, List[Any], List[Any], List[Any]]:
        """Runs ``body`` on an element of ``coll`` inside the subquery's scope.

        Returns ``(body's result, froms, where, list_errors)``: the rows are ``froms`` filtered by
        ``where``; ``list_errors`` are conditions (on those tables) for a row making the whole list
        fail (a ``filter`` or ``map`` step failing on it).
        """
        with self._rows(coll.table) as (froms, conditions):
            element = coll.element()
            where = list(conditions)
            list_errors: List[Any] = []
            for step in coll.steps:
                what, out = step(element)
                if what == "filter":
                    failure = failed(out)
                    if failure is not None:
                        list_errors.append(and_(*where, failure))
                    where.append(holds(out))
                else:
                    failure = self.failure(out)
                    if failure is not None:
                        list_errors.append(and_(*where, failure))
                    element = out
            return body(element), froms, where, list_errors

    @staticmethod
    def _exists(froms: List[Any], where: List[Any]) -> ColumnElement[Any]:
        return select(literal(1)).select_from(*froms).where(*where).correlate_except(*froms).exists()

    def _list_failure(self, froms: List[Any], list_errors: List[Any]) -> Optional[ColumnElement[Any]]:
        if not list_errors:
            return None
        return or_(*(self._exists(froms, [e]) for e in list_errors))

    def quantify(self, coll: Coll, var: str, body: Any, env: Env, how: str) -> B:
        """``exists`` / ``all`` / ``exists_one`` over a related list (CEL's fold, failures included)."""

        def run(element: Val) -> B:
            return self.to_bool(self.value(body, {**env, var: element}), f"the body of {how}")

        b, froms, where, list_errors = self._iterate(coll, run)
        failure = failed(b)
        fails = self._exists(froms, [*where, failure]) if failure is not None else None
        if how == "exists":
            # true if an element is true; else failed if one failed; else false
            found = self._exists(froms, [*where, holds(b)])
            result = (
                B.of(found, False) if fails is None else B.of(case((found, true()), (fails, null()), else_=false()))
            )
        elif how == "all":
            refuted = self._exists(froms, [*where, holds(not_k(b))])
            result = (
                B.of(~refuted, False)
                if fails is None
                else B.of(case((refuted, false()), (fails, null()), else_=true()))
            )
        else:  # exists_one: every element is evaluated, a failure fails it
            count = select(func.count()).select_from(*froms).where(*where, holds(b)).correlate_except(*froms)
            once = count.scalar_subquery() == 1
            result = B.of(once, False) if fails is None else B.of(case((fails, null()), else_=once))
        return fails_when(self._list_failure(froms, list_errors), result)

    def contains_element(self, coll: Coll, item: Val) -> B:
        """``item in list`` for a related list: an element equal to ``item``."""
        b, froms, where, list_errors = self._iterate(coll, lambda element: self.equal(element, item))
        found = B.of(self._exists(froms, [*where, holds(b)]), False)
        guard = [f for f in (self.failure(item), self._list_failure(froms, list_errors)) if f is not None]
        return fails_when(or_(*guard) if guard else None, found)

    def count(self, coll: Coll) -> Val:
        if not coll.countable:
            raise PlanTranslationError(f"size() of intersect()/except() over {coll.path!r} cannot be translated")
        _, froms, where, list_errors = self._iterate(coll, lambda element: None)
        counted: Any = select(func.count()).select_from(*froms).where(*where).correlate_except(*froms).scalar_subquery()
        failure = self._list_failure(froms, list_errors)
        if failure is not None:
            counted = case((failure, null()), else_=counted)
            return Scalar(counted, "number", "error", integer=True, sql_integer=True, name=coll.path)
        return Scalar(counted, "number", "none", integer=True, sql_integer=True, name=coll.path)

    def with_step(self, coll: Coll, var: str, body: Any, env: Env, what: str) -> Coll:
        def step(element: Val) -> Tuple[str, Any]:
            out = self.value(body, {**env, var: element})
            if what == "filter":
                return "filter", self.to_bool(out, "the body of filter")
            return "map", self.scalar(out)

        return Coll(coll.path, coll.table, coll.element, (*coll.steps, step), coll.countable)

    def keep(self, coll: Coll, test: Callable[[Val], B]) -> Coll:
        """``coll`` without the elements failing ``test`` (``intersect``/``except`` with a known list)."""
        return Coll(coll.path, coll.table, coll.element, (*coll.steps, lambda e: ("filter", test(e))), False)

    # ------------------------------------------------------------------ conversions
    def to_bool(self, value: Val, where: str) -> B:
        """A value used as a condition: anything but a boolean fails (CEL: no such overload)."""
        if isinstance(value, Pred):
            return value.b
        if isinstance(value, Const):
            return const(value.value) if isinstance(value.value, bool) else ERROR
        if isinstance(value, Related):
            value = self.scalar(value)
        if isinstance(value, Scalar):
            if value.kind == "bool":
                expr = value.expr
                if value.sql_integer or not isinstance(expr.type, Boolean):
                    expr = expr == true()
                return B.of(expr, value.nulls != "none")
            if value.kind == "unknown":
                return B.of(value.expr, True)
            if value.kind == "rfc3339":
                raise self._raw_timestamp(value)
            return ERROR
        if isinstance(value, Cond):
            return if_k(value.cond, self.to_bool(value.then, where), self.to_bool(value.other, where))
        if value is ERR:
            return ERROR
        raise PlanTranslationError(f"{where}: a list or timestamp arithmetic is not a condition")

    def failure(self, value: Val) -> Optional[ColumnElement[Any]]:
        """SQL true where evaluating ``value`` fails, None when it never does."""
        if value is ERR:
            return true()
        if isinstance(value, Scalar):
            return value.expr.is_(None) if value.nulls == "error" else None
        if isinstance(value, Pred):
            return failed(value.b)
        if isinstance(value, Cond):
            parts = [failed(value.cond)]
            then, other = self.failure(value.then), self.failure(value.other)
            if then is not None:
                parts.append(and_(holds(value.cond), then))
            if other is not None:
                parts.append(and_(holds(not_k(value.cond)), other))
            present = [p for p in parts if p is not None]
            return or_(*present) if present else None
        if isinstance(value, (Shifted, Since)):
            return self.failure(value.ts)
        if isinstance(value, Items):
            present = [f for f in (self.failure(i) for i in value.items) if f is not None]
            return or_(*present) if present else None
        return None

    @staticmethod
    def _raw_timestamp(value: Scalar) -> PlanTranslationError:
        return PlanTranslationError(
            f"attribute {value.name!r} is a DateTime column, sent as RFC 3339 text: only timestamp({value.name})"
            " can be translated, not the text itself"
        )

    # ------------------------------------------------------------------ operators
    def call(self, op: Any, operands: List[Any], env: Env) -> Val:
        if not isinstance(op, str):
            raise PlanTranslationError(f"operator {op!r}: expected a name")
        if op in self.overrides and self.overrides[op] is not None:
            return self.overridden(op, operands, env)
        if op == "and":
            return Pred(and_k(self.to_bool(self.value(o, env), "and") for o in operands))
        if op == "or":
            return Pred(or_k(self.to_bool(self.value(o, env), "or") for o in operands))
        if op == "not":
            self._arity(op, operands, 1)
            return Pred(not_k(self.to_bool(self.value(operands[0], env), "not")))
        if op == "if":
            self._arity(op, operands, 3)
            cond = self.to_bool(self.value(operands[0], env), "if")
            then, other = self.value(operands[1], env), self.value(operands[2], env)
            if cond.is_error:
                return ERR
            if cond.const is not None:
                return then if cond.const else other
            if is_boolean(then) and is_boolean(other):
                return Pred(if_k(cond, self.to_bool(then, "if"), self.to_bool(other, "if")))
            return Cond(cond, then, other)
        if op in COMPREHENSIONS:
            return self.macro(op, operands, env)
        if op == HAS:
            self._arity(op, operands, 1)
            return Pred(self.presence(operands[0]))
        if op == IS_TRUE:  # exact plans: a failed leaf is false, as check counts it
            self._arity(op, operands, 1)
            return Pred(is_true(self.to_bool(self.value(operands[0], env), "isTrue")))
        if op == "index":
            return self.index(operands, env)
        handler = _HANDLERS.get(op)
        if handler is None:
            raise PlanTranslationError(f"operator {op!r} cannot be translated to SQL")
        values = [self.value(o, env) for o in operands]
        return handler(self, op, values)

    @staticmethod
    def _arity(op: str, operands: Sequence[Any], n: int) -> None:
        if len(operands) != n:
            raise PlanTranslationError(f"operator {op!r}: expected {n} operand(s), got {len(operands)}")

    def overridden(self, op: str, operands: List[Any], env: Env) -> Val:
        """An ``operator_override_fns`` entry, called as ``cerbos_sqlalchemy`` calls it:
        ``fn(column, value)`` (a value-first ``eq``/``ne``/``in``/``hasIntersection`` swapped, a
        value-first ``lt``/``gt``/... turned into its mirror), other operands in order."""
        values = [self.value(o, env) for o in operands]
        if len(operands) == 2 and "value" in operands[0] and "value" not in operands[1]:
            if op in ("eq", "ne", "in", "hasIntersection"):
                values.reverse()
            elif op in ("lt", "le", "gt", "ge"):
                op = _MIRROR[op]
                values.reverse()
                if self.overrides.get(op) is None:
                    return Pred(self.order(op, values[0], values[1]))
        fn = self.overrides[op]
        raw = [self._raw(v, op) for v in values]
        if len(raw) == 1:
            result = fn(raw[0], None)
        elif len(raw) == 2:
            result = fn(raw[0], raw[1])
        else:
            result = fn(*raw)
        if op in _BOOLEAN_OPS:
            return Pred(B.of(result, True))
        return Scalar(result, "unknown", "error", name=op)

    def _raw(self, value: Val, op: str) -> Any:
        if isinstance(value, Const):
            return value.value
        if isinstance(value, Scalar):
            return value.expr
        if isinstance(value, Related):
            return value.column
        if isinstance(value, Pred):
            return value.b.expr()
        if isinstance(value, Coll):
            return self.schema.target(value.path)
        raise PlanTranslationError(f"operator {op!r}: this operand cannot be passed to an override")

    def index(self, operands: List[Any], env: Env) -> Val:
        self._arity("index", operands, 2)
        target, key = operands
        if isinstance(key, Mapping) and isinstance(key.get("value"), str) and "variable" in target:
            # R.attr["x"], element["field"]: the same attribute as R.attr.x
            return self.variable(f"{target['variable']}.{key['value']}", env)
        container, k = self.value(target, env), self.value(key, env)
        if container is ERR or k is ERR:
            return ERR
        if isinstance(container, Const) and isinstance(k, Const):
            c, i = container.value, k.value
            if isinstance(c, dict):
                return Const(c[i]) if isinstance(i, str) and i in c else ERR
            if isinstance(c, list) and is_integral(i):
                return Const(c[int(i)]) if 0 <= int(i) < len(c) else ERR
            return ERR
        if isinstance(k, Const) and isinstance(k.value, str) and isinstance(container, (Row, Cond, Scalar)):
            return self.field(container, k.value, "index")
        raise PlanTranslationError("operator 'index' over a list read from the database cannot be translated")

    def macro(self, op: str, operands: List[Any], env: Env) -> Val:
        self._arity(op, operands, 2)
        target, fn = operands
        lam = fn.get("expression") if isinstance(fn, Mapping) else None
        if not lam or lam.get("operator") != "lambda" or len(lam.get("operands") or []) < 2:
            raise PlanTranslationError(f"operator {op!r}: expected a lambda")
        if len(lam["operands"]) != 2:
            raise PlanTranslationError(f"operator {op!r}: two-variable comprehensions cannot be translated")
        body, var_operand = lam["operands"]
        var = var_operand.get("variable") if isinstance(var_operand, Mapping) else None
        if not isinstance(var, str):
            raise PlanTranslationError(f"operator {op!r}: two-variable comprehensions cannot be translated")
        source = self.value(target, env)
        if isinstance(source, Cond):
            then = self._macro_value(op, source.then, var, body, env)
            other = self._macro_value(op, source.other, var, body, env)
            if is_boolean(then) and is_boolean(other):
                return Pred(if_k(source.cond, self.to_bool(then, op), self.to_bool(other, op)))
            return Cond(source.cond, then, other)
        if isinstance(source, Scalar) and source.kind == "unknown":
            raise PlanTranslationError(f"operator {op!r} over an overridden value cannot be translated")
        return self._macro_value(op, source, var, body, env)

    def _macro_value(self, op: str, source: Val, var: str, body: Any, env: Env) -> Val:
        if source is ERR:
            return ERR
        if isinstance(source, Const) and isinstance(source.value, (list, dict)):
            return self.unroll(op, list(source.value), var, body, env)
        if isinstance(source, Items):
            return self.unroll(op, list(source.items), var, body, env)
        coll = self.collection(source, op)
        if coll is not None:
            if op in ("filter", "map"):
                return self.with_step(coll, var, body, env, op)
            return Pred(self.quantify(coll, var, body, env, op))
        return ERR  # a macro over a string, number...: no such overload

    def unroll(self, op: str, elements: List[Any], var: str, body: Any, env: Env) -> Val:
        """A macro over a known list (or a list literal): each element substituted in the body."""
        results = [self.value(body, {**env, var: e if isinstance(e, Val) else Const(e)}) for e in elements]
        if op == "map":
            if all(isinstance(r, Const) for r in results):
                return Const([r.value for r in results if isinstance(r, Const)])
            return Items(tuple(self.scalar(r) for r in results))
        bools = [self.to_bool(r, f"the body of {op}") for r in results]
        if op == "exists":
            return Pred(or_k(bools))
        if op == "all":
            return Pred(and_k(bools))
        if op == "exists_one":
            if any(b.is_error for b in bools):
                return ERR
            if all(b.const is not None for b in bools):
                return Pred(const(sum(1 for b in bools if b.const) == 1))
            fails = [f for f in (failed(b) for b in bools) if f is not None]
            total = sum((case((holds(b), 1), else_=0) for b in bools), literal(0))
            once = B.of(total == 1, False)
            return Pred(fails_when(or_(*fails) if fails else None, once))
        # filter over a known list: the result must be known too
        if all(b.const is not None for b in bools):
            kept = [e for e, b in zip(elements, bools, strict=True) if b.const]
            if all(not isinstance(e, Val) for e in kept):
                return Const(kept)
            return Items(tuple(kept))
        raise PlanTranslationError("filter() over a known list with a condition on the database cannot be translated")

    # ------------------------------------------------------------------ equality
    def equal(self, a: Val, b: Val) -> B:
        """CEL ``==``: values of different types are unequal, null equals null, failures fail."""
        if a is ERR or b is ERR:
            return ERROR
        i = lift([a, b])
        if i is not None:
            c = (a, b)[i]
            assert isinstance(c, Cond)
            pair_then = (c.then, b) if i == 0 else (a, c.then)
            pair_other = (c.other, b) if i == 0 else (a, c.other)
            return if_k(c.cond, self.equal(*pair_then), self.equal(*pair_other))
        for x, y in ((a, b), (b, a)):
            if isinstance(x, Related):
                as_list = isinstance(y, (Const, Items)) and isinstance(getattr(y, "value", None), list)
                coll = self.collection(x, "==") if as_list else None
                return self.equal(coll if coll is not None else self.scalar(x), y)
        for x, y in ((a, b), (b, a)):
            if isinstance(x, Coll):
                return self._list_equal(x, y)
        if isinstance(a, Items) or isinstance(b, Items):
            return self._items_equal(a, b)
        if isinstance(a, Pred):
            a = as_scalar(a)
        if isinstance(b, Pred):
            b = as_scalar(b)
        if isinstance(a, Const) and isinstance(b, Const):
            return const(cel_equal(a.value, b.value))
        if isinstance(a, (Shifted, Since)) or isinstance(b, (Shifted, Since)):
            return self.compare_time("eq", a, b)
        if isinstance(a, Const):
            a, b = b, a
        if isinstance(a, Scalar):
            if a.kind == "rfc3339":
                raise self._raw_timestamp(a)
            if isinstance(b, Scalar) and b.kind == "rfc3339":
                raise self._raw_timestamp(b)
            return self._scalar_equal(a, b)
        raise PlanTranslationError("== between these operands cannot be translated")

    def _scalar_equal(self, a: Scalar, b: Val) -> B:
        if isinstance(b, Const):
            v = b.value
            if v is None:
                if a.nulls == "null":
                    return B.of(a.expr.is_(None), False)
                return fails_when(a.expr.is_(None) if a.nulls == "error" else None, FALSE)
            if not compatible(a.kind, cel_kind(v)):
                # a value of another type: unequal, unless reading the column fails
                return fails_when(a.expr.is_(None) if a.nulls == "error" else None, FALSE)
            core = self._sql_compare("eq", a, v)
            if a.nulls == "null":
                return B.of(and_(a.expr.is_not(None), core), False)
            return B.of(core, a.nulls == "error")
        if not isinstance(b, Scalar):
            raise PlanTranslationError("== between these operands cannot be translated")
        base = self._sql_compare("eq", a, b) if compatible(a.kind, b.kind) else false()
        a_null, b_null = a.nulls == "null", b.nulls == "null"
        if a_null and b_null:
            core = or_(and_(a.expr.is_(None), b.expr.is_(None)), and_(a.expr.is_not(None), b.expr.is_not(None), base))
        elif a_null:
            core = and_(a.expr.is_not(None), base)
        elif b_null:
            core = and_(b.expr.is_not(None), base)
        else:
            return B.of(base, a.nulls == "error" or b.nulls == "error")
        errors = [x.expr.is_(None) for x in (a, b) if x.nulls == "error"]
        return fails_when(or_(*errors) if errors else None, B.of(core, False))

    def _list_equal(self, coll: Coll, other: Val) -> B:
        if isinstance(other, Const) and other.value == []:
            found = self.quantify(coll, "__e", {"value": True}, {}, "exists")
            return not_k(found)
        if isinstance(other, Const) and isinstance(other.value, list) and len(other.value) == 1 and coll.countable:
            # a one-element list: order does not matter
            size = self.count(coll)
            return and_k([self.equal(size, Const(1)), self.contains_element(coll, Const(other.value[0]))])
        if isinstance(other, Const) and not isinstance(other.value, list):
            return FALSE  # a list is not equal to a value of another type
        raise PlanTranslationError(
            f"== between the list {coll.path!r} (rows of a related table, in no order) and a non-empty list"
            " cannot be translated"
        )

    def _items_equal(self, a: Val, b: Val) -> B:
        xs = as_items(a)
        ys = as_items(b)
        if xs is None or ys is None:
            other = b if xs is not None else a
            if isinstance(other, Const):
                return FALSE  # a list is not equal to a known non-list
            raise PlanTranslationError("== between a list literal and this operand cannot be translated")
        if len(xs) != len(ys):
            failures = [f for f in (self.failure(v) for v in (*xs, *ys)) if f is not None]
            return fails_when(or_(*failures) if failures else None, FALSE)
        return and_k(self.equal(x, y) for x, y in zip(xs, ys, strict=True))

    # ------------------------------------------------------------------ ordering
    def order(self, op: str, a: Val, b: Val) -> B:
        """CEL ``<``/``<=``/``>``/``>=``: same-type operands only, null and other types fail."""
        if a is ERR or b is ERR:
            return ERROR
        i = lift([a, b])
        if i is not None:
            c = (a, b)[i]
            assert isinstance(c, Cond)
            pair_then = (c.then, b) if i == 0 else (a, c.then)
            pair_other = (c.other, b) if i == 0 else (a, c.other)
            return if_k(c.cond, self.order(op, *pair_then), self.order(op, *pair_other))
        a, b = self.scalar(a), self.scalar(b)
        if isinstance(a, Pred):
            a = as_scalar(a)
        if isinstance(b, Pred):
            b = as_scalar(b)
        if isinstance(a, Const) and isinstance(b, Const):
            result = cel_order(op, a.value, b.value)
            return ERROR if result is None else const(result)
        if isinstance(a, (Shifted, Since)) or isinstance(b, (Shifted, Since)):
            return self.compare_time(op, a, b)
        if isinstance(a, Const):
            a, b, op = b, a, _MIRROR[op]
        if not isinstance(a, Scalar):
            raise PlanTranslationError(f"operator {op!r} between these operands cannot be translated")
        if a.kind == "rfc3339":
            raise self._raw_timestamp(a)
        if isinstance(b, Const):
            if cel_kind(b.value) not in ("number", "string", "bool", "timestamp"):
                return ERROR  # null, lists, maps have no order
            if not compatible(a.kind, cel_kind(b.value)):
                return ERROR
            return B.of(self._sql_compare(op, a, b.value), a.nulls != "none")
        if isinstance(b, Scalar):
            if b.kind == "rfc3339":
                raise self._raw_timestamp(b)
            if not compatible(a.kind, b.kind):
                return ERROR
            return B.of(self._sql_compare(op, a, b), a.nulls != "none" or b.nulls != "none")
        raise PlanTranslationError(f"operator {op!r} between these operands cannot be translated")

    def _sql_compare(self, op: str, a: Scalar, b: Any) -> ColumnElement[Any]:
        """``a op b`` in SQL for compatible non-null operands (``b`` a Scalar or a known value)."""
        left: Any = a.expr
        right: Any = b.expr if isinstance(b, Scalar) else b
        if a.kind == "string":
            left = dialect.binary_eq(left) if op in ("eq", "ne") else dialect.binary_order(left)
            if not isinstance(b, Scalar):
                right = literal(b, String())
        elif a.kind == "number":
            left, right = self._numbers(a, b)
        elif a.kind == "timestamp":
            if isinstance(b, Instant):
                return self._instant_compare(op, a, b)
        elif a.kind == "bool" and not isinstance(b, Scalar):
            right = true() if b else false()
            if a.sql_integer or not isinstance(a.expr.type, Boolean):
                right = literal(1 if b else 0)
        return {
            "eq": lambda: left == right,
            "ne": lambda: left != right,
            "lt": lambda: left < right,
            "le": lambda: left <= right,
            "gt": lambda: left > right,
            "ge": lambda: left >= right,
        }[op]()

    @staticmethod
    def _numbers(a: Scalar, b: Any) -> Tuple[Any, Any]:
        """Numbers compared as CEL compares attributes: as doubles (exactly, SQL integers included)."""
        if isinstance(b, Scalar):
            if a.sql_integer and b.sql_integer and (a.integer or b.integer):
                return a.expr, b.expr
            left = a.expr if not a.sql_integer else cast(a.expr, Float())
            right = b.expr if not b.sql_integer else cast(b.expr, Float())
            return left, right
        v = float(b)
        if a.sql_integer:
            if a.integer:
                return a.expr, (int(v) if v.is_integer() else v)
            if abs(v) < _EXACT_INT:
                return a.expr, literal(int(v), Integer()) if v.is_integer() else literal(v, Float())
            return cast(a.expr, Float()), literal(v, Float())
        return a.expr, literal(v, Float())

    def _instant_compare(self, op: str, a: Scalar, at: Instant) -> ColumnElement[Any]:
        when, rest = at.floor_datetime()
        if not a.timezone:
            when = when.replace(tzinfo=None)
        bound = literal(when, a.expr.type)
        if rest:
            # columns hold microseconds: nothing equals the instant, and `> t` is `> floor(t)`
            op = {"ge": "gt", "lt": "le", "eq": "eq", "ne": "ne", "gt": "gt", "le": "le"}[op]
            if op == "eq":
                return false()
            if op == "ne":
                return true()
        return {
            "eq": lambda: a.expr == bound,
            "ne": lambda: a.expr != bound,
            "lt": lambda: a.expr < bound,
            "le": lambda: a.expr <= bound,
            "gt": lambda: a.expr > bound,
            "ge": lambda: a.expr >= bound,
        }[op]()

    def compare_time(self, op: str, a: Val, b: Val) -> B:
        """Comparisons of ``timestamp(col) ± duration`` with an instant, and of a duration between a
        stored and a known timestamp with a duration, moved onto the column."""
        if not isinstance(a, (Shifted, Since)):
            a, b, op = b, a, _MIRROR[op]
        if not isinstance(b, Const):
            raise PlanTranslationError(f"operator {op!r}: timestamp arithmetic on both sides cannot be translated")
        if isinstance(a, Shifted):
            if not isinstance(b.value, Instant):
                return self._mismatch(op, a.ts)
            target = Instant(b.value.ns - a.offset.ns)
            return self._ts_compare(op, a.ts, target)
        assert isinstance(a, Since)
        if not isinstance(b.value, Duration):
            return self._mismatch(op, a.ts)
        if a.sign > 0:  # (ts + off) - base  op  d   <=>  ts  op  base + d - off
            return self._ts_compare(op, a.ts, Instant(a.base.ns + b.value.ns - a.offset.ns))
        # base - (ts + off)  op  d   <=>  ts  mirror(op)  base - d - off
        return self._ts_compare(_MIRROR[op], a.ts, Instant(a.base.ns - b.value.ns - a.offset.ns))

    def _mismatch(self, op: str, ts: Scalar) -> B:
        if op in ("eq", "ne"):
            return fails_when(self.failure(ts), const(op == "ne"))
        return ERROR

    def _ts_compare(self, op: str, ts: Scalar, at: Instant) -> B:
        if op == "ne":
            return not_k(self._ts_compare("eq", ts, at))
        return B.of(self._instant_compare(op, ts, at), ts.nulls != "none")

    # ------------------------------------------------------------------ membership
    def member(self, item: Val, container: Val) -> B:
        """CEL ``item in container``."""
        if item is ERR or container is ERR:
            return ERROR
        i = lift([item, container])
        if i is not None:
            c = (item, container)[i]
            assert isinstance(c, Cond)
            pair_then = (c.then, container) if i == 0 else (item, c.then)
            pair_other = (c.other, container) if i == 0 else (item, c.other)
            return if_k(c.cond, self.member(*pair_then), self.member(*pair_other))
        coll = self.collection(container, "in")
        if coll is not None:
            return self.contains_element(coll, self.scalar(item))
        item = self.scalar(item)
        if isinstance(container, Items):
            return or_k(self.equal(item, e) for e in container.items)
        if isinstance(container, Const):
            values = container.value
            if isinstance(values, dict):
                values = list(values)
            if not isinstance(values, list):
                return ERROR  # `in` a string, number...: no such overload
            return self._member_of_known(item, values)
        if isinstance(container, Scalar):
            if container.kind == "unknown":
                raise PlanTranslationError("operator 'in' over an overridden value cannot be translated")
            return ERROR
        raise PlanTranslationError("operator 'in' with this container cannot be translated")

    def _member_of_known(self, item: Val, values: List[Any]) -> B:
        if isinstance(item, Pred):
            item = as_scalar(item)
        if not isinstance(item, Scalar) or item.kind in ("rfc3339", "unknown") or item.kind == "timestamp":
            return or_k(self.equal(item, Const(v)) for v in values)
        same = [v for v in values if v is not None and compatible(item.kind, cel_kind(v))]
        terms: List[B] = []
        if same:
            inside: Any
            if item.kind == "string":
                inside = dialect.binary_eq(item.expr).in_(same)
            elif item.kind == "number":
                pairs = [self._numbers(item, v) for v in same]
                left = pairs[0][0]
                if all(p[0] is left for p in pairs):
                    inside = left.in_([p[1] for p in pairs])
                else:
                    inside = or_(*(lhs == rhs for lhs, rhs in pairs))
            else:
                inside = or_(*(self._sql_compare("eq", item, v) for v in same))
            if item.nulls == "null":
                terms.append(B.of(and_(item.expr.is_not(None), inside), False))
            else:
                terms.append(B.of(inside, item.nulls == "error"))
        if any(v is None for v in values):
            terms.append(self._scalar_equal(item, Const(None)))
        if not terms:
            return fails_when(self.failure(item), FALSE)
        return or_k(terms)

    def intersects(self, a: Val, b: Val) -> B:
        """Cerbos's ``hasIntersection``: the lists share an element."""
        if a is ERR or b is ERR:
            return ERROR
        ca, cb = self.collection(a, "hasIntersection"), self.collection(b, "hasIntersection")
        if ca is not None and cb is not None:
            raise PlanTranslationError("hasIntersection between two lists of the database cannot be translated")
        if ca is None and cb is not None:
            a, b, ca = b, a, cb
        known = known_list(b)
        if ca is not None and known is not None:
            found = self.quantify_known(ca, known, "exists")
            return found
        xs, ys = as_items(a), as_items(b)
        if xs is not None and ys is not None:
            return or_k(self.equal(x, y) for x in xs for y in ys)
        if isinstance(a, Const) or isinstance(b, Const):
            return ERROR  # not lists
        raise PlanTranslationError("hasIntersection with these operands cannot be translated")

    def quantify_known(self, coll: Coll, values: List[Any], how: str) -> B:
        """exists/all elements of ``coll`` in the known list ``values``."""
        b, froms, where, list_errors = self._iterate(coll, lambda e: self._member_of_known(e, values))
        if how == "exists":
            result = B.of(self._exists(froms, [*where, holds(b)]), False)
        else:
            result = B.of(~self._exists(froms, [*where, holds(not_k(b))]), False)
        return fails_when(self._list_failure(froms, list_errors), result)

    def subset(self, a: Val, b: Val) -> B:
        """Cerbos's ``isSubset``: every element of ``a`` is in ``b``."""
        if a is ERR or b is ERR:
            return ERROR
        ca = self.collection(a, "isSubset")
        known_b = known_list(b)
        if ca is not None and known_b is not None:
            return self.quantify_known(ca, known_b, "all")
        cb = self.collection(b, "isSubset")
        xs = as_items(a)
        if cb is not None and xs is not None:
            return and_k(self.contains_element(cb, x) for x in xs)
        ys = as_items(b)
        if xs is not None and ys is not None:
            return and_k(or_k(self.equal(x, y) for y in ys) for x in xs)
        raise PlanTranslationError("isSubset with these operands cannot be translated")

    def list_op(self, op: str, a: Val, b: Val) -> Val:
        """Cerbos's ``intersect``/``except`` of a database list with a known list."""
        if a is ERR or b is ERR:
            return ERR
        coll = self.collection(a, op)
        known = known_list(b)
        if coll is not None and known is not None:
            if op == "intersect":
                return self.keep(coll, lambda e: self._member_of_known(e, known))
            return self.keep(coll, lambda e: not_k(self._member_of_known(e, known)))
        if isinstance(a, Const) and isinstance(b, Const) and isinstance(a.value, list) and isinstance(b.value, list):
            if op == "intersect":
                return Const([x for x in a.value if any(cel_equal(x, y) for y in b.value)])
            return Const([x for x in a.value if not any(cel_equal(x, y) for y in b.value)])
        raise PlanTranslationError(f"operator {op!r} with these operands cannot be translated")

    def size(self, value: Val) -> Val:
        if value is ERR:
            return ERR
        coll = self.collection(value, "size")
        if coll is not None:
            return self.count(coll)
        if isinstance(value, Cond):
            return Cond(value.cond, self.size(value.then), self.size(value.other))
        if isinstance(value, Items):
            return Const(len(value.items))
        if isinstance(value, Const):
            v = value.value
            if isinstance(v, (str, list, dict)):
                return Const(len(v))
            return ERR
        if isinstance(value, Scalar):
            if value.kind == "string":
                nulls = "none" if value.nulls == "none" else "error"
                return Scalar(func.length(value.expr), "number", nulls, integer=True, sql_integer=True, name=value.name)
            if value.kind == "rfc3339":
                raise self._raw_timestamp(value)
            if value.kind == "unknown":
                raise PlanTranslationError("size() of an overridden value cannot be translated")
            return ERR
        raise PlanTranslationError("size() of this operand cannot be translated")

    def presence(self, value: Any) -> B:
        """``has(attribute)``: present in the resource's attributes."""
        if not (isinstance(value, Mapping) and isinstance(value.get("variable"), str)):
            raise PlanTranslationError("has() of this operand cannot be translated")
        path = value["variable"]
        target = self.schema.target(path)
        if target is None:
            raise PlanTranslationError(f"attribute {path!r} is not in attr_map")
        if not isinstance(target, ColumnElement):
            return TRUE  # a list of related rows is always there, maybe empty
        read = self.attribute(path)
        if isinstance(read, Related):
            read = self.scalar(read)
        if isinstance(read, Scalar) and read.nulls == "error":
            return B.of(read.expr.is_not(None), False)
        return TRUE


def _h_compare(t: Translator, op: str, v: List[Val]) -> Val:
    t._arity(op, v, 2)
    if op == "eq":
        return Pred(t.equal(v[0], v[1]))
    if op == "ne":
        return Pred(not_k(t.equal(v[0], v[1])))
    return Pred(t.order(op, v[0], v[1]))


def _h_in(t: Translator, op: str, v: List[Val]) -> Val:
    t._arity(op, v, 2)
    return Pred(t.member(v[0], v[1]))


def _h_string(t: Translator, op: str, v: List[Val]) -> Val:
    t._arity(op, v, 2)
    return Pred(text.string_test(t, op, v[0], v[1]))


def _h_arith(t: Translator, op: str, v: List[Val]) -> Val:
    t._arity(op, v, 2)
    return arithmetic.arithmetic(t, op, v[0], v[1])


def _h_one(fn: Callable[[Translator, Val], Val]) -> Callable[[Translator, str, List[Val]], Val]:
    def handler(t: Translator, op: str, v: List[Val]) -> Val:
        t._arity(op, v, 1)
        return fn(t, v[0])

    return handler


def _h_time_since(t: Translator, op: str, v: List[Val]) -> Val:
    t._arity(op, v, 1)
    return arithmetic.arithmetic(t, "sub", Const(t.now), arithmetic.timestamp(t, v[0]))


def _h_list(t: Translator, op: str, v: List[Val]) -> Val:
    if all(isinstance(x, Const) for x in v):
        return Const([x.value for x in v])  # type: ignore[attr-defined]
    return Items(tuple(t.scalar(x) for x in v))


_HANDLERS: Dict[str, Callable[[Translator, str, List[Val]], Val]] = {
    **dict.fromkeys(("eq", "ne", "lt", "le", "gt", "ge"), _h_compare),
    "in": _h_in,
    **dict.fromkeys(("contains", "startsWith", "endsWith"), _h_string),
    **dict.fromkeys(("add", "sub", "mult", "div", "mod"), _h_arith),
    "size": _h_one(lambda t, x: t.size(x)),
    "upperAscii": lambda t, op, v: (t._arity(op, v, 1), text.ascii_case(t, op, v[0]))[1],
    "lowerAscii": lambda t, op, v: (t._arity(op, v, 1), text.ascii_case(t, op, v[0]))[1],
    "timestamp": _h_one(lambda t, x: arithmetic.timestamp(t, x)),
    "duration": _h_one(lambda t, x: arithmetic.duration(t, x)),
    "timeSince": _h_time_since,
    "string": lambda t, op, v: (t._arity(op, v, 1), arithmetic.conversion(t, op, v[0]))[1],
    "double": lambda t, op, v: (t._arity(op, v, 1), arithmetic.conversion(t, op, v[0]))[1],
    "hasIntersection": lambda t, op, v: (t._arity(op, v, 2), Pred(t.intersects(v[0], v[1])))[1],
    "isSubset": lambda t, op, v: (t._arity(op, v, 2), Pred(t.subset(v[0], v[1])))[1],
    "intersect": lambda t, op, v: (t._arity(op, v, 2), t.list_op(op, v[0], v[1]))[1],
    "except": lambda t, op, v: (t._arity(op, v, 2), t.list_op(op, v[0], v[1]))[1],
    "list": _h_list,
    "hierarchy": lambda t, op, v: text.hierarchy(t, v),
    **dict.fromkeys(
        ("ancestorOf", "descendentOf", "immediateParentOf", "immediateChildOf", "overlaps", "siblingOf"),
        lambda t, op, v: (t._arity(op, v, 2), Pred(text.hierarchy_test(t, op, v[0], v[1])))[1],
    ),
}
