"""Spans and metrics of decisions, plans and reloads, with the real OpenTelemetry SDK."""

from __future__ import annotations

import pytest
import warden
from warden import _core, telemetry

from tests.sources.servers import BundleServer, policy, tarball

PRINCIPAL = {"id": "bob", "roles": ["user"]}
MINE = {"kind": "contact", "id": "c1", "attr": {"owner_id": "bob"}}
THEIRS = {"kind": "contact", "id": "c2", "attr": {"owner_id": "alice"}}


@pytest.fixture
def engine(contacts_policies):
    return warden.Engine.from_directory(contacts_policies, policy_version="v-test")


def test_nothing_is_recorded_while_off(engine):
    assert not telemetry.is_instrumented()
    before = _core._telemetry_counters()
    engine.is_allowed(PRINCIPAL, MINE, action="read")
    engine.check([{"principal": PRINCIPAL, "resource": MINE, "actions": ["read", "delete"]}])
    assert _core._telemetry_counters() == before


def test_decisions_by_effect_and_latency(otel, engine):
    allowed, denied = (
        otel.value("warden.decisions", **{"warden.effect": "EFFECT_ALLOW"}),
        otel.value("warden.decisions", **{"warden.effect": "EFFECT_DENY"}),
    )
    calls = otel.value("warden.check.duration.count")
    assert engine.is_allowed(PRINCIPAL, MINE, action="read")
    rows = engine.decision_table(PRINCIPAL, [MINE, THEIRS], ["read", "delete"])
    assert rows == [[True, True], [True, False]]  # contacts: users read any contact, delete their own
    assert otel.value("warden.decisions", **{"warden.effect": "EFFECT_ALLOW"}) == allowed + 4
    assert otel.value("warden.decisions", **{"warden.effect": "EFFECT_DENY"}) == denied + 1
    assert otel.value("warden.check.duration.count") == calls + 2
    assert otel.value("warden.check.duration.bucket", le="+Inf") == otel.value("warden.check.duration.count")
    assert otel.value("warden.check.duration.sum") > 0
    # Outside any trace no span is made (spans="traced"): the metrics alone.
    assert otel.spans("engine.Check") == []


def test_a_check_span_nests_under_the_current_span_with_cerbos_attributes(otel, engine):
    with otel.tracer.start_as_current_span("request") as parent:
        assert engine.is_allowed(PRINCIPAL, MINE, action="update")
    (span,) = otel.spans("engine.Check")
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    assert span.context.trace_id == parent.get_span_context().trace_id
    assert dict(span.attributes) == {
        "warden.batch.size": 1,
        "warden.decisions.allowed": 1,
        "warden.decisions.denied": 0,
        "warden.policy_set.version": "v-test",
        "warden.principal.id": "bob",
        "warden.resource.kind": "contact",
        "cerbos.request.resource_id": "c1",
        "warden.action": "update",
        "warden.effect": "EFFECT_ALLOW",
        "cerbos.policy.fqn": "resource.contact.vdefault",
    }
    assert parent.start_time <= span.start_time <= span.end_time


def test_client_decisions_and_plans_are_observed(otel, contacts_policies):
    client = warden.Client(contacts_policies)
    principal = warden.Principal("bob", {"user"})
    with otel.tracer.start_as_current_span("request"):
        client.is_allowed("read", principal, warden.Resource("c1", "contact", attr={"owner_id": "bob"}))
        client.engine.plan_resources(PRINCIPAL, {"kind": "contact"}, "read")
    (check,) = otel.spans("engine.Check")
    assert check.attributes["warden.effect"] == "EFFECT_ALLOW"
    (plan,) = otel.spans("engine.Plan")
    assert plan.attributes["warden.resource.kind"] == "contact"
    assert list(plan.attributes["warden.actions"]) == ["read"]
    assert plan.attributes["warden.plan.filter"] in ("KIND_ALWAYS_ALLOWED", "KIND_CONDITIONAL")
    assert otel.value("warden.plans") >= 1


