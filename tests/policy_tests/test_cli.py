"""``warden compile`` / ``warden check`` end to end (in-process through ``warden.cli.main``, plus one subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from warden.cli import main

CONTACTS = Path(__file__).resolve().parents[2] / "examples" / "contacts" / "policies"


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    dest = tmp_path / "policies"
    shutil.copytree(CONTACTS, dest)
    return dest


def test_compile_passes_and_summarises(policies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(policies)]) == 0
    out = capsys.readouterr().out
    assert "contact_test.yaml (ContactTestSuite): PASSED  [24 passed, 0 failed, 0 errored, 0 skipped]" in out
    assert out.rstrip().endswith("1 suite, 24 tests: 24 passed, 0 failed, 0 errored, 0 skipped => PASSED")


def test_compile_failing_test_explains_and_exits_1(policies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = policies / "contact.yaml"
    policy.write_text(
        policy.read_text().replace(
            "      roles:\n        - admin\n\n", "      roles:\n        - admin\n        - user\n\n", 1
        )
    )
    assert main(["compile", str(policies)]) == 1
    out = capsys.readouterr().out
    assert "FAILED  Users change only the contacts they own / carol / bobs_contact / update" in out
    assert "expected EFFECT_DENY, got EFFECT_ALLOW" in out
    assert 'rule "rule-002" for role user -> EFFECT_ALLOW: matched' in out
    assert "18 passed, 6 failed, 0 errored, 0 skipped => FAILED" in out


def test_compile_policy_error_lists_file_line_col(policies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = policies / "contact.yaml"
    policy.write_text(policy.read_text().replace("request.principal.id", "request.principal.idd"))
    assert main(["compile", str(policies)]) == 1
    err = capsys.readouterr().err
    assert f"{policies}/contact.yaml:26:17: " in err and "undefined field 'idd'" in err


def test_compile_broken_suite_names_file_line_and_field(
    policies: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(policies.parent)
    (policies / "testdata" / "principals.yaml").write_text("principals:\n  bob:\n    id: bob\n    rolez: [user]\n")
    assert main(["compile", "policies"]) == 1
    out = capsys.readouterr().out
    assert "contact_test.yaml (ContactTestSuite): ERRORED" in out
    assert 'policies/testdata/principals.yaml:4:5: unknown field "rolez"' in out


def test_compile_json_is_cerbos_test_results(policies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(policies), "--output", "json", "--run", "Admins"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["summary"] == {
        "overallResult": "RESULT_PASSED",
        "testsCount": 24,
        "resultCounts": [{"result": "RESULT_SKIPPED", "count": 16}, {"result": "RESULT_PASSED", "count": 8}],
    }
    action = results["suites"][0]["testCases"][1]["principals"][0]["resources"][0]["actions"][0]
    assert action == {
        "name": "read",
        "details": {"result": "RESULT_SKIPPED", "skipReason": "Test name did not match the provided pattern"},
    }


def test_compile_junit(policies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(policies), "-o", "junit"]) == 0
    out = capsys.readouterr().out
    assert out.startswith('<testsuites errors="0" failures="0" skipped="0" tests="24">')


def test_compile_tests_elsewhere(policies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tests = tmp_path / "suites"
    tests.mkdir()
    shutil.move(str(policies / "contact_test.yaml"), tests)
    shutil.move(str(policies / "testdata"), tests)
    assert main(["compile", str(policies)]) == 0
    assert "no test suites" in capsys.readouterr().out
    assert main(["compile", str(policies), "--tests", str(tests)]) == 0
    assert "24 passed" in capsys.readouterr().out


def test_check_reads_request_from_stdin(policies: Path) -> None:
    request = {
        "requestId": "r1",
        "principal": {"id": "bob", "roles": ["user"]},
        "resources": [
            {"resource": {"kind": "contact", "id": "abc123", "attr": {"owner_id": "bob"}}, "actions": ["update"]}
        ],
    }
    proc = subprocess.run(
        [sys.executable, "-m", "warden", "check", "--policies", str(policies)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    response = json.loads(proc.stdout)
    assert response["requestId"] == "r1"
    assert response["results"][0]["actions"] == {"update": "EFFECT_ALLOW"}


def test_check_yaml_file_and_explain(policies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    req = tmp_path / "req.yaml"
    req.write_text(
        "principal: {id: carol, roles: [user]}\n"
        "resources:\n  - resource: {kind: contact, id: abc123, attr: {owner_id: bob}}\n"
        "    actions: [delete]\n"
    )
    assert main(["check", "--policies", str(policies), str(req), "--explain"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["results"][0]["actions"] == {"delete": "EFFECT_DENY"}
    assert "request.resource.attr.owner_id == request.principal.id  =>  false" in captured.err


def test_check_bad_request_names_the_field(policies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    req = tmp_path / "req.json"
    req.write_text(json.dumps({"principal": {"id": "x", "roles": ["user"]}, "resources": [{"resource": {}}]}))
    assert main(["check", "--policies", str(policies), str(req)]) == 1
    err = capsys.readouterr().err
    assert str(req) in err and "resource" in err
