"""Reading a YAML/JSON document into one of Cerbos's test messages, as Cerbos's parser does.

Mirrors ``internal/parser/parser.go`` of cerbos/cerbos (``unmarshalMapping`` and friends): keys are a
field's JSON or proto name, merge keys (``<<``) are applied before the mapping's own keys, the
**first** problem stops the reading (``line:col message``, with goccy/go-yaml's node type names:
``expected sequence got Mapping``), and the position of every field, list item and map entry read is
recorded under its field path, so that :mod:`warden.testing.validation` can place its messages.

The result is a dict keyed by JSON names (``policyVersion``), values as Python values; enums as
their names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

import yaml

from warden.testing.gotext import go_quote, rfc3339_error
from warden.testing.schema import EFFECTS, Field, Message

#: A field path: field names and subscripts (``("tests", "[0]", "expected")``); see :func:`path_text`.
Path = Tuple[str, ...]
Position = Tuple[int, int]


def path_text(path: Path) -> str:
    """protovalidate's field path text: ``tests[0].expected[0].actions["view"]``."""
    out = ""
    for part in path:
        out += part if part.startswith("[") or not out else "." + part
    return out


@dataclass(frozen=True)
class Problem:
    """One problem in Cerbos's words. ``line``/``column`` are Cerbos's position (None when it gives none);
    ``near`` is the closest enclosing element that has one, to point people at."""

    message: str
    line: Optional[int] = None
    column: Optional[int] = None
    near: Optional[Position] = None

    def __str__(self) -> str:
        return f"{self.line}:{self.column} {self.message}" if self.line is not None else self.message

    @property
    def where(self) -> Optional[Position]:
        """Where to point people: Cerbos's position, else ``near``."""
        if self.line is not None and self.column is not None:
            return self.line, self.column
        return self.near


