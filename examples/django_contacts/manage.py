#!/usr/bin/env python
"""The contacts demo in Django: ``python examples/django_contacts/manage.py migrate && ... runserver``."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contacts_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
