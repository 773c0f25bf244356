"""CEL arithmetic (numbers, strings, lists), timestamps and durations, and conversions in SQL.

Attributes are doubles in CEL (as in Cerbos), ``size()`` gives ints, and CEL has no arithmetic
across the two: ``R.attr.n + 1`` fails. A plan writes ``1`` and ``1.0`` alike, so an integral
literal is taken as an int. Timestamp arithmetic against known instants is moved onto the column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from sqlalchemy import Float, case, cast, literal, null

from warden._sqlplan.errors import PlanTranslationError
from warden._sqlplan.values import (
    ERR,
    Cond,
    Const,
    Duration,
    Instant,
    Items,
    Scalar,
    Shifted,
    Since,
    Val,
    as_items,
    cel_kind,
    is_integral,
    lift,
    parse_duration,
    parse_timestamp,
)

if TYPE_CHECKING:
    from warden._sqlplan.translate import Translator


def arithmetic(t: "Translator", op: str, a: Val, b: Val) -> Val:
    if a is ERR or b is ERR:
        return ERR
    i = lift([a, b])
    if i is not None:
        c = (a, b)[i]
        assert isinstance(c, Cond)
        then = arithmetic(t, op, c.then, b) if i == 0 else arithmetic(t, op, a, c.then)
        other = arithmetic(t, op, c.other, b) if i == 0 else arithmetic(t, op, a, c.other)
        return Cond(c.cond, then, other)
    a, b = t.scalar(a), t.scalar(b)
    if isinstance(a, Const) and isinstance(b, Const):
        return _fold_arithmetic(op, a.value, b.value)
    if op in ("add", "sub") and (isinstance(a, (Shifted, Since)) or isinstance(b, (Shifted, Since))):
        return time_arithmetic(t, op, a, b)
    if isinstance(a, Scalar) and a.kind == "timestamp" or isinstance(b, Scalar) and b.kind == "timestamp":
        return time_arithmetic(t, op, a, b)
    if op == "add" and (isinstance(a, Items) or isinstance(b, Items)):
        xs, ys = as_items(a), as_items(b)
        if xs is None or ys is None:
            return ERR
        return Items(tuple(xs) + tuple(ys))
    kinds = {_arith_kind(v) for v in (a, b)}
    if "rfc3339" in kinds:
        raise t._raw_timestamp(next(v for v in (a, b) if isinstance(v, Scalar) and v.kind == "rfc3339"))
    if kinds == {"string"} and op == "add":
        return _sql_value(t, a, b, lambda x, y: x.concat(y) if hasattr(x, "concat") else literal(x) + y, "string")
    if kinds <= {"double", "literal-fraction"} and "double" in kinds:
        if op == "mod":
            return ERR  # CEL has no % on doubles
        if op == "div" and isinstance(b, Scalar):
            raise PlanTranslationError(
                "division by an attribute cannot be translated (CEL divides by zero into infinity or NaN)"
            )
        return _sql_value(t, a, b, _ARITH[op], "number")
    if kinds <= {"int", "literal-int"} and "int" in kinds:
        if op in ("div", "mod") and isinstance(b, Scalar):
            # CEL fails on a zero divisor; SQL integer division and % truncate toward zero as CEL does
            guarded = b.expr
            value = _sql_value(t, a, b, _ARITH[op], "number", integer=True)
            assert isinstance(value, Scalar)
            return Scalar(
                case((guarded == 0, null()), else_=value.expr), "number", "error", integer=True, sql_integer=True
            )
        if op in ("div", "mod") and isinstance(b, Const) and float(b.value) == 0:
            return ERR
        return _sql_value(t, a, b, _ARITH[op], "number", integer=True)
    if "unknown" in kinds:
        return _sql_value(t, a, b, _ARITH[op], "unknown")
    # double with an integral literal (the plan cannot say whether it was 1 or 1.0: CEL's
    # `double + int` fails), int with a fraction, strings with numbers...: no such overload
    return ERR


def _sql_value(t: "Translator", a: Val, b: Val, fn: Callable[[Any, Any], Any], kind: str, integer: bool = False) -> Val:
    sides = []
    nullable = False
    for v in (a, b):
        if isinstance(v, Scalar):
            expr = v.expr
            if kind == "number" and not integer and v.sql_integer:
                expr = cast(expr, Float())
            sides.append(expr)
            nullable = nullable or v.nulls != "none"
        elif isinstance(v, Const):
            sides.append(literal(v.value, Float()) if kind == "number" and not integer else literal(v.value))
        else:
            raise PlanTranslationError("arithmetic with these operands cannot be translated")
    return Scalar(fn(sides[0], sides[1]), kind, "error" if nullable else "none", integer=integer, sql_integer=integer)


def time_arithmetic(t: "Translator", op: str, a: Val, b: Val) -> Val:
    """``timestamp(col) ± duration``, ``timestamp(col) - instant`` and ``instant - timestamp(col)``."""
    ts_a = _as_shifted(a)
    ts_b = _as_shifted(b)
    if ts_a is not None and isinstance(b, Const) and isinstance(b.value, Duration):
        d = b.value.ns if op == "add" else -b.value.ns
        if op not in ("add", "sub"):
            return ERR
        return Shifted(ts_a.ts, Duration(ts_a.offset.ns + d))
    if ts_b is not None and isinstance(a, Const) and isinstance(a.value, Duration) and op == "add":
        return Shifted(ts_b.ts, Duration(ts_b.offset.ns + a.value.ns))
    if op == "sub" and ts_a is not None and isinstance(b, Const) and isinstance(b.value, Instant):
        return Since(ts_a.ts, ts_a.offset, b.value, 1)
    if op == "sub" and ts_b is not None and isinstance(a, Const) and isinstance(a.value, Instant):
        return Since(ts_b.ts, ts_b.offset, a.value, -1)
    if isinstance(a, Const) and isinstance(a.value, (Instant, Duration)) or isinstance(b, Const):
        kinds = {cel_kind(v.value) for v in (a, b) if isinstance(v, Const)}
        if kinds <= {"timestamp", "duration"}:
            raise PlanTranslationError(f"operator {op!r} on these timestamps cannot be translated")
        return ERR  # timestamp + number, ...: no such overload
    raise PlanTranslationError(f"operator {op!r} on timestamps read from the database cannot be translated")


def timestamp(t: "Translator", value: Val) -> Val:
    value = t.scalar(value)
    if value is ERR:
        return ERR
    if isinstance(value, Cond):
        return Cond(value.cond, timestamp(t, value.then), timestamp(t, value.other))
    if isinstance(value, Const):
        v = value.value
        if isinstance(v, Instant):
            return value
        if isinstance(v, str):
            parsed = parse_timestamp(v)
            return ERR if parsed is None else Const(parsed)
        return ERR
    if isinstance(value, Scalar):
        if value.kind in ("rfc3339", "timestamp"):
            nulls = "none" if value.nulls == "none" else "error"  # timestamp(null) fails
            return Scalar(value.expr, "timestamp", nulls, timezone=value.timezone, name=value.name)
        if value.kind == "string":
            raise PlanTranslationError(
                f"timestamp({value.name}) of a text column cannot be translated: map the attribute to a DateTime column"
            )
        return ERR
    raise PlanTranslationError("timestamp() of this operand cannot be translated")


def duration(t: "Translator", value: Val) -> Val:
    if isinstance(value, Const):
        if isinstance(value.value, Duration):
            return value
        if isinstance(value.value, str):
            parsed = parse_duration(value.value)
            return ERR if parsed is None else Const(parsed)
        return ERR
    if value is ERR:
        return ERR
    raise PlanTranslationError("duration() of an attribute cannot be translated")


def conversion(t: "Translator", op: str, value: Val) -> Val:
    value = t.scalar(value)
    if value is ERR:
        return ERR
    if isinstance(value, Const):
        v = value.value
        if op == "double" and cel_kind(v) == "number":
            return Const(float(v))
        if op == "string" and isinstance(v, str):
            return value
        raise PlanTranslationError(f"{op}() of {v!r} cannot be translated")
    if isinstance(value, Scalar):
        if op == "string" and value.kind == "string":
            return value
        if op == "double" and value.kind == "number" and not value.integer:
            return value  # attributes are doubles already
        raise PlanTranslationError(
            f"{op}() of attribute {value.name!r} cannot be translated (SQL CAST does not convert as CEL does)"
        )
    raise PlanTranslationError(f"{op}() of this operand cannot be translated")


def _arith_kind(v: Val) -> str:
    if isinstance(v, Const):
        if cel_kind(v.value) == "number":
            return "literal-int" if is_integral(v.value) else "literal-fraction"
        return cel_kind(v.value)
    if isinstance(v, Scalar):
        if v.kind == "number":
            return "int" if v.integer else "double"
        return v.kind
    return "other"


_ARITH: Dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mult": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "mod": lambda x, y: x % y,
}


def _fold_arithmetic(op: str, x: Any, y: Any) -> Val:
    kx, ky = cel_kind(x), cel_kind(y)
    if op == "add" and kx == ky and kx in ("string", "list"):
        return Const(x + y)
    if kx == ky == "number":
        if op in ("div", "mod") and float(y) == 0:
            return ERR if op == "mod" or is_integral(x) and is_integral(y) else Const(float("nan"))
        if op == "mod":
            return Const(float(x) % float(y))
        return Const(_ARITH[op](float(x), float(y)))
    if kx == "timestamp" and ky == "duration" and op in ("add", "sub"):
        return Const(Instant(x.ns + y.ns if op == "add" else x.ns - y.ns))
    if kx == "duration" and ky == "duration" and op in ("add", "sub"):
        return Const(Duration(x.ns + y.ns if op == "add" else x.ns - y.ns))
    if kx == ky == "timestamp" and op == "sub":
        return Const(Duration(x.ns - y.ns))
    return ERR


def _as_shifted(v: Val) -> Optional[Shifted]:
    if isinstance(v, Shifted):
        return v
    if isinstance(v, Scalar) and v.kind == "timestamp":
        return Shifted(v, Duration(0))
    return None
