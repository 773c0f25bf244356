"""Filters as Cerbos offers them: only denials, metadata keys, masked fields; and sampling."""

from __future__ import annotations

import warden
from warden.audit import AuditOptions, request_context

from .conftest import DOC, PRINCIPAL


def engine_with(policies, **options):
    entries: list = []
    return warden.Engine.from_directory(policies, audit=AuditOptions(entries.append, **options)), entries


def test_ignore_allow_all_logs_only_checks_with_a_denial(policies):
    engine, entries = engine_with(policies, ignore_allow_all=True)
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.is_allowed(PRINCIPAL, DOC, action="write")
    engine.check([{"principal": PRINCIPAL, "resource": DOC, "actions": ["read", "write"]}])
    engine.flush_audit()
    assert [list(e["checkResources"]["inputs"][0]["actions"]) for e in entries] == [["write"], ["read", "write"]]


def test_plan_filters(policies):
    engine, entries = engine_with(policies, plan_ignore_always_allow=True)
    engine.plan_resources(PRINCIPAL, {"kind": "doc"}, "read")  # always allowed
    engine.plan_resources(PRINCIPAL, {"kind": "doc"}, "write")  # always denied
    engine.flush_audit()
    assert [e["planResources"]["output"]["filter"]["kind"] for e in entries] == ["KIND_ALWAYS_DENIED"]
    engine, entries = engine_with(policies, plan_ignore_all=True)
    engine.plan_resources(PRINCIPAL, {"kind": "doc"}, "write")
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.flush_audit()
    assert ["checkResources" in e for e in entries] == [True]


def test_metadata_keys(policies):
    headers = {"X-Request-ID": "r-1", "Cookie": "session=s", "Authorization": "Bearer t", "Accept": "*/*"}
    engine, entries = engine_with(policies)
    with request_context(metadata=headers):
        engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.flush_audit()
    engine, excluded = engine_with(policies, exclude_metadata_keys=["cookie"])
    with request_context(metadata=headers):
        engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.flush_audit()
    engine, included = engine_with(policies, include_metadata_keys=["x-request-id", "authorization"])
    with request_context(metadata=headers):
        engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.flush_audit()
    assert "metadata" not in entries[0], "no metadata unless keys are configured, as in Cerbos"
    assert excluded[0]["metadata"] == {"x-request-id": {"values": ["r-1"]}, "accept": {"values": ["*/*"]}}
    assert included[0]["metadata"] == {"x-request-id": {"values": ["r-1"]}}, "authorization is never logged"


def test_mask_removes_attribute_keys_and_peer_fields(policies):
    engine, entries = engine_with(
        policies, mask={"checkResources": ["inputs[*].principal.attr.ssn"], "peer": ["address"]}
    )
    with request_context(address="10.0.0.7", user_agent="pytest"):
        engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.flush_audit()
    (e,) = entries
    assert e["checkResources"]["inputs"][0]["principal"]["attr"] == {"team": "blue"}
    assert e["peer"] == {"userAgent": "pytest"}


def test_request_context_fields(policies):
    engine, entries = engine_with(policies)
    with request_context(
        address="10.0.0.7", user_agent="pytest", forwarded_for="1.2.3.4", annotations={"route": "/docs/{id}"}
    ):
        engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.flush_audit()
    assert entries[0]["peer"] == {"address": "10.0.0.7", "userAgent": "pytest", "forwardedFor": "1.2.3.4"}
    assert entries[0]["requestContext"] == {"annotations": {"route": "/docs/{id}"}}
    assert "peer" not in entries[1] and "requestContext" not in entries[1]


def test_sampling(policies):
    engine, entries = engine_with(policies, sample_rate=0.25)
    for _ in range(2000):
        engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.flush_audit()
    assert 350 < len(entries) < 650, len(entries)
    engine, none = engine_with(policies, sample_rate=0.0)
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.log_refusal("token expired")
    engine.flush_audit()
    assert [e["checkResources"] for e in none] == [{"error": "token expired"}], "refusals are always logged"
