"""The documentation site builds strictly, and the front pages keep to what a newcomer needs.

``mkdocs build --strict`` fails on a broken link or anchor, a page missing from the navigation's
targets, and an API reference entry (``::: warden.X``) or cross-reference that does not resolve.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"
PAGES = sorted((REPO_ROOT / "docs").glob("*.md"))

# what belongs in the tracker or beside the repository, never in the documentation
FORBIDDEN = {
    "a reference to the shared test data's location": re.compile(r"\.\./shared"),
    "a reference to a file that is not in the repository": re.compile(r"ATTACKS\.md"),
    "a ticket": re.compile(r"\b(issue|ticket)s?\b", re.I),
    "a figure tied to a commit": re.compile(r"\bcommit `?[0-9a-f]{7,40}\b"),
}


def test_mkdocs_build_strict(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO_ROOT,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    reference = (tmp_path / "site" / "api" / "index.html").read_text()
    # the native module's classes come from its stubs: their documented methods are on the page
    for anchor in ("warden.Engine.from_directory", "warden.Engine.decision_table", "warden.jwt.JWTVerifier.verify"):
        assert f'id="{anchor}"' in reference, anchor


def test_readme_is_short():
    assert len(README.read_bytes()) <= 8 * 1024


@pytest.mark.parametrize(
    "page", [README, *PAGES, REPO_ROOT / "benchmarks" / "README.md"], ids=lambda p: str(p.relative_to(REPO_ROOT))
)
def test_pages_speak_to_users(page):
    text = page.read_text()
    found = [f"{what}: {m.group(0)!r}" for what, pattern in FORBIDDEN.items() for m in pattern.finditer(text)]
    assert not found, f"{page.relative_to(REPO_ROOT)}: " + "; ".join(found)
