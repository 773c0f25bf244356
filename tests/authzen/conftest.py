"""Fixtures for the AuthZEN tests: the certification fixture (policies, records in a database,
subjects), the PDP under uvicorn on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.django.configuration import configure

configure()  # the records live in a Django model (the resource search filters them by the plan)

import warden  # noqa: E402
from warden.authzen import Sources, app  # noqa: E402
from warden.django.search import QuerySetResources  # noqa: E402

from tests.django.plans.models import Record  # noqa: E402
from tests.web.conftest import uvicorn_server  # noqa: E402

POLICIES = Path(__file__).resolve().parent / "policies"


@pytest.fixture(scope="session")
def engine() -> warden.Engine:
    return warden.Engine.from_directory(POLICIES)


@pytest.fixture
def records() -> None:
    """The certification fixture's resources: record-1 active, record-2 archived (and a few more)."""
    Record.objects.all().delete()
    Record.objects.bulk_create(
        [Record(id="record-1", status="active"), Record(id="record-2", status="archived")]
        + [Record(id=f"record-{i}", status="active" if i % 2 else "archived") for i in range(3, 9)]
    )


@pytest.fixture
def sources(records) -> Sources:
    return Sources(
        actions=POLICIES,  # the action names the policies give
        resources={"record": QuerySetResources(Record.objects.all())},
        subjects={"user": ["alice", {"id": "bob", "properties": {"role": "admin"}}, "carol"]},
    )


@pytest.fixture
def pdp(engine, sources) -> Iterator[str]:
    """The PDP under uvicorn on 127.0.0.1; yields its base URL."""
    with uvicorn_server(app(engine, sources=sources)) as base:
        yield base


from tests.web.conftest import idp, stranger_key, web_key  # noqa: E402, F401 - the identity provider of tests/web
