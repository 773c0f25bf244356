"""The native module's stubs (python/warden/_core.pyi) match what the extension exports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_core_stubs_match_the_extension():
    pytest.importorskip("mypy", reason="mypy is in the test extra; without it the stubs cannot be checked")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "warden._core",
            "--allowlist",
            str(ROOT / "python/warden/stubtest-allowlist.txt"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_type_checks():
    """The package ships py.typed: its own code must type-check (settings in pyproject's [tool.mypy])."""
    pytest.importorskip("mypy", reason="mypy is in the test extra; without it the package cannot be checked")
    result = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
