"""Cerbos's own AuthZEN server test cases (tests/authzen/cerbos, from cerbos/cerbos): the same
requests give the same responses, ``cerbos.response`` included."""

from __future__ import annotations

from pathlib import Path

import pytest
import warden
import yaml
from warden import authzen

from tests.shared_data import require_shared

TESTDATA = require_shared("conformance", "cerbos", "internal", "test", "testdata")
CASES = sorted((Path(__file__).resolve().parent / "cerbos").glob("*.yaml"))


@pytest.fixture(scope="module")
def cerbos_engine() -> warden.Engine:
    # the Cerbos test server's configuration: the store, schemas enforced, the test key set
    return warden.Engine.from_directory(
        TESTDATA / "store",
        globals={"environment": "test"},
        schema_enforcement="reject",
        jwt_keysets={"cerbos": str(TESTDATA / "auxdata" / "keys" / "verify_key.jwk")},
    )


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_cerbos_authzen_case(path, cerbos_engine):
    case = yaml.safe_load(path.read_text())
    if "accessEvaluation" in case:
        spec, answer = case["accessEvaluation"], authzen.evaluation
    else:
        spec, answer = case["accessEvaluationBatch"], authzen.evaluations
    assert case["wantStatus"]["httpStatusCode"] == 200
    assert answer(cerbos_engine, spec["input"]) == spec["wantResponse"]


def test_cases_are_there():
    assert len(CASES) == 8
