"""The AuthZEN Authorization API 1.0 (OpenID Foundation) on the Cerbos engine: a PDP for services in any language.

::

    import warden
    from warden import authzen

    engine = warden.Engine.from_directory("policies")
    authzen.evaluation(engine, {
        "subject": {"type": "user", "id": "alice", "properties": {"cerbos.roles": ["admin"]}},
        "resource": {"type": "contact", "id": "abc123", "properties": {"owner_id": "bob"}},
        "action": {"name": "update"},
    })                                                        # {"decision": True}

- :func:`evaluation` and :func:`evaluations` take and return the JSON bodies of the Access
  Evaluation and Access Evaluations APIs (``_evaluate``), mapped onto Cerbos's requests the way
  Cerbos maps them (``_requests``: ``cerbos.roles``, ``cerbos.policyVersion``, ``cerbos.scope``,
  ``cerbos.requestId``, ``cerbos.auxData``, ``cerbos.includeMeta``);
- :func:`search_subject`, :func:`search_resource`, :func:`search_action` answer the Search APIs
  from the entities an application registers in :class:`Sources` (``_search``);
- :func:`app` serves them all as an ASGI app (``_app``; needs Starlette: ``pip install
  'warden-authz[authzen]'``).

Malformed requests raise :class:`AuthZENError` (``status`` 400) naming the field.
"""

from warden.authzen._evaluate import SEMANTICS, evaluation, evaluations
from warden.authzen._requests import AuthZENError
from warden.authzen._search import (
    ResourceSource,
    Sources,
    SubjectList,
    SubjectSource,
    policy_actions,
    search_action,
    search_resource,
    search_subject,
)

__all__ = [
    "SEMANTICS",
    "AuthZENError",
    "ResourceSource",
    "Sources",
    "SubjectList",
    "SubjectSource",
    "app",
    "evaluation",
    "evaluations",
    "policy_actions",
    "search_action",
    "search_resource",
    "search_subject",
]


def app(engine, **options):  # type: ignore[no-untyped-def]
    """The ASGI app serving the API (see :func:`warden.authzen._app.app`; imported on use: it needs Starlette)."""
    from warden.authzen._app import app as make

    return make(engine, **options)
