"""``warden.Client``: an in-process drop-in for ``cerbos.sdk.client.CerbosClient``.

Switching an app from a Cerbos PDP to warden changes an import and one
constructor::

    # from cerbos.sdk.client import CerbosClient
    # client = CerbosClient("http://localhost:3592")
    from warden import Client
    client = Client("policies/")

Every decision is taken in-process by the native engine (``warden._core``):
``ClientCore`` reads the models (or dicts) with the PDP's request rules, decides,
and builds the ``CheckResourcesResponse`` models directly, so the client adds
little to the engine's own time (see benchmarks/README.md).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Mapping
from typing import Any, List, Optional, Union

from warden import _core
from warden._planning import plan_resources
from warden.models import (
    AuxData,
    CheckResourcesResponse,
    PlanResourcesResponse,
    Principal,
    Resource,
    ResourceAction,
    ResourceDesc,
    ResourceList,
)

__all__ = ["AsyncClient", "AsyncPrincipalContext", "Client", "PrincipalContext"]

# Request ids: the SDK uses uuid4() per call, which alone costs over a
# microsecond. A per-process random prefix plus a counter is as unique for
# correlating logs.
_ID_PREFIX = str(uuid.uuid4())[:24]
_id_counter = itertools.count(1)


def _new_request_id() -> str:
    return _ID_PREFIX + str(next(_id_counter))


Resources = Union[ResourceList, List[Union[ResourceAction, Mapping]]]


class Client:
    """Decide Cerbos policies in-process, with the API of ``CerbosClient``.

    ``policies`` is a policy directory (loaded like Cerbos's disk store), a
    list of policy texts or dicts, or an already built :class:`warden.Engine`.
    Keyword ``options`` (``globals``, ``lenient_scope_search``,
    ``schema_enforcement``, ``max_resources_per_request``,
    ``max_actions_per_resource``, ...) are passed to the engine when it loads
    policies. ``check_resources`` keeps the PDP's request limits (50 resources,
    50 actions per resource unless configured; ``None`` turns one off).

    Requests are checked as the PDP checks them (ids, roles and actions must
    be non-empty strings) and bad input raises ``TypeError``/``ValueError``
    naming the field (``resources[1].resource.kind: must not be empty``).
    """

    def __init__(self, policies: Union[str, os.PathLike, list, tuple, "_core.Engine"], **options: Any):
        if isinstance(policies, (str, os.PathLike)):
            engine = _core.Engine.from_directory(policies, **options)
        elif isinstance(policies, (list, tuple)):
            engine = _core.Engine.from_policies(list(policies), **options)
        elif isinstance(policies, _core.Engine):
            if options:
                raise TypeError(f"Client: options {sorted(options)} apply only when loading policies, not to an Engine")
            engine = policies
        else:
            raise TypeError(
                "policies: expected a directory path, a list of policies or a warden.Engine, "
                f"got {type(policies).__name__}"
            )
        self._engine: Optional[_core.Engine] = engine
        self._core = _core.ClientCore(engine)
        if type(self).is_allowed is Client.is_allowed:
            # The Rust method itself, bound on the instance (same signature): no Python frame per call.
            self.is_allowed = self._core.is_allowed  # type: ignore[method-assign]

    @property
    def engine(self) -> "_core.Engine":
        """The native engine deciding for this client."""
        if self._engine is None:
            raise RuntimeError("warden.Client is closed")
        return self._engine

    # context manager / lifecycle -------------------------------------------
    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Release the engine; later calls raise ``RuntimeError``."""
        self._engine = None
        self._core.close()

    def is_healthy(self, svc: Optional[str] = None) -> bool:  # noqa: ARG002
        """Always true while open: there is no remote PDP to be unhealthy."""
        return self._engine is not None

    # decisions ---------------------------------------------------------------
    def check_resources(
        self,
        principal: Union[Principal, Mapping],
        resources: Resources,
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> CheckResourcesResponse:
        """Decide every action on every resource; results come in request order."""
        return self._core.check_resources(
            principal, resources, _new_request_id() if request_id is None else request_id, aux_data
        )

    def is_allowed(
        self,
        action: str,
        principal: Union[Principal, Mapping],
        resource: Union[Resource, Mapping],
        request_id: Optional[str] = None,  # noqa: ARG002 (no response to carry it)
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> bool:
        """True iff ``principal`` may perform ``action`` on ``resource``."""
        return self._core.is_allowed(action, principal, resource, request_id, aux_data)

    def plan_resources(
        self,
        actions: Union[str, List[str]],
        principal: Union[Principal, Mapping],
        resource: Union[ResourceDesc, Mapping],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> PlanResourcesResponse:
        """Which resources of ``resource.kind`` ``principal`` may act on with every one of ``actions``:
        Cerbos's query plan, for ``warden.sqlalchemy.get_query`` (or ``cerbos_sqlalchemy``)."""
        return plan_resources(self.engine, actions, principal, resource, request_id, aux_data)

    def with_principal(
        self, principal: Union[Principal, Mapping], aux_data: Union[AuxData, Mapping, None] = None
    ) -> "PrincipalContext":
        """A client bound to one principal (and aux data)."""
        return PrincipalContext(self, principal, aux_data)


class PrincipalContext:
    """A client with the principal and aux data fixed (``Client.with_principal``)."""

    def __init__(
        self, client: Client, principal: Union[Principal, Mapping], aux_data: Union[AuxData, Mapping, None] = None
    ):
        self._client = client
        self._principal = principal
        self._aux_data = aux_data

    def check_resources(self, resources: Resources, request_id: Optional[str] = None) -> CheckResourcesResponse:
        return self._client.check_resources(self._principal, resources, request_id, self._aux_data)

    def is_allowed(self, action: str, resource: Union[Resource, Mapping], request_id: Optional[str] = None) -> bool:
        return self._client._core.is_allowed(action, self._principal, resource, None, self._aux_data)

    def plan_resources(
        self,
        actions: Union[str, List[str]],
        resource: Union[ResourceDesc, Mapping],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> PlanResourcesResponse:
        """The plan for this principal (with its aux data unless ``aux_data`` is given)."""
        aux = self._aux_data if aux_data is None else aux_data
        return self._client.plan_resources(actions, self._principal, resource, request_id, aux)


class AsyncClient:
    """The ``AsyncCerbosClient`` surface over the same in-process engine.

    Decisions take microseconds and do no I/O, so the coroutines complete
    without suspending.
    """

    def __init__(self, policies: Union[str, os.PathLike, list, "_core.Engine"], **options: Any):
        self._client = Client(policies, **options)

    @property
    def engine(self) -> "_core.Engine":
        return self._client.engine

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        self._client.close()

    async def is_healthy(self, svc: Optional[str] = None) -> bool:
        return self._client.is_healthy(svc)

    async def check_resources(
        self,
        principal: Union[Principal, Mapping],
        resources: Resources,
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> CheckResourcesResponse:
        return self._client.check_resources(principal, resources, request_id, aux_data)

    async def is_allowed(
        self,
        action: str,
        principal: Union[Principal, Mapping],
        resource: Union[Resource, Mapping],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> bool:
        return self._client.is_allowed(action, principal, resource, request_id, aux_data)

    async def plan_resources(
        self,
        actions: Union[str, List[str]],
        principal: Union[Principal, Mapping],
        resource: Union[ResourceDesc, Mapping],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> PlanResourcesResponse:
        return self._client.plan_resources(actions, principal, resource, request_id, aux_data)

    def with_principal(
        self, principal: Union[Principal, Mapping], aux_data: Union[AuxData, Mapping, None] = None
    ) -> "AsyncPrincipalContext":
        return AsyncPrincipalContext(self, principal, aux_data)


class AsyncPrincipalContext:
    """``PrincipalContext`` with coroutine methods (``AsyncClient.with_principal``)."""

    def __init__(
        self, client: AsyncClient, principal: Union[Principal, Mapping], aux_data: Union[AuxData, Mapping, None] = None
    ):
        self._context = PrincipalContext(client._client, principal, aux_data)

    async def check_resources(
        self,
        resources: Resources,
        request_id: Optional[str] = None,
    ) -> CheckResourcesResponse:
        return self._context.check_resources(resources, request_id)

    async def is_allowed(
        self, action: str, resource: Union[Resource, Mapping], request_id: Optional[str] = None
    ) -> bool:
        return self._context.is_allowed(action, resource, request_id)

    async def plan_resources(
        self,
        actions: Union[str, List[str]],
        resource: Union[ResourceDesc, Mapping],
        request_id: Optional[str] = None,
        aux_data: Union[AuxData, Mapping, None] = None,
    ) -> PlanResourcesResponse:
        return self._context.plan_resources(actions, resource, request_id, aux_data)
