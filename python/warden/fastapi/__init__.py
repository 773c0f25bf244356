"""FastAPI integration: one object, a few dependencies, every check in-process.

::

    from fastapi import Depends, FastAPI
    import warden
    from warden.fastapi import Warden

    verifier = warden.JWTVerifier.okta("https://example.okta.com/oauth2/default", "api://default")
    authz = Warden(warden.Client("policies/"), verifier)
    app = FastAPI()

    @app.get("/orders/{order_id}")
    async def read_order(order=Depends(authz.load("read", "order", load_order))):
        ...

``Depends(authz.principal)`` gives the verified :class:`warden.Principal`;
``Depends(authz.require(action, kind, resource=...))`` also decides the policy and
gives the principal; ``Depends(authz.load(action, kind, loader))`` loads, checks and
gives the loaded object; ``Depends(authz.decisions(...))`` a page's decision table;
``Depends(authz.plan(kind, action))`` the caller's query plan, for a list endpoint.
With a :class:`warden.Rego` as the authorizer (or ``rego=``),
``Depends(authz.require_rule("data.demoapi.authz.allow"))`` decides a Rego rule on
the input an OPA-calling app posts (``{"method", "api", "jwt": {"tokenValue"}}``).
Answers follow RFC 6750: no token gives 401 with ``WWW-Authenticate: Bearer``, a
refused token 401 with ``error="invalid_token"``, a principal who is denied 403
(with ``error="insufficient_scope"`` when required OAuth scopes are missing). Browser
routes can redirect to a login page instead of answering 401.

Token checks go through the verifier's ``verify_async``, so a JWKS fetch or an
introspection call never blocks the event loop; decisions take microseconds and
run inline.

The pieces, one job each: ``_authentication`` (token sources, verification, principal
mapping, the per-request result and its refusals), ``_token_cache``, ``_policy`` (the
resource and the Cerbos decision), ``_requirements`` (the ``require``/``load``
dependencies and their base, :class:`Guard`), ``_rules`` (``require_rule``),
``_decisions`` (decision tables), ``_plans`` (query plans), ``_openapi`` (the security scheme) and ``_warden``
(:class:`Warden`, which wires them). What Flask shares with FastAPI is in
:mod:`warden._web`.
"""

from warden._web import token_scopes
from warden.fastapi._authentication import PrincipalDependency
from warden.fastapi._decisions import DecisionTable
from warden.fastapi._plans import PlanRequirement
from warden.fastapi._policy import resource_of
from warden.fastapi._requirements import Guard, LoadRequirement, PolicyGuard, Requirement
from warden.fastapi._rules import RuleRequirement
from warden.fastapi._warden import Warden

__all__ = [
    "DecisionTable",
    "Guard",
    "LoadRequirement",
    "PlanRequirement",
    "PolicyGuard",
    "PrincipalDependency",
    "Requirement",
    "RuleRequirement",
    "Warden",
    "resource_of",
    "token_scopes",
]
