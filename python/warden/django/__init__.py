"""Django and Django REST framework: bearer tokens and Cerbos policies checked in-process.

::

    INSTALLED_APPS = [..., "warden.django"]                     # system checks, {% load warden %}
    MIDDLEWARE = [..., "warden.django.middleware.WardenMiddleware"]   # request.principal
    WARDEN = {"POLICY_DIR": BASE_DIR / "policies", "ISSUER": "https://idp.example.com", "AUDIENCE": "api://contacts"}

The pieces, one job each:

- :mod:`~warden.django.conf`: ``settings.WARDEN`` (its keys, their checks, what they build);
  :mod:`~warden.django.checks` reports misconfigurations as system check errors naming the key;
- :mod:`~warden.django.authentication`: the request's token found, verified and mapped to a
  :class:`warden.Principal` once per request; :mod:`~warden.django.middleware` sets
  ``request.principal``;
- :mod:`~warden.django.policy`: model instances as resources, :func:`is_allowed`,
  :func:`decision_table`; :mod:`~warden.django.decorators`: ``@require`` for function views;
  ``{% allowed %}`` in :mod:`warden.django.templatetags.warden`;
- :mod:`~warden.django.attributes`: which resource attribute is which model field, read one way
  for checks and for list filters; :mod:`~warden.django.query`: query plans as ``Q`` objects
  (:func:`authorized` narrows a queryset);
- :mod:`warden.django.rest_framework`: ``WardenAuthentication``, ``WardenPermission``,
  ``WardenFilterBackend`` (imported on its own, so Django without DRF works).

What FastAPI, Flask and Django share (token sources, RFC 6750 answers, scopes) is in
:mod:`warden._web`; what any query backend shares (a plan's meaning on a row) in
:mod:`warden._planfilter`.
"""

from warden._planfilter import PlanError
from warden.django.attributes import ModelAttributes
from warden.django.authentication import principal_of
from warden.django.decorators import require
from warden.django.policy import decision_table, is_allowed, resource_of
from warden.django.query import authorized, plan_q

__all__ = [
    "ModelAttributes",
    "PlanError",
    "authorized",
    "decision_table",
    "is_allowed",
    "plan_q",
    "principal_of",
    "require",
    "resource_of",
]
