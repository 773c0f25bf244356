"""Loading Cerbos test suites and ``testdata/`` fixtures, with Cerbos's checks and messages.

A suite or fixture file is read into its Cerbos message (:mod:`warden.testing.yamlproto`: the first
parse problem stops it, ``line:col unknown field "x"``) and then validated against the message's
``buf.validate`` rules (:mod:`warden.testing.validation`: every violation, ``20:24
tests[0].expected[0].actions["view:public"]: must be one of [EFFECT_ALLOW, EFFECT_DENY]``, or without a
position when the field is missing: ``resources["johnLeaveRequest"].kind: value is required``), as
``cerbos compile`` does (``internal/verify``, ``internal/parser``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import yaml

from warden.testing import schema, validation
from warden.testing.gotext import go_quote
from warden.testing.yamlproto import Problem, Reader, ReadError

SUITE_SUFFIXES = ("_test.yaml", "_test.yml", "_test.json")
FIXTURE_DIR = "testdata"


class SuiteFormatError(Exception):
    """A suite or fixture file is not a valid document; ``problems`` in Cerbos's words and order."""

    def __init__(self, problems: List[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def is_suite_file(path: str) -> bool:
    """Whether a file name is a Cerbos test suite (``*_test.yaml|yml|json``, case-insensitive)."""
    return path.lower().endswith(SUITE_SUFFIXES)


def discover(root: str) -> Tuple[List[str], List[str]]:
    """Suite files (relative to ``root``, sorted) and ``testdata`` directories under ``root``.

    As in Cerbos, a directory named ``testdata`` holds fixtures and is not descended into.
    """
    suites: List[str] = []
    fixture_dirs: List[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        keep = []
        for d in sorted(dirnames):
            if d == FIXTURE_DIR:
                fixture_dirs.append(os.path.normpath(os.path.join(rel_dir, d)))
            else:
                keep.append(d)
        dirnames[:] = keep
        for f in filenames:
            if is_suite_file(f):
                suites.append(os.path.normpath(os.path.join(rel_dir, f)))
    return sorted(suites), sorted(fixture_dirs)


# --------------------------------------------------------------------------- reading documents


class _Loader(yaml.SafeLoader):
    """YAML as goccy/go-yaml (Cerbos's parser) types it: timestamps stay strings, and only
    ``true``/``false`` (any case style) are booleans (YAML 1.2), not ``yes``/``on``."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_document(text: str) -> yaml.Node:
    """The single document of a suite or fixture file (YAML or JSON) as a node tree."""
    try:
        docs = [d for d in yaml.compose_all(text, Loader=_Loader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"invalid document: {getattr(exc, 'problem', None) or exc}"
        raise SuiteFormatError([Problem(message, line, column)]) from None
    if len(docs) > 1:
        raise SuiteFormatError([Problem("more than one YAML document detected")])
    if not docs or not isinstance(docs[0], yaml.MappingNode):
        line, column = (docs[0].start_mark.line + 1, docs[0].start_mark.column + 1) if docs else (1, 1)
        raise SuiteFormatError([Problem("invalid document: contents are not valid YAML or JSON", line, column)])
    return docs[0]


def read_document(path: str, message: schema.Message) -> Tuple[Dict[str, Any], Reader]:
    """The file at ``path`` read into ``message`` and validated; :class:`SuiteFormatError` lists the problems."""
    with open(path, encoding="utf-8") as fh:
        node = parse_document(fh.read())
    reader = Reader()
    try:
        value = reader.read(node, message)
    except ReadError as exc:
        raise SuiteFormatError([exc.problem]) from None
    found = validation.violations(message, value)
    if found:
        raise SuiteFormatError(validation.problems(found, reader.positions, reader.key_positions))
    return value, reader


# --------------------------------------------------------------------------- public loaders


@dataclass
class Fixtures:
    """The ``testdata/`` fixtures shared by the suites of one directory."""

    principals: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    principal_groups: Dict[str, List[str]] = field(default_factory=dict)
    resources: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    resource_groups: Dict[str, List[str]] = field(default_factory=dict)
    aux_data: Dict[str, Dict[str, Any]] = field(default_factory=dict)


class FixtureError(Exception):
    """A ``testdata/`` file could not be loaded: the message is Cerbos's, ``path`` is that file and
    ``problems`` its problems with their positions (empty for a group that names a missing fixture)."""

    def __init__(self, message: str, path: Optional[str] = None, problems: Optional[List[Problem]] = None):
        super().__init__(message)
        self.path = path
        self.problems = problems or []


def _find_one(directory: str, base: str) -> Optional[str]:
    for ext in (".yaml", ".yml", ".json"):
        candidate = os.path.join(directory, base + ext)
        if os.path.isfile(candidate):
            return candidate
    return None


def _load_fixture_file(path: str, what: str, message: schema.Message) -> Dict[str, Any]:
    try:
        value, _ = read_document(path, message)
    except SuiteFormatError as exc:
        text = f"failed to load {what}:\n" + "\n".join(map(str, exc.problems))
        raise FixtureError(text, path, exc.problems) from None
    return value


def _groups(groups: Dict[str, Dict[str, List[str]]], members: str, fixtures: Dict[str, Any]) -> Dict[str, List[str]]:
    """Group name -> member keys; Cerbos's ``checkGroupDefinitions`` error for a member that is not a fixture."""
    out = {}
    for group, definition in groups.items():
        for member in definition.get(members, []):
            if member not in fixtures:
                raise FixtureError(f"missing fixture {go_quote(member)} referenced in group {go_quote(group)}")
        out[group] = definition.get(members, [])
    return out


def load_fixtures(directory: str) -> Fixtures:
    """Fixtures of a ``testdata`` directory: ``principals.*``, ``resources.*``, ``auxdata|auxData|aux_data.*``.

    Raises :class:`FixtureError` with Cerbos's message (``failed to load principals:\\n5:5 unknown field ...``,
    ``failed to load resources:\\nresources["x"].kind: value is required``).
    """
    fx = Fixtures()
    path = _find_one(directory, "principals")
    if path:
        data = _load_fixture_file(path, "principals", schema.PRINCIPALS_FIXTURE)
        fx.principals = data.get("principals", {})
        try:
            fx.principal_groups = _groups(data.get("principalGroups", {}), "principals", fx.principals)
        except FixtureError as exc:
            raise FixtureError(f"failed to load principals: {exc}", path) from None
    path = _find_one(directory, "resources")
    if path:
        data = _load_fixture_file(path, "resources", schema.RESOURCES_FIXTURE)
        fx.resources = data.get("resources", {})
        try:
            fx.resource_groups = _groups(data.get("resourceGroups", {}), "resources", fx.resources)
        except FixtureError as exc:
            raise FixtureError(f"failed to load resources: {exc}", path) from None
    for base in ("auxdata", "auxData", "aux_data"):
        path = _find_one(directory, base)
        if path:
            fx.aux_data = _load_fixture_file(path, "aux data", schema.AUX_DATA_FIXTURE).get("auxData", {})
            break
    return fx


def load_suite_document(path: str) -> Dict[str, Any]:
    """A suite file as a dict of its fields (plus ``line`` per test table); :class:`SuiteFormatError` if invalid."""
    suite, reader = read_document(path, schema.TEST_SUITE)
    suite["principalGroups"] = {k: v.get("principals", []) for k, v in suite.get("principalGroups", {}).items()}
    suite["resourceGroups"] = {k: v.get("resources", []) for k, v in suite.get("resourceGroups", {}).items()}
    for i, table in enumerate(suite.get("tests", [])):
        table["line"] = reader.positions[("tests", f"[{i}]")][0]
    return suite
