"""The AuthZEN 1.0 certification scenario (certification/authorization-api-1_0-scenario.md in
github.com/openid/authzen) run over HTTP against ``warden.authzen.app`` under uvicorn on 127.0.0.1,
with the client of ``spec_client`` (written from the specification). Section numbers are the
scenario's. Rules 7 and 8 (a soft or hard delete, told apart by the action's properties) are
outside Cerbos's mapping, which carries no action properties: both deletes are the same "delete"."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.authzen.spec_client import AuthZENClient

ALICE = {"type": "user", "id": "alice"}
BOB = {"type": "user", "id": "bob"}
BOB_ADMIN = {"type": "user", "id": "bob", "properties": {"role": "admin"}}
RECORD_1 = {"type": "record", "id": "record-1"}
RECORD_2_ARCHIVED = {"type": "record", "id": "record-2", "properties": {"status": "archived"}}
READ, WRITE = {"name": "read"}, {"name": "write"}


@pytest.fixture
def client(pdp) -> Iterator[AuthZENClient]:
    client = AuthZENClient(pdp)
    client.discover()
    yield client
    client.close()


def decision(answer) -> bool:
    assert answer.status == 200, answer.body
    return answer.body["decision"]


def decisions(answer) -> list:
    assert answer.status == 200, answer.body
    return [d["decision"] for d in answer.body["evaluations"]]


def names(answer, key="id") -> set:
    assert answer.status == 200, answer.body
    return {r[key] for r in answer.body["results"]}


# --- C.2 Basic ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        ({"subject": ALICE, "action": READ, "resource": RECORD_1}, True),  # C.2.2.1 (rule 1)
        ({"subject": BOB, "action": WRITE, "resource": RECORD_1}, False),  # C.2.2.2 (rule 4)
        ({"subject": ALICE, "action": READ, "resource": RECORD_1, "context": {"time": "2025-06-27T18:03-07:00", "ip": "192.168.1.1"}}, True),  # C.2.2.3
        ({"subject": ALICE, "action": WRITE, "resource": RECORD_2_ARCHIVED}, False),  # C.2.2.4 (rule 5)
        ({"subject": BOB_ADMIN, "action": WRITE, "resource": RECORD_2_ARCHIVED}, True),  # C.2.2.5 (rule 6)
        (
            {
                "subject": {**ALICE, "properties": {"department": "Sales", "role": "manager"}},
                "action": {"name": "read", "properties": {"method": "GET"}},
                "resource": {**RECORD_1, "properties": {"status": "active", "owner": "bob"}},
            },
            True,
        ),  # C.2.2.8
        ({"subject": ALICE, "action": READ, "resource": RECORD_1, "foo": "bar", "futureField": {"nested": True}}, True),  # C.2.2.9
        ({"subject": BOB, "action": READ, "resource": RECORD_1}, True),  # rule 3
        ({"subject": ALICE, "action": WRITE, "resource": RECORD_1}, True),  # rule 2
    ],
)  # fmt: skip
def test_basic_decisions(client, request_body, expected):
    assert decision(client.evaluation(request_body)) is expected


def test_basic_decisions_are_idempotent(client):  # C.2.6
    body = {"subject": ALICE, "action": READ, "resource": RECORD_1}
    assert [decision(client.evaluation(body)) for _ in range(5)] == [True] * 5


@pytest.mark.parametrize(
    "body",
    [
        {"action": READ, "resource": RECORD_1},
        {"subject": ALICE, "resource": RECORD_1},
        {"subject": ALICE, "action": READ},
        {"subject": {"id": "alice"}, "action": READ, "resource": RECORD_1},
        {"subject": {"type": "user"}, "action": READ, "resource": RECORD_1},
        {"subject": ALICE, "action": {}, "resource": RECORD_1},
        {"subject": ALICE, "action": READ, "resource": {"id": "record-1"}},
        {"subject": ALICE, "action": READ, "resource": {"type": "record"}},
        {"subject": "alice", "action": READ, "resource": RECORD_1},
        {"subject": ALICE, "action": {"name": 123}, "resource": RECORD_1},
    ],
)
def test_malformed_requests_are_400(client, body):  # C.2.4.1, C.2.4.2, C.2.4.6
    answer = client.evaluation(body)
    assert answer.status == 400
    assert isinstance(answer.body, str) and answer.body  # an error message string


def test_transport_errors_are_400(client):  # C.2.4.3 to C.2.4.5
    body = b'{"subject": {"type": "user", "id": "alice"}}'
    assert client.post("access_evaluation_endpoint", None, raw=body, content_type="text/plain").status == 400
    assert client.post("access_evaluation_endpoint", None, raw=b'{"subject": ').status == 400
    assert client.post("access_evaluation_endpoint", None, raw=b"").status == 400
    assert client.post("access_evaluation_endpoint", None, raw=b"[1, 2]").status == 400


def test_request_id_is_optional(client):  # C.2.5.2
    answer = client.post(
        "access_evaluation_endpoint", {"subject": ALICE, "action": READ, "resource": RECORD_1}, request_id=None
    )
    assert answer.status == 200 and answer.body == {"decision": True}


# --- C.3 Batch ------------------------------------------------------------------------------------


def test_batch(client):
    # C.3.2.1: structure; C.3.2.2: values and order
    assert (
        len(
            decisions(
                client.evaluations(
                    {
                        "subject": ALICE,
                        "action": READ,
                        "evaluations": [{"resource": RECORD_1}, {"resource": {"type": "record", "id": "record-2"}}],
                    }
                )
            )
        )
        == 2
    )
    assert decisions(
        client.evaluations({"subject": BOB, "resource": RECORD_1, "evaluations": [{"action": READ}, {"action": WRITE}]})
    ) == [True, False]
    # C.3.2.3, C.3.2.4: properties per item
    body = {
        "subject": ALICE,
        "action": WRITE,
        "evaluations": [
            {"resource": {**RECORD_1, "properties": {"status": "active"}}},
            {"resource": RECORD_2_ARCHIVED},
        ],
    }
    assert decisions(client.evaluations(body)) == [True, False]
    body = {"action": WRITE, "resource": RECORD_2_ARCHIVED, "evaluations": [{"subject": ALICE}, {"subject": BOB_ADMIN}]}
    assert decisions(client.evaluations(body)) == [False, True]
    # C.3.2.5: no defaults; C.3.2.6: context inheritance; C.3.2.7: whole-object defaults
    body = {
        "evaluations": [
            {"subject": ALICE, "action": READ, "resource": RECORD_1},
            {"subject": BOB, "action": WRITE, "resource": RECORD_1},
        ]
    }
    assert decisions(client.evaluations(body)) == [True, False]
    body = {
        "subject": ALICE,
        "action": READ,
        "context": {"time": "2025-06-27T18:03-07:00"},
        "evaluations": [
            {"resource": RECORD_1},
            {
                "resource": {"type": "record", "id": "record-2"},
                "context": {"time": "2025-06-27T19:00-07:00", "source": "batch-override"},
            },
        ],
    }
    assert len(decisions(client.evaluations(body))) == 2
    body = {
        "subject": ALICE,
        "action": WRITE,
        "resource": {**RECORD_1, "properties": {"status": "active"}},
        "evaluations": [{}, {"resource": RECORD_2_ARCHIVED}],
    }
    assert decisions(client.evaluations(body)) == [True, False]


def test_batch_errors(client):
    # C.3.4.1: an item missing a required field is denied, in place, with its reason
    body = {
        "subject": ALICE,
        "action": READ,
        "options": {"evaluations_semantic": "execute_all"},
        "evaluations": [{"resource": RECORD_1}, {}],
    }
    answer = client.evaluations(body)
    assert decisions(answer) == [True, False]
    assert answer.body["evaluations"][1]["context"] == {
        "error": {"status": 400, "message": "evaluations[1].resource: required"}
    }
    # C.3.4.2, C.3.4.3: without evaluations (or with none) the request is a single evaluation
    single = {"subject": ALICE, "action": READ, "resource": RECORD_1}
    assert client.evaluations(single).body == {"decision": True}
    assert client.evaluations({**single, "evaluations": []}).body == {"decision": True}
    assert (
        client.evaluations({**single, "options": {"evaluations_semantic": "all_of_them"}, "evaluations": [{}]}).status
        == 400
    )


# --- C.4 Search -----------------------------------------------------------------------------------


def test_subject_search(client):
    core = {"subject": {"type": "user"}, "action": READ, "resource": RECORD_1}
    assert {"alice", "bob"} <= names(client.search("subject", core))  # C.4.2.1 (S1)
    context = {"time": "2025-06-27T18:03-07:00", "ip": "192.168.1.1"}
    assert names(client.search("subject", {**core, "context": context})) == names(
        client.search("subject", core)
    )  # C.4.2.2
    assert names(client.search("subject", {**core, "subject": ALICE})) == names(
        client.search("subject", core)
    )  # C.4.2.3
    s4 = {"subject": {"type": "user"}, "action": WRITE, "resource": RECORD_2_ARCHIVED}
    assert names(client.search("subject", s4)) == {"bob"}  # C.4.2.4 (S4: only the admin)


def test_resource_search(client):
    core = {"subject": ALICE, "action": READ, "resource": {"type": "record"}}
    found = names(client.search("resource", core))
    assert "record-1" in found  # C.4.3.1 (S2)
    assert names(client.search("resource", {**core, "context": {"ip": "192.168.1.1"}})) == found  # C.4.3.2
    assert names(client.search("resource", {**core, "resource": RECORD_1})) == found  # C.4.3.3
    s5 = {"subject": BOB_ADMIN, "action": WRITE, "resource": {"type": "record"}}
    assert "record-2" in names(client.search("resource", s5))  # C.4.3.4 (S5)
    # the plan, in the database: alice writes the records that are not archived
    assert names(client.search("resource", {"subject": ALICE, "action": WRITE, "resource": {"type": "record"}})) == {
        "record-1",
        "record-3",
        "record-5",
        "record-7",
    }


def test_action_search(client):
    core = {"subject": ALICE, "resource": RECORD_1}
    assert names(client.search("action", core), "name") == {"read", "write"}  # C.4.4.1 (S3)
    assert names(client.search("action", {**core, "context": {"ip": "192.168.1.1"}}), "name") == {
        "read",
        "write",
    }  # C.4.4.2
    assert names(client.search("action", {"subject": BOB_ADMIN, "resource": RECORD_2_ARCHIVED}), "name") == {
        "read",
        "write",
    }  # C.4.4.3 (S6)


def test_pagination(client):  # C.4.5
    pages = list(
        client.search_all("resource", {"subject": ALICE, "action": READ, "resource": {"type": "record"}}, limit=3)
    )
    assert [len(p) for p in pages] == [3, 3, 2]
    assert sorted(r["id"] for p in pages for r in p) == sorted(
        ["record-1", "record-2"] + [f"record-{i}" for i in range(3, 9)]
    )
    subjects = list(
        client.search_all("subject", {"subject": {"type": "user"}, "action": READ, "resource": RECORD_1}, limit=1)
    )
    assert [r["id"] for p in subjects for r in p] == ["alice", "bob", "carol"]
    actions = list(client.search_all("action", {"subject": ALICE, "resource": RECORD_1}, limit=1))
    assert [r["name"] for p in actions for r in p] == ["read", "write"]
    first = client.search(
        "resource", {"subject": ALICE, "action": READ, "resource": {"type": "record"}, "page": {"limit": 2}}
    )
    token = first.body["page"]["next_token"]
    changed = {"subject": ALICE, "action": WRITE, "resource": {"type": "record"}, "page": {"limit": 2, "token": token}}
    assert client.search("resource", changed).status == 400  # a token of another request
    assert client.search("resource", {**changed, "page": {"token": "garbage"}}).status == 400


def test_empty_results(client):  # C.4.6
    assert (
        client.search("action", {"subject": {"type": "user", "id": "nonexistent-user"}, "resource": RECORD_1}).body[
            "results"
        ]
        == []
    )
    assert (
        client.search("subject", {"subject": {"type": "spaceship"}, "action": READ, "resource": RECORD_1}).body[
            "results"
        ]
        == []
    )
    assert (
        client.search("resource", {"subject": ALICE, "action": READ, "resource": {"type": "spaceship"}}).body["results"]
        == []
    )


@pytest.mark.parametrize(
    ("what", "body"),
    [
        ("subject", {"subject": {"type": "user"}, "resource": RECORD_1}),
        ("resource", {"action": READ, "resource": {"type": "record"}}),
        ("action", {"subject": ALICE}),
        ("subject", {"subject": {"type": "user"}, "action": READ, "resource": {"type": "record"}}),
        ("resource", {"subject": {"type": "user"}, "action": READ, "resource": {"type": "record"}}),
        ("action", {"subject": {"type": "user"}, "resource": RECORD_1}),
    ],
)
def test_search_errors(client, what, body):  # C.4.7
    assert client.search(what, body).status == 400


# --- C.6 Discovery --------------------------------------------------------------------------------


def test_metadata(client, pdp):
    assert client.metadata == {
        "policy_decision_point": pdp,
        "access_evaluation_endpoint": pdp + "/access/v1/evaluation",
        "access_evaluations_endpoint": pdp + "/access/v1/evaluations",
        "search_subject_endpoint": pdp + "/access/v1/search/subject",
        "search_resource_endpoint": pdp + "/access/v1/search/resource",
        "search_action_endpoint": pdp + "/access/v1/search/action",
    }
