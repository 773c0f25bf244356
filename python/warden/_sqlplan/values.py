"""CEL values during the translation: known (from the plan) or read from the database.

A plan's operands are known values (``{"value": ...}``, protobuf ``Value``s: every number is a
double), attributes read from rows, and what operators make of them. Each kind of value here says
what SQL stands for it and what a SQL NULL in it means: a CEL ``null`` (the attribute is present and
null) or a failure (the attribute is missing, or an operator failed on it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, ClassVar, List, Optional, Tuple

from sqlalchemy.sql.elements import ColumnElement

from warden._planfilter.cel import cel_equal, cel_kind, cel_order, is_integral
from warden._sqlplan.logic import B

__all__ = ["cel_equal", "cel_kind", "cel_order", "is_integral"]  # re-exported: CEL on known values is shared

# --------------------------------------------------------------------------- #
# known values


@dataclass(frozen=True)
class Instant:
    """A CEL timestamp: nanoseconds since 1970-01-01T00:00:00Z (datetime stops at microseconds)."""

    ns: int
    cel_kind: ClassVar[str] = "timestamp"

    def floor_datetime(self) -> Tuple[datetime, int]:
        """The instant as a UTC datetime rounded down to the microsecond, and the nanoseconds left."""
        micros, rest = divmod(self.ns, 1000)
        return _EPOCH + timedelta(microseconds=micros), rest


@dataclass(frozen=True)
class Duration:
    """A CEL duration in nanoseconds."""

    ns: int
    cel_kind: ClassVar[str] = "duration"


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
# Go's time.ParseDuration units (CEL's duration() reads them), and protobuf's "3600.5s" form
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_MIN_SECONDS = -62135596800  # 0001-01-01T00:00:00Z
_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z


def parse_timestamp(text: str) -> Optional[Instant]:
    """CEL's ``timestamp(string)``: RFC 3339 with an offset, years 1-9999; None when CEL fails."""
    m = _RFC3339.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    try:
        base = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None
    offset = 0
    if m.group(9):
        offset = (int(m.group(10)) * 60 + int(m.group(11))) * 60 * (1 if m.group(9) == "+" else -1)
    seconds = int((base - _EPOCH).total_seconds()) - offset
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS:
        return None
    fraction = (m.group(7) or "").ljust(9, "0")
    return Instant(seconds * 10**9 + int(fraction))


def parse_duration(text: str) -> Optional[Duration]:
    """CEL's ``duration(string)`` (Go's duration syntax); None when CEL fails."""
    sign = 1
    rest = text
    if rest[:1] in "+-" and rest:
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return Duration(0)
    total = 0
    pos = 0
    while pos < len(rest):
        m = _DURATION_PART.match(rest, pos)
        if m is None:
            return None
        number, unit = m.group(1), m.group(2)
        whole, _, frac = number.partition(".")
        scale = _UNIT_NS[unit]
        total += int(whole or 0) * scale + (int(frac) * scale // 10 ** len(frac) if frac else 0)
        pos = m.end()
    if pos == 0:
        return None
    return Duration(sign * total)


# --------------------------------------------------------------------------- #
# values during the translation


class Val:
    """A CEL value during the translation."""

    __slots__ = ()


@dataclass(frozen=True)
class Const(Val):
    """A known value: what the plan wrote (numbers as doubles), an Instant or a Duration."""

    value: Any


@dataclass(frozen=True)
class Scalar(Val):
    """A value read from the database.

    ``kind``: ``string``, ``number``, ``bool``, ``timestamp``, ``rfc3339`` (a DateTime column:
    the resource attribute is its RFC 3339 text, usable through ``timestamp()``) or ``unknown``
    (an override's result: compared as SQL compares). ``integer``: a CEL int (``size()``), not
    a double. ``nulls``: what SQL NULL means: ``none`` (never NULL), ``null`` (CEL null) or
    ``error`` (the evaluation failed).
    """

    expr: ColumnElement[Any]
    kind: str
    nulls: str
    integer: bool = False
    sql_integer: bool = False  # the SQL type is an integer (exact where doubles are not)
    timezone: bool = True  # timestamps: the column stores aware (timezone) values
    name: str = ""  # the attribute, for messages


@dataclass(frozen=True)
class Pred(Val):
    """A boolean computed by the plan."""

    b: B


@dataclass(frozen=True)
class Cond(Val):
    """CEL's ``cond ? then : other`` with a row-dependent condition, kept until an operator uses it."""

    cond: B
    then: Val
    other: Val


class _Error(Val):
    """A value whose evaluation fails on every row."""

    def __repr__(self) -> str:
        return "ERR"


ERR = _Error()


@dataclass(frozen=True)
class Items(Val):
    """A list literal with row-dependent elements (``[R.attr.a, "x"]``)."""

    items: Tuple[Val, ...]


@dataclass(frozen=True)
class Row(Val):
    """An element of a list of objects: one row of a related table; ``path.field`` reads its columns."""

    path: str


@dataclass(frozen=True)
class Shifted(Val):
    """``timestamp(column) + offset``."""

    ts: Scalar
    offset: Duration


@dataclass(frozen=True)
class Since(Val):
    """A duration between a stored timestamp and a known one: ``sign * ((ts + offset) - base)``."""

    ts: Scalar
    offset: Duration
    base: Instant
    sign: int


@dataclass(frozen=True)
class Hier(Val):
    """Cerbos's ``hierarchy(x, delimiter)``: known segments, or a text column split by ``delim``."""

    segments: Optional[Tuple[str, ...]]
    column: Optional[Scalar]
    delim: str


@dataclass(frozen=True)
class Related(Val):
    """An attribute mapped to a column of a related table: a list wherever CEL takes a list (one
    element per related row), a single value elsewhere (a to-one relation)."""

    path: str
    column: Any


@dataclass(frozen=True)
class Coll(Val):
    """A list read from a related table, with the ``filter``/``map`` steps applied to it.

    ``element`` gives the value of the current row (inside the subquery's scope); each step maps
    an element to ``("filter", B)`` or ``("map", Val)``. ``countable``: ``size()`` is meaningful
    (``intersect``/``except`` results are not, their duplicates being unspecified).
    """

    path: str
    table: Any
    element: Callable[[], Val]
    steps: Tuple[Callable[[Val], Tuple[str, Any]], ...] = field(default=())
    countable: bool = True


def lift(values: List[Val]) -> Optional[int]:
    """The index of the first conditional value, whose branches an operator must be applied to."""
    for i, v in enumerate(values):
        if isinstance(v, Cond):
            return i
    return None


# --------------------------------------------------------------------------- #
# helpers the operators share


def is_boolean(v: Val) -> bool:
    """A boolean: computed by the plan, or known."""
    return isinstance(v, Pred) or isinstance(v, Const) and isinstance(v.value, bool)


def as_scalar(p: Pred) -> Val:
    if p.b.const is not None:
        return Const(p.b.const)
    if p.b.is_error:
        return ERR
    return Scalar(p.b.expr(), "bool", "error" if p.b.nullable else "none")


def compatible(a: str, b: str) -> bool:
    return a == b or "unknown" in (a, b)


def as_items(v: Val) -> Optional[List[Val]]:
    if isinstance(v, Items):
        return list(v.items)
    if isinstance(v, Const) and isinstance(v.value, list):
        return [Const(x) for x in v.value]
    return None


def known_list(v: Val) -> Optional[List[Any]]:
    if isinstance(v, Const) and isinstance(v.value, list):
        return list(v.value)
    return None
