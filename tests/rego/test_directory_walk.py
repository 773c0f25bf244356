"""Policy directories as untrusted input, for `Engine.from_directory` and `Rego.from_directory`
(one walker below both): symlink loops end, FIFOs and devices are skipped with a warning, and a
file over the 16 MiB cap is an error naming it. Loads that could hang run in a child process
with a timeout, so a regression fails instead of blocking the suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from warden import Engine, PolicyError
from warden.rego import Rego, RegoLoadError

POLICY = """apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: doc
  rules:
    - actions: [read]
      effect: EFFECT_ALLOW
      roles: [user]
"""
REGO = 'package p\nallow if input.user == "alice"\n'
CAP = 16 * 1024 * 1024


def _tree(root: Path) -> Path:
    (root / "doc.yaml").write_text(POLICY)
    (root / "p.rego").write_text(REGO)
    for name in ("l1", "l2", "l3"):
        os.symlink(".", root / name)
    return root


def _load_in_child(root: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import logging, sys\n"
        "from warden import Engine\n"
        "from warden.rego import Rego\n"
        "logging.basicConfig(stream=sys.stdout, format='%(name)s %(levelname)s %(message)s')\n"
        f"e = Engine.from_directory({str(root)!r})\n"
        "print('engine', e.is_allowed({'id': 'u', 'roles': ['user']}, {'kind': 'doc', 'id': '1'}, action='read'))\n"
        f"r = Rego.from_directory({str(root)!r})\n"
        "print('rego', r.allowed('data.p.allow', {'user': 'alice'}))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_symlink_loops_end(tmp_path: Path) -> None:
    out = _load_in_child(_tree(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "engine True" in out.stdout and "rego True" in out.stdout
    assert "l1: skipped: a symbolic link back to" in out.stdout


def test_fifos_and_devices_are_skipped_with_a_warning(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    os.mkfifo(root / "pipe.yaml")
    os.mkfifo(root / "pipe.rego")
    os.symlink("/dev/zero", root / "zero.yaml")
    os.symlink("/dev/zero", root / "zero.rego")
    out = _load_in_child(root)
    assert out.returncode == 0, out.stderr
    assert "engine True" in out.stdout and "rego True" in out.stdout
    for name in ("pipe.yaml", "pipe.rego", "zero.yaml", "zero.rego"):
        assert f"warden WARNING {root / name}: skipped: not a regular file" in out.stdout


def test_a_file_over_the_cap_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text(POLICY)
    (tmp_path / "p.rego").write_text(REGO)
    with open(tmp_path / "big.yaml", "wb") as f:
        f.truncate(CAP + 1)
    with pytest.raises(PolicyError, match=r"big\.yaml.*larger than the 16 MiB limit"):
        Engine.from_directory(tmp_path)
    (tmp_path / "big.yaml").rename(tmp_path / "big.rego")
    with pytest.raises(RegoLoadError, match=r"big\.rego: file is larger than the 16 MiB limit"):
        Rego.from_directory(tmp_path)
    with open(tmp_path / "data.json", "wb") as f:
        f.truncate(CAP + 1)
    (tmp_path / "big.rego").unlink()
    with pytest.raises(RegoLoadError, match=r"data\.json: file is larger than the 16 MiB limit"):
        Rego.from_directory(tmp_path)
