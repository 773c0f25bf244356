"""The real OpenTelemetry SDK with in-memory exporters, and warden instrumented with it."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the OpenTelemetry SDK is in the test extra")

from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from warden import telemetry  # noqa: E402


class Otel:
    """A tracer provider and a meter provider exporting to memory, with readers for the tests."""

    def __init__(self) -> None:
        self.spans_exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans_exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.tracer = self.tracer_provider.get_tracer("tests")

    def spans(self, name: Optional[str] = None) -> List[ReadableSpan]:
        return [s for s in self.spans_exporter.get_finished_spans() if name is None or s.name == name]

    def metrics(self) -> Dict[str, List[Any]]:
        """Metric name -> its data points, from one collection."""
        out: Dict[str, List[Any]] = {}
        data = self.reader.get_metrics_data()
        for rm in data.resource_metrics if data else []:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    out.setdefault(m.name, []).extend(m.data.data_points)
        return out

    def value(self, name: str, **attributes: Any) -> float:
        """The value of the point of ``name`` whose attributes include ``attributes`` (0 if none)."""
        for point in self.metrics().get(name, []):
            if all(point.attributes.get(k) == v for k, v in attributes.items()):
                return point.value
        return 0


@pytest.fixture
def otel() -> Iterator[Otel]:
    o = Otel()
    telemetry.instrument(o.tracer_provider, o.meter_provider)
    yield o
    telemetry.uninstrument()
