"""Go's text conventions that Cerbos's test-suite messages are made of, reproduced exactly.

* :func:`go_quote` is ``strconv.Quote`` (Go's ``%q`` of a string).
* :func:`lower_camel_case` is ``strcase.LowerCamelCase`` of github.com/stoewer/go-strcase v1.3.1,
  which Cerbos's parser applies to a whole field path (``internal/parser/parser.go`` ``verrorf``),
  map keys included: ``resources["john_leave_request"].kind`` reads ``resources["johnLeaveRequest"].kind``.
* :func:`rfc3339_error` is the error of Go's ``time.Parse(time.RFC3339Nano, value)``, the message
  Cerbos gives for a bad ``options.now``.
"""

from __future__ import annotations

import calendar
from typing import Optional

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text: str) -> str:
    """``strconv.Quote(text)``: double quotes, Go escapes for what is not printable."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _is_delimiter(ch: str) -> bool:
    return ch in "-_ \t\n\r"


def _is_lower(ch: str) -> bool:
    return "a" <= ch <= "z"


def _is_upper(ch: str) -> bool:
    return "A" <= ch <= "Z"


def _to_lower(ch: str) -> str:
    return ch.lower() if _is_upper(ch) else ch


def lower_camel_case(text: str) -> str:
    """``strcase.LowerCamelCase(text)`` (ASCII case rules, ``-``/``_``/whitespace dropped as word breaks)."""
    text = text.strip()
    out = []
    for i, curr in enumerate(text):
        prev = text[i - 1] if i > 0 else ""
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if _is_delimiter(curr):
            continue
        if prev and _is_delimiter(prev):
            out.append(curr.upper() if _is_lower(curr) else curr)
        elif prev and _is_lower(prev):
            out.append(curr)
        elif prev and _is_upper(prev) and _is_upper(curr) and nxt and _is_lower(nxt):
            out.append(curr)  # the "R" of "XRequestId"
        elif _is_upper(curr) and prev and "0" <= prev <= "9":
            out.append(curr)
        else:
            out.append(_to_lower(curr))
    return "".join(out)


def _time_quote(text: str) -> str:
    """The ``quote`` of Go's time package: non-ASCII and control bytes as ``\\xNN``."""
    out = ['"']
    for ch in text:
        if ord(ch) >= 0x80 or ch < " ":
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
        else:
            out.append("\\" + ch if ch in '"\\' else ch)
    out.append('"')
    return "".join(out)


RFC3339_NANO = "2006-01-02T15:04:05.999999999Z07:00"


def _digits(text: str, start: int, count: int) -> bool:
    return len(text) >= start + count and all("0" <= c <= "9" for c in text[start : start + count])


def _getnum(value: str, fixed: bool) -> Optional[tuple]:
    """Go's ``getnum``: one or two leading digits (exactly two when ``fixed``)."""
    if not _digits(value, 0, 1):
        return None
    if not _digits(value, 1, 1):
        return None if fixed else (int(value[0]), value[1:])
    return int(value[:2]), value[2:]


def rfc3339_error(value: str) -> Optional[str]:
    """The error text of ``time.Parse(time.RFC3339Nano, value)``, or None when Go parses it."""
    whole = _time_quote(value)
    layout = _time_quote(RFC3339_NANO)

    def cannot(elem: str, layout_elem: str) -> str:
        return f"parsing time {whole} as {layout}: cannot parse {_time_quote(elem)} as {_time_quote(layout_elem)}"

    def out_of_range(what: str) -> str:
        return f"parsing time {whole}: {what} out of range"

    rest = value
    fields = {}
    for prefix, std in (("", "2006"), ("-", "01"), ("-", "02"), ("T", "15"), (":", "04"), (":", "05")):
        if prefix:
            if not rest.startswith(prefix):
                return cannot(rest, prefix)
            rest = rest[len(prefix) :]
        if std == "2006":
            if not _digits(rest, 0, 4):
                return cannot(rest, std)
            fields[std], rest = int(rest[:4]), rest[4:]
            continue
        got = _getnum(rest, fixed=std != "15")
        if got is None:
            return cannot(rest, std)
        number, after = got
        limits = {"01": (1, 12, "month"), "15": (0, 23, "hour"), "04": (0, 59, "minute"), "05": (0, 59, "second")}
        if std in limits and not limits[std][0] <= number <= limits[std][1]:
            return out_of_range(limits[std][2])
        fields[std], rest = number, after
    if len(rest) >= 2 and rest[0] in ".," and _digits(rest, 1, 1):  # .999999999: any number of digits
        end = 2
        while _digits(rest, end, 1):
            end += 1
        rest = rest[end:]
    if rest.startswith("Z"):
        rest = rest[1:]
    else:
        zone = rest
        if len(zone) < 6 or zone[3] != ":":
            return cannot(zone, "Z07:00")
        # As Go: the minutes are read only when the hours are digits, a range error wins over a bad
        # sign or bad digits, and the later range check (minutes) wins over the earlier one.
        hours_ok = _digits(zone, 1, 2)
        hours = int(zone[1:3]) if hours_ok else 0
        minutes = int(zone[4:6]) if hours_ok and _digits(zone, 4, 2) else 0
        if minutes > 60:
            return out_of_range("time zone offset minute")
        if hours > 24:
            return out_of_range("time zone offset hour")
        if not (hours_ok and _digits(zone, 4, 2)) or zone[0] not in "+-":
            return cannot(zone, "Z07:00")
        rest = zone[6:]
    if rest:
        return f"parsing time {whole}: extra text: {_time_quote(rest)}"
    year, month, day = fields["2006"], fields["01"], fields["02"]
    if day < 1 or day > calendar.monthrange(year if year else 2000, month)[1]:
        return f"parsing time {whole}: day out of range"
    return None
