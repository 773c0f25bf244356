"""Every example's policy directories carry a Cerbos test suite that passes under pytest (the plugin) and
``warden compile``."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from warden.cli import main
from warden.testing.loader import discover

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _policy_dirs() -> List[Path]:
    """Directories under examples/ holding policies (a YAML file with apiVersion: api.cerbos.dev/v1)."""
    dirs = set()
    for path in EXAMPLES.rglob("*.yaml"):
        if "testdata" in path.parts or path.name.endswith("_test.yaml"):
            continue
        if "api.cerbos.dev/v1" in path.read_text(encoding="utf-8", errors="replace"):
            dirs.add(path.parent)
    return sorted(dirs)


POLICY_DIRS = _policy_dirs()


def test_examples_have_policy_dirs() -> None:
    assert POLICY_DIRS, "no example policy directories found"


@pytest.mark.parametrize("policy_dir", POLICY_DIRS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_suite_passes_under_pytest_and_warden_compile(
    policy_dir: Path, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    suites, _ = discover(str(policy_dir))
    assert suites, f"{policy_dir} has no *_test.yaml suite"
    result = pytester.runpytest("--warden-policies", str(policy_dir), "-q", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) > 0 and not outcomes.get("failed") and not outcomes.get("errors"), (
        result.stdout.str()
    )
    assert main(["compile", str(policy_dir)]) == 0, capsys.readouterr().out
