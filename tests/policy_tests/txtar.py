"""Unpacking Go txtar archives (the ``.input`` files of Cerbos's verify cases) into a directory."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict

_MARKER = re.compile(r"^-- (.+?) --[ \t]*$")


def parse_txtar(text: str) -> Dict[str, str]:
    """The files of a txtar archive, by name (the comment before the first marker is dropped)."""
    files: Dict[str, str] = {}
    name = None
    lines: list = []
    for line in text.splitlines(keepends=True):
        m = _MARKER.match(line.rstrip("\n"))
        if m:
            if name is not None:
                files[name] = "".join(lines)
            name, lines = m.group(1), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        files[name] = "".join(lines)
    return files


def unpack_txtar(text: str, dest: Path) -> None:
    """Write the archive's files under ``dest``."""
    for name, content in parse_txtar(text).items():
        path = dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
