"""Suite-definition errors in Cerbos's words (issue 15.6).

Each case breaks one rule of Cerbos's ``TestSuite`` message (``api/public/cerbos/policy/v1/policy.proto``
and its ``buf.validate`` rules) or one step of Cerbos's YAML reader (``internal/parser/parser.go``), and
the suite must be ``RESULT_ERRORED``, named ``Unknown``, with ``failed to load test suite:`` and
exactly the problems ``cerbos compile`` prints: ``line:col`` where the field is in the file, none where
it is missing; protovalidate's texts (``value is required``, ``repeated value must contain unique
items``, ``must be at least 1 characters``); the parser's first problem only (``unknown field``,
``expected sequence got Mapping``, Go's ``time.Parse`` error for ``now``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from warden.testing import run_suites

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

# line numbers matter: the cases below edit these lines
SUITE = """\
name: S
tests:
  - name: T
    input:
      principals: [alice]
      resources: [alice_doc]
      actions: [view]
    expected:
      - principal: alice
        resource: alice_doc
        actions: {view: EFFECT_ALLOW}
principals:
  alice: {id: alice, roles: [user]}
resources:
  alice_doc: {kind: doc, id: d1}
"""


def run(tmp_path: Path, text: str) -> dict:
    (tmp_path / "doc.yaml").write_text(POLICY)
    (tmp_path / "doc_test.yaml").write_text(text)
    [suite] = run_suites(str(tmp_path))["suites"]
    return suite


def edit(old: str, new: str) -> str:
    assert old in SUITE, old
    return SUITE.replace(old, new, 1)


def test_the_base_suite_passes(tmp_path: Path) -> None:
    assert run(tmp_path, SUITE)["summary"]["overallResult"] == "RESULT_PASSED"


CASES = [
    # --- the suite's tests (issue 15.6: Cerbos's message, not warden's own)
    ("tests missing", "name: S\n", "tests: value is required"),
    ("tests empty", "name: S\ntests: []\n", "2:1 tests: value is required"),
    ("tests not a list", "name: S\ntests: {}\n", "2:8 expected sequence got Mapping"),
    # --- other TestSuite / TestTable rules
    ("suite name missing", edit("name: S\n", ""), "name: value is required"),
    ("suite name empty", edit("name: S\n", 'name: ""\n'), "1:1 name: value is required"),
    ("test name missing", edit("  - name: T\n", "  - description: T\n"), "tests[0].name: value is required"),
    (
        "input missing",
        edit("    input:\n      principals: [alice]\n      resources: [alice_doc]\n      actions: [view]\n", ""),
        "tests[0].input: value is required",
    ),
    (
        "expected missing",
        edit(
            "    expected:\n      - principal: alice\n        resource: alice_doc\n"
            "        actions: {view: EFFECT_ALLOW}\n",
            "",
        ),
        "tests[0].expected: value is required",
    ),
    (
        "expected empty",
        edit(
            "    expected:\n      - principal: alice\n        resource: alice_doc\n"
            "        actions: {view: EFFECT_ALLOW}\n",
            "    expected: []\n",
        ),
        "8:5 tests[0].expected: value is required",
    ),
    # --- TestTable.Input
    ("input actions missing", edit("      actions: [view]\n", ""), "tests[0].input.actions: value is required"),
    ("input actions empty", edit("actions: [view]", "actions: []"), "7:7 tests[0].input.actions: value is required"),
    (
        "input actions repeated",
        edit("actions: [view]", "actions: [view, view]"),
        "7:7 tests[0].input.actions: repeated value must contain unique items",
    ),
    (
        "input action empty",
        edit("actions: [view]", 'actions: [view, ""]'),
        "7:23 tests[0].input.actions[1]: must be at least 1 characters",
    ),
    (
        "input principals missing",
        edit("      principals: [alice]\n", ""),
        "4:5 tests[0].input: principals or principalGroups must be present",
    ),
    (
        "input resources missing",
        edit("      resources: [alice_doc]\n", ""),
        "4:5 tests[0].input: resources or resourceGroups must be present",
    ),
    # --- TestTable.Expectation
    (
        "expectation actions missing",
        edit("        actions: {view: EFFECT_ALLOW}\n", ""),
        "tests[0].expected[0].actions: value is required",
    ),
    (
        "expectation effect outside ALLOW and DENY",
        edit("EFFECT_ALLOW}", "EFFECT_NO_MATCH}"),
        '11:25 tests[0].expected[0].actions["view"]: must be one of [EFFECT_ALLOW, EFFECT_DENY]',
    ),
    ("expectation effect not an effect", edit("EFFECT_ALLOW}", "ALLOW}"), '11:25 invalid enum value "ALLOW"'),
    (
        "expectation action name through LowerCamelCase",
        edit("{view: EFFECT_ALLOW}", "{view_all: EFFECT_UNSPECIFIED}"),
        '11:29 tests[0].expected[0].actions["viewAll"]: must be one of [EFFECT_ALLOW, EFFECT_DENY]',
    ),
    (
        "expectation without principal",
        edit("      - principal: alice\n        resource", "      - resource"),
        "9:17 tests[0].expected[0]: principal, principals, or principalGroups must be present",
    ),
    (
        "output expectation without action",
        edit("EFFECT_ALLOW}\n", "EFFECT_ALLOW}\n        outputs: [{expected: [{src: r, val: 1}]}]\n"),
        "tests[0].expected[0].outputs[0].action: value is required",
    ),
    (
        "output expectation without entries",
        edit("EFFECT_ALLOW}\n", "EFFECT_ALLOW}\n        outputs: [{action: view}]\n"),
        "tests[0].expected[0].outputs[0].expected: value is required",
    ),
    # --- fixtures and options in the suite
    (
        "principals not a map",
        edit("  alice: {id: alice, roles: [user]}\n", "  - alice\n"),
        "13:3 expected map got Sequence",
    ),
    (
        "principal scope",
        edit("{id: alice, roles: [user]}", "{id: alice, roles: [user], scope: 'a b'}"),
        '13:37 principals["alice"].scope: does not match regex pattern '
        "`^(^$|\\.|[0-9a-zA-Z][\\w\\-]*(\\.\\w[\\w\\-]*)*)$`",
    ),
    (
        "principal policy version",
        edit("{id: alice, roles: [user]}", "{id: alice, roles: [user], policyVersion: v1.0}"),
        '13:37 principals["alice"].policyVersion: does not match regex pattern `^[\\w]*$`',
    ),
    (
        "principal roles repeated",
        edit("roles: [user]", "roles: [user, user]"),
        '13:22 principals["alice"].roles: repeated value must contain unique items',
    ),
    (
        "options not a message",
        edit("name: S\n", "name: S\noptions: 1\n"),
        "2:10 expected object got Integer",
    ),
    ("skip not a boolean", edit("name: S\n", "name: S\nskip: yes\n"), "2:7 expected boolean value got String"),
    ("name not a string", edit("name: S\n", "name: [S]\n"), "1:7 expected string value got Sequence"),
    ("now not a string", edit("name: S\n", "name: S\noptions: {now: 5}\n"), "2:16 expected string got Integer"),
    (
        "now not a time",
        edit("name: S\n", "name: S\noptions: {now: '2024-01-01'}\n"),
        '2:16 invalid timestamp value "2024-01-01": parsing time "2024-01-01" as '
        '"2006-01-02T15:04:05.999999999Z07:00": cannot parse "" as "T"',
    ),
    # --- the reader stops at its first problem
    (
        "unknown field",
        edit("        resource: alice_doc\n", "        resourse: alice_doc\n"),
        '10:9 unknown field "resourse"',
    ),
    (
        "only the first unknown field",
        edit("name: S\n", "name: S\nfirst: 1\nsecond: 2\n"),
        '2:1 unknown field "first"',
    ),
    (
        "duplicate field",
        edit("name: S\n", "name: S\nname: S2\n"),
        "2:1 duplicate field definition: previous definition at [1:1]",
    ),
    (
        "duplicate field by its proto name",
        edit("    input:\n", "    input:\n      aux_data: a\n      auxData: b\n"),
        "6:7 duplicate field definition: previous definition at [5:7]",
    ),
    ("two documents", "name: S\n---\nname: T\n", "more than one YAML document detected"),
]


@pytest.mark.parametrize(("text", "problems"), [pytest.param(t, p, id=i) for i, t, p in CASES])
def test_suite_definition_error(tmp_path: Path, text: str, problems: str) -> None:
    assert run(tmp_path, text) == {
        "file": "doc_test.yaml",
        "name": "Unknown",
        "summary": {"overallResult": "RESULT_ERRORED"},
        "error": "failed to load test suite:\n" + problems,
    }


def test_all_violations_positioned_first_in_file_order(tmp_path: Path) -> None:
    text = edit("name: S\n", "").replace("actions: [view]", "actions: [view, view]")
    text = text.replace("{view: EFFECT_ALLOW}", "{view: EFFECT_NO_MATCH}")
    assert run(tmp_path, text)["error"] == "\n".join(
        [
            "failed to load test suite:",
            "6:7 tests[0].input.actions: repeated value must contain unique items",
            '10:25 tests[0].expected[0].actions["view"]: must be one of [EFFECT_ALLOW, EFFECT_DENY]',
            "name: value is required",
        ]
    )


def test_duplicate_test_names_after_validation(tmp_path: Path) -> None:
    table = SUITE[SUITE.index("  - name: T") : SUITE.index("principals:\n")]
    text = SUITE.replace(table, table + table.replace("EFFECT_ALLOW", "EFFECT_DENY"))
    suite = run(tmp_path, text)
    assert suite["error"] == "Invalid test suite: another test named T already exists"
    assert suite["name"] == "S"
