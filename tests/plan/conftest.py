"""Databases for the query-plan tests: SQLite (always) and a PostgreSQL server started for the
session in a temporary directory (skipped, with the reason, where it cannot start)."""

from __future__ import annotations

from typing import Iterator

import pytest

sa = pytest.importorskip("sqlalchemy", reason="warden.sqlalchemy needs SQLAlchemy (the `test` extra installs it)")

from tests.plan.postgres import PostgresServer  # noqa: E402


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server = PostgresServer()
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"PostgreSQL could not be started: {exc}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> Iterator[sa.Engine]:
    """A SQLAlchemy engine on an empty database of each backend."""
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    else:
        engine = sa.create_engine(request.getfixturevalue("postgres_url"))
    try:
        yield engine
    finally:
        engine.dispose()
