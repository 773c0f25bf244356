"""The sinks (a callable, ``logging``, a rotating JSON-lines file), ``flush_audit``, and the
entries of every decision entry point."""

from __future__ import annotations

import json
import logging

import pytest
import warden
from warden.audit import AuditOptions, FileSink, LoggingSink

from .conftest import DOC, POLICY, PRINCIPAL


def test_callable_sink_gets_each_check_as_a_dict(policies):
    entries: list = []
    engine = warden.Engine.from_directory(policies, audit=entries.append)
    assert engine.is_allowed(PRINCIPAL, DOC, action="read")
    assert engine.flush_audit()
    (e,) = entries
    assert e["checkResources"]["inputs"] == [{"resource": DOC, "principal": PRINCIPAL, "actions": ["read"]}]
    assert e["checkResources"]["outputs"] == [
        {"resourceId": "d1", "actions": {"read": {"effect": "EFFECT_ALLOW", "policy": "resource.doc.vdefault"}}}
    ]
    assert e["auditTrail"] == {
        "effectivePolicies": {"resource.doc.vdefault": {"attributes": {"driver": "disk", "source": "doc.yaml"}}}
    }
    assert e["policySource"] == {"disk": {"directory": str(policies)}}
    assert len(e["callId"]) == 26 and e["timestamp"].endswith("Z")


def test_every_entry_point_logs(policies):
    entries: list = []
    engine = warden.Engine.from_policies([POLICY], audit=entries.append)
    engine.check([{"principal": PRINCIPAL, "resource": DOC, "actions": ["read", "write"]}])
    engine.decision_table(PRINCIPAL, [DOC, dict(DOC, id="d2")], ["read"])
    engine.check_resources_json(
        {"requestId": "r1", "principal": PRINCIPAL, "resources": [{"resource": DOC, "actions": ["write"]}]}
    )
    engine.plan_resources(PRINCIPAL, {"kind": "doc"}, "read")
    assert engine.flush_audit()
    assert [("checkResources" in e, "planResources" in e) for e in entries] == [(True, False)] * 3 + [(False, True)]
    assert len(entries[1]["checkResources"]["inputs"]) == 2
    assert entries[2]["checkResources"]["inputs"][0]["requestId"] == "r1"
    plan = entries[3]["planResources"]
    assert plan["input"]["actions"] == ["read"] and plan["input"]["principal"]["id"] == "alice"
    assert plan["output"]["filter"] == {"kind": "KIND_ALWAYS_ALLOWED"}
    # Policies given in memory keep their document name as the source.
    assert (
        entries[0]["auditTrail"]["effectivePolicies"]["resource.doc.vdefault"]["attributes"]["source"] == "policies[0]"
    )


def test_client_takes_the_audit_option(policies):
    entries: list = []
    with warden.Client(policies, audit=entries.append) as client:
        assert not client.is_allowed("write", warden.Principal("alice", roles={"user"}), warden.Resource("d1", "doc"))
        client.engine.flush_audit()
    (e,) = entries
    assert e["checkResources"]["outputs"][0]["actions"]["write"]["effect"] == "EFFECT_DENY"


def test_logging_sink_writes_one_json_record_per_entry(policies, caplog):
    engine = warden.Engine.from_directory(policies, audit="logging")
    with caplog.at_level(logging.INFO, logger="warden.audit"):
        engine.is_allowed(PRINCIPAL, DOC, action="read")
        engine.is_allowed(PRINCIPAL, DOC, action="write")
        assert engine.flush_audit()
    records = [r for r in caplog.records if r.name == "warden.audit"]
    assert len(records) == 2
    effects = [json.loads(r.getMessage())["checkResources"]["outputs"][0]["actions"] for r in records]
    assert effects[1]["write"]["effect"] == "EFFECT_DENY"


def test_logging_sink_with_its_own_logger_and_level(policies, caplog):
    engine = warden.Engine.from_directory(policies, audit=LoggingSink(logger="app.decisions", level=logging.WARNING))
    with caplog.at_level(logging.WARNING, logger="app.decisions"):
        engine.is_allowed(PRINCIPAL, DOC, action="read")
        engine.flush_audit()
    assert [r.levelno for r in caplog.records if r.name == "app.decisions"] == [logging.WARNING]


