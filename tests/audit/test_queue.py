"""The bounded queue: a sink held up fills it; then ``drop`` drops and counts, ``block`` waits."""

from __future__ import annotations

import threading
import time

import warden
from warden.audit import AuditOptions

from .conftest import DOC, PRINCIPAL


class HeldSink:
    """A sink that takes nothing until released; counts what it took."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.entries: list = []

    def __call__(self, entry) -> None:
        self.entered.set()
        assert self.release.wait(10)
        self.entries.append(entry)


def test_drop_counts_what_does_not_fit(policies):
    sink = HeldSink()
    engine = warden.Engine.from_directory(policies, audit=AuditOptions(sink, queue_size=3, on_full="drop"))
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    assert sink.entered.wait(10)  # the writer holds the first entry; the queue is empty again
    for _ in range(10):
        assert engine.is_allowed(PRINCIPAL, DOC, action="read")
    stats = engine.audit_stats()
    assert (stats["queued"], stats["dropped"]) == (4, 7)
    sink.release.set()
    assert engine.flush_audit(timeout=10)
    assert len(sink.entries) == 4
    assert engine.audit_stats()["processed"] == 4


def test_block_waits_for_room_and_loses_nothing(policies):
    sink = HeldSink()
    engine = warden.Engine.from_directory(policies, audit=AuditOptions(sink, queue_size=2, on_full="block"))
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    assert sink.entered.wait(10)
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    done = threading.Event()

    def decide_more():
        engine.is_allowed(PRINCIPAL, DOC, action="read")
        done.set()

    t = threading.Thread(target=decide_more)
    t.start()
    assert not done.wait(0.3), "the decision waits while the queue is full"
    sink.release.set()
    t.join(10)
    assert done.is_set()
    assert engine.flush_audit(timeout=10)
    assert len(sink.entries) == 4
    assert engine.audit_stats()["dropped"] == 0


def test_flush_times_out_while_the_sink_is_held(policies):
    sink = HeldSink()
    engine = warden.Engine.from_directory(policies, audit=sink)
    engine.is_allowed(PRINCIPAL, DOC, action="read")
    start = time.monotonic()
    assert engine.flush_audit(timeout=0.2) is False
    assert time.monotonic() - start < 5
    sink.release.set()
    assert engine.flush_audit(timeout=10) is True
