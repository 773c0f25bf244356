"""Validating a message read by :mod:`warden.testing.yamlproto` as Cerbos does, in Cerbos's words.

Cerbos validates every test suite and fixture file with protovalidate (buf.build/go/protovalidate, the
``cerbos/protovalidate-go`` fork, rule texts of ``buf/validate/validate.proto`` as of 2026) and reports
each violation as ``internal/parser/parser.go`` ``verrorf`` does: ``<field path>: <message>``, the path
passed through ``strcase.LowerCamelCase``, prefixed by ``line:col`` when the field is in the document
(a missing required field has no position), positioned problems first, sorted by position.

protovalidate's order is kept: a message's own rules, then its fields in declaration order; a
required field that is unset (empty string, list or map, absent message) gives ``value is required``
and nothing else; list rules come before the items' rules, map keys before map values.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from warden.testing.gotext import go_quote, lower_camel_case
from warden.testing.schema import EFFECTS, Field, Message
from warden.testing.yamlproto import Path, Position, Problem, path_text

Violation = Tuple[Path, str]


def _is_set(f: Field, value: Any) -> bool:
    """protobuf's ``Has`` for the field's value (proto3: a scalar is set when it is not its zero value)."""
    if f.label != "single" or f.kind in ("string", "bool", "timestamp"):
        return bool(value)
    if f.kind == "effect":
        return value not in (None, 0, "EFFECT_UNSPECIFIED")
    return value is not None


def violations(message: Message, value: Mapping[str, Any], path: Path = ()) -> List[Violation]:
    """Every rule of ``message`` (and of the messages in it) that ``value`` breaks, in protovalidate's order."""
    out: List[Violation] = [(path, check.message) for check in message.checks if not check.holds(value)]
    for f in message.fields:
        field_value = value.get(f.json_name)
        field_path = path + (f.name,)
        if not _is_set(f, field_value):
            if f.rules.required:
                out.append((field_path, "value is required"))
                continue
            if f.kind == "message" and f.label == "single":
                continue  # an absent message has nothing to check
        if f.label == "list":
            out.extend(_list(f, field_value or [], field_path))
        elif f.label == "map":
            out.extend(_map(f, field_value or {}, field_path))
        else:
            out.extend(_single(f, field_value, field_path))
    return out


def _string(f: Field, text: str, path: Path, min_len: Optional[int]) -> List[Violation]:
    out = []
    if min_len is not None and len(text) < min_len:
        out.append((path, f"must be at least {min_len} characters"))
    if f.rules.pattern is not None and not f.rules.matches(text):
        out.append((path, f"does not match regex pattern `{f.rules.pattern}`"))
    return out


def _single(f: Field, value: Any, path: Path) -> List[Violation]:
    if f.kind == "message":
        assert f.message is not None
        return violations(f.message(), value or {}, path)
    if f.kind == "string":
        return _string(f, value or "", path, f.rules.min_len)
    return []


def _list(f: Field, items: List[Any], path: Path) -> List[Violation]:
    out: List[Violation] = []
    if f.rules.min_items is not None and len(items) < f.rules.min_items:
        out.append((path, f"must contain at least {f.rules.min_items} item(s)"))
    if f.rules.unique and len(set(map(repr, items))) != len(items):
        out.append((path, "repeated value must contain unique items"))
    for i, item in enumerate(items):
        item_path = path + (f"[{i}]",)
        if f.kind == "string":
            out.extend(_string(f, item, item_path, f.rules.items_min_len))
        else:
            out.extend(_single(f, item, item_path))
    return out


def _map(f: Field, entries: Dict[str, Any], path: Path) -> List[Violation]:
    out: List[Violation] = []
    if f.rules.min_pairs is not None and len(entries) < f.rules.min_pairs:
        out.append((path, f"map must be at least {f.rules.min_pairs} entries"))
    for key, value in entries.items():
        entry_path = path + (f"[{go_quote(key)}]",)
        if f.rules.keys_min_len is not None and len(key) < f.rules.keys_min_len:
            out.append((entry_path, f"must be at least {f.rules.keys_min_len} characters"))
        if f.rules.values_in is not None and EFFECTS.get(value, value) not in f.rules.values_in:
            # Cerbos rewrites protovalidate's "must be in list [1, 2]" with the enum's names (internal/validator)
            names = sorted(name for name, number in EFFECTS.items() if number in f.rules.values_in)
            out.append((entry_path, f"must be one of [{', '.join(names)}]"))
        if f.kind == "message":
            out.extend(_single(f, value, entry_path))
    return out


def _near(path: Path, positions: Mapping[Path, Position], key_positions: Mapping[Path, Position]) -> Optional[Position]:
    for end in range(len(path), 0, -1):
        prefix = path[:end]
        found = key_positions.get(prefix) or positions.get(prefix)
        if found:
            return found
    return None


def problems(
    found: List[Violation], positions: Mapping[Path, Position], key_positions: Mapping[Path, Position]
) -> List[Problem]:
    """Violations as Cerbos prints them, in Cerbos's order (positioned ones first, by line and column)."""
    out = []
    for path, message in found:
        text = f"{lower_camel_case(path_text(path))}: {message}"
        where = positions.get(path)
        if where is not None:
            out.append(Problem(text, where[0], where[1]))
        else:
            out.append(Problem(text, near=_near(path, positions, key_positions)))
    positioned = sorted((p for p in out if p.line is not None), key=lambda p: (p.line or 0, p.column or 0, p.message))
    return positioned + [p for p in out if p.line is None]
