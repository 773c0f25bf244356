"""``warden.sqlalchemy.get_query`` on real databases against the engine, row by row.

For the conformance store's policies, the examples' policies and warden's operator policy
(tests/plan/policies), several principals each, both NULL conventions, on SQLite and PostgreSQL
(seeded rows: the same every run; see tests/plan/differential.py):

* exact plans (``Engine.plan_resources(exact=True)``, what the list helpers use): the rows the
  query returns are the rows ``Engine.check`` allows, and so are the rows the plan admits by the
  engine: zero mismatches;
* Cerbos's plans: the query returns exactly the rows the plan admits (its condition written back as
  CEL and decided by the engine; zero mismatches: the translation is exact); the plan never admits a
  row ``check`` denies; where ``check`` allows a row the plan excludes, the engine's own trace
  shows one of the two ways Cerbos's planner parts from its engine (docs/list-endpoints.md): a
  condition leaf that failed under a negation, or a DENY of one role beside an ALLOW of another.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.plan import suites
from tests.plan.differential import LEAF_FAILED, ROLES_APART, Outcome, run_suite

SEED = 20240116
# Where the upstream adapter (cerbos-sqlalchemy, pinned in the `test` extra) fed with the same plans
# and rows differs from warden's: recorded per backend and suite, and listed in docs/list-endpoints.md.
# WARDEN_RECORD_UPSTREAM=1 rewrites the record (then review the diff and the docs' table).
UPSTREAM_RECORD = Path(__file__).with_name("upstream_differences.json")

try:
    from cerbos_sqlalchemy import get_query as upstream_get_query
except ImportError:  # the `test` extra installs it; without it the comparison is not made
    upstream_get_query = None


def _run(suite, database) -> Outcome:
    return run_suite(suite, database, SEED, upstream=upstream_get_query)


def _check_upstream(outcome: Outcome, database, name: str) -> None:
    if upstream_get_query is None:
        return
    got = {case: kind for case, (kind, _text, _plan) in sorted(outcome.upstream.items())}
    record = json.loads(UPSTREAM_RECORD.read_text()) if UPSTREAM_RECORD.exists() else {}
    backend = database.dialect.name
    if os.environ.get("WARDEN_RECORD_UPSTREAM"):
        record.setdefault(backend, {})[name] = got
        UPSTREAM_RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        return
    want = record.get(backend, {}).get(name)
    assert want is not None, f"no record of cerbos-sqlalchemy on {backend}/{name}: run with WARDEN_RECORD_UPSTREAM=1"
    changed = {k: (want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)}
    assert not changed, f"cerbos-sqlalchemy differs from the record (recorded, now): {changed}"


def _check(outcome: Outcome, name: str, minimum: int) -> None:
    summary = (
        f"{name}: {outcome.cases} cases, {outcome.compared} row comparisons, {outcome.exact_with_check} equal to"
        f" check, plan narrower than check on {sum(outcome.plan_gaps.values())} rows {outcome.plan_gaps};"
        f" exact plans: {outcome.exact_compared} row comparisons, {len(outcome.exact_mismatches)} mismatches"
    )
    print(summary)
    assert not outcome.exact_differs, "the exact plan differs from check:\n" + "\n".join(outcome.exact_differs[:10])
    assert not outcome.exact_mismatches, "the exact query differs from check:\n" + "\n".join(
        outcome.exact_mismatches[:10]
    )
    assert set(outcome.exact_refusals) == set(outcome.refusals), (outcome.exact_refusals, outcome.refusals)
    assert outcome.exact_compared == outcome.compared, summary
    assert not outcome.mismatches, "the query differs from the plan:\n" + "\n".join(outcome.mismatches[:10])
    assert not outcome.plan_over, "the plan admits rows check denies:\n" + "\n".join(outcome.plan_over[:10])
    assert not outcome.plan_unexplained, "check allows, the plan excludes:\n" + "\n".join(outcome.plan_unexplained[:10])
    assert set(outcome.plan_gaps) <= {LEAF_FAILED, ROLES_APART}
    assert outcome.compared >= minimum, summary


def test_conformance_store(database):
    from tests.conformance.cerbos_data import require_testdata

    require_testdata()
    outcome = _run(suites.conformance(), database)
    # the only plans refused: two-variable comprehensions (`deps.all(k, v, ...)` over a map attribute)
    assert outcome.refusals, "the conformance store has two-variable comprehensions"
    for case, message in outcome.refusals.items():
        assert "two-variable comprehensions" in message, (case, message)
    _check(outcome, "conformance", 50_000)
    _check_upstream(outcome, database, "conformance")


@pytest.mark.parametrize("name", [s.name for s in suites.examples()])
def test_examples(database, name):
    suite = next(s for s in suites.examples() if s.name == name)
    outcome = _run(suite, database)
    assert not outcome.refusals
    assert not outcome.plan_gaps  # the examples' conditions cannot fail on a row
    _check(outcome, name, 1_000)
    _check_upstream(outcome, database, name)


def test_operators(database):
    outcome = _run(suites.operators(), database)
    assert not outcome.refusals, outcome.refusals
    _check(outcome, "operators", 20_000)
    _check_upstream(outcome, database, "operators")
