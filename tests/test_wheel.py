"""The wheel installs and works where no Rust toolchain is on the PATH.

The session fixture builds the wheel from the current sources with ``maturin build`` in the dev
profile: the same profile, features and interpreter as ``maturin develop`` (``make build``), so cargo
reuses every compiled artifact and only zips the extension (seconds), and the test can never see a
stale wheel. The release wheel (``make wheel``: fat LTO, ``--zig`` for an older glibc) is the same
package built with other compiler settings; rebuilding the whole tree in release mode here would
cost CI several minutes. The wheel goes into a fresh virtual environment whose ``PATH`` has no
``cargo``, ``rustc`` or ``maturin``; its dependencies are pinned to the versions of the environment
running the tests, and only binary packages are accepted, so nothing is compiled on install.
It adds 35–60 s to a test run on a loaded 2-core machine: ~10 s to build the wheel, ~20 s to
install it with its dependencies (from pip's cache), ~7 s for the example's tests.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import warden

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLCHAIN = ("cargo", "rustc", "maturin")
# the extras the FastAPI example needs, and what its tests run with
EXTRAS = "fastapi,dev,sqlalchemy"
TEST_REQUIREMENTS = ["pytest", "httpx", "uvicorn"]


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    """Run a command (bounded), failing with its output when it fails."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{args} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel of the current sources (dev profile: reuses ``make build``'s artifacts)."""
    maturin = shutil.which("maturin", path=str(Path(sys.executable).parent)) or shutil.which("maturin")
    if maturin is None:
        pytest.fail("maturin is not installed in the test environment (make build installs it)", pytrace=False)
    out = tmp_path_factory.mktemp("wheel")
    env = dict(os.environ, VIRTUAL_ENV=str(Path(sys.executable).parents[1]))
    _run([maturin, "build", "--interpreter", sys.executable, "--out", str(out)], cwd=REPO_ROOT, env=env)
    (built,) = out.glob("*.whl")
    return built


def _toolchain_free_path(venv_bin: Path) -> str:
    """The venv's bin, then the current PATH without any directory that holds a Rust toolchain or maturin."""
    dirs = [
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not any(shutil.which(tool, path=d) for tool in TOOLCHAIN)
    ]
    return os.pathsep.join([str(venv_bin), *dirs])


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> dict:
    """A fresh venv with the wheel installed; returns the environment to run its commands with."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    # without pip: bootstrapping pip costs ~8 s, and the tests' own pip installs into it (--python)
    _run([base_python, "-m", "venv", "--without-pip", str(venv)])
    bin_dir = venv / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update(PATH=_toolchain_free_path(bin_dir), VIRTUAL_ENV=str(venv), PIP_DISABLE_PIP_VERSION_CHECK="1")
    for tool in TOOLCHAIN:
        assert shutil.which(tool, path=env["PATH"]) is None, f"{tool} is still on the PATH"

    # the versions of the environment running the tests (already in pip's cache), never warden itself;
    # only `name==version` pins (a package installed from a path or URL is left to the resolver)
    frozen = _run([sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--exclude", "warden-authz"]).stdout
    pins = [line for line in frozen.splitlines() if re.fullmatch(r"[A-Za-z0-9._-]+==[^\s;@]+", line)]
    constraints = venv.parent / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(bin_dir / "python"),
            "install",
            "--quiet",
            "--only-binary=:all:",
            "-c",
            str(constraints),
            f"{wheel}[{EXTRAS}]",
            *TEST_REQUIREMENTS,
        ],
        env=env,
        cwd=venv.parent,
    )
    return env


def test_wheel_name_and_metadata(wheel):
    """An abi3 wheel for CPython >= 3.10, portable across Linux distributions, named warden-authz."""
    assert re.fullmatch(r"warden_authz-[0-9.]+-cp310-abi3-manylinux[\w.]+\.whl", wheel.name), wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))
    assert "warden/_core.abi3.so" in names
    assert {"warden/py.typed", "warden/_core.pyi", "warden/cli.py"} <= set(names)
    assert metadata["Name"] == "warden-authz"
    assert metadata["Version"] == warden.__version__
    assert metadata["Requires-Python"] == ">=3.10"
    assert metadata["License-Expression"] == "Apache-2.0"
    classifiers = metadata.get_all("Classifier")
    assert "Typing :: Typed" in classifiers
    assert metadata.get_all("Project-URL") and metadata["Keywords"]
    assert metadata["Description-Content-Type"].startswith("text/markdown")  # the README


def test_installed_wheel_is_the_one_imported(installed):
    """The fresh venv imports warden from its own site-packages, not from the source tree."""
    where = _run(["python", "-c", "import warden, warden._core; print(warden._core.__file__)"], env=installed, cwd="/")
    assert "site-packages" in where.stdout and str(REPO_ROOT / "python") not in where.stdout


def test_version(installed):
    result = _run(["warden", "--version"], env=installed, cwd=REPO_ROOT)
    assert result.stdout.strip() == f"warden {warden.__version__}"


def test_compile_the_contacts_policies(installed):
    """`warden compile` loads the example policies and runs their Cerbos test suite."""
    result = _run(["warden", "compile", "examples/contacts/policies"], env=installed, cwd=REPO_ROOT)
    assert "examples/contacts/policies: ok" in result.stdout, result.stdout
    assert re.search(r"\d+ passed, 0 failed, 0 errored, 0 skipped => PASSED", result.stdout), result.stdout


def test_fastapi_example_tests_pass(installed):
    """The contacts FastAPI example's tests, run by the fresh venv's pytest against the installed wheel."""
    result = subprocess.run(
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/examples/test_contacts.py"],
        env=installed,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b\d+ passed\b", result.stdout) and " failed" not in result.stdout, result.stdout
