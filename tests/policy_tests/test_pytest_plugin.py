"""The pytest plugin, run in a pytester sandbox: collection, ids, -k/-x, failure reports, skips, fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONTACTS = Path(__file__).resolve().parents[2] / "examples" / "contacts" / "policies"


@pytest.fixture
def policies(pytester: pytest.Pytester) -> Path:
    """A copy of the contacts example's policies and its test suite in the sandbox."""
    dest = pytester.path / "policies"
    shutil.copytree(CONTACTS, dest)
    return dest


def _break_ownership_rule(policies: Path) -> None:
    """The deliberate mistake of the README: users may update/delete any contact."""
    policy = policies / "contact.yaml"
    text = policy.read_text()
    fixed = '      roles:\n        - admin\n\n    - actions: ["update", "delete"]'
    assert fixed in text
    policy.write_text(
        text.replace(fixed, '      roles:\n        - admin\n        - user\n\n    - actions: ["update", "delete"]', 1)
    )


def test_each_row_is_an_item_with_a_readable_id(pytester: pytest.Pytester, policies: Path) -> None:
    result = pytester.runpytest("--warden-policies", str(policies), "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "policies/contact_test.yaml::Admins do everything / alice / bobs_contact / read",
            "policies/contact_test.yaml::Users change only the contacts they own / carol / bobs_contact / delete",
            "24 tests collected*",
        ]
    )


def test_ini_option_collects_and_passes(pytester: pytest.Pytester, policies: Path) -> None:
    pytester.makeini("[pytest]\nwarden_policy_dirs = policies\n")
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=24)


def test_policy_dir_outside_the_test_paths_is_collected(pytester: pytest.Pytester, policies: Path) -> None:
    pytester.makeini("[pytest]\ntestpaths = tests\nwarden_policy_dirs = policies\n")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    pytester.runpytest("-q").assert_outcomes(passed=25)


def test_suites_outside_configured_dirs_are_not_collected(pytester: pytest.Pytester, policies: Path) -> None:
    pytester.runpytest("-q", str(policies)).assert_outcomes()


def test_k_selects_rows(pytester: pytest.Pytester, policies: Path) -> None:
    result = pytester.runpytest("--warden-policies", str(policies), "-q", "-k", "carol and update")
    result.assert_outcomes(passed=2, deselected=22)


def test_failure_shows_expected_actual_and_explanation(pytester: pytest.Pytester, policies: Path) -> None:
    _break_ownership_rule(policies)
    result = pytester.runpytest("--warden-policies", str(policies), "-q", "-x")
    result.assert_outcomes(passed=18, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ContactTestSuite / Users change only the contacts they own: principal 'bob' on resource "
            "'someone_elses_contact', action 'update'",
            "*expected: EFFECT_DENY",
            "*actual:   EFFECT_ALLOW",
            "*explanation:",
            '*action "update": EFFECT_ALLOW decided by resource.contact.vdefault (root scope)',
            '*rule "rule-002" for role user -> EFFECT_ALLOW: matched',
            "*request.resource.attr.owner_id == request.principal.id  =>  false",
        ]
    )


def test_policy_compile_error_fails_items_with_file_line_col(pytester: pytest.Pytester, policies: Path) -> None:
    policy = policies / "contact.yaml"
    policy.write_text(policy.read_text().replace("request.principal.id", "request.principal.idd"))
    result = pytester.runpytest("--warden-policies", str(policies), "-q", "-x")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*policies in *policies do not compile:", "*policies/contact.yaml:26:17: *undefined field 'idd'*"]
    )


def test_broken_suite_names_file_and_field(pytester: pytest.Pytester, policies: Path) -> None:
    suite = policies / "contact_test.yaml"
    suite.write_text(suite.read_text().replace("read: EFFECT_ALLOW", "read: EFFECT_NO_MATCH", 1))
    result = pytester.runpytest("--warden-policies", str(policies), "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "the test suite */policies/contact_test.yaml cannot run:",
            "failed to load test suite:",
        ]
    )
    assert (
        'policies/contact_test.yaml:15:17: tests[0].expected[0].actions["read"]: '
        "must be one of [EFFECT_ALLOW, EFFECT_DENY]"
    ) in result.stdout.str()


def test_skip_reasons(pytester: pytest.Pytester, policies: Path) -> None:
    suite = policies / "contact_test.yaml"
    suite.write_text(
        suite.read_text().replace(
            "  - name: Admins do everything\n",
            "  - name: Admins do everything\n    skip: true\n    skipReason: admins are audited elsewhere\n",
            1,
        )
    )
    result = pytester.runpytest("--warden-policies", str(policies), "-q", "-rs")
    result.assert_outcomes(passed=16, skipped=8)
    result.stdout.fnmatch_lines(["SKIPPED [[]8[]] *: admins are audited elsewhere"])


def test_skipped_suite(pytester: pytest.Pytester, policies: Path) -> None:
    suite = policies / "contact_test.yaml"
    suite.write_text("skip: true\nskipReason: not today\n" + suite.read_text())
    result = pytester.runpytest("--warden-policies", str(policies), "-q", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * not today"])


def test_fixtures_assert_allowed_and_denied(pytester: pytest.Pytester, policies: Path) -> None:
    pytester.makeini("[pytest]\nwarden_policy_dirs = policies\n")
    pytester.makepyfile(
        test_py_policy="""
        import pytest
        from warden.testing.explain import PolicyAssertionError

        BOB = {"id": "bob", "roles": ["user"]}
        OTHERS = {"kind": "contact", "id": "def456", "attr": {"owner_id": "someone"}}

        def test_denied(assert_denied):
            assert_denied(BOB, OTHERS, ["update", "delete"])

        def test_allowed(assert_allowed):
            assert_allowed(BOB, OTHERS, "read")

        def test_wrong_expectation(assert_allowed):
            assert_allowed(BOB, OTHERS, "update")

        def test_engine(warden_engine):
            assert warden_engine.check([{"principal": BOB, "resource": OTHERS, "actions": ["read"]}])[0][
                "actions"]["read"]["effect"] == "EFFECT_ALLOW"
    """
    )
    result = pytester.runpytest("-q", "test_py_policy.py")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*PolicyAssertionError: expected EFFECT_ALLOW for principal 'bob' (roles [[]'user'[]]) on contact 'def456', "
            "got update: EFFECT_DENY",
            '*action "update": EFFECT_DENY decided by resource.contact.vdefault (root scope)',
            "*request.resource.attr.owner_id == request.principal.id  =>  false",
        ]
    )


def test_warden_engine_without_configuration_says_what_to_set(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_e(warden_engine):\n    pass\n")
    result = pytester.runpytest("-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*warden_engine needs a policy directory: set warden_policy_dirs*"])
