"""Decision logs: decisions per second with logs off and on, in the same run.

Engines over the contacts policy (examples/contacts/policies), identical but for ``audit=``:

* ``off``          no decision log;
* ``on: path``     a ``FileSink`` (JSON lines in a temporary directory), ``on_full="drop"``, a
                   queue of 200,000 entries, the clock stopped before ``flush_audit()``: what a
                   decision costs the thread that asks for it (entries dropped for want of room
                   are counted and shown);
* ``on: sustained`` the same sink with ``on_full="block"`` and the clock stopped after
                   ``flush_audit()``: the rate at which entries are also all written, so the
                   writer's work counts wherever it competes with the deciding thread for a core.

Cases: single decisions (``Engine.is_allowed``, ``Engine.check`` 1x1) and batches
(``Engine.decision_table`` 1 principal x 50 resources x 3 actions, ``Engine.check`` of 50 inputs).
Variants are timed in turn within each repeat; figures are medians over ``--repeats`` runs of
``--run-ms``, with the ratio to ``off``. Two clocks: wall time, and CPU time (of the deciding
thread for ``off`` and ``on: path``, so that the writer competing for a busy machine's cores does
not count; of the whole process for ``on: sustained``, so that the writer's work does). The load
(``uptime``) is printed with the figures: on a shared machine compare ratios, not absolute
rates. Label the build with ``WARDEN_BUILD=release|debug``.

    WARDEN_BUILD=release .venv/bin/python benchmarks/bench_audit.py [--repeats 5] [--run-ms 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import warden
from warden.audit import AuditOptions, FileSink

POLICIES = Path(__file__).resolve().parents[1] / "examples" / "contacts" / "policies"
ACTIONS = ["read", "update", "delete"]
BATCH = 50


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        return "load: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def engines(tmp: Path) -> Dict[str, warden.Engine]:
    def sink(name: str) -> FileSink:
        return FileSink(tmp / name, max_bytes=100 * 2**20, backups=1)

    return {
        "off": warden.Engine.from_directory(POLICIES),
        "path": warden.Engine.from_directory(
            POLICIES, audit=AuditOptions(sink("path.jsonl"), on_full="drop", queue_size=200_000)
        ),
        "sustained": warden.Engine.from_directory(
            POLICIES, audit=AuditOptions(sink("sustained.jsonl"), on_full="block")
        ),
    }


def cases(engine: warden.Engine) -> Dict[str, Tuple[Callable[[], object], int]]:
    """name -> (call, decisions per call)."""
    principal = {"id": "u1", "roles": ["user"], "attr": {}}
    resource = {"kind": "contact", "id": "c1", "attr": {"owner_id": "u1"}}
    resources = [
        {"kind": "contact", "id": f"c{i}", "attr": {"owner_id": "u1" if i % 2 else "u2"}} for i in range(BATCH)
    ]
    one = [{"principal": principal, "resource": resource, "actions": ["update"]}]
    many = [{"principal": principal, "resource": r, "actions": ACTIONS} for r in resources]
    return {
        "is_allowed (1 decision)": (lambda: engine.is_allowed(principal, resource, action="update"), 1),
        "check 1x1 (1 decision)": (lambda: engine.check(one), 1),
        f"decision_table 1x{BATCH}x3 ({BATCH * 3} decisions)": (
            lambda: engine.decision_table(principal, resources, ACTIONS),
            BATCH * 3,
        ),
        f"check {BATCH}x3 ({BATCH * 3} decisions)": (lambda: engine.check(many), BATCH * 3),
    }


def timed_run(
    variant: str, engine: warden.Engine, call: Callable[[], object], per_call: int, run_ms: float
) -> Tuple[float, float]:
    """Decisions per second of wall time and of CPU time over one run of about ``run_ms``;
    ``sustained`` stops the clocks after the log is flushed, the others before."""
    engine.flush_audit()
    cpu = time.process_time if variant == "sustained" else time.thread_time
    deadline = time.perf_counter() + run_ms / 1000
    start, cpu_start = time.perf_counter(), cpu()
    calls = 0
    while True:
        for _ in range(20):
            call()
        calls += 20
        if time.perf_counter() >= deadline:
            break
    if variant == "sustained":
        engine.flush_audit()
    elapsed, cpu_elapsed = time.perf_counter() - start, cpu() - cpu_start
    engine.flush_audit()
    return calls * per_call / elapsed, calls * per_call / cpu_elapsed


def main(argv: List[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--run-ms", type=float, default=300.0)
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        by_variant = engines(Path(tmp))
        table = {v: cases(e) for v, e in by_variant.items()}
        names = list(table["off"])
        rates: Dict[str, Dict[str, List[Tuple[float, float]]]] = {n: {v: [] for v in by_variant} for n in names}
        dropped: Dict[str, int] = {}
        load_before = uptime()
        for name in names:
            for v, e in by_variant.items():  # warm-up
                timed_run(v, e, *table[v][name], run_ms=args.run_ms / 4)
            before = by_variant["path"].audit_stats()
            for _ in range(args.repeats):
                for v, e in by_variant.items():
                    rates[name][v].append(timed_run(v, e, *table[v][name], run_ms=args.run_ms))
            after = by_variant["path"].audit_stats()
            queued, lost = after["queued"] - before["queued"], after["dropped"] - before["dropped"]
            dropped[name] = round(100 * lost / max(1, queued + lost))
        load_after = uptime()

    build = os.environ.get("WARDEN_BUILD", "unlabelled")
    print(f"# decision logs: decisions/s, median of {args.repeats} runs of {args.run_ms:.0f} ms ({build} build)")
    print(f"python {platform.python_version()} on {platform.machine()}")
    print(f"load before: {load_before}")
    print(f"load after:  {load_after}")
    out: Dict[str, object] = {"load_before": load_before, "load_after": load_after, "build": build, "cases": {}}
    for clock, index in (("wall clock", 0), ("CPU time", 1)):
        print()
        print(f"decisions/s by {clock}:")
        print()
        print("| case | off | on: path | ratio | entries dropped | on: sustained | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name in names:
            med = {v: statistics.median(r[index] for r in runs) for v, runs in rates[name].items()}
            print(
                f"| {name} | {med['off']:,.0f} | {med['path']:,.0f} | {med['path'] / med['off']:.2f} | {dropped[name]}% "
                f"| {med['sustained']:,.0f} | {med['sustained'] / med['off']:.2f} |"
            )
            out["cases"].setdefault(name, {"runs": rates[name], "dropped_percent": dropped[name]})[clock] = med  # type: ignore[attr-defined]
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
