"""Loading Cerbos test suites and ``testdata/`` fixtures, with positions in errors.

Suites and fixtures are read with PyYAML's node API so that every problem is
reported like ``cerbos compile`` does: ``line:col path: message`` (1-based),
for example ``20:24 tests[0].expected[0].actions["view:public"]: must be one of
[EFFECT_ALLOW, EFFECT_DENY]``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import yaml

SUITE_SUFFIXES = ("_test.yaml", "_test.yml", "_test.json")
FIXTURE_DIR = "testdata"
EFFECTS = ("EFFECT_ALLOW", "EFFECT_DENY")


class SuiteFormatError(Exception):
    """A suite or fixture file is not a valid document; ``problems`` lists ``line:col path: message`` strings."""

    def __init__(self, problems: List[str]):
        super().__init__("\n".join(problems))
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


# --------------------------------------------------------------------------- YAML nodes


class _Loader(yaml.SafeLoader):
    """SafeLoader whose timestamps stay strings (Cerbos reads them as protobuf Timestamps / strings)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _pos(node: yaml.Node) -> str:
    return f"{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _map_pos(node: yaml.MappingNode) -> str:
    """Where Cerbos (goccy/go-yaml) places a mapping: the colon after its first key."""
    if node.value:
        key = node.value[0][0]
        if key.start_mark.line == key.end_mark.line:
            return f"{key.end_mark.line + 1}:{key.end_mark.column + 1}"
    return _pos(node)


def _flatten_merges(node: yaml.MappingNode) -> List[Tuple[yaml.Node, yaml.Node]]:
    """Mapping pairs with ``<<`` merge keys resolved (explicit keys win over merged ones)."""
    pairs: List[Tuple[yaml.Node, yaml.Node]] = []
    merged: List[Tuple[yaml.Node, yaml.Node]] = []
    for k, v in node.value:
        if k.tag == "tag:yaml.org,2002:merge":
            sources = v.value if isinstance(v, yaml.SequenceNode) else [v]
            for src in sources:
                if isinstance(src, yaml.MappingNode):
                    merged.extend(_flatten_merges(src))
        else:
            pairs.append((k, v))
    explicit = {k.value for k, _ in pairs}
    seen = set()
    out = []
    for k, v in merged:
        if k.value in explicit or k.value in seen:
            continue
        seen.add(k.value)
        out.append((k, v))
    return out + pairs


def _construct(node: yaml.Node) -> Any:
    """Plain Python value of a node (merge keys resolved, timestamps as strings)."""
    loader = _Loader("")
    if isinstance(node, yaml.MappingNode):
        return {str(_construct(k)): _construct(v) for k, v in _flatten_merges(node)}
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v) for v in node.value]
    return loader.construct_object(node, deep=True)


