"""CEL's string functions (``contains``, ``startsWith``, ``endsWith``, ``upperAscii``,
``lowerAscii``) and Cerbos's hierarchies (``hierarchy(x).ancestorOf(...)``...) in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from warden._sqlplan import dialect
from warden._sqlplan.errors import PlanTranslationError
from warden._sqlplan.logic import ERROR, FALSE, B, const, fails_when, if_k
from warden._sqlplan.values import ERR, Cond, Const, Hier, Pred, Scalar, Val, lift

if TYPE_CHECKING:
    from warden._sqlplan.translate import Translator


def string_test(t: "Translator", op: str, haystack: Val, needle: Val) -> B:
    if haystack is ERR or needle is ERR:
        return ERROR
    i = lift([haystack, needle])
    if i is not None:
        c = (haystack, needle)[i]
        assert isinstance(c, Cond)
        pair_then = (c.then, needle) if i == 0 else (haystack, c.then)
        pair_other = (c.other, needle) if i == 0 else (haystack, c.other)
        return if_k(c.cond, string_test(t, op, *pair_then), string_test(t, op, *pair_other))
    haystack, needle = t.scalar(haystack), t.scalar(needle)
    for v in (haystack, needle):
        if isinstance(v, Scalar) and v.kind == "rfc3339":
            raise t._raw_timestamp(v)
    if isinstance(haystack, Const) and isinstance(needle, Const):
        h, n = haystack.value, needle.value
        if not isinstance(h, str) or not isinstance(n, str):
            return ERROR
        return const({"contains": n in h, "startsWith": h.startswith(n), "endsWith": h.endswith(n)}[op])
    sides: List[Any] = []
    nullable = False
    for v in (haystack, needle):
        if isinstance(v, Const):
            if not isinstance(v.value, str):
                return ERROR
            sides.append(v.value)
        elif isinstance(v, Scalar) and v.kind in ("string", "unknown"):
            sides.append(v.expr)
            nullable = nullable or v.nulls != "none"
        elif isinstance(v, (Scalar, Pred)):
            return ERROR  # a string function on a number, bool...: no such overload
        else:
            raise PlanTranslationError(f"operator {op!r} with these operands cannot be translated")
    match = dialect.string_match(
        sides[0], sides[1], any_before=op in ("contains", "endsWith"), any_after=op in ("contains", "startsWith")
    )
    return B.of(match, nullable)


def ascii_case(t: "Translator", op: str, value: Val) -> Val:
    value = t.scalar(value)
    if value is ERR:
        return ERR
    if isinstance(value, Cond):
        return Cond(value.cond, ascii_case(t, op, value.then), ascii_case(t, op, value.other))
    upper = op == "upperAscii"
    if isinstance(value, Const):
        if not isinstance(value.value, str):
            return ERR
        table = str.maketrans(
            "abcdefghijklmnopqrstuvwxyz" if upper else "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if upper else "abcdefghijklmnopqrstuvwxyz",
        )
        return Const(value.value.translate(table))
    if isinstance(value, Scalar) and value.kind == "string":
        nulls = "none" if value.nulls == "none" else "error"
        return Scalar(dialect.ascii_case(value.expr, upper=upper), "string", nulls, name=value.name)
    if isinstance(value, Scalar) and value.kind == "rfc3339":
        raise t._raw_timestamp(value)
    return ERR


def hierarchy(t: "Translator", values: List[Val]) -> Val:
    """Cerbos's ``hierarchy(x)`` / ``hierarchy(x, delimiter)``."""
    if not 1 <= len(values) <= 2:
        raise PlanTranslationError(f"operator 'hierarchy': expected 1 or 2 operands, got {len(values)}")
    source = t.scalar(values[0])
    delim = values[1] if len(values) == 2 else Const(".")
    if source is ERR or delim is ERR:
        return ERR
    if not (isinstance(delim, Const) and isinstance(delim.value, str)):
        raise PlanTranslationError("hierarchy() with a delimiter read from the database cannot be translated")
    d = delim.value
    if isinstance(source, Const):
        v = source.value
        if isinstance(v, str):
            return Hier(tuple(v.split(d) if d else list(v)), None, d)
        if isinstance(v, list) and all(isinstance(x, str) for x in v) and len(values) == 1:
            return Hier(tuple(v), None, d)
        return ERR
    if isinstance(source, Scalar) and source.kind == "string":
        if not d:
            raise PlanTranslationError("hierarchy() of an attribute with an empty delimiter cannot be translated")
        return Hier(None, source, d)
    if isinstance(source, Scalar) and source.kind == "rfc3339":
        raise t._raw_timestamp(source)
    if isinstance(source, Scalar) and source.kind == "unknown":
        raise PlanTranslationError("hierarchy() of an overridden value cannot be translated")
    return ERR


