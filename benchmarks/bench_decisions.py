"""Decision benchmarks on the contacts policy (examples/contacts/policies).

Median microseconds per call, from Python, of:

* ``Client.is_allowed``                      one resource, one action
* ``Client.check_resources`` 1x1             one resource, one action
* ``Client.check_resources`` 2x3             2 resources x 3 actions (the demo's /user page)
* ``Engine.check`` 1x1 / 2x3                 the same on raw CheckInput dicts (the native floor)

Each case is warmed up, then timed ``--repeats`` times over ``--number`` calls
with ``time.perf_counter_ns`` (``--clock cpu``: ``time.process_time_ns``,
steadier when other work shares the machine); the figure is the median of the
per-call means (min shown too). Run from the repo root: ``make bench`` or
``.venv/bin/python benchmarks/bench_decisions.py``.
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

import warden
from warden.models import Principal, Resource, ResourceAction, ResourceList

POLICIES = Path(__file__).resolve().parents[1] / "examples" / "contacts" / "policies"
ACTIONS = ["read", "update", "delete"]


CLOCKS = {"wall": time.perf_counter_ns, "cpu": time.process_time_ns}


def measure(
    fn: Callable[[], object], number: int, repeats: int, warmup: int, clock: Callable[[], int] = time.perf_counter_ns
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


def cases(client: warden.Client) -> dict[str, Callable[[], object]]:
    bob = Principal("bob", {"user"}, policy_version="20210210")
    mine = Resource("abc123", "contact", attr={"owner_id": "bob"})
    theirs = Resource("def456", "contact", attr={"owner_id": "other_user_id"})
    one = ResourceList().add(mine, {"update"})
    batch = ResourceList(
        resources=[ResourceAction(mine, actions=set(ACTIONS)), ResourceAction(theirs, actions=set(ACTIONS))]
    )
    engine = client.engine
    raw_principal = {"id": "bob", "roles": ["user"], "attr": {}, "policyVersion": "20210210", "scope": ""}
    raw_one = [
        {
            "principal": raw_principal,
            "resource": {"kind": "contact", "id": "abc123", "attr": {"owner_id": "bob"}},
            "actions": ["update"],
        }
    ]
    raw_batch = [
        {
            "principal": raw_principal,
            "resource": {"kind": "contact", "id": rid, "attr": {"owner_id": owner}},
            "actions": ACTIONS,
        }
        for rid, owner in (("abc123", "bob"), ("def456", "other_user_id"))
    ]
    assert client.is_allowed("update", bob, mine) and not client.is_allowed("update", bob, theirs)
    return {
        "Client.is_allowed": lambda: client.is_allowed("update", bob, mine),
        "Client.check_resources 1x1": lambda: client.check_resources(bob, one),
        "Client.check_resources 2x3": lambda: client.check_resources(bob, batch),
        "Engine.check 1x1 (raw dicts)": lambda: engine.check(raw_one),
        "Engine.check 2x3 (raw dicts)": lambda: engine.check(raw_batch),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000, help="calls per timed repeat")
    parser.add_argument("--repeats", type=int, default=15, help="timed repeats per case")
    parser.add_argument("--warmup", type=int, default=5_000, help="untimed calls first")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall: time.perf_counter_ns (default); cpu: time.process_time_ns, steadier on a shared machine",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    client = warden.Client(POLICIES)
    results = {
        name: measure(fn, args.number, args.repeats, args.warmup, CLOCKS[args.clock])
        for name, fn in cases(client).items()
    }
    if args.json:
        print(json.dumps({name: {"median_us": med, "min_us": low} for name, (med, low) in results.items()}, indent=2))
        return 0
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"warden {warden.__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs (load {load}), {args.clock} clock, {args.repeats} x {args.number} calls per case"
    )
    print(f"{'case':<32} {'median µs':>10} {'min µs':>8}")
    for name, (med, low) in results.items():
        print(f"{name:<32} {med:>10.2f} {low:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
