"""``warden.sqlalchemy.get_query`` on real databases against the engine, row by row.

For the conformance store's policies, the examples' policies and warden's operator policy
(tests/plan/policies), several principals each, both NULL conventions, on SQLite and PostgreSQL
(seeded rows: the same every run; see tests/plan/differential.py):

* the query returns exactly the rows the plan admits: its condition written back as CEL and
  decided by the engine (zero mismatches: the translation is exact);
* the plan never admits a row ``Engine.check`` denies;
* where ``check`` allows a row the plan excludes, the engine's own trace shows one of the two ways
  Cerbos's planner parts from its engine, which warden keeps (docs/list-endpoints.md): a condition
  leaf that failed under a negation, or a DENY of one role beside an ALLOW of another.
"""

from __future__ import annotations

import pytest

from tests.plan import suites
from tests.plan.differential import LEAF_FAILED, ROLES_APART, Outcome, run_suite

SEED = 20240116


def _check(outcome: Outcome, name: str, minimum: int) -> None:
    summary = (
        f"{name}: {outcome.cases} cases, {outcome.compared} row comparisons, {outcome.exact_with_check} equal to"
        f" check, plan narrower than check on {sum(outcome.plan_gaps.values())} rows {outcome.plan_gaps}"
    )
    print(summary)
    assert not outcome.mismatches, "the query differs from the plan:\n" + "\n".join(outcome.mismatches[:10])
    assert not outcome.plan_over, "the plan admits rows check denies:\n" + "\n".join(outcome.plan_over[:10])
    assert not outcome.plan_unexplained, "check allows, the plan excludes:\n" + "\n".join(outcome.plan_unexplained[:10])
    assert set(outcome.plan_gaps) <= {LEAF_FAILED, ROLES_APART}
    assert outcome.compared >= minimum, summary


def test_conformance_store(database):
    from tests.conformance.cerbos_data import require_testdata

    require_testdata()
    outcome = run_suite(suites.conformance(), database, SEED)
    # the only plans refused: two-variable comprehensions (`deps.all(k, v, ...)` over a map attribute)
    assert outcome.refusals, "the conformance store has two-variable comprehensions"
    for case, message in outcome.refusals.items():
        assert "two-variable comprehensions" in message or "one-variable lambda" in message, (case, message)
    _check(outcome, "conformance", 50_000)


@pytest.mark.parametrize("name", [s.name for s in suites.examples()])
def test_examples(database, name):
    suite = next(s for s in suites.examples() if s.name == name)
    outcome = run_suite(suite, database, SEED)
    assert not outcome.refusals
    assert not outcome.plan_gaps  # the examples' conditions cannot fail on a row
    _check(outcome, name, 1_000)


def test_operators(database):
    outcome = run_suite(suites.operators(), database, SEED)
    assert not outcome.refusals, outcome.refusals
    _check(outcome, "operators", 20_000)
