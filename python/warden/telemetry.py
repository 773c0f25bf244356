"""OpenTelemetry spans and metrics for warden, off until the app calls :func:`instrument`.

Warden records nothing and costs one relaxed atomic load per call until :func:`instrument` is
called; it never configures OpenTelemetry itself (providers, exporters, sampling are the app's).
After ``instrument()``:

* **Metrics** are cumulative counters kept in Rust atomics (a few nanoseconds per decision) and
  reported through OpenTelemetry observable instruments when the app's metric reader collects.
* **Spans** (``engine.Check``, ``engine.Plan``, ``auth.VerifyToken``, ``auth.FetchJWKS``,
  ``engine.Reload``, ``policy.Poll``) are made for calls made inside a trace, that is while a span
  is current (a request traced by ``opentelemetry-instrumentation-fastapi``/``-flask``, or a span
  the app started), so a decision span nests under its request span. ``spans="all"`` makes them
  for every call too; ``spans="none"`` keeps metrics only.

Names and attributes are listed in docs/operations.md. The OpenTelemetry API is needed only by
this module (``pip install warden[telemetry]``).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Dict, Iterable, Iterator, List, Literal, Optional, Union

from warden import _core

#: Span names, after Cerbos's own where it has one (``engine.Check``, ``engine.Plan``).
SPAN_NAMES = {
    "check": "engine.Check",
    "plan": "engine.Plan",
    "verify": "auth.VerifyToken",
    "jwks": "auth.FetchJWKS",
    "reload": "engine.Reload",
}
POLL_SPAN = "policy.Poll"

_lock = threading.Lock()
_state: Optional["Instrumentation"] = None
_audit_sources: List[Callable[[], int]] = []


class Instrumentation:
    """What :func:`instrument` set up: the tracer, the meter and the instruments."""

    def __init__(self, tracer_provider: Any, meter_provider: Any, spans: str) -> None:
        from opentelemetry import metrics, trace
        from opentelemetry.metrics import CallbackOptions, Observation

        self.spans = spans
        self.tracer = trace.get_tracer("warden", _core.__version__, tracer_provider=tracer_provider)
        self.meter = metrics.get_meter("warden", _core.__version__, meter_provider=meter_provider)
        self._trace = trace

        def observe(
            read: Callable[[Dict[str, Any]], List[Observation]],
        ) -> List[Callable[[CallbackOptions], Iterable[Observation]]]:
            """One callback reading the Rust counters while this meter is the instrumented one. (The
            SDK keeps the first callbacks of a meter that is instrumented again: they stay valid.)"""
            meter = self.meter

            def callback(options: CallbackOptions) -> Iterable[Observation]:
                return read(_core._telemetry_counters()) if _state is not None and _state.meter is meter else []

            return [callback]

        m = self.meter
        m.create_observable_counter(
            "warden.decisions",
            observe(
                lambda c: [
                    Observation(c["allowed"], {"warden.effect": "EFFECT_ALLOW"}),
                    Observation(c["denied"], {"warden.effect": "EFFECT_DENY"}),
                ]
            ),
            unit="{decision}",
            description="Decisions made (one per resource and action), by effect",
        )
        m.create_observable_counter(
            "warden.plans", observe(lambda c: [Observation(c["plans"])]), unit="{plan}", description="Query plans made"
        )
        m.create_observable_counter(
            "warden.check.duration.bucket",
            observe(_latency_buckets),
            unit="{call}",
            description="Check calls that took at most `le` milliseconds (cumulative histogram buckets)",
        )
        m.create_observable_counter(
            "warden.check.duration.sum",
            observe(lambda c: [Observation(c["latency_ns"] / 1e6)]),
            unit="ms",
            description="Total time spent in check calls",
        )
        m.create_observable_counter(
            "warden.check.duration.count",
            observe(lambda c: [Observation(c["calls"])]),
            unit="{call}",
            description="Check calls (a batch is one call)",
        )
        m.create_observable_counter(
            "warden.token.failures",
            observe(
                lambda c: [Observation(n, {"warden.token.failure_reason": r}) for r, n in c["token_failures"].items()]
            ),
            unit="{token}",
            description="Bearer tokens refused, by reason",
        )
        m.create_observable_counter(
            "warden.jwks.fetches",
            observe(lambda c: [Observation(c["jwks_fetches"])]),
            unit="{request}",
            description="JWKS and OIDC discovery requests made",
        )
        m.create_observable_counter(
            "warden.jwks.fetch_failures",
            observe(lambda c: [Observation(c["jwks_failures"])]),
            unit="{request}",
            description="JWKS fetches that failed (the cached keys, if any, keep serving)",
        )
        m.create_observable_counter(
            "warden.policy.reloads",
            observe(lambda c: [Observation(c["reloads"])]),
            unit="{reload}",
            description="Policy set reloads attempted (Engine.reload, a watch, a policy source)",
        )
        m.create_observable_counter(
            "warden.policy.reload_failures",
            observe(lambda c: [Observation(c["reload_failures"])]),
            unit="{reload}",
            description="Reloads refused because the new set did not compile (the last good set keeps serving)",
        )
        m.create_observable_counter(
            "warden.audit.dropped",
            observe(
                lambda c: [Observation(sum(int(read()) for read in list(_audit_sources)))] if _audit_sources else []
            ),
            unit="{entry}",
            description="Decision-log entries dropped because the audit queue was full",
        )
        self.polls = m.create_counter(
            "warden.policy.source.polls",
            unit="{poll}",
            description="Checks of a git or bundle policy source, by outcome (updated, unchanged, failed)",
        )

    def hook(self, kind: str, start_ns: int, end_ns: int, attributes: Dict[str, Any]) -> None:
        """Called by the Rust core after a call made inside a trace: one span, with its real times."""
        from opentelemetry.trace import Status, StatusCode

        attrs = {k: v for k, v in attributes.items() if v is not None}
        span = self.tracer.start_span(SPAN_NAMES[kind], start_time=start_ns, attributes=attrs)
        error = attrs.get("warden.error")
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, str(error)))
        span.end(end_time=end_ns)


def _latency_buckets(c: Dict[str, Any]) -> List[Any]:
    from opentelemetry.metrics import Observation

    out = []
    total = 0
    bounds = [b / 1000 for b in c["latency_bounds_us"]] + [float("inf")]
    for le, n in zip(bounds, c["latency_buckets"], strict=True):
        total += n
        out.append(Observation(total, {"le": "+Inf" if le == float("inf") else f"{le:g}"}))
    return out


def instrument(
    tracer_provider: Any = None, meter_provider: Any = None, *, spans: Literal["traced", "all", "none"] = "traced"
) -> Instrumentation:
    """Turns warden's telemetry on, with the given providers (default: OpenTelemetry's global ones).

    ``spans``: ``"traced"`` (default) makes spans for calls made while a span is current,
    ``"all"`` for every call, ``"none"`` for none (metrics only). Calling it again replaces the
    previous setup. Raises ``ImportError`` when the OpenTelemetry API is not installed.
    """
    global _state
    if spans not in ("traced", "all", "none"):
        raise ValueError(f'spans: expected "traced", "all" or "none", got {spans!r}')
    with _lock:
        state = Instrumentation(tracer_provider, meter_provider, spans)
        _state = state
        if spans == "none":
            _core._telemetry_enable(_no_span, _NoContext(), "", False)
        else:
            variable, key = _current_span_lookup()
            _core._telemetry_enable(state.hook, variable, key, spans == "all")
    return state


def uninstrument() -> None:
    """Turns telemetry off: no more spans; the observable instruments report nothing more."""
    global _state
    with _lock:
        _core._telemetry_disable()
        _state = None


def is_instrumented() -> bool:
    """Whether :func:`instrument` is in force."""
    return _state is not None


def observe_audit(source: Union[Callable[[], int], Any]) -> None:
    """Reports decision-log entries dropped as ``warden.audit.dropped``. ``source`` is an engine
    with decision logs (its ``audit_stats()["dropped"]``), an object with a ``dropped`` count
    (attribute or method), or a callable returning the count. Several sources are summed."""
    stats = getattr(source, "audit_stats", None)
    if callable(stats):
        _audit_sources.append(lambda: stats()["dropped"])
    elif hasattr(source, "dropped"):
        _audit_sources.append(lambda: source.dropped() if callable(source.dropped) else source.dropped)
    elif callable(source):
        _audit_sources.append(source)
    else:
        raise TypeError(
            "observe_audit: expected an engine with audit_stats(), an object with a dropped count, or a callable"
        )


class _PollRecorder:
    """What a policy source reports about one poll (see :func:`policy_reload`)."""

    def __init__(self, span: Any, kind: str) -> None:
        self.span = span
        self.kind = kind

    def done(self, outcome: str, version: Optional[str]) -> None:
        self._record(outcome, version)

    def failed(self, error: BaseException, version: Optional[str]) -> None:
        self._record("failed", version)
        if self.span is not None:
            from opentelemetry.trace import Status, StatusCode

            self.span.set_attribute("warden.error", f"{type(error).__name__}: {error}")
            self.span.set_status(Status(StatusCode.ERROR, str(error)))

    def _record(self, outcome: str, version: Optional[str]) -> None:
        state = _state
        if state is None:
            return
        state.polls.add(1, {"warden.policy.source.kind": self.kind, "warden.outcome": outcome})
        if self.span is not None:
            self.span.set_attribute("warden.outcome", outcome)
            if version is not None:
                self.span.set_attribute("warden.policy_set.version", version)


@contextlib.contextmanager
def policy_reload(kind: str, location: str) -> Iterator[_PollRecorder]:
    """A poll of a policy source (used by :mod:`warden.sources`): a ``policy.Poll`` span (the
    engine's ``engine.Reload`` nests under it) and the ``warden.policy.source.polls`` counter."""
    state = _state
    if state is None or state.spans == "none":
        yield _PollRecorder(None, kind)
        return
    attributes = {"cerbos.bundle.source": location, "warden.policy.source.kind": kind}
    with state.tracer.start_as_current_span(POLL_SPAN, attributes=attributes) as span:
        yield _PollRecorder(span, kind)


def _current_span_lookup() -> "tuple[Any, str]":
    """OpenTelemetry's context variable and the key of the current span in its value, so that the
    Rust core can tell whether a call is made inside a trace without calling into Python.

    Both are internals of the OpenTelemetry API; when they are not found, the public (slower)
    ``opentelemetry.context.get_current`` is used instead."""
    from opentelemetry import context

    key: Optional[str] = None
    try:
        from opentelemetry.trace.propagation import _SPAN_KEY

        key = _SPAN_KEY
    except ImportError:  # pragma: no cover - present in every OpenTelemetry API release so far
        pass
    variable = getattr(getattr(context, "_RUNTIME_CONTEXT", None), "_current_context", None)
    if variable is None or not hasattr(variable, "get"):  # pragma: no cover - another runtime context
        variable = _PublicContext()
    if key is None:  # pragma: no cover
        raise ImportError("this OpenTelemetry API release has no current-span key; please report it")
    return variable, key


class _PublicContext:
    @staticmethod
    def get() -> Any:
        from opentelemetry import context

        return context.get_current()


class _NoContext:
    @staticmethod
    def get() -> Dict[str, Any]:
        return {}


def _no_span(*args: Any) -> None:  # pragma: no cover - never called: _NoContext holds no span
    pass
