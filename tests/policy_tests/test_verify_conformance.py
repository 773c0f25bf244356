"""Cerbos's own policy-test conformance data, replayed through warden.testing.

* ``verify/cases/case_*.yaml``: each ``.input`` txtar (suites + ``testdata/``) is unpacked
  into a temporary directory and run against the engine built from ``testdata/store``;
  the result must equal the ``.golden`` ``TestResults`` JSON **entirely**: every field,
  including the error and skip-reason texts. No text field is exempt, because warden
  produces Cerbos's wording for all of them (``internal/verify``); strings are
  NBSP-normalised as Cerbos's own harness does.
* ``verify_junit/cases/*``: the same runner, printed by ``format_junit``, must equal the
  golden XML byte for byte (Cerbos's harness runs with ``verbose = true``).
* ``verify/test_suite_run_get_tests/*``: expansion of one test table into tests.
* ``store/``: the store's own suites (``store/tests``, ``resource_policies/policy_04_test.yaml``) all pass,
  as ``private/verify/verify_test.go`` ``TestFiles`` requires.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List

import pytest
import yaml
from warden.testing import EnginePool, TestSelection, load_suite, run_suites
from warden.testing.formatters import format_junit

from tests.conformance.cerbos_data import require_testdata
from tests.policy_tests.txtar import unpack_txtar

TESTDATA = require_testdata()
CASES = TESTDATA / "verify" / "cases"
JUNIT = TESTDATA / "verify_junit"
GET_TESTS = TESTDATA / "verify" / "test_suite_run_get_tests"
STORE = TESTDATA / "store"

# Cases warden cannot pass yet, with the reason (each is an xfail(strict=True): it must keep failing
# until the reason goes away, and then the entry must be removed).
KNOWN_GAPS: dict = {}


def _nbsp(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\u00a0", " ")
    if isinstance(value, dict):
        return {k: _nbsp(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nbsp(v) for v in value]
    return value


@pytest.fixture(scope="module")
def store_pool() -> EnginePool:
    return EnginePool(str(STORE))


def _case_params() -> List[Any]:
    out = []
    for path in sorted(CASES.glob("case_*.yaml")):
        marks = []
        if path.stem in KNOWN_GAPS:
            marks.append(pytest.mark.xfail(reason=KNOWN_GAPS[path.stem], strict=True))
        out.append(pytest.param(path, id=path.stem, marks=marks))
    return out


@pytest.mark.parametrize("case", _case_params())
def test_verify_case(case: Path, store_pool: EnginePool, tmp_path: Path) -> None:
    spec = yaml.safe_load(case.read_text()) or {}
    conf = spec.get("config") or {}
    selection = TestSelection(
        run_regexp=conf.get("includedTestNamesRegexp"),
        excluded_resource_policies=conf.get("excludedResourcePolicyFqns", []),
        excluded_principal_policies=conf.get("excludedPrincipalPolicyFqns", []),
    )
    unpack_txtar(Path(str(case) + ".input").read_text(), tmp_path)
    got = run_suites(str(STORE), str(tmp_path), pool=store_pool, selection=selection)
    want = json.loads(Path(str(case) + ".golden").read_text())
    assert not spec.get("wantErr"), "no verify case expects Verify itself to fail"
    assert _nbsp(got) == _nbsp(want), spec.get("description")


def test_every_verify_case_is_run() -> None:
    assert len(list(CASES.glob("case_*.yaml"))) == 39


@pytest.mark.parametrize("case", sorted((JUNIT / "cases").glob("case_*.yaml")), ids=lambda p: p.stem)
def test_junit_case(case: Path, tmp_path: Path) -> None:
    unpack_txtar(Path(str(case) + ".input").read_text(), tmp_path)
    results = run_suites(str(JUNIT / "store"), str(tmp_path))
    assert format_junit(results, verbose=True) == Path(str(case) + ".golden").read_text()


# The fixtures of Cerbos's Test_testSuiteRun_getTests (internal/verify/run_test_suite_test.go), written
# as a testdata/ directory so the cases go through warden's real loader.
GET_TESTS_PRINCIPALS = {
    "principals": {
        "employee": {"id": "employee", "roles": ["user"]},
        "manager": {"id": "manager", "roles": ["user"]},
        "department_head": {"id": "department_head", "roles": ["user"]},
    },
    "principalGroups": {"management": {"principals": ["manager", "department_head"]}},
}
GET_TESTS_RESOURCES = {
    "resources": {
        "employee_leave_request": {"kind": "leave_request", "id": "employee"},
        "manager_leave_request": {"kind": "leave_request", "id": "manager"},
        "department_head_leave_request": {"kind": "leave_request", "id": "department_head"},
    },
    "resourceGroups": {
        "management_leave_requests": {"resources": ["manager_leave_request", "department_head_leave_request"]}
    },
}
GET_TESTS_AUX = {"auxData": {"test_aux_data": {"jwt": {"answer": 42}}}}


def _numbers_as_floats(value: Any) -> Any:
    """protobuf Values hold doubles: compare 42 and 42.0 as equal, as protocmp does."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_floats(v) for v in value]
    return value


@pytest.mark.parametrize("case", sorted(GET_TESTS.glob("*.yaml")), ids=lambda p: p.stem)
def test_table_expansion(case: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(case.read_text())
    (tmp_path / "testdata").mkdir()
    (tmp_path / "testdata" / "principals.yaml").write_text(yaml.safe_dump(GET_TESTS_PRINCIPALS))
    (tmp_path / "testdata" / "resources.yaml").write_text(yaml.safe_dump(GET_TESTS_RESOURCES))
    (tmp_path / "testdata" / "auxdata.yaml").write_text(yaml.safe_dump(GET_TESTS_AUX))
    (tmp_path / "suite_test.yaml").write_text(yaml.safe_dump({"name": "suite", "tests": [spec["table"]]}))
    loaded = load_suite(str(tmp_path), "suite_test.yaml")
    want_err = spec.get("wantErr")
    if want_err:
        assert loaded.error == f"Failed to load the test suite: {want_err}"
        assert loaded.tests == []
    else:
        assert loaded.error is None
    got = [t.to_cerbos() for t in loaded.tests]
    assert _numbers_as_floats(got) == _numbers_as_floats(spec.get("wantTests", []))


def test_store_suites_pass() -> None:
    results = run_suites(str(STORE))
    files = [s["file"] for s in results["suites"]]
    assert files == ["resource_policies/policy_04_test.yaml", "tests/policy_04_test.yaml", "tests/policy_05_test.yaml"]
    assert results["summary"]["overallResult"] == "RESULT_PASSED", json.dumps(results, indent=1)
