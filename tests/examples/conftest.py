"""Loading the example apps (each is a directory with an app.py, not a package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from warden.devissuer import DevIssuer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str, module: str = "app") -> ModuleType:
    """examples/<name>/<module>.py, imported under a unique module name."""
    spec = importlib.util.spec_from_file_location(f"example_{name}_{module}", EXAMPLES / name / f"{module}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def dev_issuer():
    with DevIssuer() as issuer:
        yield issuer
