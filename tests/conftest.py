"""Shared fixtures for warden's Python tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTACTS = REPO_ROOT / "examples" / "contacts"


@pytest.fixture(scope="session")
def contacts_policies() -> Path:
    return CONTACTS / "policies"


@pytest.fixture(scope="session")
def contacts_client(contacts_policies):
    import warden

    with warden.Client(contacts_policies) as client:
        yield client
