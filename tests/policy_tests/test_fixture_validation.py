"""Fixtures are validated as Cerbos validates them (issue 15.1).

A principal, resource, group or aux-data fixture that breaks a rule of its Cerbos message
(``cerbos.engine.v1.Principal``: ``id`` and ``roles`` required; ``Resource``: ``kind`` and ``id``
required; ...) makes its suite ``RESULT_ERRORED`` with Cerbos's message before any test runs, whether
the fixture is in ``testdata/`` or in the suite itself, in every report: the ``TestResults`` dict,
``warden compile`` (pretty, json, junit) and the pytest plugin. The expected texts are Cerbos's
(``internal/verify/test_fixture.go``, ``internal/parser/parser.go`` ``verrorf``, protovalidate's
``value is required``): a missing field has no position, and the path goes through
``strcase.LowerCamelCase``, key included (``alice_doc`` reads ``aliceDoc``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional

import pytest
from warden.cli import main as warden_main
from warden.testing import run_suites
from warden.testing.formatters import format_junit

pytest_plugins = ["pytester"]

POLICY = """\
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: doc
  rules:
    - actions: [view]
      effect: EFFECT_ALLOW
      roles: [user]
"""

PRINCIPALS = """\
principals:
  alice:
    id: alice
    roles: [user]
"""

RESOURCES = """\
resources:
  alice_doc:
    kind: doc
    id: d1
"""

AUX_DATA = """\
auxData:
  token:
    jwt: {sub: alice}
"""

SUITE = """\
name: DocSuite
description: Users view docs
tests:
  - name: Users view docs
    input:
      principals: [alice]
      resources: [alice_doc]
      actions: [view]
    expected:
      - principal: alice
        resource: alice_doc
        actions: {view: EFFECT_ALLOW}
"""

INLINE = """\
principals:
  alice:
    id: alice
    roles: [user]
resources:
  alice_doc:
    kind: doc
    id: d1
"""

FIXTURE_HEADING = "failed to load test fixtures from testdata: "


def project(root: Path, files: Dict[str, str]) -> Path:
    """A policy directory: the doc policy plus ``files`` (path -> text)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "doc.yaml").write_text(POLICY)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def fixture_files(
    principals: str = PRINCIPALS, resources: str = RESOURCES, aux: Optional[str] = None
) -> Dict[str, str]:
    files = {"testdata/principals.yaml": principals, "testdata/resources.yaml": resources, "doc_test.yaml": SUITE}
    if aux is not None:
        files["testdata/auxdata.yaml"] = aux
    return files


def only_suite(results: dict) -> dict:
    [suite] = results["suites"]
    return suite


def test_valid_fixtures_pass(tmp_path: Path) -> None:
    """The baseline each case below breaks in one place."""
    for files in (fixture_files(aux=AUX_DATA), {"doc_test.yaml": INLINE + SUITE}):
        root = project(tmp_path / str(len(files)), files)
        assert run_suites(str(root))["summary"] == {
            "overallResult": "RESULT_PASSED",
            "testsCount": 1,
            "resultCounts": [{"result": "RESULT_PASSED", "count": 1}],
        }


# (case id, testdata files, Cerbos's error: heading + problems)
FIXTURE_CASES = [
    (
        "principal without id",
        fixture_files(principals="principals:\n  alice:\n    roles: [user]\n"),
        'failed to load principals:\nprincipals["alice"].id: value is required',
    ),
    (
        "principal with an empty id",
        fixture_files(principals='principals:\n  alice:\n    id: ""\n    roles: [user]\n'),
        'failed to load principals:\n3:5 principals["alice"].id: value is required',
    ),
    (
        "principal without roles",
        fixture_files(principals="principals:\n  alice:\n    id: alice\n"),
        'failed to load principals:\nprincipals["alice"].roles: value is required',
    ),
    (
        "principal with no roles",
        fixture_files(principals="principals:\n  alice:\n    id: alice\n    roles: []\n"),
        'failed to load principals:\n4:5 principals["alice"].roles: value is required',
    ),
    (
        "principal without id or roles",
        fixture_files(principals="principals:\n  alice:\n    attr: {team: a}\n"),
        'failed to load principals:\nprincipals["alice"].id: value is required\n'
        'principals["alice"].roles: value is required',
    ),
    (
        "resource without kind",
        fixture_files(resources="resources:\n  alice_doc:\n    id: d1\n"),
        'failed to load resources:\nresources["aliceDoc"].kind: value is required',
    ),
    (
        "resource without id",
        fixture_files(resources="resources:\n  alice_doc:\n    kind: doc\n"),
        'failed to load resources:\nresources["aliceDoc"].id: value is required',
    ),
    (
        "principal group without members",
        fixture_files(principals=PRINCIPALS + "principalGroups:\n  team: {}\n"),
        'failed to load principals:\nprincipalGroups["team"].principals: value is required',
    ),
    (
        "resource group with no members",
        fixture_files(resources=RESOURCES + "resourceGroups:\n  docs:\n    resources: []\n"),
        'failed to load resources:\n7:5 resourceGroups["docs"].resources: value is required',
    ),
    (
        "fixtures merged from an anchor that lacks roles",
        fixture_files(principals="principals:\n  alice: &base\n    id: alice\n  bob:\n    <<: *base\n    id: bob\n"),
        'failed to load principals:\nprincipals["alice"].roles: value is required\n'
        'principals["bob"].roles: value is required',
    ),
    (
        "merge of a list",
        fixture_files(principals="principals:\n  alice: &base {id: alice, roles: [user]}\n  bob:\n    <<: [*base]\n"),
        "failed to load principals:\n4:9 not an alias",
    ),
    (
        "aux data with both jwt and jwts",
        fixture_files(aux="auxData:\n  token:\n    jwt: {sub: alice}\n    jwts: {id: {claims: {sub: alice}}}\n"),
        'failed to load aux data:\n3:8 auxData["token"]: Only one of the jwt or jwts fields must be set',
    ),
]


