"""ASGI entry point: ``uvicorn contacts_site.asgi:application`` (from examples/django_contacts)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contacts_site.settings")
application = get_asgi_application()