def parse_document(text: str) -> yaml.Node:
    """The single document of a suite or fixture file (YAML or JSON) as a node tree."""
    try:
        docs = [d for d in yaml.compose_all(text, Loader=_Loader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
        raise SuiteFormatError([f"{where} invalid document: {getattr(exc, 'problem', None) or exc}"]) from None
    if len(docs) != 1 or not isinstance(docs[0], yaml.MappingNode):
        raise SuiteFormatError(["1:1 invalid document: contents are not valid YAML or JSON"])
    return docs[0]


# --------------------------------------------------------------------------- field schemas


_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def _aliases(name: str) -> Tuple[str, str]:
    return name, _SNAKE.sub("_", name).lower()


class _Checker:
    """Walks a node tree against a message description, collecting Cerbos-style problems."""

    def __init__(self) -> None:
        self.problems: List[str] = []

    def err(self, where: str, path: str, message: str) -> None:
        self.problems.append(f"{where} {path}: {message}" if path else f"{where} {message}")

    def fields(self, node: yaml.Node, path: str, allowed: Dict[str, Callable[[yaml.Node, str], Any]]) -> Dict[str, Any]:
        """A message: known fields (camelCase or snake_case) parsed by their handlers; unknown fields reported."""
        if not isinstance(node, yaml.MappingNode):
            self.err(_pos(node), path, "expected a mapping")
            return {}
        names: Dict[str, str] = {}
        for canonical in allowed:
            for alias in _aliases(canonical):
                names[alias] = canonical
        out: Dict[str, Any] = {}
        for k, v in _flatten_merges(node):
            key = str(k.value)
            if key == "$schema":
                continue
            name = names.get(key)
            if name is None:
                self.problems.append(f'{_pos(k)} unknown field "{key}"')
                continue
            if isinstance(v, yaml.ScalarNode) and v.tag == "tag:yaml.org,2002:null":
                continue
            out[name] = allowed[name](v, f"{path}.{name}" if path else name)
        return out

    # scalar handlers -------------------------------------------------------
    def string(self, node: yaml.Node, path: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            self.err(_pos(node), path, "expected a string")
            return ""
        return str(node.value)

    def boolean(self, node: yaml.Node, path: str) -> bool:
        value = _construct(node)
        if not isinstance(value, bool):
            self.err(_pos(node), path, "expected a boolean")
            return False
        return value

    def value(self, node: yaml.Node, path: str) -> Any:
        return _construct(node)

    def struct(self, node: yaml.Node, path: str) -> Dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            self.err(_pos(node), path, "expected a mapping")
            return {}
        return _construct(node)

    def strings(self, node: yaml.Node, path: str) -> List[str]:
        if not isinstance(node, yaml.SequenceNode):
            self.err(_pos(node), path, "expected a list of strings")
            return []
        return [self.string(v, f"{path}[{i}]") for i, v in enumerate(node.value)]

    def timestamp(self, node: yaml.Node, path: str) -> str:
        text = self.string(node, path)
        if not _RFC3339.match(text):
            self.problems.append(
                f'{_pos(node)} invalid timestamp value "{text}": parsing time "{text}" as '
                f'"2006-01-02T15:04:05.999999999Z07:00": cannot parse "{text}" as "2006"'
            )
        return text

    def mapping_of(self, handler: Callable[[yaml.Node, str], Any]) -> Callable[[yaml.Node, str], Dict[str, Any]]:
        def parse(node: yaml.Node, path: str) -> Dict[str, Any]:
            if not isinstance(node, yaml.MappingNode):
                self.err(_pos(node), path, "expected a mapping")
                return {}
            return {str(k.value): handler(v, f'{path}["{k.value}"]') for k, v in _flatten_merges(node)}

        return parse

    def list_of(self, handler: Callable[[yaml.Node, str], Any]) -> Callable[[yaml.Node, str], List[Any]]:
        def parse(node: yaml.Node, path: str) -> List[Any]:
            if not isinstance(node, yaml.SequenceNode):
                self.err(_pos(node), path, "expected a list")
                return []
            return [handler(v, f"{path}[{i}]") for i, v in enumerate(node.value)]

        return parse

    # messages --------------------------------------------------------------
    def principal(self, node: yaml.Node, path: str) -> Dict[str, Any]:
        return self.fields(
            node,
            path,
            {
                "id": self.string,
                "roles": self.strings,
                "attr": self.struct,
                "policyVersion": self.string,
                "scope": self.string,
            },
        )

    def resource(self, node: yaml.Node, path: str) -> Dict[str, Any]:
        return self.fields(
            node,
            path,
            {
                "kind": self.string,
                "id": self.string,
                "attr": self.struct,
                "policyVersion": self.string,
                "scope": self.string,
            },
        )

    def aux_data(self, node: yaml.Node, path: str) -> Dict[str, Any]:
        def jwts(n: yaml.Node, p: str) -> Dict[str, Any]:
            return self.mapping_of(lambda m, q: self.fields(m, q, {"claims": self.struct}))(n, p)

        return self.fields(node, path, {"jwt": self.struct, "jwts": jwts})

    def principal_groups(self, node: yaml.Node, path: str) -> Dict[str, List[str]]:
        groups = self.mapping_of(lambda n, p: self.fields(n, p, {"principals": self.strings}))(node, path)
        return {k: v.get("principals", []) for k, v in groups.items()}

    def resource_groups(self, node: yaml.Node, path: str) -> Dict[str, List[str]]:
        groups = self.mapping_of(lambda n, p: self.fields(n, p, {"resources": self.strings}))(node, path)
        return {k: v.get("resources", []) for k, v in groups.items()}

    def options(self, node: yaml.Node, path: str) -> Dict[str, Any]:
        return self.fields(
            node,
            path,
            {
                "now": self.timestamp,
                "lenientScopeSearch": self.boolean,
                "globals": self.struct,
                "defaultPolicyVersion": self.string,
                "defaultScope": self.string,
                "strictEvaluation": self.boolean,
            },
        )

    def effects(self, node: yaml.Node, path: str) -> Dict[str, str]:
        if not isinstance(node, yaml.MappingNode):
            self.err(_pos(node), path, "expected a mapping of action to effect")
            return {}
        out = {}
        for k, v in _flatten_merges(node):
            value = str(v.value) if isinstance(v, yaml.ScalarNode) else ""
            if value not in EFFECTS:
                self.err(_pos(v), f'{path}["{k.value}"]', "must be one of [EFFECT_ALLOW, EFFECT_DENY]")
            out[str(k.value)] = value
        return out

    def output_expectation(self, node: yaml.Node, path: str) -> Dict[str, Any]:
        entry = lambda n, p: self.fields(n, p, {"src": self.string, "val": self.value})  # noqa: E731
        return self.fields(node, path, {"action": self.string, "expected": self.list_of(entry)})

    def expectation(self, node: yaml.Node, path: str) -> Dict[str, Any]:
        exp = self.fields(
            node,
            path,
            {
                "principal": self.string,
                "principals": self.strings,
                "principalGroups": self.strings,
                "resource": self.string,
                "resources": self.strings,
                "resourceGroups": self.strings,
                "actions": self.effects,
                "outputs": self.list_of(self.output_expectation),
            },
        )
        where = _map_pos(node) if isinstance(node, yaml.MappingNode) else _pos(node)
        if not (exp.get("principal") or exp.get("principals") or exp.get("principalGroups")):
            self.err(where, path, "principal, principals, or principalGroups must be present")
        elif exp.get("principal") and exp.get("principals"):
            self.err(where, path, "principal and principals may not both be present")
        if not (exp.get("resource") or exp.get("resources") or exp.get("resourceGroups")):
            self.err(where, path, "resource, resources, or resourceGroups must be present")
        elif exp.get("resource") and exp.get("resources"):
            self.err(where, path, "resource and resources may not both be present")
        if not exp.get("actions"):
            self.err(where, path, "actions must contain at least one entry")
        return exp

    def table_input(self, node: yaml.Node, path: str) -> Dict[str, Any]:
        inp = self.fields(
            node,
            path,
            {
                "principals": self.strings,
                "principalGroups": self.strings,
                "resources": self.strings,
                "resourceGroups": self.strings,
                "actions": self.strings,
                "auxData": self.string,
            },
        )
        where = _map_pos(node) if isinstance(node, yaml.MappingNode) else _pos(node)
        if not (inp.get("principals") or inp.get("principalGroups")):
            self.err(where, path, "principals or principalGroups must be present")
        if not (inp.get("resources") or inp.get("resourceGroups")):
            self.err(where, path, "resources or resourceGroups must be present")
        if not inp.get("actions"):
            self.err(where, path + ".actions", "must contain at least one action")
        return inp

    def table(self, node: yaml.Node, path: str) -> Dict[str, Any]:
        table = self.fields(
            node,
            path,
            {
                "name": self.string,
                "description": self.string,
                "skip": self.boolean,
                "skipReason": self.string,
                "options": self.options,
                "input": self.table_input,
                "expected": self.list_of(self.expectation),
            },
        )
        where = _map_pos(node) if isinstance(node, yaml.MappingNode) else _pos(node)
        if not table.get("name"):
            self.err(where, path + ".name", "value is required")
        if "input" not in table:
            self.err(where, path + ".input", "value is required")
        table["line"] = node.start_mark.line + 1
        return table

    def suite(self, node: yaml.Node) -> Dict[str, Any]:
        suite = self.fields(
            node,
            "",
            {
                "name": self.string,
                "description": self.string,
                "skip": self.boolean,
                "skipReason": self.string,
                "options": self.options,
                "principals": self.mapping_of(self.principal),
                "principalGroups": self.principal_groups,
                "resources": self.mapping_of(self.resource),
                "resourceGroups": self.resource_groups,
                "auxData": self.mapping_of(self.aux_data),
                "tests": self.list_of(self.table),
            },
        )
        if not suite.get("name"):
            self.err(_map_pos(node), "name", "value is required")
        if not suite.get("tests"):
            self.err(_map_pos(node), "tests", "value must contain at least 1 item(s)")
        return suite


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


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
    """A ``testdata/`` file could not be loaded (the message is Cerbos's); ``path`` is that file."""

    def __init__(self, message: str, path: Optional[str] = None):
        super().__init__(message)
        self.path = path


def _find_one(directory: str, base: str) -> Optional[str]:
    for ext in (".yaml", ".yml", ".json"):
        candidate = os.path.join(directory, base + ext)
        if os.path.isfile(candidate):
            return candidate
    return None


def _load_fixture_file(path: str, what: str, parse: Callable[[_Checker, yaml.Node], Any]) -> Any:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        node = parse_document(text)
    except SuiteFormatError as exc:
        raise FixtureError(f"failed to load {what}:\n" + "\n".join(exc.problems), path) from None
    checker = _Checker()
    value = parse(checker, node)
    if checker.problems:
        raise FixtureError(f"failed to load {what}:\n" + "\n".join(checker.problems), path)
    return value


def _check_groups(groups: Dict[str, List[str]], exists: Callable[[str], bool]) -> None:
    for group, members in groups.items():
        for member in members:
            if not exists(member):
                raise FixtureError(f'missing fixture "{member}" referenced in group "{group}"')


def load_fixtures(directory: str) -> Fixtures:
    """Fixtures of a ``testdata`` directory: ``principals.*``, ``resources.*``, ``auxdata|auxData|aux_data.*``.

    Raises :class:`FixtureError` with Cerbos's message (``failed to load principals:\\n5:5 unknown field ...``).
    """
    fx = Fixtures()
    path = _find_one(directory, "principals")
    if path:
        data = _load_fixture_file(
            path,
            "principals",
            lambda c, n: c.fields(
                n, "", {"principals": c.mapping_of(c.principal), "principalGroups": c.principal_groups}
            ),
        )
        fx.principals = data.get("principals", {})
        fx.principal_groups = data.get("principalGroups", {})
        try:
            _check_groups(fx.principal_groups, lambda k: k in fx.principals)
        except FixtureError as exc:
            raise FixtureError(f"failed to load principals: {exc}", path) from None
    path = _find_one(directory, "resources")
    if path:
        data = _load_fixture_file(
            path,
            "resources",
            lambda c, n: c.fields(n, "", {"resources": c.mapping_of(c.resource), "resourceGroups": c.resource_groups}),
        )
        fx.resources = data.get("resources", {})
        fx.resource_groups = data.get("resourceGroups", {})
        try:
            _check_groups(fx.resource_groups, lambda k: k in fx.resources)
        except FixtureError as exc:
            raise FixtureError(f"failed to load resources: {exc}", path) from None
    for base in ("auxdata", "auxData", "aux_data"):
        path = _find_one(directory, base)
        if path:
            data = _load_fixture_file(
                path, "aux data", lambda c, n: c.fields(n, "", {"auxData": c.mapping_of(c.aux_data)})
            )
            fx.aux_data = data.get("auxData", {})
            break
    return fx


def load_suite_document(path: str) -> Dict[str, Any]:
    """A suite file as a dict of its fields (plus ``line`` per test table); :class:`SuiteFormatError` if invalid."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    node = parse_document(text)
    checker = _Checker()
    suite = checker.suite(node)
    if checker.problems:
        raise SuiteFormatError(checker.problems)
    return suite
