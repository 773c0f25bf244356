"""Settings of the contacts demo in Django (development settings: DEBUG on, SQLite, a local issuer).

Tokens come from an identity provider: set ``CONTACTS_ISSUER`` (and ``CONTACTS_AUDIENCE``) for a
real OpenID Connect provider (keys found by discovery); without it, a development issuer on
127.0.0.1 (``warden.devissuer``) mints tokens for the demo's users on the sign-in page.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# the contacts demo's policy, shared with the FastAPI version (examples/contacts)
POLICIES = BASE_DIR.parent / "contacts" / "policies"
AUDIENCE = os.environ.get("CONTACTS_AUDIENCE", "api://contacts")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "django-insecure-contacts-demo-only"
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
    "warden.django",
    "contactbook",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "warden.django.middleware.WardenMiddleware",
]

ROOT_URLCONF = "contacts_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
WSGI_APPLICATION = "contacts_site.wsgi.application"
ASGI_APPLICATION = "contacts_site.asgi.application"

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("CONTACTS_DB", BASE_DIR / "db.sqlite3")}
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
LOGIN_URL = "/"

if os.environ.get("CONTACTS_ISSUER"):
    _verification = {"ISSUER": os.environ["CONTACTS_ISSUER"], "AUDIENCE": AUDIENCE}
else:
    from contactbook.devauth import issuer  # the development issuer, started on 127.0.0.1

    _verification = {"ISSUER": issuer.issuer, "JWKS_URL": issuer.jwks_url, "AUDIENCE": AUDIENCE}

WARDEN = {
    "POLICY_DIR": POLICIES,
    **_verification,
    "SESSION_KEY": "access_token",  # the pages keep the signed-in user's token in the session
    "REALM": "contacts",
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["warden.django.rest_framework.WardenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["warden.django.rest_framework.WardenPermission"],
    "DEFAULT_FILTER_BACKENDS": ["warden.django.rest_framework.WardenFilterBackend"],
}