def test_file_sink_writes_json_lines_and_rotates(policies, tmp_path):
    path = tmp_path / "decisions.jsonl"
    engine = warden.Engine.from_directory(policies, audit=FileSink(path, max_bytes=4000, backups=2))
    for i in range(40):
        engine.is_allowed(PRINCIPAL, dict(DOC, id=f"d{i}"), action="read")
    assert engine.flush_audit()
    files = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("decisions"))
    assert files == ["decisions.jsonl", "decisions.jsonl.1", "decisions.jsonl.2"]
    for name in files:
        assert (tmp_path / name).stat().st_size <= 4000
    last = [json.loads(line) for line in path.read_text().splitlines()][-1]
    assert last["checkResources"]["inputs"][0]["resource"]["id"] == "d39"


def test_file_sink_that_cannot_be_opened_is_a_clear_error(policies, tmp_path):
    with pytest.raises(ValueError, match="cannot open"):
        warden.Engine.from_directory(policies, audit=FileSink(tmp_path / "missing" / "x.jsonl"))


def test_a_failing_sink_is_logged_and_counted(policies, caplog):
    def broken(entry):
        raise RuntimeError("disk full")

    engine = warden.Engine.from_directory(policies, audit=broken)
    with caplog.at_level(logging.ERROR, logger="warden.audit"):
        assert engine.is_allowed(PRINCIPAL, DOC, action="read")
        assert engine.flush_audit()
    assert engine.audit_stats()["failed"] == 1
    assert "disk full" in caplog.text


def test_bad_settings_are_refused(policies):
    with pytest.raises(TypeError, match="audit"):
        warden.Engine.from_directory(policies, audit=42)
    with pytest.raises(ValueError, match="on_full"):
        warden.Engine.from_directory(policies, audit=AuditOptions(print, on_full="wait"))
    with pytest.raises(ValueError, match="queue_size"):
        warden.Engine.from_directory(policies, audit=AuditOptions(print, queue_size=0))
    with pytest.raises(ValueError, match="sample_rate"):
        warden.Engine.from_directory(policies, audit=AuditOptions(print, sample_rate=2))
    with pytest.raises(ValueError, match="mask"):
        warden.Engine.from_directory(policies, audit=AuditOptions(print, mask={"inputs": ["x"]}))


def test_without_a_log(policies):
    engine = warden.Engine.from_directory(policies)
    assert engine.flush_audit() is True
    assert engine.audit_stats() is None
    engine.log_refusal("ignored")


def test_policy_source_given_by_the_app(policies):
    entries: list = []
    source = {"git": {"repositoryUrl": "https://git.example.test/policies.git", "branch": "main"}}
    engine = warden.Engine.from_directory(policies, audit=AuditOptions(entries.append, policy_source=source))
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.flush_audit()
    assert entries[0]["policySource"] == source


def test_entries_carry_the_policy_version(policies):
    entries: list = []
    source = {"git": {"repositoryUrl": "https://git.example.test/policies.git", "branch": "main"}}
    engine = warden.Engine.from_directory(
        policies, policy_version="c0ffee1", audit=AuditOptions(entries.append, policy_source=source)
    )
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.reload(policy_version="beef002")
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.flush_audit()
    assert [e["policySource"]["git"]["hash"] for e in entries] == ["c0ffee1", "beef002"]
    plain = []
    engine = warden.Engine.from_directory(policies, policy_version="c0ffee1", audit=plain.append)
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.flush_audit()
    assert plain[0]["policySource"] == {"hub": {"localBundle": {"path": str(policies), "bundleId": "c0ffee1"}}}


def test_logged_answers_are_the_same_answers():
    plain = warden.Engine.from_policies([POLICY])
    logged = warden.Engine.from_policies([POLICY], audit=lambda entry: None)
    request = {
        "requestId": "r1",
        "includeMeta": True,
        "principal": PRINCIPAL,
        "resources": [{"resource": DOC, "actions": ["read", "write"]}],
    }
    now = "2026-01-01T00:00:00Z"
    assert logged.check_resources_json(request, now=now) == plain.check_resources_json(request, now=now)
    inputs = [{"principal": PRINCIPAL, "resource": DOC, "actions": ["read", "write"]}] * 5
    assert logged.check(inputs, now=now) == plain.check(inputs, now=now)
    assert logged.decision_table(PRINCIPAL, [DOC] * 5, ["read", "write"]) == plain.decision_table(
        PRINCIPAL, [DOC] * 5, ["read", "write"]
    )
    assert logged.plan_resources_json(
        {"requestId": "p", "action": "read", "principal": PRINCIPAL, "resource": {"kind": "doc"}, "includeMeta": True}
    ) == plain.plan_resources_json(
        {"requestId": "p", "action": "read", "principal": PRINCIPAL, "resource": {"kind": "doc"}, "includeMeta": True}
    )
    logged.flush_audit()
