"""The values the differential tests draw their rows from (``tests/plan`` for SQLAlchemy,
``tests/django`` for Django ``Q``): strings that trip databases (empty, ``%``, ``_``, GLOB and
escape characters, non-ASCII letters, case variants), numbers at the edges (integers doubles cannot
hold, 32-bit bounds, fractions either side of the compared values) and timestamps around ``now``.
Each pool is built from the values the policies compare with, so the rows decide the conditions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable, List, Optional

EXACT = 2**53  # doubles hold every integer up to here
NOW_OFFSETS = [-7200, -3601, -3600, -3599, -1800, -1, 0, 1, 1800, 3600, 86400]
SPECIAL_STRINGS = ["", "%", "_", "a%", "%a", "a_b", "a%b", "*", "?", "[", "!", "\\", "x*y", "[ab]", "é", "É"]


def case_variants(s: str) -> List[str]:
    out = {s, s.upper(), s.lower(), s.swapcase(), s[:1].upper() + s[1:]}
    return list(out)


def string_pool(hints: Iterable[Any], literals: Iterable[Any], ids: Iterable[str]) -> List[str]:
    """The special strings, and around each seed (the hints, else the first literals, and the
    principals' ids): its case variants, a character more or less, ``%``/``_`` added, a space."""
    seeds = [h for h in hints if isinstance(h, str)] or [x for x in literals if isinstance(x, str)][:12]
    seeds += list(ids)
    pool: List[str] = list(SPECIAL_STRINGS)
    for s in seeds:
        pool += case_variants(s)
        pool += [s + "x", "x" + s, s[: max(1, len(s) // 2)], s + "%", "_" + s, s.replace("a", "_", 1), s + " "]
    return sorted(set(pool))


def number_pool(hints: Iterable[Any], integral: bool, bound: Optional[int] = None) -> List[float]:
    """Edge numbers and each hint ±1 (±0.5 and a hair above, for fractions); ``bound``: only
    values of smaller magnitude (a 32-bit column)."""
    base = {0, 1, -1, 2, 42, EXACT, EXACT + 1, -(EXACT + 1), 2**62}
    for h in hints:
        if isinstance(h, (int, float)) and not isinstance(h, bool):
            v = float(h)
            base |= {v, v + 1, v - 1}
            if not integral:
                base |= {v + 0.5, v - 0.5, v + 1e-9}
    if bound is not None:
        base = {v for v in base if abs(v) <= bound}
    if integral:
        return sorted({int(v) for v in base if float(v).is_integer()})
    return sorted({float(v) for v in base if abs(v) < 2**62})


def datetime_pool(now: datetime) -> List[datetime]:
    return [now + timedelta(seconds=s) for s in NOW_OFFSETS] + [now + timedelta(microseconds=1)]
