"""End to end over OTLP/HTTP: the SDK's exporters send warden's spans and metrics to a receiver on
127.0.0.1 that decodes them with the official opentelemetry-proto messages."""

from __future__ import annotations

import gzip
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

import pytest
import warden
from warden import telemetry

pytest.importorskip("opentelemetry.exporter.otlp.proto.http", reason="in the test extra")
pytest.importorskip("opentelemetry.proto", reason="in the test extra")

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (  # noqa: E402
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402


class Receiver:
    """An OTLP/HTTP receiver (protobuf bodies) keeping what it was sent."""

    def __init__(self) -> None:
        self.traces: List[ExportTraceServiceRequest] = []
        self.metrics: List[ExportMetricsServiceRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                encoding = self.headers.get("Content-Encoding")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                assert self.headers["Content-Type"] == "application/x-protobuf"
                if self.path == "/v1/traces":
                    receiver.traces.append(ExportTraceServiceRequest.FromString(body))
                    answer = ExportTraceServiceResponse().SerializeToString()
                elif self.path == "/v1/metrics":
                    receiver.metrics.append(ExportMetricsServiceRequest.FromString(body))
                    answer = ExportMetricsServiceResponse().SerializeToString()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def attributes(kvs: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for kv in kvs:
        field = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, field)
    return out


def test_spans_and_metrics_reach_an_otlp_http_receiver(contacts_policies):
    receiver = Receiver()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=receiver.url + "/v1/traces", timeout=5))
    )
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=receiver.url + "/v1/metrics", timeout=5), export_interval_millis=3_600_000
    )
    meter_provider = MeterProvider(metric_readers=[reader])
    telemetry.instrument(tracer_provider, meter_provider)
    try:
        engine = warden.Engine.from_directory(contacts_policies, policy_version="git:abc123")
        with tracer_provider.get_tracer("app").start_as_current_span("GET /contacts/c1"):
            assert engine.is_allowed({"id": "bob", "roles": ["user"]}, {"kind": "contact", "id": "c1"}, action="read")
        tracer_provider.force_flush()
        meter_provider.force_flush()
    finally:
        telemetry.uninstrument()
        tracer_provider.shutdown()
        meter_provider.shutdown()
        receiver.close()

    spans = [s for req in receiver.traces for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    by_name = {s.name: s for s in spans}
    check, request = by_name["engine.Check"], by_name["GET /contacts/c1"]
    assert check.parent_span_id == request.span_id and check.trace_id == request.trace_id
    attrs = attributes(check.attributes)
    assert attrs["warden.principal.id"] == "bob"
    assert attrs["warden.effect"] == "EFFECT_ALLOW"
    assert attrs["warden.policy_set.version"] == "git:abc123"
    assert attrs["cerbos.policy.fqn"] == "resource.contact.vdefault"
    scopes = {ss.scope.name for req in receiver.traces for rs in req.resource_spans for ss in rs.scope_spans}
    assert "warden" in scopes

    metrics = {
        m.name: m
        for req in receiver.metrics
        for rm in req.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    }
    decisions = metrics["warden.decisions"].sum
    assert decisions.is_monotonic
    allowed = [p for p in decisions.data_points if attributes(p.attributes) == {"warden.effect": "EFFECT_ALLOW"}]
    assert allowed and allowed[0].as_int >= 1
    assert "warden.check.duration.bucket" in metrics and "warden.token.failures" in metrics
