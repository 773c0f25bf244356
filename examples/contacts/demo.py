"""The contacts demo: the decision table of the Cerbos Stytch/Cognito demo apps' /user page.

The demo apps ask a Cerbos PDP, over HTTP, which of read/update/delete each
user may do on two contacts: ``abc123`` (owned by the user) and ``def456``
(owned by someone else). Here the same policy is decided in-process by warden;
the only change from the apps' code is the client::

    # with CerbosClient(host="http://localhost:3592") as c:
    with warden.Client(POLICIES) as c:
        resp = c.check_resources(principal=principal, resources=resource_list)

Run: ``make demo`` (or ``python examples/contacts/demo.py [POLICY_DIR]``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import warden
from warden.models import Principal, Resource, ResourceAction, ResourceList

POLICIES = Path(__file__).resolve().parent / "policies"
ACTIONS = ["read", "update", "delete"]

# (principal id, roles): an admin, the user who owns abc123, and another user
PRINCIPALS = [("alice", {"admin"}), ("bob", {"user"}), ("carol", {"user"})]
OWNER_OF_ABC123 = "bob"


def resource_list() -> ResourceList:
    return ResourceList(
        resources=[
            # owned by the user (bob)
            ResourceAction(Resource("abc123", "contact", attr={"owner_id": OWNER_OF_ABC123}), actions=ACTIONS),
            # owned by someone else
            ResourceAction(Resource("def456", "contact", attr={"owner_id": "other_user_id"}), actions=ACTIONS),
        ]
    )


def decision_table(client: warden.Client) -> list[tuple[str, str, str, str, dict[str, bool]]]:
    rows = []
    resources = resource_list()
    for user_id, roles in PRINCIPALS:
        principal = Principal(user_id, roles=roles, policy_version="20210210")
        resp = client.check_resources(principal=principal, resources=resources).raise_if_failed()
        for entry in resources.resources:
            result = resp.get_resource(entry.resource.id)
            allowed = {action: result.is_allowed(action) for action in ACTIONS}
            rows.append((user_id, ",".join(sorted(roles)), entry.resource.id, entry.resource.attr["owner_id"], allowed))
    return rows


def main(argv: list[str]) -> int:
    policies = Path(argv[1]) if len(argv) > 1 else POLICIES
    with warden.Client(policies) as client:
        rows = decision_table(client)
    try:
        shown = policies.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = policies
    print(f"warden {warden.__version__}: the demo apps' contact policy, from {shown}/")
    print()
    header = f"{'principal':<10} {'roles':<6} {'resource':<9} {'owner_id':<14}" + "".join(f"{a:<8}" for a in ACTIONS)
    print(header)
    print("-" * len(header))
    for user_id, roles, resource_id, owner, allowed in rows:
        cells = "".join(f"{('allow' if allowed[a] else 'deny'):<8}" for a in ACTIONS)
        print(f"{user_id:<10} {roles:<6} {resource_id:<9} {owner:<14}{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
