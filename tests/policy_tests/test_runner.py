"""warden.testing.runner semantics that the Cerbos conformance cases cover only in part."""

from __future__ import annotations

from pathlib import Path

import pytest
from warden.testing import run_suites
from warden.testing.explain import format_explanation
from warden.testing.runner import NOW_NOT_PROVIDED, values_equal

POLICY = """\
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: doc
  rules:
    - actions: [flagged]
      effect: EFFECT_ALLOW
      roles: [user]
      condition:
        match:
          expr: globals.flag == "on"
    - actions: [fresh]
      effect: EFFECT_ALLOW
      roles: [user]
      condition:
        match:
          expr: timestamp(request.resource.attr.at).timeSince() < duration("1h")
    - actions: [read]
      effect: EFFECT_ALLOW
      roles: [user]
"""

SUITE = """\
name: Options
options:
  now: "2024-01-01T00:30:00Z"
  globals: {flag: "on"}
principals:
  u: {id: u, roles: [user]}
resources:
  d: {kind: doc, id: d, attr: {at: "2024-01-01T00:00:00Z"}}
tests:
  - name: suite options apply
    input: {principals: [u], resources: [d], actions: [flagged, fresh, read, unlisted]}
    expected:
      - principal: u
        resource: d
        actions: {flagged: EFFECT_ALLOW, fresh: EFFECT_ALLOW, read: EFFECT_ALLOW}
  - name: test options replace suite options entirely
    options:
      now: "2024-01-01T05:00:00Z"
    input: {principals: [u], resources: [d], actions: [flagged, fresh]}
    expected:
      - principal: u
        resource: d
        actions: {flagged: EFFECT_DENY, fresh: EFFECT_DENY}
  - name: no now option
    options: {}
    input: {principals: [u], resources: [d], actions: [fresh, read]}
    expected:
      - principal: u
        resource: d
        actions: {fresh: EFFECT_ALLOW, read: EFFECT_ALLOW}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "doc.yaml").write_text(POLICY)
    (tmp_path / "doc_test.yaml").write_text(SUITE)
    return tmp_path


def _actions(results: dict, case: str) -> dict:
    tc = next(t for t in results["suites"][0]["testCases"] if t["name"] == case)
    return {a["name"]: a["details"] for a in tc["principals"][0]["resources"][0]["actions"]}


def test_options_precedence_default_deny_and_now(project: Path) -> None:
    results = run_suites(str(project))
    suite_opts = _actions(results, "suite options apply")
    assert {a: d["result"] for a, d in suite_opts.items()} == {
        a: "RESULT_PASSED" for a in ["flagged", "fresh", "read", "unlisted"]
    }
    assert suite_opts["unlisted"]["success"] == {"effect": "EFFECT_DENY"}  # not listed: DENY expected
    # the test's own options drop the suite's globals, and its `now` makes the rule stale
    assert {a: d["result"] for a, d in _actions(results, "test options replace suite options entirely").items()} == {
        "flagged": "RESULT_PASSED",
        "fresh": "RESULT_PASSED",
    }
    # a time-based condition without `now` errors every action of that test, like Cerbos
    no_now = _actions(results, "no now option")
    assert no_now == {
        "fresh": {"result": "RESULT_ERRORED", "error": NOW_NOT_PROVIDED},
        "read": {"result": "RESULT_ERRORED", "error": NOW_NOT_PROVIDED},
    }


NOW_POLICY = """\
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: note
  rules:
    - actions: [quoted]
      effect: EFFECT_ALLOW
      roles: [user]
      condition:
        match:
          expr: request.resource.attr.text != "now() and timeSince()"
    - actions: [emit]
      effect: EFFECT_ALLOW
      roles: [user]
      output:
        when:
          ruleActivated: now() == now()
    - actions: [skipped]
      effect: EFFECT_ALLOW
      roles: [user]
      condition:
        match:
          expr: request.resource.attr.flag && now() > timestamp("2000-01-01T00:00:00Z")
"""

NOW_SUITE = """\
name: Now
principals:
  u: {id: u, roles: [user]}
resources:
  n: {kind: note, id: n, attr: {text: "", flag: false}}
tests:
  - name: the text of a condition is not a read of now
    input: {principals: [u], resources: [n], actions: [quoted]}
    expected: [{principal: u, resource: n, actions: {quoted: EFFECT_ALLOW}}]
  - name: an output that reads now, whatever its value
    input: {principals: [u], resources: [n], actions: [emit]}
    expected: [{principal: u, resource: n, actions: {emit: EFFECT_ALLOW}}]
  - name: a short-circuited now is not read
    input: {principals: [u], resources: [n], actions: [skipped]}
    expected: [{principal: u, resource: n, actions: {skipped: EFFECT_DENY}}]
"""


def test_now_not_provided_is_decided_by_what_the_engine_evaluated(tmp_path: Path) -> None:
    # The engine reports whether a decision read now(): no guess from expression texts or from
    # deciding again at another instant.
    (tmp_path / "note.yaml").write_text(NOW_POLICY)
    (tmp_path / "note_test.yaml").write_text(NOW_SUITE)
    results = run_suites(str(tmp_path))
    assert _actions(results, "the text of a condition is not a read of now")["quoted"]["result"] == "RESULT_PASSED"
    assert _actions(results, "an output that reads now, whatever its value") == {
        "emit": {"result": "RESULT_ERRORED", "error": NOW_NOT_PROVIDED}
    }
    assert _actions(results, "a short-circuited now is not read")["skipped"]["result"] == "RESULT_PASSED"


def test_protobuf_value_equality() -> None:
    assert values_equal(1, 1.0)
    assert not values_equal(True, 1)
    assert not values_equal("1", 1)
    assert values_equal({"a": [1, "x", None]}, {"a": [1.0, "x", None]})
    assert not values_equal({"a": 1}, {"a": 1, "b": 2})


def test_format_explanation_lists_rules_conditions_and_derived_roles() -> None:
    import warden

    engine = warden.Engine.from_directory(
        str(Path(__file__).resolve().parents[2] / "examples" / "contacts" / "policies_derived_roles")
    )
    explanation = engine.explain(
        {
            "principal": {"id": "carol", "roles": ["user"]},
            "resource": {"kind": "contact", "id": "abc123", "attr": {"owner_id": "bob"}},
            "actions": ["delete", "read"],
        }
    )
    text = format_explanation(explanation, "delete")
    assert 'action "delete": EFFECT_DENY decided by resource.contact.vdefault (root scope)' in text
    assert 'action "read"' not in text
    assert "derived roles active: none" in text
    assert "inactive owner (root scope): request.resource.attr.owner_id == request.principal.id => false" in text
