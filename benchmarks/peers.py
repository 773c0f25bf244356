"""The `contact` policy (examples/contacts/policies/contact.yaml) written for each peer, and
callables that decide one request or a batch with each of them, from the same Python inputs.

Decisions are returned as {(resource_id, action): bool} so that every contender's answers can
be compared with warden's before anything is timed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, List, Tuple

ACTIONS = ["read", "update", "delete"]
CONTACT_POLICIES = Path(__file__).resolve().parents[1] / "examples" / "contacts" / "policies"

# --- Cedar -------------------------------------------------------------------------------
CEDAR_POLICY = """\
permit(principal, action in [Action::"read", Action::"create"], resource is Contact)
when { principal.roles.contains("admin") || principal.roles.contains("user") };

permit(principal, action in [Action::"update", Action::"delete"], resource is Contact)
when { principal.roles.contains("admin") };

permit(principal, action in [Action::"update", Action::"delete"], resource is Contact)
when { principal.roles.contains("user") && resource.owner_id == principal.id };
"""

# --- Polar (oso) -------------------------------------------------------------------------
POLAR_POLICY = """\
allow(actor, action, _resource) if action in ["read", "create"] and ("admin" in actor.roles or "user" in actor.roles);
allow(actor, action, _resource) if action in ["update", "delete"] and "admin" in actor.roles;
allow(actor, action, resource) if action in ["update", "delete"] and "user" in actor.roles and resource.owner_id = actor.id;
"""

# --- Casbin (ABAC: role from the request's subject, condition evaluated per policy line) ---
CASBIN_MODEL = """\
[request_definition]
r = sub, obj, act

