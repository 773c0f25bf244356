"""The protobuf messages of Cerbos's test suites and fixtures, with their ``buf.validate`` rules.

Transcribed from ``api/public/cerbos/policy/v1/policy.proto`` (``TestSuite``, ``TestTable``,
``TestOptions``, ``TestFixture``, ``TestFixtureGroup``) and ``api/public/cerbos/engine/v1/engine.proto``
(``Principal``, ``Resource``, ``AuxData``, ``OutputEntry``) of cerbos/cerbos: fields in declaration
order (protovalidate checks them in that order) and the rules Cerbos attaches to them. Only the rules
these messages use are modelled; :mod:`warden.testing.validation` evaluates them and
:mod:`warden.testing.yamlproto` reads documents into them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from warden.testing.gotext import lower_camel_case

#: ``cerbos.effect.v1.Effect``
EFFECTS: Dict[str, int] = {"EFFECT_UNSPECIFIED": 0, "EFFECT_ALLOW": 1, "EFFECT_DENY": 2, "EFFECT_NO_MATCH": 3}

# engine.proto patterns (RE2; \w is ASCII there)
VERSION_PATTERN = r"^[\w]*$"
SCOPE_PATTERN = r"^(^$|\.|[0-9a-zA-Z][\w\-]*(\.\w[\w\-]*)*)$"


@dataclass(frozen=True)
class Rules:
    """The ``buf.validate.field`` rules of one field (those Cerbos's test messages use)."""

    required: bool = False
    min_len: Optional[int] = None  # string
    pattern: Optional[str] = None  # string
    min_items: Optional[int] = None  # repeated
    unique: bool = False  # repeated
    items_min_len: Optional[int] = None  # repeated string: each item
    min_pairs: Optional[int] = None  # map
    keys_min_len: Optional[int] = None  # map: each key
    values_in: Optional[Tuple[int, ...]] = None  # map of enums: each value

    def matches(self, text: str) -> bool:
        """Whether ``text`` matches ``pattern`` (RE2 semantics: ASCII ``\\w``)."""
        return self.pattern is None or re.search(self.pattern, text, re.ASCII) is not None


@dataclass(frozen=True)
class Field:
    """One field. ``kind``: ``string``, ``bool``, ``timestamp``, ``value`` (``google.protobuf.Value``),
    ``effect`` (the enum) or ``message``; ``label``: ``single``, ``list`` or ``map`` (string keys)."""

    name: str  # the proto name, as in field paths of messages: ``policy_version``
    kind: str
    label: str = "single"
    message: Optional[Callable[[], "Message"]] = None  # deferred: messages refer to each other
    rules: Rules = Rules()
    json: Optional[str] = None  # the JSON name when it is not the lowerCamelCase of ``name``

    @property
    def json_name(self) -> str:
        """The protojson name (the key of this field in the dicts warden builds)."""
        return self.json or lower_camel_case(self.name)


@dataclass(frozen=True)
class Check:
    """A message-level ``buf.validate.message`` CEL rule: ``holds(value)`` or the violation ``message``."""

    message: str
    holds: Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Message:
    """A message: its checks (evaluated first, as protovalidate does) and its fields in declaration order."""

    name: str
    fields: Tuple[Field, ...]
    checks: Tuple[Check, ...] = field(default=())

    def field_named(self, key: str) -> Optional[Field]:
        """The field a document key names: its JSON name, else its proto name (as Cerbos's parser looks up)."""
        for f in self.fields:
            if f.json_name == key:
                return f
        for f in self.fields:
            if f.name == key:
                return f
        return None


_REQUIRED_NAME = Rules(required=True, min_len=1)
_UNIQUE_NAMES = Rules(unique=True, items_min_len=1)
_REQUIRED_NAMES = Rules(required=True, min_items=1, unique=True, items_min_len=1)
_SCHEMA = Field("json_schema", "string", json="$schema")


def _attr() -> Field:
    return Field("attr", "value", "map", rules=Rules(keys_min_len=1))


PRINCIPAL = Message(
    "cerbos.engine.v1.Principal",
    (
        Field("id", "string", rules=_REQUIRED_NAME),
        Field("policy_version", "string", rules=Rules(pattern=VERSION_PATTERN)),
        Field("roles", "string", "list", rules=_REQUIRED_NAMES),
        _attr(),
        Field("scope", "string", rules=Rules(pattern=SCOPE_PATTERN)),
    ),
)

RESOURCE = Message(
    "cerbos.engine.v1.Resource",
    (
        Field("kind", "string", rules=_REQUIRED_NAME),
        Field("policy_version", "string", rules=Rules(pattern=VERSION_PATTERN)),
        Field("id", "string", rules=_REQUIRED_NAME),
        _attr(),
        Field("scope", "string", rules=Rules(pattern=SCOPE_PATTERN)),
    ),
)

AUX_DATA_JWT = Message("cerbos.engine.v1.AuxData.JWT", (Field("claims", "value", "map"),))

AUX_DATA = Message(
    "cerbos.engine.v1.AuxData",
    (
        Field("jwt", "value", "map"),
        Field("jwts", "message", "map", lambda: AUX_DATA_JWT, Rules(keys_min_len=1)),
    ),
    (Check("Only one of the jwt or jwts fields must be set", lambda m: not (m.get("jwt") and m.get("jwts"))),),
)

OUTPUT_ENTRY = Message(
    "cerbos.engine.v1.OutputEntry",
    (Field("src", "string"), Field("val", "value"), Field("action", "string"), Field("error", "string")),
)

PRINCIPAL_GROUP = Message(
    "cerbos.policy.v1.TestFixtureGroup.Principals", (Field("principals", "string", "list", rules=_REQUIRED_NAMES),)
)

RESOURCE_GROUP = Message(
    "cerbos.policy.v1.TestFixtureGroup.Resources", (Field("resources", "string", "list", rules=_REQUIRED_NAMES),)
)

TEST_OPTIONS = Message(
    "cerbos.policy.v1.TestOptions",
    (
        Field("now", "timestamp"),
        Field("lenient_scope_search", "bool"),
        Field("globals", "value", "map"),
        Field("default_policy_version", "string"),
        Field("default_scope", "string"),
        Field("strict_evaluation", "bool"),
    ),
)

TEST_INPUT = Message(
    "cerbos.policy.v1.TestTable.Input",
    (
        Field("principals", "string", "list", rules=_UNIQUE_NAMES),
        Field("resources", "string", "list", rules=_UNIQUE_NAMES),
        Field("actions", "string", "list", rules=_REQUIRED_NAMES),
        Field("aux_data", "string"),
        Field("principal_groups", "string", "list", rules=_UNIQUE_NAMES),
        Field("resource_groups", "string", "list", rules=_UNIQUE_NAMES),
    ),
    (
        Check(
            "principals or principalGroups must be present",
            lambda m: bool(m.get("principals") or m.get("principalGroups")),
        ),
        Check(
            "resources or resourceGroups must be present", lambda m: bool(m.get("resources") or m.get("resourceGroups"))
        ),
    ),
)

OUTPUT_EXPECTATIONS = Message(
    "cerbos.policy.v1.TestTable.OutputExpectations",
    (
        Field("action", "string", rules=_REQUIRED_NAME),
        Field("expected", "message", "list", lambda: OUTPUT_ENTRY, Rules(required=True, min_items=1)),
    ),
)

EXPECTATION = Message(
    "cerbos.policy.v1.TestTable.Expectation",
    (
        Field("principal", "string"),
        Field("resource", "string"),
        Field("actions", "effect", "map", rules=Rules(required=True, min_pairs=1, keys_min_len=1, values_in=(1, 2))),
        Field("outputs", "message", "list", lambda: OUTPUT_EXPECTATIONS),
        Field("principals", "string", "list", rules=_UNIQUE_NAMES),
        Field("resources", "string", "list", rules=_UNIQUE_NAMES),
        Field("principal_groups", "string", "list", rules=_UNIQUE_NAMES),
        Field("resource_groups", "string", "list", rules=_UNIQUE_NAMES),
    ),
    (
        Check(
            "principal, principals, or principalGroups must be present",
            lambda m: bool(m.get("principal") or m.get("principals") or m.get("principalGroups")),
        ),
        Check(
            "principal and principals may not both be present",
            lambda m: not (m.get("principal") and m.get("principals")),
        ),
        Check(
            "resource, resources, or resourceGroups must be present",
            lambda m: bool(m.get("resource") or m.get("resources") or m.get("resourceGroups")),
        ),
        Check(
            "resource and resources may not both be present", lambda m: not (m.get("resource") and m.get("resources"))
        ),
    ),
)

TEST_TABLE = Message(
    "cerbos.policy.v1.TestTable",
    (
        Field("name", "string", rules=_REQUIRED_NAME),
        Field("description", "string"),
        Field("skip", "bool"),
        Field("skip_reason", "string"),
        Field("input", "message", message=lambda: TEST_INPUT, rules=Rules(required=True)),
        Field("expected", "message", "list", lambda: EXPECTATION, Rules(required=True, min_items=1)),
        Field("options", "message", message=lambda: TEST_OPTIONS),
    ),
)

TEST_SUITE = Message(
    "cerbos.policy.v1.TestSuite",
    (
        Field("name", "string", rules=_REQUIRED_NAME),
        Field("description", "string"),
        Field("skip", "bool"),
        Field("skip_reason", "string"),
        Field("tests", "message", "list", lambda: TEST_TABLE, Rules(required=True, min_items=1)),
        Field("principals", "message", "map", lambda: PRINCIPAL),
        Field("resources", "message", "map", lambda: RESOURCE),
        Field("aux_data", "message", "map", lambda: AUX_DATA),
        Field("options", "message", message=lambda: TEST_OPTIONS),
        _SCHEMA,
        Field("principal_groups", "message", "map", lambda: PRINCIPAL_GROUP),
        Field("resource_groups", "message", "map", lambda: RESOURCE_GROUP),
    ),
)

PRINCIPALS_FIXTURE = Message(
    "cerbos.policy.v1.TestFixture.Principals",
    (
        Field("principals", "message", "map", lambda: PRINCIPAL),
        _SCHEMA,
        Field("principal_groups", "message", "map", lambda: PRINCIPAL_GROUP),
    ),
)

RESOURCES_FIXTURE = Message(
    "cerbos.policy.v1.TestFixture.Resources",
    (
        Field("resources", "message", "map", lambda: RESOURCE),
        _SCHEMA,
        Field("resource_groups", "message", "map", lambda: RESOURCE_GROUP),
    ),
)

AUX_DATA_FIXTURE = Message(
    "cerbos.policy.v1.TestFixture.AuxData", (Field("aux_data", "message", "map", lambda: AUX_DATA), _SCHEMA)
)
