"""The SQL that differs by database, as SQLAlchemy constructs compiled per dialect.

CEL compares strings by code point and matches them case-sensitively. Databases do not by default:
SQLite's ``LIKE`` ignores ASCII case and a column may be declared ``COLLATE NOCASE``; PostgreSQL
orders text by the database's locale (``'a' < 'B'``) and its ``upper()`` maps non-ASCII letters.
Each construct renders what keeps CEL's meaning on SQLite and PostgreSQL; other dialects get the
portable form, whose case-sensitivity depends on the column's collation (see docs/list-endpoints.md).
"""

from __future__ import annotations

import string
from typing import Any, List

from sqlalchemy import Boolean, String, collate, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

LIKE_ESCAPE = "!"


class _BinaryEq(FunctionElement[Any]):
    """A string compared for equality byte by byte (a column's own collation may fold case)."""

    name = "warden_binary_eq"
    type = String()
    inherit_cache = True


class _BinaryOrder(FunctionElement[Any]):
    """A string ordered by code point (UTF-8 byte order is code point order)."""

    name = "warden_binary_order"
    type = String()
    inherit_cache = True


@compiles(_BinaryEq)
@compiles(_BinaryOrder)
def _plain(element: Any, compiler: Any, **kw: Any) -> str:
    return compiler.process(list(element.clauses)[0], **kw)


@compiles(_BinaryEq, "sqlite")
@compiles(_BinaryOrder, "sqlite")
def _sqlite_binary(element: Any, compiler: Any, **kw: Any) -> str:
    return compiler.process(collate(list(element.clauses)[0], "BINARY"), **kw)


# PostgreSQL's deterministic collations already compare equal only identical strings
@compiles(_BinaryOrder, "postgresql")
def _pg_order(element: Any, compiler: Any, **kw: Any) -> str:
    return compiler.process(collate(list(element.clauses)[0], "C"), **kw)


@compiles(_BinaryEq, "mysql")
@compiles(_BinaryOrder, "mysql")
def _mysql_binary(element: Any, compiler: Any, **kw: Any) -> str:
    return compiler.process(collate(list(element.clauses)[0], "utf8mb4_bin"), **kw)


def binary_eq(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    return _BinaryEq(expr)  # type: ignore[return-value]


def binary_order(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    return _BinaryOrder(expr)  # type: ignore[return-value]


class _StringMatch(FunctionElement[Any]):
    """``haystack`` matches a pattern given twice: for SQLite's GLOB and for LIKE (escape ``!``).

    GLOB is case-sensitive on SQLite, where LIKE is not; PostgreSQL's LIKE is case-sensitive.
    """

    name = "warden_string_match"
    type = Boolean()
    inherit_cache = True


@compiles(_StringMatch)
def _like(element: Any, compiler: Any, **kw: Any) -> str:
    haystack, _glob, like = list(element.clauses)
    return compiler.process(haystack.like(like, escape=LIKE_ESCAPE), **kw)


@compiles(_StringMatch, "sqlite")
def _glob(element: Any, compiler: Any, **kw: Any) -> str:
    haystack, glob, _like = list(element.clauses)
    return compiler.process(haystack.op("GLOB", is_comparison=True)(glob), **kw)


@compiles(_StringMatch, "mysql")
def _mysql_like(element: Any, compiler: Any, **kw: Any) -> str:
    haystack, _glob, like = list(element.clauses)
    return compiler.process(collate(haystack, "utf8mb4_bin").like(like, escape=LIKE_ESCAPE), **kw)


def _glob_escape(text: str) -> str:
    return text.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")


def _like_escape(text: str) -> str:
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def _glob_escape_sql(expr: Any) -> Any:
    return func.replace(func.replace(func.replace(expr, "[", "[[]"), "*", "[*]"), "?", "[?]", type_=String())


def _like_escape_sql(expr: Any) -> Any:
    e = LIKE_ESCAPE
    return func.replace(func.replace(func.replace(expr, e, e * 2), "%", e + "%"), "_", e + "_", type_=String())


def string_match(haystack: Any, needle: Any, *, any_before: bool, any_after: bool) -> ColumnElement[Any]:
    """``haystack`` contains / starts with / ends with ``needle`` (a ``str`` or SQL), literally.

    ``%``, ``_``, ``*``, ``?``, ``[`` and the escape character in the needle match themselves.
    """
    if isinstance(haystack, str):
        haystack = literal(haystack, String())
    if isinstance(needle, str):
        return pattern_match(haystack, [needle], any_before=any_before, any_after=any_after)
    glob: Any = _glob_escape_sql(needle)
    like: Any = _like_escape_sql(needle)
    if any_before:
        glob = literal("*", String()) + glob
        like = literal("%", String()) + like
    if any_after:
        glob = glob + literal("*", String())
        like = like + literal("%", String())
    return _StringMatch(haystack, glob, like)  # type: ignore[return-value]


def pattern_match(haystack: Any, parts: List[str], *, any_before: bool, any_after: bool) -> ColumnElement[Any]:
    """``haystack`` is the literal ``parts`` in order with anything between them (and before the
    first / after the last when asked)."""
    glob = "*".join(_glob_escape(p) for p in parts)
    like = "%".join(_like_escape(p) for p in parts)
    if any_before:
        glob, like = "*" + glob, "%" + like
    if any_after:
        glob, like = glob + "*", like + "%"
    return _StringMatch(haystack, literal(glob, String()), literal(like, String()))  # type: ignore[return-value]


class _AsciiUpper(FunctionElement[Any]):
    name = "warden_ascii_upper"
    type = String()
    inherit_cache = True


class _AsciiLower(FunctionElement[Any]):
    name = "warden_ascii_lower"
    type = String()
    inherit_cache = True


@compiles(_AsciiUpper)
def _translate_upper(element: Any, compiler: Any, **kw: Any) -> str:
    arg = list(element.clauses)[0]
    expr = func.translate(arg, string.ascii_lowercase, string.ascii_uppercase, type_=String())
    return compiler.process(expr, **kw)


@compiles(_AsciiLower)
def _translate_lower(element: Any, compiler: Any, **kw: Any) -> str:
    arg = list(element.clauses)[0]
    expr = func.translate(arg, string.ascii_uppercase, string.ascii_lowercase, type_=String())
    return compiler.process(expr, **kw)


# SQLite's upper() and lower() change ASCII letters only (without the ICU extension)
@compiles(_AsciiUpper, "sqlite")
def _sqlite_upper(element: Any, compiler: Any, **kw: Any) -> str:
    return compiler.process(func.upper(list(element.clauses)[0]), **kw)


@compiles(_AsciiLower, "sqlite")
def _sqlite_lower(element: Any, compiler: Any, **kw: Any) -> str:
    return compiler.process(func.lower(list(element.clauses)[0]), **kw)


def ascii_case(expr: Any, *, upper: bool) -> ColumnElement[Any]:
    """CEL's ``upperAscii``/``lowerAscii``: ASCII letters changed, every other character kept."""
    return (_AsciiUpper if upper else _AsciiLower)(expr)  # type: ignore[return-value]
