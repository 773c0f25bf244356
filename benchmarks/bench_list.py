"""List-endpoint benchmark: a page of 100 contacts out of a table of 10k / 100k / 1M rows in SQLite.

The contact policy (examples/contacts/policies): a user may update the contacts they own. Bob owns
100 contacts spread evenly through the table (an index on ``owner_id``, as an app would have); the
page is "the first 100 contacts bob may update, by id". Three ways to get it, each returning the
same 100 rows (asserted before timing):

* **plan + query**: ``Engine.plan_resources`` (bob, ``update``) → ``warden.sqlalchemy.get_query``
  → SQLite runs ``WHERE owner_id = 'bob' ORDER BY id LIMIT 100``; the rows are fetched. Also with
  the exact plan the list helpers make (``exact=True``: the same SQL, the ``isTrue`` dropped where
  only truth counts).
* **check each, in-process**: read the table in id order 1,000 rows at a time and decide each page
  of rows with ``Engine.decision_table`` until 100 are allowed (here: the whole table, since bob's
  rows are spread through it).
* **check each, remote-PDP floor**: the same reads, and the checks POSTed as Cerbos
  CheckResources requests of 50 resources (Cerbos's default ``maxResourcesPerRequest``) to a
  loopback server that answers at once without deciding (benchmarks/peers.py): what the checks
  would cost against a PDP that took no time to decide. A real PDP only adds to it.

Figures: median (min) milliseconds per page over ``--repeats`` runs (fewer at 1M), wall clock
(``time.perf_counter``: the floor waits on a socket), with the machine's load. Target (issue 16):
plan + query ≥ 50× faster than checking each row, at 100k rows.

    .venv/bin/python benchmarks/bench_list.py [--sizes 10000,100000,1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import sqlalchemy as sa
from warden import Engine
from warden.sqlalchemy import get_query

HERE = Path(__file__).resolve().parent
POLICIES = HERE.parent / "examples" / "contacts" / "policies"
PAGE = 100
READ_CHUNK = 1000  # rows read per round trip by the check-each paths
PDP_BATCH = 50  # Cerbos's default maxResourcesPerRequest
TARGET = 50.0
BOB = {"id": "bob", "roles": ["user"], "attr": {}}

metadata = sa.MetaData()
contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("owner_id", sa.String, nullable=False, index=True),
    sa.Column("name", sa.String, nullable=False),
)
ATTRS = {"request.resource.id": contacts.c.id, "request.resource.attr.owner_id": contacts.c.owner_id}


def build(path: str, rows: int) -> sa.Engine:
    """``rows`` contacts; every (rows // 100)-th is bob's, the others belong to 1,000 other users."""
    db = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(db)
    step = rows // PAGE
    with db.begin() as conn:
        batch = []
        for i in range(rows):
            owner = "bob" if i % step == step // 2 else f"user{i % 1000}"
            batch.append({"id": f"c{i:08d}", "owner_id": owner, "name": f"Contact {i}"})
            if len(batch) == 10_000:
                conn.execute(contacts.insert(), batch)
                batch = []
        if batch:
            conn.execute(contacts.insert(), batch)
    with db.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    return db


def plan_path(engine: Engine, db: sa.Engine, exact: bool = False) -> Callable[[], List[Any]]:
    """``exact``: the exact plan the list helpers make (``Engine.plan_resources(exact=True)``)."""

    def page() -> List[Any]:
        plan = engine.plan_resources(BOB, {"kind": "contact"}, ["update"], exact=exact)
        query = get_query(plan, contacts, ATTRS).order_by(contacts.c.id).limit(PAGE)
        with db.connect() as conn:
            return conn.execute(query).all()

    return page


def _chunks(db: sa.Engine):
    """The table in id order, READ_CHUNK rows per query (keyset pagination)."""
    last = ""
    with db.connect() as conn:
        while True:
            rows = conn.execute(
                sa.select(contacts).where(contacts.c.id > last).order_by(contacts.c.id).limit(READ_CHUNK)
            ).all()
            if not rows:
                return
            yield rows
            last = rows[-1].id


def _resource(row: Any) -> Dict[str, Any]:
    return {"kind": "contact", "id": row.id, "attr": {"owner_id": row.owner_id, "name": row.name}}


def check_each_path(engine: Engine, db: sa.Engine) -> Callable[[], List[Any]]:
    def page() -> List[Any]:
        found: List[Any] = []
        for rows in _chunks(db):
            decisions = engine.decision_table(BOB, [_resource(r) for r in rows], ["update"])
            found.extend(r for r, (ok,) in zip(rows, decisions, strict=True) if ok)
            if len(found) >= PAGE:
                return found[:PAGE]
        return found

    return page


def floor_path(db: sa.Engine, url: str) -> Callable[[], int]:
    """The same reads, with every row's check sent to the floor server; returns the rows checked."""
    import httpx

    client = httpx.Client(base_url=url, timeout=30)

    def page() -> int:
        checked = 0
        for rows in _chunks(db):
            for start in range(0, len(rows), PDP_BATCH):
                batch = rows[start : start + PDP_BATCH]
                body = {
                    "requestId": "bench",
                    "principal": BOB,
                    "resources": [{"actions": ["update"], "resource": _resource(r)} for r in batch],
                }
                response = client.post("/api/check/resources", json=body)
                response.raise_for_status()
                response.json()
                checked += len(batch)
        return checked

    page.client = client  # type: ignore[attr-defined]
    return page


def timed(fn: Callable[[], Any], repeats: int) -> Dict[str, float]:
    fn()  # warm-up (caches, the plan's compiled query)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000.0)
    return {"median": statistics.median(runs), "min": min(runs), "max": max(runs), "runs": len(runs)}


def start_floor() -> tuple:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import peers; peers.serve_pdp({port})"
    proc = subprocess.Popen([sys.executable, "-c", code])
    url = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(200):
        try:
            httpx.post(url + "/api/check/resources", json={"resources": []}, timeout=2)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("the PDP floor server did not start")


def run(sizes: List[int], repeats: int, floor: bool = True) -> Dict[str, Any]:
    """{size: {path: {median, min, max, runs}}, ...} in ms per page of 100."""
    engine = Engine.from_directory(POLICIES)
    out: Dict[str, Any] = {"load_start": os.getloadavg(), "sizes": {}}
    proc, url = start_floor() if floor else (None, None)
    try:
        for n in sizes:
            with tempfile.TemporaryDirectory() as d:
                db = build(str(Path(d) / "contacts.db"), n)
                plan, check = plan_path(engine, db), check_each_path(engine, db)
                exact = plan_path(engine, db, exact=True)
                want = [r.id for r in plan()]
                assert len(want) == PAGE and [r.id for r in check()] == want, "the two paths disagree"
                assert [r.id for r in exact()] == want, "the exact plan lists other rows"
                reps = repeats if n <= 100_000 else max(1, repeats // 3)
                result: Dict[str, Any] = {
                    "plan + query": timed(plan, repeats),
                    "exact plan + query": timed(exact, repeats),
                    "check each (decision_table)": timed(check, reps),
                }
                if url is not None:
                    fl = floor_path(db, url)
                    assert fl() == n  # every row was sent for a check, as check-each decides every row
                    result["check each, remote-PDP floor"] = timed(fl, max(1, reps // 2) if n > 100_000 else reps)
                    fl.client.close()  # type: ignore[attr-defined]
                db.dispose()
            out["sizes"][n] = result
            line = ", ".join(f"{k} {v['median']:.2f} ms" for k, v in result.items())
            print(f"  {n:>9,} rows: {line}", flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
    out["load_end"] = os.getloadavg()
    return out


def report(data: Dict[str, Any]) -> List[str]:
    """Markdown lines: the table and the target."""
    lines = [
        "| rows | plan + query, ms | exact plan + query, ms | check each (decision_table), ms | × plan"
        " | remote-PDP floor for the checks, ms | × plan |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, r in data["sizes"].items():
        p = r["plan + query"]
        x = r.get("exact plan + query")
        exact = f"{x['median']:.2f} ({x['min']:.2f})" if x else "–"
        c = r["check each (decision_table)"]
        f: Optional[Dict[str, float]] = r.get("check each, remote-PDP floor")
        floor = f"{f['median']:.1f} ({f['min']:.1f}) | {f['median'] / p['median']:,.0f}×" if f else "– | –"
        lines.append(
            f"| {int(n):,} | {p['median']:.2f} ({p['min']:.2f}) | {exact} | {c['median']:.1f} ({c['min']:.1f}) |"
            f" {c['median'] / p['median']:,.0f}× | {floor} |"
        )
    mid = data["sizes"].get(100_000) or data["sizes"].get("100000")
    if mid:
        ratio = mid["check each (decision_table)"]["median"] / mid["plan + query"]["median"]
        verdict = "met" if ratio >= TARGET else "NOT met"
        lines.append(
            f"\nTarget: plan + query ≥ {TARGET:.0f}× faster than check-each at 100k rows: {ratio:,.0f}×, {verdict}."
        )
    return lines


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-floor", action="store_true", help="skip the remote-PDP floor")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    print(f"load {os.getloadavg()}", flush=True)
    data = run([int(s) for s in args.sizes.split(",")], args.repeats, floor=not args.no_floor)
    print("\n".join(report(data)))
    print(f"load average at start {data['load_start']}, at end {data['load_end']}")
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
