"""The runnable example of docs/list-endpoints.md runs as a script from the repository root and
prints what the page says it prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- the block below is run by tests/plan/test_docs.py -->"


def test_list_endpoints_example_runs():
    text = (ROOT / "docs" / "list-endpoints.md").read_text()
    block = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)```", text, re.S)
    assert block, "docs/list-endpoints.md lost its runnable example"
    run = subprocess.run([sys.executable, "-c", block.group(1)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    printed = run.stdout.splitlines()
    assert "WHERE contacts.owner_id = " in printed[-2] and printed[-1] == "['Ada', 'Grace']", run.stdout
