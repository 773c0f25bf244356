"""CEL booleans as SQL booleans, with SQL NULL standing for a failed evaluation.

A plan's condition is CEL, where a sub-expression can fail (a missing attribute, ``null > 1``, a
function applied to the wrong type). CEL's ``&&`` and ``||`` absorb a failure when the other side
decides (``false && error`` is ``false``, ``true || error`` is ``true``); ``!error`` and every other
operator fail; a condition that fails does not hold. That is SQL's three-valued logic with NULL as
the failure: ``AND``/``OR`` absorb NULL the same way, ``NOT NULL`` is NULL, and ``WHERE`` keeps a
row only when the condition is TRUE. So each boolean here is a SQL expression that is TRUE, FALSE
or NULL exactly when CEL's value is true, false or an error; constants fold as CEL folds them.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Optional

from sqlalchemy import Boolean, and_, case, cast, false, not_, null, or_, true
from sqlalchemy.sql.elements import ColumnElement, Grouping


class B:
    """A CEL boolean: the constant ``true``/``false``, an evaluation that always fails, or SQL.

    ``nullable``: the SQL may be NULL (fail) on some rows; False lets callers skip NULL guards.
    """

    __slots__ = ("const", "sql", "nullable")

    def __init__(self, const: Optional[bool], sql: Optional[ColumnElement[Any]], nullable: bool):
        self.const = const
        self.sql = sql
        self.nullable = nullable

    @staticmethod
    def of(sql: ColumnElement[Any], nullable: bool = True) -> "B":
        return B(None, sql, nullable)

    @property
    def is_error(self) -> bool:
        return self.const is None and self.sql is None

    def expr(self) -> ColumnElement[Any]:
        """The SQL: ``true``/``false``/``NULL`` for the constants."""
        if self.sql is not None:
            return self.sql
        if self.const is None:
            return cast(null(), Boolean)
        return true() if self.const else false()

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"B({self.const!r}, {self.sql!r}, nullable={self.nullable})"


TRUE = B(True, None, False)
FALSE = B(False, None, False)
ERROR = B(None, None, True)


def const(value: bool) -> B:
    return TRUE if value else FALSE


def and_k(items: Iterable[B]) -> B:
    """CEL ``&&`` over several operands (false wins, then failure)."""
    rest: List[B] = []
    for b in items:
        if b.const is False:
            return FALSE
        if b.const is not True:
            rest.append(b)
    if not rest:
        return TRUE
    if all(b.is_error for b in rest):
        return ERROR
    if len(rest) == 1:
        return rest[0]
    return B.of(and_(*(b.expr() for b in rest)), any(b.nullable for b in rest))


def or_k(items: Iterable[B]) -> B:
    """CEL ``||`` over several operands (true wins, then failure)."""
    rest: List[B] = []
    for b in items:
        if b.const is True:
            return TRUE
        if b.const is not False:
            rest.append(b)
    if not rest:
        return FALSE
    if all(b.is_error for b in rest):
        return ERROR
    if len(rest) == 1:
        return rest[0]
    return B.of(or_(*(b.expr() for b in rest)), any(b.nullable for b in rest))


def not_k(b: B) -> B:
    """CEL ``!``: a failure stays a failure (``NOT NULL`` is NULL)."""
    if b.is_error:
        return ERROR
    if b.const is not None:
        return const(not b.const)
    assert b.sql is not None
    return B.of(not_(b.sql), b.nullable)


def if_k(cond: B, then: B, other: B) -> B:
    """CEL ``cond ? then : other`` over booleans; a failed condition fails."""
    if cond.is_error:
        return ERROR
    if cond.const is not None:
        return then if cond.const else other
    # no ELSE: a NULL condition matches neither branch, so the CASE is NULL (failed)
    sql = case((cond.expr(), then.expr()), (not_(cond.expr()), other.expr()))
    return B.of(sql, True)


def is_true(b: B) -> B:
    """An exact plan's ``isTrue``: true where ``b`` is true, false elsewhere (failed included), as
    ``check`` counts a condition that fails or is not a boolean false."""
    if b.is_error:
        return FALSE
    if b.const is not None or not b.nullable:
        return b
    return B.of(holds(b), False)


def fails_when(failure: Optional[ColumnElement[Any]], b: B) -> B:
    """``b``, except NULL (failed) where ``failure`` holds."""
    if failure is None:
        return b
    return B.of(case((failure, cast(null(), Boolean)), else_=b.expr()), True)


def holds(b: B) -> ColumnElement[Any]:
    """SQL that is TRUE where ``b`` is true and FALSE elsewhere (failed included)."""
    if b.const is not None or b.is_error:
        return true() if b.const else false()
    if not b.nullable:
        return b.expr()
    # grouped: `NOT x IS TRUE` would read as `NOT (x IS TRUE)` (IS binds tighter than NOT)
    return Grouping(b.expr()).is_(True)


def failed(b: B) -> Optional[ColumnElement[Any]]:
    """SQL that is TRUE where ``b`` fails, or None when it never does."""
    if b.is_error:
        return true()
    if b.const is not None or not b.nullable:
        return None
    return Grouping(b.expr()).is_(None)
