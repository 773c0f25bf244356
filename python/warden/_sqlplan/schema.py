"""Where the attributes are: ``attr_map`` (attribute path to column, or to a table for a list of
objects), ``table_mapping`` (how each related table joins the resource's), and what a NULL column
stands for (``null_attribute_representation`` / ``attribute_null_representation``)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import Boolean, DateTime, Float, Integer, Numeric, String
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause
from sqlalchemy.sql.util import find_tables

from warden._sqlplan.errors import PlanTranslationError

CONVENTIONS = ("explicit", "omitted")


def table_of(obj: Any, where: str) -> FromClause:
    """A Core table or an ORM model's table."""
    if isinstance(obj, FromClause):
        return obj
    mapped = getattr(obj, "__table__", None)
    if isinstance(mapped, FromClause):
        return mapped
    raise TypeError(f"{where}: expected a SQLAlchemy Table or a mapped ORM class, got {type(obj).__name__}")


def column_of(obj: Any) -> Any:
    """A Core column expression for a column or an ORM attribute (``Contact.owner_id``)."""
    clause = getattr(obj, "__clause_element__", None)
    return clause() if clause is not None else obj


def kind_of(sql_type: Any) -> Tuple[str, bool]:
    """The CEL kind a column's values have in the resource attributes, and whether SQL holds an integer."""
    if isinstance(sql_type, Boolean):
        return "bool", False
    if isinstance(sql_type, Integer):
        return "number", True
    if isinstance(sql_type, (Float, Numeric)):
        return "number", False
    if isinstance(sql_type, String):  # also Text, Unicode, Enum
        return "string", False
    if isinstance(sql_type, DateTime):
        return "rfc3339", False
    return "unknown", False


class Schema:
    """The resource's table, the attributes' columns and the related tables."""

    def __init__(
        self,
        table: Any,
        attr_map: Mapping[str, Any],
        table_mapping: Optional[Sequence[Tuple[Any, Any]]],
        null_attribute_representation: str,
        attribute_null_representation: Optional[Mapping[str, str]],
    ):
        self.table = table_of(table, "table")
        if not isinstance(attr_map, Mapping):
            raise TypeError(f"attr_map: expected a dict of attribute paths to columns, got {type(attr_map).__name__}")
        self.attrs: Dict[str, Any] = {}
        for name, target in attr_map.items():
            if not isinstance(name, str):
                raise TypeError(f"attr_map: keys are attribute paths (str), got {name!r}")
            if isinstance(target, FromClause) or isinstance(getattr(target, "__table__", None), FromClause):
                self.attrs[name] = table_of(target, f"attr_map[{name!r}]")
            else:
                col = column_of(target)
                if not isinstance(col, ColumnElement):
                    raise TypeError(
                        f"attr_map[{name!r}]: expected a column, a SQL expression or a table, got {type(target).__name__}"
                    )
                self.attrs[name] = col
        self.relations: Dict[FromClause, ColumnElement[Any]] = {}
        for i, entry in enumerate(table_mapping or ()):
            try:
                related, on = entry
            except (TypeError, ValueError):
                raise TypeError(f"table_mapping[{i}]: expected a (table, join condition) pair") from None
            on_clause = column_of(on)
            if not isinstance(on_clause, ColumnElement):
                raise TypeError(f"table_mapping[{i}]: the join condition must be a SQL expression")
            self.relations[table_of(related, f"table_mapping[{i}]")] = on_clause
        if null_attribute_representation not in CONVENTIONS:
            raise ValueError(
                f"null_attribute_representation: expected 'explicit' or 'omitted', got {null_attribute_representation!r}"
            )
        self.default_nulls = null_attribute_representation
        self.nulls: Dict[str, str] = {}
        for name, convention in (attribute_null_representation or {}).items():
            if convention not in CONVENTIONS:
                raise ValueError(
                    f"attribute_null_representation[{name!r}]: expected 'explicit' or 'omitted', got {convention!r}"
                )
            self.nulls[name] = convention

    def null_means(self, path: str) -> str:
        """``null`` (the attribute is sent as null) or ``error`` (it is left out, so reading it fails)."""
        return "null" if self.nulls.get(path, self.default_nulls) == "explicit" else "error"

    def target(self, path: str) -> Any:
        """The column, expression or table ``path`` is mapped to, or None."""
        return self.attrs.get(path)

    def fields_table(self, path: str) -> Optional[FromClause]:
        """For a list of objects mapped field by field (``path.x`` keys only): their table."""
        prefix = path + "."
        tables = {
            getattr(col, "table", None)
            for name, col in self.attrs.items()
            if name.startswith(prefix) and isinstance(col, ColumnElement)
        }
        tables.discard(None)
        tables.discard(self.table)
        if len(tables) == 1:
            related = tables.pop()
            return related if related in self.relations else None
        return None

    def join_chain(self, related: FromClause, outer: Iterable[FromClause]) -> List[FromClause]:
        """``related`` and the related tables its join condition goes through to reach ``outer``
        (the resource's table and the enclosing subqueries' tables)."""
        reachable = set(outer) | {self.table}
        chain: List[FromClause] = []
        todo = [related]
        while todo:
            t = todo.pop()
            if t in chain:
                continue
            if t not in self.relations:
                raise PlanTranslationError(
                    f"table {getattr(t, 'name', t)!r} is not in table_mapping: give the condition joining it"
                )
            chain.append(t)
            for used in find_tables(self.relations[t]):
                if used is not t and used not in reachable and used not in chain:
                    todo.append(used)
        return chain
