"""What OpenTelemetry costs a decision: the cases of bench_decisions.py with warden.telemetry off and on.

Modes, each a fresh setup of the same ``warden.Client`` on the contacts policy:

* ``off``       ``warden.telemetry`` not instrumented (the default)
* ``on``        ``warden.telemetry.instrument()`` with the SDK's TracerProvider (batch span
                processor, in-memory exporter) and MeterProvider (in-memory reader): metrics are
                counted; no span, as the calls are made outside any trace
* ``in-trace``  ``on``, each call made inside an app span, so each decision makes an
                ``engine.Check`` span too (what a traced web request pays; for information)

Wall clock (default): the modes are timed in turn within each repeat, so a load change on the shared
machine hits all alike; figures are the median of the per-call means. ``--callgrind``: instructions
per call under valgrind's callgrind, from two runs of each case and mode (N and 0 calls), which the
machine's load does not move. Run from the repo root after ``make build-release``::

    .venv/bin/python benchmarks/bench_telemetry.py [--callgrind] [--number N] [--repeats R]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))

import warden  # noqa: E402
from bench_decisions import POLICIES, cases  # noqa: E402
from warden import telemetry  # noqa: E402

MODES = ("off", "on", "in-trace")


def providers() -> Any:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
    return tracer_provider, MeterProvider(metric_readers=[InMemoryMetricReader()])


def set_mode(
    mode: str, tracer_provider: Any, meter_provider: Any
) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Puts telemetry in ``mode``; returns how to wrap a case (in-trace: inside an app span)."""
    if mode == "off":
        telemetry.uninstrument()
        return lambda fn: fn
    telemetry.instrument(tracer_provider, meter_provider)
    if mode == "on":
        return lambda fn: fn
    from opentelemetry import context, trace

    span = tracer_provider.get_tracer("bench").start_span("request")

    def inside(fn: Callable[[], object]) -> Callable[[], object]:
        ctx = trace.set_span_in_context(span)

        def call() -> object:
            token = context.attach(ctx)
            try:
                return fn()
            finally:
                context.detach(token)

        return call

    return inside


def per_call_us(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(number):
        fn()
    return (time.perf_counter_ns() - start) / number / 1000.0


def wall(number: int, repeats: int, warmup: int) -> Dict[str, Dict[str, float]]:
    client = warden.Client(POLICIES)
    tracer_provider, meter_provider = providers()
    samples: Dict[str, Dict[str, List[float]]] = {}
    named = cases(client)
    gc.disable()
    try:
        for _ in range(repeats):
            for mode in MODES:
                wrap = set_mode(mode, tracer_provider, meter_provider)
                for name, fn in named.items():
                    call = wrap(fn)
                    for _ in range(warmup):
                        call()
                    samples.setdefault(name, {}).setdefault(mode, []).append(per_call_us(call, number))
            # the span processor's queue would otherwise grow over the repeats
            tracer_provider.force_flush()
    finally:
        gc.enable()
        telemetry.uninstrument()
    return {name: {mode: statistics.median(v) for mode, v in by_mode.items()} for name, by_mode in samples.items()}


def child(case: str, mode: str, number: int) -> None:
    """Runs ``number`` calls of one case in one mode (under callgrind, from ``--callgrind``)."""
    client = warden.Client(POLICIES)
    tracer_provider, meter_provider = providers()
    call = set_mode(mode, tracer_provider, meter_provider)(cases(client)[case])
    call()
    for _ in range(number):
        call()


def instructions(case: str, mode: str, number: int) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            case,
            mode,
            str(number),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=5_000, help="calls per timed run (wall) or per valgrind run")
    parser.add_argument("--repeats", type=int, default=9, help="timed repeats per case and mode (wall)")
    parser.add_argument("--warmup", type=int, default=500, help="untimed calls before each timed run (wall)")
    parser.add_argument("--callgrind", action="store_true", help="instructions per call under callgrind instead")
    parser.add_argument("--cases", default="Client.is_allowed,Engine.check 1x1 (raw dicts),Client.check_resources 2x3")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "MODE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return 0

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"warden {warden.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load before the run {load}"
    )
    if args.callgrind:
        names = args.cases.split(",")
        print(f"instructions per call (callgrind, {args.number} calls less 0 calls)")
        print(f"{'case':<32} {'off':>10} {'on':>10} {'on/off':>8} {'in-trace':>10}")
        for name in names:
            per = {m: (instructions(name, m, args.number) - instructions(name, m, 0)) / args.number for m in MODES}
            print(
                f"{name:<32} {per['off']:>10.0f} {per['on']:>10.0f} {per['on'] / per['off']:>8.3f} {per['in-trace']:>10.0f}"
            )
    else:
        results = wall(args.number, args.repeats, args.warmup)
        print(f"median µs per call, {args.repeats} x {args.number} calls per case and mode, modes in turn")
        print(f"{'case':<32} {'off':>8} {'on':>8} {'on/off':>8} {'in-trace':>9}")
        for name, r in results.items():
            print(f"{name:<32} {r['off']:>8.2f} {r['on']:>8.2f} {r['on'] / r['off']:>8.3f} {r['in-trace']:>9.2f}")
    print(f"load after the run {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
