"""The dependency ``authz.require_rule(rule)`` returns: a Rego rule decided in-process."""

from __future__ import annotations

from typing import Any, Optional

from fastapi import HTTPException, Request

from warden._web import RuleInput, ScopeRequirement
from warden.fastapi._authentication import PrincipalDependency
from warden.fastapi._requirements import Guard
from warden.models import Principal
from warden.rego import Rego


class RuleRequirement(Guard):
    """The dependency ``authz.require_rule(rule)`` returns: the Principal, once a Rego rule allows.

    The caller is authenticated first (401 without a valid token, as for every warden
    dependency); then ``rule`` is evaluated on the request's input (``rule_input``), by
    default the one the Okta + OPA apps post to OPA: ``{"method": ..., "api": <path>,
    "jwt": {"tokenValue": <token>}}``. Only ``true`` allows: ``false``, undefined (no
    rule body matched) and a missing input all answer 403.
    """

    def __init__(
        self,
        principal: PrincipalDependency,
        scopes: ScopeRequirement,
        rego: Rego,
        rule: str,
        rule_input: RuleInput,
    ) -> None:
        super().__init__(principal, scopes)
        self.rego = rego
        self.rule = rule
        self.rule_input = rule_input

    async def __call__(self, request: Request, scoped: Optional[Principal] = None) -> Principal:
        state = await self.authenticator.authenticated(request, self.login_url)
        self._check_any_scopes(state)
        document: Any = self.rule_input.document(
            method=request.method,
            path=request.url.path,
            token=state.token,
            request=request,
            claims=state.claims,
            principal=state.principal,  # type: ignore[arg-type]  # authenticated: a principal
        )
        if self.rule_input.is_async:
            document = await document
        if not self.rego.allowed(self.rule, document):
            raise HTTPException(403, f"not allowed by {self.rule}")
        return state.principal  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"RuleRequirement(rule={self.rule!r}, scopes={list(self.scopes.all_of)!r})"
