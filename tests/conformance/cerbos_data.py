"""Locating and parsing Cerbos's conformance data (``conformance/cerbos`` in the shared test data).

The data is read in place, never copied into the repo; ``tests/shared_data.py`` says where it is
(``WARDEN_SHARED``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import yaml

from tests.shared_data import require_shared, shared_path

_TESTDATA = ("conformance", "cerbos", "internal", "test", "testdata")
TESTDATA = shared_path(*_TESTDATA)


def require_testdata() -> Path:
    """The testdata dir; skips the calling module when the shared data is absent."""
    __tracebackhide__ = True
    return require_shared(*_TESTDATA)


class _ProtoYamlLoader(yaml.SafeLoader):
    """YAML as Cerbos's parser reads it into protobuf messages.

    Cerbos decodes YAML straight into protojson, so timestamps stay strings and
    only ``true``/``false`` are booleans (``yes``, ``on`` ... are strings).
    """


_ProtoYamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ProtoYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_case(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.load(text, Loader=_ProtoYamlLoader)  # noqa: S506 (a SafeLoader subclass)


def case_files(subdir: str) -> Iterator[tuple[str, Path]]:
    """Every ``*.yaml``/``*.json`` under ``testdata/<subdir>``, as (name, path), sorted by name.

    The name is the path relative to testdata without its extension
    (``engine/case_00``), like Cerbos's ``test.LoadTestCases``.
    """
    root = TESTDATA / subdir
    found = []
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".json"):
            found.append((path.relative_to(TESTDATA).with_suffix("").as_posix(), path))
    yield from sorted(found)
