"""Where the tests find the data kept outside the repository: Cerbos's conformance suite and the
published JOSE vectors.

One place: the directory named by ``WARDEN_SHARED``, else ``../shared`` beside the repository
(the Rust tests read the same, see ``src/shared_data.rs``). When it is absent, the modules that
need it are skipped with a reason naming the variable; a ``WARDEN_SHARED`` that names no directory
fails them instead, so a typo cannot silently skip the conformance suites.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

VAR = "WARDEN_SHARED"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT = REPO_ROOT.parent / "shared"


def shared_root() -> Path | None:
    """The shared data directory, or None when it is absent (an explicit bad setting fails)."""
    __tracebackhide__ = True
    value = os.environ.get(VAR)
    if value:
        root = Path(value)
        if not root.is_dir():
            pytest.fail(f"{VAR}={value} is not a directory (unset {VAR} to skip the tests that need it)", pytrace=False)
        return root
    return DEFAULT if DEFAULT.is_dir() else None


def shared_path(*parts: str) -> Path:
    """A path inside the shared data (maybe absent: see ``require_shared``)."""
    __tracebackhide__ = True
    return (shared_root() or DEFAULT).joinpath(*parts)


def require_shared(*parts: str) -> Path:
    """A path inside the shared data; skips the calling module when the data is absent."""
    __tracebackhide__ = True  # the skip report names the calling module
    if shared_root() is None:
        pytest.skip(f"no shared test data at {DEFAULT} (set {VAR} to its directory)", allow_module_level=True)
    return shared_path(*parts)
