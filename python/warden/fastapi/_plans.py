"""``authz.plan(kind, action)``: the caller's query plan, for a list endpoint filtered in the database.

The dependency authenticates the caller (401, or 303 to the login page, as ``require``),
checks the OAuth scopes, and gives the Cerbos SDK's ``PlanResourcesResponse``:
``warden.sqlalchemy.get_query(plan, Model, attr_map)`` (an exact plan: ``cerbos_sqlalchemy`` does not read it)
turns it into the query. A plan admitting nothing is an empty list, not a refusal.
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional

from fastapi import Request

from warden._planning import plan_for
from warden._web import ScopeRequirement
from warden.fastapi._authentication import PrincipalDependency
from warden.fastapi._requirements import Guard
from warden.models import PlanResourcesResponse, Principal


class PlanRequirement(Guard):
    """The dependency ``authz.plan(kind, action)`` returns (see :meth:`warden.fastapi.Warden.plan`)."""

    def __init__(
        self,
        principal: PrincipalDependency,
        scopes: ScopeRequirement,
        engine: Any,
        kind: str,
        actions: List[str],
        resource: Mapping[str, Any],
        aux_data: Optional[Mapping[str, Any]],
        presence_tests: bool = False,
    ) -> None:
        super().__init__(principal, scopes)
        self.presence_tests = presence_tests
        self.engine = engine
        self.kind = kind
        self.actions = actions
        self.resource = dict(resource)
        self.aux_data = None if aux_data is None else dict(aux_data)

    async def __call__(self, request: Request, scoped: Optional[Principal] = None) -> PlanResourcesResponse:
        state = await self.authenticator.authenticated(request, self.login_url)
        self._check_any_scopes(state)
        return plan_for(
            self.engine,
            state.principal,
            self.kind,
            self.actions,
            aux_data=self.aux_data,
            presence_tests=self.presence_tests,
            **self.resource,
        )

    def __repr__(self) -> str:
        return f"PlanRequirement(kind={self.kind!r}, actions={self.actions!r}, scopes={list(self.scopes.all_of)!r})"
