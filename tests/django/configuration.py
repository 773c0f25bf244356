"""Django's settings for the tests, configured once per process (Django's settings are global).

Every test using Django shares them: the example app (examples/django_contacts), the differential
test models (``tests.django.plans``) and the views of ``tests.django.views``. ``WARDEN`` is set per
test with ``override_settings`` (the runtime is rebuilt when it changes). Databases: ``default``
is SQLite in a temporary file (shared by the threads of a live server); ``postgres`` points at a
server a fixture starts (``tests.postgres``), its connection details filled in before first use.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "django_contacts"
CONTACT_POLICIES = REPO_ROOT / "examples" / "contacts" / "policies"
PLAN_POLICIES = Path(__file__).resolve().parent / "plans" / "policies"

#: the PostgreSQL alias; its HOST and USER are set by the fixture that starts the server
POSTGRES = {"ENGINE": "django.db.backends.postgresql", "NAME": "warden", "HOST": "", "USER": "", "PORT": "5432"}


def configure() -> None:
    """Configure Django for the tests and set it up (once)."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    if str(EXAMPLE) not in sys.path:
        sys.path.insert(0, str(EXAMPLE))  # the example's app (contactbook) and project packages
    directory = Path(tempfile.mkdtemp(prefix="warden-django-"))
    settings.configure(
        DEBUG=False,
        SECRET_KEY="warden-tests",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "rest_framework",
            "warden.django",
            "contactbook",
            "tests.django.plans",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "warden.django.middleware.WardenMiddleware",
        ],
        ROOT_URLCONF="tests.django.urls",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
            }
        ],
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(directory / "db.sqlite3")},
            "postgres": dict(POSTGRES),
        },
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        LOGIN_URL="/sign-in",
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": ["warden.django.rest_framework.WardenAuthentication"],
            "DEFAULT_PERMISSION_CLASSES": ["warden.django.rest_framework.WardenPermission"],
            "DEFAULT_FILTER_BACKENDS": ["warden.django.rest_framework.WardenFilterBackend"],
        },
        WARDEN=None,
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)
