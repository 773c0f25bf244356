"""Query-planning benchmark on the contacts policy (examples/contacts/policies).

Median microseconds per call, from Python, of:

* ``Engine.plan_resources`` update      a user's ``update`` plan: the owner condition partially
                                        evaluated to ``owner_id == <principal id>`` (KIND_CONDITIONAL)
* ``Engine.plan_resources`` read        a user's ``read`` plan (KIND_ALWAYS_ALLOWED)
* ``Engine.plan_resources`` read+update both actions, ANDed
* ``Engine.plan_resources_json`` update Cerbos's public request/response JSON shape
* the same three ``plan_resources`` cases with ``exact=True`` (the plans the list helpers make:
  each condition leaf in ``isTrue``, roles combined as ``check`` combines them)

Target (issue #16): <= 20 us for a plan on the contact policy. Each case is warmed up, then
timed ``--repeats`` times over ``--number`` calls (``time.perf_counter_ns``; ``--clock cpu`` for
``time.process_time_ns``); the figure is the median of the per-call means (min shown too). The
machine's load (``os.getloadavg``) is printed with the figures. Run from the repo root after a
release build (``make build-release``): ``.venv/bin/python benchmarks/bench_plan.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

from warden import Engine

POLICIES = Path(__file__).resolve().parents[1] / "examples" / "contacts" / "policies"
TARGET_US = 20.0
CLOCKS = {"wall": time.perf_counter_ns, "cpu": time.process_time_ns}


def measure(
    fn: Callable[[], object], number: int, repeats: int, warmup: int, clock: Callable[[], int]
) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    per_call = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            start = clock()
            for _ in range(number):
                fn()
            per_call.append((clock() - start) / number / 1000.0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(per_call), min(per_call)


def cases(engine: Engine) -> dict[str, Callable[[], object]]:
    principal = {"id": "bob", "roles": ["user"], "attr": {}}
    resource = {"kind": "contact"}
    request = {
        "requestId": "bench",
        "actions": ["update"],
        "principal": principal,
        "resource": resource,
        "includeMeta": True,
    }
    # The figures are only meaningful if the plans are what the policy says.
    update = engine.plan_resources(principal, resource, ["update"])
    assert update["filter"]["kind"] == "KIND_CONDITIONAL", update
    assert update["meta"]["filterDebug"] == '(eq request.resource.attr.owner_id "bob")', update
    assert engine.plan_resources(principal, resource, ["read"])["filter"]["kind"] == "KIND_ALWAYS_ALLOWED"
    exact = engine.plan_resources(principal, resource, ["update"], exact=True)
    assert exact["meta"]["filterDebug"] == '(isTrue (eq request.resource.attr.owner_id "bob"))', exact
    return {
        "Engine.plan_resources update": lambda: engine.plan_resources(principal, resource, ["update"]),
        "Engine.plan_resources read": lambda: engine.plan_resources(principal, resource, ["read"]),
        "Engine.plan_resources read+update": lambda: engine.plan_resources(principal, resource, ["read", "update"]),
        "Engine.plan_resources_json update": lambda: engine.plan_resources_json(request),
        "exact=True update": lambda: engine.plan_resources(principal, resource, ["update"], exact=True),
        "exact=True read": lambda: engine.plan_resources(principal, resource, ["read"], exact=True),
        "exact=True read+update": lambda: engine.plan_resources(principal, resource, ["read", "update"], exact=True),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--number", type=int, default=20_000, help="calls per timing (default 20000)")
    parser.add_argument("--repeats", type=int, default=15, help="timings per case (default 15)")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    engine = Engine.from_directory(POLICIES)
    load_before = os.getloadavg()
    results = {}
    for name, fn in cases(engine).items():
        median, best = measure(fn, args.number, args.repeats, args.warmup, CLOCKS[args.clock])
        results[name] = {"median_us": round(median, 2), "min_us": round(best, 2)}
    load_after = os.getloadavg()
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "clock": args.clock,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "target_us": TARGET_US,
    }
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=2))
        return 0
    print(f"Python {meta['python']} on {meta['machine']}, {meta['cpus']} CPUs, {args.clock} clock")
    print(f"load average (1, 5, 15 min): before {meta['load_before']}, after {meta['load_after']}")
    print(f"{'case':40} {'median µs':>10} {'min µs':>10}   target ≤ {TARGET_US:g} µs")
    for name, r in results.items():
        print(f"{name:40} {r['median_us']:>10.2f} {r['min_us']:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
