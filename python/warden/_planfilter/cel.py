"""CEL's equality and ordering of known values (the plan's literals), as every backend folds them.

A plan carries numbers as protobuf doubles (``1`` and ``1.0`` alike), so numbers are one kind
here: they compare with each other by value, and never equal a string or a boolean (CEL's
equality is heterogeneous: ``"1" == 1`` is false, not an error). Ordering needs both sides of one
orderable kind and fails (``None``) otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Optional

ORDERABLE = ("number", "string", "bool", "timestamp", "duration")


def cel_kind(value: Any) -> str:
    """The CEL kind of a known value: null, bool, number, string, list, map, or (values with an
    ``ns`` count, see ``warden._sqlplan.values``) timestamp / duration; unknown otherwise."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "map"
    return getattr(value, "cel_kind", "unknown")


def cel_equal(a: Any, b: Any) -> bool:
    """CEL's ``==``: different kinds are unequal, numbers compare as numbers, lists and maps deeply."""
    ka, kb = cel_kind(a), cel_kind(b)
    if ka != kb:
        return False
    if ka == "number":
        return float(a) == float(b)
    if ka == "list":
        return len(a) == len(b) and all(cel_equal(x, y) for x, y in zip(a, b, strict=True))
    if ka == "map":
        return set(a) == set(b) and all(cel_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def cel_order(op: str, a: Any, b: Any) -> Optional[bool]:
    """CEL's ``<``, ``<=``, ``>``, ``>=`` (``op``: lt, le, gt, ge); None where CEL fails (no such overload)."""
    ka, kb = cel_kind(a), cel_kind(b)
    if ka != kb or ka not in ORDERABLE:
        return None
    if ka == "number":
        x, y = float(a), float(b)
        if math.isnan(x) or math.isnan(y):
            return False
    elif ka in ("timestamp", "duration"):
        x, y = a.ns, b.ns
    else:
        x, y = a, b
    return {"lt": x < y, "le": x <= y, "gt": x > y, "ge": x >= y}[op]


def is_integral(value: Any) -> bool:
    """A plan number that may have been a CEL int (the plan writes 1 and 1.0 alike)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and float(value).is_integer()
