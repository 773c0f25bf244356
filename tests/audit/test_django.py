"""Django views (``@require``, the test client): decisions and token failures in the decision
log with the request, and the access log."""

from __future__ import annotations

import logging

import pytest
import warden
from django.test import Client
from django.test.utils import override_settings

from tests.django.configuration import CONTACT_POLICIES
from tests.django.conftest import demo_contacts, warden_settings  # noqa: F401 - demo_contacts: a fixture
from tests.web.conftest import bearer

pytestmark = pytest.mark.usefixtures("demo_contacts")


def test_django_decisions_refusals_and_access_log(idp, web_key, stranger_key, caplog):
    entries: list = []
    engine = warden.Engine.from_directory(CONTACT_POLICIES, audit=entries.append)
    config = warden_settings(idp, ENGINE=engine)
    del config["POLICY_DIR"]
    headers = {"HTTP_X_REQUEST_ID": "req-7", "HTTP_USER_AGENT": "django-test"}
    with override_settings(WARDEN=config), caplog.at_level(logging.INFO, logger="warden.access"):
        client = Client()
        ok = client.get("/t/contacts", HTTP_AUTHORIZATION=bearer(web_key, "bob")["Authorization"], **headers)
        assert ok.status_code == 200
        bad = client.get("/t/contacts", HTTP_AUTHORIZATION=bearer(stranger_key, "bob")["Authorization"], **headers)
        assert bad.status_code == 401
    engine.flush_audit()
    decided, refused = entries
    assert decided["peer"] == {"address": "127.0.0.1", "userAgent": "django-test"}
    assert decided["requestContext"] == {"annotations": {"method": "GET", "route": "/t/contacts", "requestId": "req-7"}}
    assert decided["checkResources"]["outputs"][0]["actions"]["read"]["effect"] == "EFFECT_ALLOW"
    assert refused["checkResources"]["error"].startswith("token verification failed")
    lines = [r.warden_access for r in caplog.records if r.name == "warden.access"]
    assert [(x["principal"], x["route"], x["effect"]) for x in lines] == [
        ("bob", "/t/contacts", "EFFECT_ALLOW"),
        ("-", "/t/contacts", "UNAUTHENTICATED"),
    ]
