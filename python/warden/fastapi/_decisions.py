"""Decision tables: several resources × actions decided in one engine call, for a page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from warden.client import Client
from warden.models import CheckResourcesResponse, Principal, Resource, ResourceAction, ResourceList


class DecisionTable(Mapping):
    """The decisions for several resources × actions, taken in one engine call.

    ``table["abc123"]["update"]`` is a bool; ``table.allowed(id, action)`` the same;
    iterating gives resource ids in request order; ``table.response`` is the
    ``CheckResourcesResponse`` (as ``CerbosClient.check_resources`` returns it).
    """

    def __init__(self, response: CheckResourcesResponse, actions: Dict[str, List[str]]) -> None:
        self.response = response
        self._rows: Dict[str, Dict[str, bool]] = {}
        for result in response.results or ():
            rid = result.resource.id
            self._rows[rid] = {a: result.is_allowed(a) for a in actions[rid]}

    def __getitem__(self, resource_id: str) -> Dict[str, bool]:
        return self._rows[resource_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def allowed(self, resource_id: str, action: str) -> bool:
        """True iff ``action`` is allowed on ``resource_id`` (False for anything not asked)."""
        return self._rows.get(resource_id, {}).get(action, False)

    def rows(self) -> List[Tuple[str, Dict[str, bool]]]:
        """``(resource id, {action: allowed})`` in request order."""
        return list(self._rows.items())

    def __repr__(self) -> str:
        return f"DecisionTable({self._rows!r})"


def decide_all(
    client: Client,
    principal: Principal,
    resources: Iterable[Any],
    actions: Sequence[str],
    aux_data: Optional[Mapping[str, Any]],
) -> DecisionTable:
    """The :class:`DecisionTable` of ``resources``: ``Resource`` objects (checked for
    ``actions``), ``(Resource, actions)`` pairs or ``ResourceAction`` objects."""
    resource_list = ResourceList()
    asked: Dict[str, List[str]] = {}
    for i, entry in enumerate(resources):
        if isinstance(entry, ResourceAction):
            target, wanted = entry.resource, list(entry.actions)
        elif isinstance(entry, tuple) and len(entry) == 2:
            target, wanted = entry[0], list(entry[1])
        elif isinstance(entry, Resource):
            target, wanted = entry, list(actions)
        else:
            raise TypeError(
                f"resources[{i}]: expected a Resource, a (Resource, actions) pair or a ResourceAction, got {type(entry).__name__}"
            )
        if not isinstance(target, Resource):
            raise TypeError(f"resources[{i}]: expected a Resource, got {type(target).__name__}")
        if not wanted:
            raise ValueError(f"resources[{i}]: no actions to check (pass actions=...)")
        if target.id in asked:
            raise ValueError(f"resources[{i}]: resource id {target.id!r} appears twice")
        asked[target.id] = wanted
        resource_list.add(target, wanted)
    if not asked:
        raise ValueError("resources: at least one resource is required")
    response = client.check_resources(principal, resource_list, aux_data=aux_data)
    response.raise_if_failed()
    return DecisionTable(response, asked)