def hierarchy_test(t: "Translator", op: str, a: Val, b: Val) -> B:
    """``a.ancestorOf(b)`` and the other hierarchy relations (cerbos types/hierarchy.go)."""
    if a is ERR or b is ERR:
        return ERROR
    if not isinstance(a, Hier) or not isinstance(b, Hier):
        if isinstance(a, Cond) or isinstance(b, Cond):
            raise PlanTranslationError(f"operator {op!r} over a conditional hierarchy cannot be translated")
        return ERROR
    if a.segments is not None and b.segments is not None:
        return const(_hierarchy_relation(op, list(a.segments), list(b.segments)))
    if a.column is not None and b.column is not None:
        raise PlanTranslationError(
            f"operator {op!r} between two hierarchies read from the database cannot be translated"
        )
    flipped = {
        "ancestorOf": "descendentOf",
        "descendentOf": "ancestorOf",
        "immediateParentOf": "immediateChildOf",
        "immediateChildOf": "immediateParentOf",
        "overlaps": "overlaps",
        "siblingOf": "siblingOf",
    }
    if op not in flipped:
        raise PlanTranslationError(f"operator {op!r} cannot be translated to SQL")
    if a.column is None:
        a, b, op = b, a, flipped[op]
    assert a.column is not None and b.segments is not None
    return _column_hierarchy(t, op, a.column, a.delim, list(b.segments))


def _column_hierarchy(t: "Translator", op: str, col: Scalar, d: str, known: List[str]) -> B:
    """``hierarchy(col, d) op known``: the column's text split by ``d`` against known segments."""
    n = len(known)

    def joined(k: int) -> Optional[str]:
        # the text whose split is known[:k]; None when a segment holds the delimiter (no text splits so)
        part = known[:k]
        return None if any(d in s for s in part) else d.join(part)

    def text_in(candidates: List[Optional[str]]) -> Optional[ColumnElement[Any]]:
        present = [c for c in candidates if c is not None]
        return dialect.binary_eq(col.expr).in_(present) if present else None

    def below(k: int, only_one_more: bool) -> Optional[ColumnElement[Any]]:
        # the column has known[:k] then at least one segment (exactly one when only_one_more)
        prefix = joined(k)
        if prefix is None:
            return None
        head = dialect.string_match(col.expr, prefix + d, any_before=False, any_after=True)
        if not only_one_more:
            return head
        return and_(head, ~dialect.pattern_match(col.expr, [prefix + d, d], any_before=False, any_after=True))

    terms: List[Optional[ColumnElement[Any]]]
    if op == "ancestorOf":  # the column is a proper prefix of known
        terms = [text_in([joined(k) for k in range(1, n)])]
    elif op == "descendentOf":  # known is a proper prefix of the column
        terms = [below(n, False)]
    elif op == "immediateParentOf":  # the column is known minus its last segment
        terms = [text_in([joined(n - 1)]) if n >= 2 else None]
    elif op == "immediateChildOf":  # the column is known plus one segment
        terms = [below(n, True)]
    elif op == "overlaps":  # one is a prefix of the other (or equal)
        terms = [text_in([joined(k) for k in range(1, n + 1)]), below(n, False)]
    else:  # siblingOf: as many segments, all but the last equal
        if n == 1:
            terms = [~dialect.string_match(col.expr, d, any_before=True, any_after=True)]
        else:
            terms = [below(n - 1, True)]
    present = [t for t in terms if t is not None]
    if not present:
        return fails_when(t.failure(col) if col.nulls != "none" else None, FALSE)
    # hierarchy(null) fails: a NULL column makes every term NULL
    return B.of(or_(*present) if len(present) > 1 else present[0], col.nulls != "none")


def _hierarchy_relation(op: str, a: List[str], b: List[str]) -> bool:
    def prefix(x: List[str], y: List[str]) -> bool:
        return len(x) <= len(y) and y[: len(x)] == x

    if op == "ancestorOf":
        return len(b) > len(a) and prefix(a, b)
    if op == "descendentOf":
        return len(a) > len(b) and prefix(b, a)
    if op == "immediateParentOf":
        return len(b) == len(a) + 1 and prefix(a, b)
    if op == "immediateChildOf":
        return len(a) == len(b) + 1 and prefix(b, a)
    if op == "overlaps":
        return prefix(a, b) or prefix(b, a)
    if op == "siblingOf":
        return len(a) == len(b) and a[:-1] == b[:-1]
    raise PlanTranslationError(f"operator {op!r} cannot be translated to SQL")
