"""System checks of settings.WARDEN: each misconfiguration is an error naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test.utils import override_settings
from warden.django.conf import SettingError, runtime

from tests.django.conftest import warden_settings

OK = {"POLICY_DIR": str(Path(__file__).resolve().parents[2] / "examples" / "contacts" / "policies"), "ISSUER": "https://idp.example.com", "AUDIENCE": "api://x"}  # fmt: skip
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
WARDEN_MIDDLEWARE = "warden.django.middleware.WardenMiddleware"


def warden_errors(**settings) -> list:
    with override_settings(**settings):
        return [m for m in checks.run_checks(tags=["warden"]) if m.id.startswith("warden.")]


def only(errors: list) -> checks.CheckMessage:
    assert len(errors) == 1, [f"{e.id}: {e.msg}" for e in errors]
    return errors[0]


def test_a_valid_configuration_passes_and_is_kept_for_requests():
    assert warden_errors(WARDEN=OK) == []
    with override_settings(WARDEN=OK):
        first = runtime()
        assert runtime() is first  # built once: the checks' engine serves the first request
        assert first.engine.is_allowed({"id": "a", "roles": ["admin"]}, {"kind": "contact", "id": "1"}, action="delete")


@pytest.mark.parametrize(
    ("config", "check_id", "named"),
    [
        (None, "warden.E001", "settings.WARDEN is not set"),
        (["POLICY_DIR"], "warden.E001", "settings.WARDEN must be a dict"),
        ({**OK, "ISUER": "x"}, "warden.E002", 'settings.WARDEN["ISUER"]'),
        ({**OK, "HEADER": "yes"}, "warden.E003", 'settings.WARDEN["HEADER"]'),
        ({**OK, "AUDIENCE": 3}, "warden.E003", 'settings.WARDEN["AUDIENCE"]'),
        ({**OK, "COOKIE": ""}, "warden.E003", 'settings.WARDEN["COOKIE"]'),
        ({**OK, "ENGINE_OPTIONS": {"strict": True}}, "warden.E003", 'settings.WARDEN["ENGINE_OPTIONS"]'),
        ({k: v for k, v in OK.items() if k != "POLICY_DIR"}, "warden.E004", 'settings.WARDEN["POLICY_DIR"] is not set'),
        ({**OK, "POLICY_DIR": "/nonexistent/policies"}, "warden.E005", 'settings.WARDEN["POLICY_DIR"]'),
        ({"POLICY_DIR": OK["POLICY_DIR"]}, "warden.E006", "configures no token verification"),
        ({**OK, "TOKENINFO_URL": "https://idp.example.com/tokeninfo"}, "warden.E007", 'settings.WARDEN["TOKENINFO_URL"]'),
        ({**OK, "ISSUER": None, "INTROSPECTION_URL": "https://idp/introspect"}, "warden.E008", "needs CLIENT_ID and CLIENT_SECRET"),
        ({**OK, "ISSUER": None, "PRESET": {"name": "auth0"}}, "warden.E008", 'settings.WARDEN["PRESET"]'),
        ({**OK, "ISSUER": None, "PRESET": {"name": "okta", "issuer": "https://x.okta.com"}}, "warden.E008", "the 'okta' preset"),
        ({**OK, "ISSUER": None, "PRESET": {"name": "cognito", "region": "mars", "user_pool_id": "p", "client_id": "c"}}, "warden.E008", "region"),
        ({**OK, "ISSUER": None, "JWKS_URL": "ftp://keys"}, "warden.E008", 'settings.WARDEN["JWKS_URL"]'),
        ({**OK, "PRINCIPAL_MAPPER": "no.such.module.mapper"}, "warden.E009", 'settings.WARDEN["PRINCIPAL_MAPPER"]'),
        ({**OK, "HEADER": False}, "warden.E011", "no token source"),
    ],
)  # fmt: skip
def test_each_misconfiguration_is_an_error_naming_the_setting(config, check_id, named):
    error = only(warden_errors(WARDEN=config))
    assert error.id == check_id
    assert named in error.msg
    with override_settings(WARDEN=config), pytest.raises(ImproperlyConfigured, match=check_id):
        runtime()  # the first request would fail the same way


def test_a_policy_that_does_not_compile_is_reported_with_its_file_and_line(tmp_path):
    (tmp_path / "broken.yaml").write_text(
        "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  version: default\n  resource: doc\n  rules:\n"
        "    - actions: [read]\n      effect: EFFECT_ALLOW\n      roles: [user]\n"
        "      condition: {match: {expr: 'R.attr.x =='}}\n"
    )
    error = only(warden_errors(WARDEN={**OK, "POLICY_DIR": str(tmp_path)}))
    assert error.id == "warden.E005"
    assert 'settings.WARDEN["POLICY_DIR"]' in error.msg and "broken.yaml:9" in error.msg


def test_session_key_needs_sessions_before_the_middleware():
    config = {**OK, "SESSION_KEY": "token"}
    assert warden_errors(WARDEN=config) == []
    error = only(warden_errors(WARDEN=config, MIDDLEWARE=[WARDEN_MIDDLEWARE, SESSIONS]))
    assert error.id == "warden.E010" and "SESSION_KEY" in error.msg
    apps = ["django.contrib.contenttypes", "rest_framework", "warden.django", "contactbook", "tests.django.plans"]
    with override_settings(INSTALLED_APPS=apps, WARDEN=config):
        errors = [m for m in checks.run_checks(tags=["warden"]) if m.id == "warden.E010"]
    assert errors and "django.contrib.sessions" in (errors[0].hint or "")


def test_manage_py_check_fails_on_a_misconfiguration():
    with (
        override_settings(WARDEN={**OK, "ISUER": "typo"}),
        pytest.raises(SystemCheckError, match="did you mean 'ISSUER'"),
    ):
        call_command("check", tags=["warden"])


def test_setting_errors_carry_the_problem():
    with override_settings(WARDEN={**OK, "POLICY_DIR": None}), pytest.raises(SettingError) as caught:
        runtime()
    assert caught.value.problem.key == "POLICY_DIR"


def test_the_test_settings_pass(idp):
    assert warden_errors(WARDEN=warden_settings(idp)) == []
