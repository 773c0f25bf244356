"""Databases for the query-plan tests: SQLite (always) and a PostgreSQL server started for the
session in a temporary directory by ``tests.postgres`` (ICU ``en-US`` collation where the server
has ICU, so ordering by code point is really tested; skipped, with the reason, where it cannot start)."""

from __future__ import annotations

from typing import Iterator

import pytest

sa = pytest.importorskip("sqlalchemy", reason="warden.sqlalchemy needs SQLAlchemy (the `test` extra installs it)")

from tests import postgres  # noqa: E402


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        server = postgres.start()
    except (RuntimeError, OSError) as exc:  # Unavailable is a RuntimeError
        pytest.skip(f"PostgreSQL could not be started: {exc}")
    try:
        yield f"postgresql+psycopg://{server.user}@/postgres?host={server.socket_dir}"
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
