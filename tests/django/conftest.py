"""Fixtures for the Django tests: Django configured once (tests.django.configuration), the loopback
identity provider of tests/web, ``settings.WARDEN`` per test, a real PostgreSQL server."""

from __future__ import annotations

from typing import Any, Dict, Iterator

import pytest

from tests.django.configuration import CONTACT_POLICIES, configure
from tests.jwt.signing import AUDIENCE, ISSUER
from tests.web.conftest import MAPPING, idp, stranger_key, web_key  # noqa: F401 - fixtures shared with tests/web

configure()

from django.db import connections  # noqa: E402 - after configure()
from django.test.utils import override_settings  # noqa: E402

from tests import postgres  # noqa: E402


def warden_settings(provider: Any, **extra: Any) -> Dict[str, Any]:
    """``settings.WARDEN`` trusting the loopback identity provider, deciding the contact policy."""
    config: Dict[str, Any] = {
        "POLICY_DIR": CONTACT_POLICIES,
        "JWKS_URL": provider.jwks_url,
        "ISSUER": ISSUER,
        "AUDIENCE": AUDIENCE,
        "PRINCIPAL_MAPPER": lambda claims: MAPPING.principal(claims),
    }
    config.update(extra)
    return config


@pytest.fixture
def warden_config(idp) -> Iterator[Dict[str, Any]]:  # noqa: F811 - the fixture imported above
    """``settings.WARDEN`` for the test (the identity provider of tests/web); yields the dict."""
    config = warden_settings(idp)
    with override_settings(WARDEN=config):
        yield config


@pytest.fixture(scope="session")
def postgres_alias() -> Iterator[str]:
    """The ``postgres`` database alias, on a server started for the session (migrated)."""
    try:
        server = postgres.start()
    except postgres.Unavailable as exc:
        pytest.skip(f"PostgreSQL is not available here: {exc}")
    try:
        import psycopg

        with psycopg.connect(host=server.socket_dir, user=server.user, dbname="postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE warden")
        # the connection handler reads this dict when it first connects
        connections["postgres"].settings_dict.update(HOST=server.socket_dir, USER=server.user)
        from django.core.management import call_command

        call_command("migrate", database="postgres", run_syncdb=True, verbosity=0)
        yield "postgres"
    finally:
        connections["postgres"].close()
        server.stop()


@pytest.fixture
def demo_contacts() -> None:
    """The example's contacts (abc123 owned by bob, def456 by carol, ghi789 by alice) and no other."""
    import importlib

    from contactbook.models import Contact

    demo = importlib.import_module("contactbook.migrations.0002_demo_contacts").DEMO
    Contact.objects.all().delete()
    Contact.objects.bulk_create(Contact(id=i, name=n, email=e, owner_id=o) for i, n, e, o in demo)
