"""The examples of the AuthZEN 1.0 specification (api/authorization-api-1_0.md), through the functions
and over HTTP; the app's own rules: bearer authentication of callers, limits, the request id."""

from __future__ import annotations

import pytest
from warden import authzen

from tests.authzen.spec_client import AuthZENClient
from tests.jwt.signing import claims, token
from tests.web.conftest import make_verifier, uvicorn_server

ALICE = {"type": "user", "id": "alice@example.com"}
THREE_DOCUMENTS = [{"resource": {"type": "document", "id": str(i)}} for i in (1, 2, 3)]


def test_access_evaluation_request_example(engine):  # §Access Evaluation API, "Example Request"
    body = {
        "subject": {"type": "user", "id": "alice@example.com"},
        "resource": {"type": "account", "id": "123"},
        "action": {"name": "can_read", "properties": {"method": "GET"}},
        "context": {"time": "1985-10-26T01:22-07:00"},
    }
    assert authzen.evaluation(engine, body) == {"decision": True}
    assert authzen.evaluation(engine, {**body, "resource": {"type": "account", "id": "789"}}) == {"decision": False}


def test_boxcarring_examples(engine):  # §Access Evaluations API: no defaults, then defaults, then an override
    full = {"evaluations": [{"subject": ALICE, "action": {"name": "can_read"}, "resource": {"type": "document", "id": d}, "context": {"time": "2024-05-31T15:22-07:00"}} for d in ("boxcarring.md", "subject-search.md", "resource-search.md")]}  # fmt: skip
    expected = {"evaluations": [{"decision": True}] * 3}
    assert authzen.evaluations(engine, full) == expected
    defaults = {"subject": ALICE, "context": {"time": "2024-05-31T15:22-07:00"}, "evaluations": [{"action": {"name": "can_read"}, "resource": e["resource"]} for e in full["evaluations"]]}  # fmt: skip
    assert authzen.evaluations(engine, defaults) == expected
    overridden = {
        "subject": ALICE,
        "context": {"time": "2024-05-31T15:22-07:00"},
        "action": {"name": "can_read"},
        "evaluations": [
            {"resource": {"type": "document", "id": "boxcarring.md"}},
            {"resource": {"type": "document", "id": "subject-search.md"}},
            {"action": {"name": "can_edit"}, "resource": {"type": "document", "id": "resource-search.md"}},
        ],
    }
    assert authzen.evaluations(engine, overridden) == expected
    overridden["evaluations"][1]["action"] = {"name": "can_edit"}
    assert authzen.evaluations(engine, overridden) == {
        "evaluations": [{"decision": True}, {"decision": False}, {"decision": True}]
    }


@pytest.mark.parametrize(
    ("semantic", "expected"),
    [("execute_all", [True, False, True]), ("deny_on_first_deny", [True, False]), ("permit_on_first_permit", [True])],
)
def test_evaluations_semantics_example(
    engine, semantic, expected
):  # §Evaluations semantics, the three-document example
    body = {
        "subject": ALICE,
        "action": {"name": "read"},
        "options": {"evaluations_semantic": semantic},
        "evaluations": THREE_DOCUMENTS,
    }
    assert [d["decision"] for d in authzen.evaluations(engine, body)["evaluations"]] == expected


def test_options_example_and_per_item_errors(engine):  # §Evaluations options; §Errors
    body = {"evaluations": [{"resource": {"type": "doc", "id": "1"}, "subject": {"type": "doc", "id": "2"}}], "options": {"evaluations_semantic": "execute_all", "another_option": "value"}}  # fmt: skip
    # the example leaves out the action: that evaluation is denied with its reason
    assert authzen.evaluations(engine, body) == {"evaluations": [{"decision": False, "context": {"error": {"status": 400, "message": "evaluations[0].action: required"}}}]}  # fmt: skip
    with pytest.raises(authzen.AuthZENError, match="evaluations: expected an array"):
        authzen.evaluations(engine, {"subject": ALICE, "evaluations": {"resource": {}}})