def test_spans_all_and_none(engine, contacts_policies):
    from .conftest import Otel

    o = Otel()
    telemetry.instrument(o.tracer_provider, o.meter_provider, spans="all")
    try:
        engine.is_allowed(PRINCIPAL, MINE, action="read")
        (span,) = o.spans("engine.Check")
        assert span.parent is None, "a root span: no trace was current"
        telemetry.instrument(o.tracer_provider, o.meter_provider, spans="none")
        with o.tracer.start_as_current_span("request"):
            engine.is_allowed(PRINCIPAL, MINE, action="read")
        assert len(o.spans("engine.Check")) == 1
    finally:
        telemetry.uninstrument()
    with pytest.raises(ValueError, match="spans"):
        telemetry.instrument(spans="some")


def test_reloads_and_failures(otel, tmp_path):
    doc = tmp_path / "doc.yaml"
    doc.write_text(policy("EFFECT_ALLOW"))
    engine = warden.Engine.from_directory(tmp_path)
    reloads, failures = otel.value("warden.policy.reloads"), otel.value("warden.policy.reload_failures")
    with otel.tracer.start_as_current_span("deploy"):
        engine.reload(policy_version="v2")
        doc.write_text(policy("EFFECT_MAYBE"))
        with pytest.raises(warden.PolicyError):
            engine.reload(policy_version="v3")
    assert otel.value("warden.policy.reloads") == reloads + 2
    assert otel.value("warden.policy.reload_failures") == failures + 1
    ok, failed = otel.spans("engine.Reload")
    assert ok.attributes["warden.policy_set.version"] == "v2" and ok.status.is_ok
    assert failed.attributes["warden.policy_set.version"] == "v2", "the version still serving"
    assert "EFFECT_MAYBE" in failed.attributes["warden.error"] and not failed.status.is_ok


def test_a_source_poll_span_holds_the_reload(otel):
    from warden.sources import BundleSource

    with BundleServer() as server:
        server.bundle = tarball({"doc.yaml": policy("EFFECT_ALLOW")})
        with BundleSource(server.url, poll_interval=None) as source:
            server.bundle = tarball({"doc.yaml": policy("EFFECT_DENY")})
            assert source.poll() == "updated"
            server.bundle = b"corrupt"
            assert source.poll() == "failed"
    updated, failed = otel.spans("policy.Poll")
    assert updated.attributes["warden.outcome"] == "updated"
    assert updated.attributes["warden.policy_set.version"] == source.version
    assert updated.attributes["cerbos.bundle.source"] == server.url
    (reload,) = otel.spans("engine.Reload")
    assert reload.parent.span_id == updated.context.span_id
    assert failed.attributes["warden.outcome"] == "failed" and "tar" in failed.attributes["warden.error"]
    assert otel.value("warden.policy.source.polls", **{"warden.outcome": "failed"}) == 1


def test_audit_dropped_is_reported(otel):
    class Sink:
        dropped = 0

    class Engine:  # the shape of an engine with decision logs
        def audit_stats(self):
            return {"dropped": 10, "written": 3}

    sink = Sink()
    telemetry.observe_audit(sink)
    telemetry.observe_audit(lambda: 2)
    telemetry.observe_audit(Engine())
    sink.dropped = 5
    try:
        assert otel.value("warden.audit.dropped") == 17
        with pytest.raises(TypeError):
            telemetry.observe_audit(object())
    finally:
        telemetry._audit_sources.clear()


def test_instrumenting_again_keeps_the_metrics(otel, engine):
    telemetry.instrument(otel.tracer_provider, otel.meter_provider)
    before = otel.value("warden.decisions", **{"warden.effect": "EFFECT_ALLOW"})
    engine.is_allowed(PRINCIPAL, MINE, action="read")
    assert otel.value("warden.decisions", **{"warden.effect": "EFFECT_ALLOW"}) == before + 1
    telemetry.uninstrument()
    assert "warden.decisions" not in otel.metrics()
