"""WSGI entry point: ``gunicorn contacts_site.wsgi`` (from examples/django_contacts)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contacts_site.settings")
application = get_wsgi_application()
