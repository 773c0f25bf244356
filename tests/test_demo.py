"""`make demo` prints the demo apps' decision table."""

from __future__ import annotations

import runpy

from tests.conftest import CONTACTS

EXPECTED = {
    # (principal, resource): (read, update, delete)
    ("alice", "abc123"): (True, True, True),
    ("alice", "def456"): (True, True, True),
    ("bob", "abc123"): (True, True, True),
    ("bob", "def456"): (True, False, False),
    ("carol", "abc123"): (True, False, False),
    ("carol", "def456"): (True, False, False),
}


def load_demo():
    return runpy.run_path(str(CONTACTS / "demo.py"), run_name="contacts_demo")


def test_decision_table(contacts_client):
    demo = load_demo()
    rows = demo["decision_table"](contacts_client)
    table = {(user, rid): tuple(allowed[a] for a in demo["ACTIONS"]) for user, _, rid, _, allowed in rows}
    assert table == EXPECTED


def test_demo_prints_the_table(capsys):
    demo = load_demo()
    assert demo["main"](["demo.py"]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines() if line.startswith(("alice", "bob", "carol"))]
    assert len(lines) == 6
    assert lines[3] == ["bob", "user", "def456", "other_user_id", "allow", "deny", "deny"]
