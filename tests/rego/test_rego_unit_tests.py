"""The pytest plugin collects Rego unit tests (`test_*` rules in `*_test.rego`) as `opa test` does."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

POLICY = textwrap.dedent(
    """\
    package demoapi.authz

    default allow = false

    allow {
        input.method == "GET"
        input.api == "/sayhello"
        input.scopes[_] == "read_sayhello"
    }
    """
)

TESTS = textwrap.dedent(
    """\
    package demoapi.authz

    test_sayhello_allowed_with_scope {
        allow with input as {"method": "GET", "api": "/sayhello", "scopes": ["read_sayhello"]}
    }

    test_saysecret_denied {
        not allow with input as {"method": "GET", "api": "/saysecret", "scopes": ["read_sayhello"]}
    }

    test_wrongly_expects_allow_without_scope {
        allow with input as {"method": "GET", "api": "/sayhello", "scopes": []}
    }
    """
)


def test_each_test_rule_is_an_item_and_false_fails(pytester: pytest.Pytester):
    policies = pytester.mkdir("policies")
    (policies / "authz.rego").write_text(POLICY)
    (policies / "authz_test.rego").write_text(TESTS)
    result = pytester.runpytest("--warden-policies", str(policies), "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*authz_test.rego::test_sayhello_allowed_with_scope PASSED*",
            "*authz_test.rego::test_saysecret_denied PASSED*",
            "*data.demoapi.authz.test_wrongly_expects_allow_without_scope is *, not true*",
        ]
    )


def test_rego_files_outside_policy_dirs_are_not_collected(pytester: pytest.Pytester):
    pytester.mkdir("elsewhere")
    (pytester.path / "elsewhere" / "x_test.rego").write_text(TESTS)
    pytester.mkdir("policies")
    result = pytester.runpytest("--warden-policies", str(pytester.path / "policies"), "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