[policy_definition]
p = role, act, rule

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && p.role in r.sub.roles && eval(p.rule)
"""
CASBIN_POLICY = """\
p, admin, read, True
p, user, read, True
p, admin, create, True
p, user, create, True
p, admin, update, True
p, admin, delete, True
p, user, update, r.obj.owner_id == r.sub.id
p, user, delete, r.obj.owner_id == r.sub.id
"""


class Attrs(dict):
    """A dict whose keys read as attributes (what casbin's ABAC matcher evaluates against)."""

    __getattr__ = dict.__getitem__


def make_inputs(n_resources: int) -> Tuple[dict, List[dict]]:
    """bob (role user) and n contacts, every other one his."""
    principal = {"id": "bob", "roles": ["user"], "attr": {}}
    resources = [
        {"kind": "contact", "id": f"c{i}", "attr": {"owner_id": "bob" if i % 2 == 0 else f"user{i}"}}
        for i in range(n_resources)
    ]
    return principal, resources


Decider = Callable[[], Dict[Tuple[str, str], bool]]


def warden_deciders(principal: dict, resources: List[dict]) -> Dict[str, Decider]:
    import warden

    engine = warden.Engine.from_directory(str(CONTACT_POLICIES))
    if len(resources) == 1:
        resource = resources[0]

        def single():
            return {(resource["id"], "update"): engine.is_allowed(principal, resource, action="update")}

        return {"warden": single}
    inputs = [{"principal": principal, "resource": r, "actions": ACTIONS} for r in resources]
    ids = [r["id"] for r in resources]

    def table():
        # one principal, many resources, booleans back: the shape the peers' batch calls have
        out = {}
        for rid, row in zip(ids, engine.decision_table(principal, resources, ACTIONS), strict=False):
            for action, allowed in zip(ACTIONS, row, strict=False):
                out[(rid, action)] = allowed
        return out

    def batch():
        out = {}
        for result in engine.check(inputs):
            rid = result["resourceId"]
            for action, effect in result["actions"].items():
                out[(rid, action)] = effect["effect"] == "EFFECT_ALLOW"
        return out

    return {"warden": table, "warden check()": batch}


def cedar_decider(principal: dict, resources: List[dict]) -> Decider:
    import cedarpy

    policies = cedarpy.PolicySet.from_str(CEDAR_POLICY)  # parsed once: the peer at its best
    p_uid = {"type": "User", "id": principal["id"]}

    def entities():
        # built per call from the request's Python data, as warden builds its input per call
        ents = [
            {
                "uid": {"__entity": p_uid},
                "attrs": {"id": principal["id"], "roles": list(principal["roles"])},
                "parents": [],
            }
        ]
        for r in resources:
            ents.append(
                {"uid": {"__entity": {"type": "Contact", "id": r["id"]}}, "attrs": dict(r["attr"]), "parents": []}
            )
        return ents

    if len(resources) == 1:
        r = resources[0]

        def single():
            req = {
                "principal": p_uid,
                "action": {"type": "Action", "id": "update"},
                "resource": {"type": "Contact", "id": r["id"]},
                "context": {},
            }
            res = cedarpy.is_authorized(req, policies, entities())
            return {(r["id"], "update"): res.decision == cedarpy.Decision.Allow}

        return single

    def batch():
        reqs, keys = [], []
        for r in resources:
            for a in ACTIONS:
                reqs.append(
                    {
                        "principal": p_uid,
                        "action": {"type": "Action", "id": a},
                        "resource": {"type": "Contact", "id": r["id"]},
                        "context": {},
                    }
                )
                keys.append((r["id"], a))
        results = cedarpy.is_authorized_batch(reqs, policies, entities())
        return {k: res.decision == cedarpy.Decision.Allow for k, res in zip(keys, results, strict=False)}

    return batch


def oso_decider(principal: dict, resources: List[dict]) -> Decider:
    from oso import Oso

    oso = Oso()
    oso.load_str(POLAR_POLICY)
    if len(resources) == 1:
        r = resources[0]

        def single():
            actor = {"id": principal["id"], "roles": principal["roles"]}
            return {(r["id"], "update"): oso.is_allowed(actor, "update", {"id": r["id"], **r["attr"]})}

        return single

    def batch():  # oso has no batch API: one query per (resource, action)
        actor = {"id": principal["id"], "roles": principal["roles"]}
        out = {}
        for r in resources:
            res = {"id": r["id"], **r["attr"]}
            for a in ACTIONS:
                out[(r["id"], a)] = oso.is_allowed(actor, a, res)
        return out

    return batch


def casbin_decider(principal: dict, resources: List[dict], workdir: str) -> Decider:
    import casbin

    Path(workdir, "model.conf").write_text(CASBIN_MODEL)
    Path(workdir, "policy.csv").write_text(CASBIN_POLICY)
    enforcer = casbin.Enforcer(os.path.join(workdir, "model.conf"), os.path.join(workdir, "policy.csv"))
    if len(resources) == 1:
        r = resources[0]

        def single():
            sub = Attrs(id=principal["id"], roles=principal["roles"])
            return {(r["id"], "update"): enforcer.enforce(sub, Attrs(id=r["id"], **r["attr"]), "update")}

        return single

    def batch():
        sub = Attrs(id=principal["id"], roles=principal["roles"])
        rvals, keys = [], []
        for r in resources:
            obj = Attrs(id=r["id"], **r["attr"])
            for a in ACTIONS:
                rvals.append([sub, obj, a])
                keys.append((r["id"], a))
        return dict(zip(keys, enforcer.batch_enforce(rvals), strict=False))

    return batch


def pdp_floor_decider(principal: dict, resources: List[dict], url: str) -> Tuple[Decider, object]:
    """A pooled httpx.Client POSTing the Cerbos CheckResources request to a loopback server that
    answers at once without deciding (see ``serve_pdp``): the floor of the remote-PDP pattern."""
    import httpx

    client = httpx.Client(base_url=url, timeout=10)
    actions = ["update"] if len(resources) == 1 else ACTIONS
    body = {
        "requestId": "bench",
        "principal": {"id": principal["id"], "roles": principal["roles"], "attr": principal["attr"]},
        "resources": [{"actions": actions, "resource": r} for r in resources],
    }

    def call():
        response = client.post("/api/check/resources", json=body)
        response.raise_for_status()
        out = {}
        for result in response.json()["results"]:
            rid = result["resource"]["id"]
            for action, effect in result["actions"].items():
                out[(rid, action)] = effect == "EFFECT_ALLOW"
        return out

    return call, client


def pdp_answer(body: bytes) -> bytes:
    import json

    request = json.loads(body)
    results = [
        {
            "resource": {"id": r["resource"]["id"], "kind": r["resource"]["kind"]},
            "actions": {a: "EFFECT_ALLOW" for a in r["actions"]},
        }
        for r in request["resources"]
    ]
    return json.dumps({"requestId": request.get("requestId", ""), "results": results}).encode()


def serve_pdp(port: int) -> None:
    """Child process: a minimal asyncio HTTP/1.1 keep-alive server (TCP_NODELAY, one write per
    response) that answers CheckResources at once without deciding (every action EFFECT_ALLOW).

    Not http.server: its handler writes headers and body in separate sends, which with Nagle and
    delayed ACKs stalls a keep-alive client ~40 ms per request, and its thread per connection caps
    it well below what the clients here can send; a stand-in must not be the bottleneck."""
    import asyncio
    import socket

    class PDP(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            self.buf = b""
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def data_received(self, data):
            self.buf += data
            while True:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buf[:end].decode("latin-1").split("\r\n")
                length = 0
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if len(self.buf) < end + 4 + length:
                    return
                body = self.buf[end + 4 : end + 4 + length]
                self.buf = self.buf[end + 4 + length :]
                try:
                    payload, status = pdp_answer(body), b"200 OK"
                except Exception:
                    payload, status = b"{}", b"400 Bad Request"
                self.transport.write(
                    b"HTTP/1.1 "
                    + status
                    + b"\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(payload)).encode()
                    + b"\r\n\r\n"
                    + payload
                )

    async def main():
        server = await asyncio.get_running_loop().create_server(PDP, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()

    asyncio.run(main())
