"""Every engine case's ``wantDecisionLogs``, reproduced through the Python API.

Each case of ``engine/*.yaml`` is decided with one ``Engine.check`` call on an engine whose
``audit=`` sink collects entries; after ``flush_audit()`` the single entry must equal the case's
as Cerbos's own test compares them (``internal/engine/engine_test.go``): ``callId``, ``timestamp``
and ``peer`` ignored, empty messages equal to absent ones, roles and derived roles as sets, the
``policySource.disk.directory`` being the store the engine reads.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest
import warden

from tests.conformance.cerbos_data import TESTDATA, case_files, load_case, require_testdata

require_testdata()

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$")


def normalise(v: Any, key: str = "") -> Any:
    """Cerbos's comparison: drop ignored fields and empty values, roles as sorted lists."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if key == "" and k in ("callId", "timestamp", "peer"):
                continue
            x = normalise(x, k)
            if x not in (None, "", {}, []):
                out[k] = x
        return out
    if isinstance(v, list):
        items = [normalise(x, "item") for x in v]
        if key in ("roles", "effectiveDerivedRoles"):
            items.sort(key=repr)
        return items
    return v


@pytest.fixture(scope="module")
def logged():
    entries: list = []
    engine = warden.Engine.from_directory(TESTDATA / "store", globals={"environment": "test"}, audit=entries.append)
    return engine, entries


@pytest.mark.parametrize("name,path", list(case_files("engine")), ids=lambda x: x if isinstance(x, str) else "")
def test_decision_log(logged, name, path):
    engine, entries = logged
    case = load_case(path)
    entries.clear()
    before = datetime.now(timezone.utc)
    engine.check(case["inputs"])
    assert engine.flush_audit(timeout=10)
    assert len(entries) == 1, name
    (have,) = entries
    want = dict(case["wantDecisionLogs"][0])
    want["policySource"] = {"disk": {"directory": str(TESTDATA / "store")}}
    assert normalise(have) == normalise(want)
    assert ULID.match(have["callId"])
    assert RFC3339_UTC.match(have["timestamp"])
    stamp = datetime.fromisoformat(have["timestamp"][:19] + "+00:00")
    assert abs((stamp - before).total_seconds()) < 60
