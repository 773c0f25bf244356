"""Rego unit tests, as ``opa test`` runs them: every rule named ``test_*`` in a ``*_test.rego`` file
is one test, passing when it evaluates to true (false or undefined fails).

The policies under test are every ``.rego`` file of the policy directory (tests included, as OPA
loads them), with the directory's ``data.json`` / ``data.yaml`` documents.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Tuple

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.M)
# A test rule head at the start of a line: `test_x {`, `test_x if {`, `test_x := ...`, `test_x = ...`.
_TEST_RULE = re.compile(r"^(test_\w+)\s*(?:\{|if\b|:=|=(?!=)|contains\b)", re.M)
_DATA_FILES = ("data.json", "data.yaml", "data.yml")


def is_rego_test_file(name: str) -> bool:
    return name.endswith("_test.rego")


def find_test_rules(text: str) -> Tuple[str, List[str]]:
    """The package of a Rego test file and its ``test_*`` rule names, in file order (each once)."""
    m = _PACKAGE.search(text)
    if m is None:
        raise ValueError("no `package` declaration")
    names: List[str] = []
    for rule in _TEST_RULE.findall(text):
        if rule not in names:
            names.append(rule)
    return m.group(1), names


def load_for_tests(policy_dir: Path):
    """A ``warden.Rego`` with every ``.rego`` file of ``policy_dir`` (tests included) and its data files."""
    from warden.rego import Rego

    policies: Dict[str, str] = {}
    data: List[str] = []
    for path in sorted(policy_dir.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(policy_dir).parts):
            continue
        if path.suffix == ".rego":
            policies[str(path.relative_to(policy_dir))] = path.read_text()
        elif path.name in _DATA_FILES:
            data.append(str(path))
    return Rego.from_policies(policies, data=data or None)


def run_rule(rego, package: str, rule: str) -> Tuple[bool, str]:
    """Evaluates one test rule: (passed, what it evaluated to)."""
    value = rego.eval(f"data.{package}.{rule}")
    return value is True, "undefined" if value is None else repr(value)