class ReadError(Exception):
    """The first problem met while reading a document."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def position(node: yaml.Node) -> Position:
    """Where goccy/go-yaml (Cerbos's YAML library) places a node: a block mapping at the colon after its
    first key, anything else at its first character (1-based)."""
    if isinstance(node, yaml.MappingNode) and node.value and not node.flow_style:
        key = node.value[0][0]
        if key.start_mark.line == key.end_mark.line:
            return key.end_mark.line + 1, key.end_mark.column + 1
    return node.start_mark.line + 1, node.start_mark.column + 1


_INFINITY = {".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF"}
_NAN = {".nan", ".NaN", ".NAN"}


def node_type(node: yaml.Node) -> str:
    """goccy/go-yaml's name for the type of a node (``Mapping``, ``Sequence``, ``String``, ``Integer`` ...)."""
    if isinstance(node, yaml.MappingNode):
        return "Mapping"
    if isinstance(node, yaml.SequenceNode):
        return "Sequence"
    if node.style in ("|", ">"):
        return "Literal"
    if node.style in ('"', "'"):
        return "String"
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "float":
        return "Infinity" if node.value in _INFINITY else "Nan" if node.value in _NAN else "Float"
    return {"null": "Null", "bool": "Bool", "int": "Integer"}.get(tag, "String")


def _scalar(node: yaml.ScalarNode) -> Any:
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


class Reader:
    """Reads documents into messages; ``positions`` maps field paths to Cerbos's positions, ``key_positions``
    map entries to the position of their key (for :attr:`Problem.near`)."""

    def __init__(self) -> None:
        self.positions: Dict[Path, Position] = {}
        self.key_positions: Dict[Path, Position] = {}

    def fail(self, node: yaml.Node, message: str) -> ReadError:
        line, column = position(node)
        return ReadError(Problem(message, line, column))

    def read(self, node: yaml.Node, message: Message) -> Dict[str, Any]:
        """The document ``node`` as ``message``; raises :class:`ReadError` at the first problem."""
        return self._message(node, message, ())

    # ------------------------------------------------------------------ mappings

    def _sources(self, node: yaml.MappingNode) -> Iterator[List[Tuple[yaml.Node, yaml.Node]]]:
        """The key/value pairs of a mapping, one list per source: merged mappings (recursively) first,
        then the mapping's own pairs, which override them (``resolveMerges``)."""
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                if not isinstance(value, yaml.MappingNode):
                    kind = node_type(value)
                    raise self.fail(value, "not an alias" if kind == "Sequence" else f"expected map alias got {kind}")
                yield from self._sources(value)
        yield [(k, v) for k, v in node.value if k.tag != "tag:yaml.org,2002:merge"]

    def _key(self, node: yaml.Node, message: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node_type(node) != "String":
            raise self.fail(node, f"{message} {node_type(node)}")
        return str(node.value)

    def _message(self, node: yaml.Node, message: Message, path: Path) -> Dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"expected object got {node_type(node)}")
        out: Dict[str, Any] = {}
        for pairs in self._sources(node):
            seen: Dict[str, Position] = {}
            for key_node, value_node in pairs:
                key = self._key(key_node, "unexpected key type")
                f = message.field_named(key)
                if f is None:
                    raise self.fail(key_node, f"unknown field {go_quote(key)}")
                if f.name in seen:
                    line, column = seen[f.name]
                    raise self.fail(key_node, f"duplicate field definition: previous definition at [{line}:{column}]")
                seen[f.name] = position(key_node)
                field_path = path + (f.name,)
                self.positions[field_path] = position(key_node)
                out[f.json_name] = self._field(value_node, f, field_path)
        return out

    def _field(self, node: yaml.Node, f: Field, path: Path) -> Any:
        if f.label == "list":
            if not isinstance(node, yaml.SequenceNode):
                raise self.fail(node, f"expected sequence got {node_type(node)}")
            items = []
            for i, item in enumerate(node.value):
                item_path = path + (f"[{i}]",)
                self.positions[item_path] = position(item)
                items.append(self._single(item, f, item_path))
            return items
        if f.label == "map":
            if not isinstance(node, yaml.MappingNode):
                raise self.fail(node, f"expected map got {node_type(node)}")
            entries: Dict[str, Any] = {}
            for pairs in self._sources(node):
                for key_node, value_node in pairs:
                    key = self._key(key_node, "expected string got")
                    entry_path = path + (f"[{go_quote(key)}]",)
                    self.key_positions[entry_path] = position(key_node)
                    self.positions[entry_path] = position(value_node)
                    entries[key] = self._single(value_node, f, entry_path)
            return entries
        return self._single(node, f, path)

    # ------------------------------------------------------------------ single values

    def _single(self, node: yaml.Node, f: Field, path: Path) -> Any:
        if f.kind == "message":
            assert f.message is not None
            return self._message(node, f.message(), path)
        if f.kind == "value":
            return self._value(node)
        kind = node_type(node)
        if f.kind == "string":
            if kind in ("String", "Literal"):
                return str(node.value)
            if kind == "Null":
                return ""
            if kind == "Integer":
                return str(_scalar(node))
            if kind == "Bool":
                return str(node.value)
            raise self.fail(node, f"expected string value got {kind}")
        if f.kind == "bool":
            if kind != "Bool":
                raise self.fail(node, f"expected boolean value got {kind}")
            return bool(_scalar(node))
        if f.kind == "effect":
            return self._effect(node, kind)
        if f.kind == "timestamp":
            if kind != "String":
                raise self.fail(node, f"expected string got {kind}")
            error = rfc3339_error(str(node.value))
            if error is not None:
                raise self.fail(node, f"invalid timestamp value {go_quote(str(node.value))}: {error}")
            return str(node.value)
        raise AssertionError(f"unknown field kind {f.kind}")

    def _effect(self, node: yaml.Node, kind: str) -> Any:
        if kind == "String":
            if node.value in EFFECTS:
                return node.value
            raise self.fail(node, f"invalid enum value {go_quote(str(node.value))}")
        if kind == "Integer":
            number = _scalar(node)
            return next((name for name, n in EFFECTS.items() if n == number), number)
        if kind == "Null":
            return "EFFECT_UNSPECIFIED"
        raise self.fail(node, "invalid enum value")

    def _value(self, node: yaml.Node) -> Any:
        """A ``google.protobuf.Value`` (``unmarshalValue``): JSON-like values only, string keys."""
        if isinstance(node, yaml.MappingNode):
            out = {}
            for pairs in self._sources(node):
                for key_node, value_node in pairs:
                    out[self._key(key_node, "unexpected key type")] = self._value(value_node)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._value(item) for item in node.value]
        kind = node_type(node)
        if kind in ("String", "Literal"):
            return str(node.value)
        if kind in ("Null", "Bool", "Integer", "Float"):
            return _scalar(node)
        raise self.fail(node, f"unexpected {kind}")