def test_a_cerbos_error_is_the_evaluations_error(engine):
    bad_token = {"cerbos.auxData": {"jwt": {"token": "not.a.jwt"}}}
    first_item = {**THREE_DOCUMENTS[0], "context": bad_token}
    answer = authzen.evaluations(
        engine, {"subject": ALICE, "action": {"name": "read"}, "evaluations": [first_item, THREE_DOCUMENTS[0]]}
    )
    first, second = answer["evaluations"]
    assert first["decision"] is False and first["context"]["error"]["status"] == 400
    assert second == {"decision": True}
    with pytest.raises(authzen.AuthZENError, match="cerbos.roles"):
        authzen.evaluation(
            engine,
            {
                "subject": {**ALICE, "properties": {"cerbos.roles": "admin"}},
                "action": {"name": "read"},
                "resource": THREE_DOCUMENTS[0]["resource"],
            },
        )


def test_search_examples_over_http(engine, sources):  # §Search APIs, the HTTPS examples
    account_sources = authzen.Sources(
        actions={"account": ["can_read", "can_write"]}, subjects={"user": ["alice@example.com", "bob@example.com"]}
    )
    with uvicorn_server(authzen.app(engine, sources=account_sources)) as base:
        client = AuthZENClient(base)
        client.discover()
        assert "search_resource_endpoint" not in client.metadata  # no resource source registered
        actions = client.search(
            "action",
            {
                "subject": ALICE,
                "resource": {"type": "account", "id": "123"},
                "context": {"time": "2024-10-26T01:22-07:00"},
            },
        )
        assert actions.body["results"] == [{"name": "can_read"}, {"name": "can_write"}]
        subjects = client.search(
            "subject",
            {"subject": {"type": "user"}, "action": {"name": "can_read"}, "resource": {"type": "account", "id": "123"}},
        )
        assert subjects.body == {
            "page": {"next_token": "", "count": 1},
            "results": [{"type": "user", "id": "alice@example.com"}],
        }
        client.close()


# --- the app's own rules -------------------------------------------------------------------------------


def test_callers_authenticated_with_a_verifier(engine, idp, web_key, stranger_key):
    body = {"subject": ALICE, "action": {"name": "read"}, "resource": THREE_DOCUMENTS[0]["resource"]}
    with uvicorn_server(authzen.app(engine, verifier=make_verifier(idp), realm="pdp")) as base:
        anonymous = AuthZENClient(base)
        refused = anonymous.evaluation(body)
        assert (refused.status, refused.headers["www-authenticate"]) == (401, 'Bearer realm="pdp"')
        stranger = AuthZENClient(base, token(stranger_key, claims(sub="pep")))
        assert 'error="invalid_token"' in stranger.evaluation(body).headers["www-authenticate"]
        caller = AuthZENClient(base, token(web_key, claims(sub="pep")))
        assert caller.evaluation(body).body == {"decision": True}
        assert (
            anonymous.discover()["access_evaluation_endpoint"] == base + "/access/v1/evaluation"
        )  # metadata is public
        for client in (anonymous, stranger, caller):
            client.close()


def test_limits_and_request_ids_on_errors(engine):
    with uvicorn_server(authzen.app(engine, max_body_bytes=2048, max_evaluations=3)) as base:
        client = AuthZENClient(base)
        big = client.post(
            "access_evaluation_endpoint", None, raw=b'{"subject": "' + b"x" * 4096 + b'"}', request_id="big-1"
        )
        assert big.status == 413 and big.request_id == "big-1"
        many = client.evaluations({"subject": ALICE, "action": {"name": "read"}, "evaluations": THREE_DOCUMENTS * 2})
        assert many.status == 400 and "more than the 3" in many.body
        client.close()
    with uvicorn_server(authzen.app(engine)) as base:
        client = AuthZENClient(base)
        nested = client.post(
            "access_evaluation_endpoint", None, raw=b'{"subject": ' + b"[" * 50000 + b"]" * 50000 + b"}"
        )
        assert nested.status == 400 and "not valid JSON" in nested.body  # never a 500
        client.close()


def test_the_app_checks_its_arguments(engine):
    with pytest.raises(TypeError, match="engine"):
        authzen.app(object())
    with pytest.raises(TypeError, match="verifier"):
        authzen.app(engine, verifier=object())
