"""Safe reload: a policy set swaps in only when it compiles completely; the last good set keeps serving."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from warden import Engine
from warden.errors import PolicyError

TEMPLATE = """\
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - actions: ["read"]
      roles: ["user"]
      effect: {effect}
    - actions: ["write"]
      roles: ["user"]
      effect: {effect}
"""

BROKEN = TEMPLATE.replace("effect: {effect}", "effect: EFFECT_MAYBE", 1)

INPUT = {
    "principal": {"id": "u1", "roles": ["user"]},
    "resource": {"kind": "doc", "id": "d1"},
    "actions": ["read", "write"],
}


def write(path, text):
    # Write-then-rename so a reader never sees a half-written file; the engine must cope either way.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def effects(engine):
    out = engine.check([INPUT])[0]["actions"]
    return out["read"]["effect"], out["write"]["effect"]


def test_broken_reload_raises_and_keeps_serving(tmp_path):
    policy = tmp_path / "doc.yaml"
    policy.write_text(TEMPLATE.format(effect="EFFECT_ALLOW"))
    engine = Engine.from_directory(tmp_path)
    assert effects(engine) == ("EFFECT_ALLOW", "EFFECT_ALLOW")

    policy.write_text(BROKEN.format(effect="EFFECT_DENY"))
    with pytest.raises(PolicyError) as err:
        engine.reload()
    (problem,) = err.value.errors
    assert problem["file"] == "doc.yaml"
    assert problem["line"] == 8
    assert "EFFECT_MAYBE" in problem["message"]
    assert effects(engine) == ("EFFECT_ALLOW", "EFFECT_ALLOW")

    policy.write_text(TEMPLATE.format(effect="EFFECT_DENY"))
    engine.reload()
    assert effects(engine) == ("EFFECT_DENY", "EFFECT_DENY")


def test_decisions_during_reloads_come_from_complete_sets(tmp_path):
    """A thread decides continuously while the directory goes valid -> broken -> valid."""
    policy = tmp_path / "doc.yaml"
    policy.write_text(TEMPLATE.format(effect="EFFECT_ALLOW"))
    engine = Engine.from_directory(tmp_path)
    seen: set[tuple[str, str]] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def hammer():
        deadline = time.monotonic() + 20  # bounded even if the main thread fails
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                seen.add(effects(engine))
            except BaseException as e:  # noqa: BLE001 - any error is a failure of the test
                errors.append(e)
                return

    t = threading.Thread(target=hammer)
    t.start()
    try:
        for effect in ["EFFECT_DENY", "EFFECT_ALLOW"] * 10:
            write(policy, BROKEN.format(effect=effect))
            with pytest.raises(PolicyError):
                engine.reload()
            write(policy, TEMPLATE.format(effect=effect))
            engine.reload()
    finally:
        stop.set()
        t.join()
    assert not errors
    # Both rules always agree within one policy set: a mixed pair would mean a half-loaded set.
    assert seen <= {("EFFECT_ALLOW", "EFFECT_ALLOW"), ("EFFECT_DENY", "EFFECT_DENY")}
    assert len(seen) == 2


def test_watch_reloads_and_logs_broken_sets(tmp_path, caplog):
    policy = tmp_path / "doc.yaml"
    policy.write_text(TEMPLATE.format(effect="EFFECT_ALLOW"))
    engine = Engine.from_directory(tmp_path, watch=True)
    caplog.set_level(logging.INFO, logger="warden")

    def wait_for(pred, what):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if pred():
                return
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}")

    write(policy, TEMPLATE.format(effect="EFFECT_DENY"))
    wait_for(lambda: effects(engine) == ("EFFECT_DENY", "EFFECT_DENY"), "the watch to reload")

    write(policy, BROKEN.format(effect="EFFECT_ALLOW"))
    wait_for(lambda: any(r.levelno == logging.ERROR for r in caplog.records), "the broken set to be logged")
    assert effects(engine) == ("EFFECT_DENY", "EFFECT_DENY")
    assert "doc.yaml:8" in "\n".join(r.getMessage() for r in caplog.records)


def test_engine_shared_across_threads_releases_the_gil(contacts_policies):
    engine = Engine.from_directory(contacts_policies)
    batch = [
        {
            "principal": {"id": "u1", "roles": ["user"]},
            "resource": {"kind": "contact", "id": str(i), "attr": {"owner_id": "u1"}},
            "actions": ["read", "update", "delete"],
        }
        for i in range(50)
    ]
    results: list[list[dict]] = []

    def run():
        for _ in range(5):
            results.append(engine.check(batch))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 20
    assert all(r == results[0] for r in results)