@pytest.mark.parametrize(("files", "error"), [pytest.param(f, e, id=i) for i, f, e in FIXTURE_CASES])
def test_testdata_fixture_errors_the_suite_before_it_runs(tmp_path: Path, files: Dict[str, str], error: str) -> None:
    root = project(tmp_path, files)
    assert only_suite(run_suites(str(root))) == {
        "file": "doc_test.yaml",
        "name": "DocSuite",
        "description": "Users view docs",
        "summary": {"overallResult": "RESULT_ERRORED"},  # no testsCount: no test ran
        "error": FIXTURE_HEADING + error,
    }


INLINE_CASES = [
    ("inline principal without id", ("    id: alice\n", ""), 'principals["alice"].id: value is required'),
    ("inline principal without roles", ("    roles: [user]\n", ""), 'principals["alice"].roles: value is required'),
    ("inline resource without kind", ("    kind: doc\n", ""), 'resources["aliceDoc"].kind: value is required'),
    ("inline resource without id", ("    id: d1\n", ""), 'resources["aliceDoc"].id: value is required'),
    ("inline resource, empty kind", ("kind: doc", "kind: ''"), '7:5 resources["aliceDoc"].kind: value is required'),
]


@pytest.mark.parametrize(("edit", "problem"), [pytest.param(e, p, id=i) for i, e, p in INLINE_CASES])
def test_inline_fixture_errors_the_suite(tmp_path: Path, edit: tuple, problem: str) -> None:
    assert edit[0] in INLINE
    root = project(tmp_path, {"doc_test.yaml": INLINE.replace(*edit) + SUITE})
    assert only_suite(run_suites(str(root))) == {
        "file": "doc_test.yaml",
        "name": "Unknown",  # as Cerbos: a suite that does not load has no name
        "summary": {"overallResult": "RESULT_ERRORED"},
        "error": "failed to load test suite:\n" + problem,
    }


def test_only_the_suites_using_the_broken_directory_error(tmp_path: Path) -> None:
    files = {f"good/{k}": v for k, v in fixture_files().items()}
    files.update({f"bad/{k}": v for k, v in fixture_files(resources="resources:\n  alice_doc:\n    id: d1\n").items()})
    results = run_suites(str(project(tmp_path, files)))
    assert [(s["file"], s["summary"]["overallResult"]) for s in results["suites"]] == [
        ("bad/doc_test.yaml", "RESULT_ERRORED"),
        ("good/doc_test.yaml", "RESULT_PASSED"),
    ]
    assert results["suites"][0]["error"] == (
        'failed to load test fixtures from bad/testdata: failed to load resources:\nresources["aliceDoc"].kind: '
        "value is required"
    )
    assert results["summary"]["overallResult"] == "RESULT_ERRORED"


def _compile(root: Path, *args: str, capsys: pytest.CaptureFixture) -> tuple:
    code = warden_main(["compile", str(root), *args])
    out = capsys.readouterr()
    return code, out.out


def test_warden_compile_reports_the_fixture_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path, fixture_files(principals="principals:\n  alice:\n    roles: [user]\n"))
    monkeypatch.chdir(root)
    message = 'principals["alice"].id: value is required'

    code, out = _compile(Path("."), "--output", "json", capsys=capsys)
    assert code == 1
    assert json.loads(out) == run_suites(".")
    assert only_suite(json.loads(out))["error"] == FIXTURE_HEADING + "failed to load principals:\n" + message

    code, out = _compile(Path("."), "--output", "junit", capsys=capsys)
    assert code == 1
    assert out.strip() == format_junit(run_suites(".")).strip()
    assert "principals[&#34;alice&#34;].id: value is required</error>" in out

    code, out = _compile(Path("."), capsys=capsys)
    assert code == 1
    # people are pointed at the fixture that lacks the field (Cerbos gives no position for a missing one)
    assert f"testdata/principals.yaml:2:3: {message}" in out
    assert "doc_test.yaml (DocSuite): ERRORED" in out


def test_pytest_plugin_fails_the_suite_with_the_message(pytester: pytest.Pytester) -> None:
    project(pytester.path / "policies", fixture_files(resources="resources:\n  alice_doc:\n    id: d1\n"))
    result = pytester.runpytest("--warden-policies", "policies", "-q")
    result.assert_outcomes(failed=1)  # one item for the suite; none of its tests is collected
    result.stdout.fnmatch_lines(
        [
            "*the test suite */policies/doc_test.yaml cannot run:",
            "failed to load test fixtures from testdata: failed to load resources:",
            'policies/testdata/resources.yaml:2:3: resources["aliceDoc"].kind: value is required',
        ]
    )
