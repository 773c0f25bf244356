"""warden.django.rest_framework: authentication, the action a view decides, object permissions and list filtering."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.test.utils import override_settings
from warden.django.rest_framework import PrincipalUser

from tests.django.configuration import PLAN_POLICIES
from tests.django.conftest import warden_settings
from tests.django.plans.models import Item
from tests.jwt.signing import claims, token
from tests.web.conftest import bearer

pytestmark = pytest.mark.usefixtures("demo_contacts")


def auth(key, sub="bob", roles=("user",)) -> dict:
    return {"HTTP_AUTHORIZATION": bearer(key, sub, roles)["Authorization"]}


def ids(response) -> list:
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()]


def send(client, method, path, body=None, **extra):
    data = None if body is None else json.dumps(body)
    return getattr(client, method)(path, data=data, content_type="application/json", **extra)


# --- authentication ------------------------------------------------------------------------------


def test_no_token_bad_token_and_unreachable_provider(warden_config, web_key, stranger_key):
    client = Client()
    missing = client.get("/api/contacts/")
    assert (missing.status_code, missing.headers["WWW-Authenticate"]) == (401, "Bearer")
    refused = client.get("/api/contacts/", **auth(stranger_key))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token", error_description=')
    with override_settings(WARDEN={**warden_config, "JWKS_URL": "http://127.0.0.1:9/jwks", "REALM": "contacts"}):
        unavailable = client.get("/api/contacts/", **auth(web_key))
        assert unavailable.status_code == 503
        assert "WWW-Authenticate" not in unavailable.headers
        assert client.get("/api/contacts/").headers["WWW-Authenticate"] == 'Bearer realm="contacts"'


def test_the_user_is_the_principal(warden_config, web_key):
    response = Client().get("/t/api/archive", **auth(web_key, "alice", roles=["admin"]))
    assert response.json() == {"archive": True, "user": "alice"}
    user = PrincipalUser(__import__("warden").Principal("bob", {"user"}))
    assert (user.is_authenticated, user.is_anonymous, user.get_username(), str(user)) == (True, False, "bob", "bob")


# --- a viewset (the example's API) ---------------------------------------------------------------


def test_viewset_actions_on_the_collection_and_on_objects(warden_config, web_key):
    client = Client()
    bob = auth(web_key, "bob")
    assert ids(client.get("/api/contacts/", **bob)) == ["abc123", "def456", "ghi789"]  # "read" has no condition
    assert ids(client.get("/api/contacts/editable/", **bob)) == ["abc123"]  # the "update" plan
    assert client.get("/api/contacts/def456/", **bob).status_code == 200
    assert send(client, "patch", "/api/contacts/def456/", {"name": "x"}, **bob).status_code == 403
    assert send(client, "patch", "/api/contacts/abc123/", {"name": "Ada"}, **bob).json()["name"] == "Ada"
    created = send(client, "post", "/api/contacts/", {"id": "new1", "name": "New"}, **bob)
    assert (created.status_code, created.json()["owner_id"]) == (201, "bob")
    assert client.delete("/api/contacts/new1/", **bob).status_code == 204
    assert client.delete("/api/contacts/ghi789/", **bob).status_code == 403
    assert client.delete("/api/contacts/ghi789/", **auth(web_key, "alice", roles=["admin"])).status_code == 204


def test_a_principal_the_policy_knows_nothing_about(warden_config, web_key):
    guest = auth(web_key, "mallory", roles=["guest"])
    client = Client()
    assert client.get("/api/contacts/", **guest).status_code == 403
    assert client.get("/api/contacts/abc123/", **guest).status_code == 403
    assert send(client, "post", "/api/contacts/", {"id": "x", "name": "X"}, **guest).status_code == 403


# --- views without viewset actions -------------------------------------------------------------------


def test_http_methods_name_the_actions(warden_config, web_key):
    client = Client()
    bob, carol = auth(web_key, "bob"), auth(web_key, "carol")
    assert ids(client.get("/t/api/contacts", **bob)) == ["abc123", "def456", "ghi789"]
    assert send(client, "post", "/t/api/contacts", {"id": "b2", "name": "B"}, **bob).status_code == 201
    assert client.get("/t/api/contacts/def456", **bob).status_code == 200
    assert send(client, "put", "/t/api/contacts/def456", {"id": "def456", "name": "G"}, **bob).status_code == 403
    assert send(client, "put", "/t/api/contacts/def456", {"id": "def456", "name": "G"}, **carol).status_code == 200
    assert client.delete("/t/api/contacts/b2", **carol).status_code == 403
    assert client.delete("/t/api/contacts/b2", **bob).status_code == 204


def test_a_view_fixing_its_action_and_kind(warden_config, web_key):
    client = Client()
    # "delete" on the collection: a user's rule needs an owner the collection does not have
    assert client.get("/t/api/archive", **auth(web_key, "bob")).status_code == 403
    assert client.get("/t/api/archive", **auth(web_key, "alice", roles=["admin"])).status_code == 200


# --- the filter backend ------------------------------------------------------------------------------


def test_lists_are_narrowed_by_the_plan(idp, web_key):
    Item.objects.all().delete()
    for pk, owner in [(1, "bob"), (2, "carol"), (3, "bob"), (4, None), (5, "Bob")]:
        Item.objects.create(id=pk, owner=owner)
    with override_settings(WARDEN=warden_settings(idp, POLICY_DIR=PLAN_POLICIES)):
        client = Client()
        # no decision on the collection ("list": None); the rows are the plan of "own" (retrieve)
        assert ids(client.get("/t/api/items/", **auth(web_key, "bob"))) == [1, 3]
        assert ids(client.get("/t/api/items/", **auth(web_key, "carol"))) == [2]
        assert ids(client.get("/t/api/items/", **auth(web_key, "eve", roles=["guest"]))) == []
        assert ids(client.get("/t/api/items/", **auth(web_key, "root", roles=["admin"]))) == [1, 2, 3, 4, 5]
        # an object is decided by the permission (403), not hidden by the filter
        assert client.get("/t/api/items/2/", **auth(web_key, "bob")).status_code == 403
        assert client.get("/t/api/items/3/", **auth(web_key, "bob")).json() == {"id": 3, "name": None, "owner": "bob"}


def test_a_session_token_needs_the_csrf_token_on_unsafe_methods(idp, web_key):
    with override_settings(WARDEN=warden_settings(idp, SESSION_KEY="access_token")):
        client = Client(enforce_csrf_checks=True)
        session = client.session
        session["access_token"] = token(web_key, claims(sub="bob", roles=["user"]))
        session.save()
        assert ids(client.get("/api/contacts/")) == ["abc123", "def456", "ghi789"]  # safe: no CSRF token needed
        forged = send(client, "patch", "/api/contacts/abc123/", {"name": "x"})
        assert forged.status_code == 403 and "CSRF Failed" in forged.json()["detail"]
        client.cookies["csrftoken"] = "a" * 32
        sent = send(client, "patch", "/api/contacts/abc123/", {"name": "y"}, HTTP_X_CSRFTOKEN="a" * 32)
        assert sent.json()["name"] == "y"
        # a header token is no ambient credential: no CSRF token needed
        header = send(
            Client(enforce_csrf_checks=True), "patch", "/api/contacts/abc123/", {"name": "z"}, **auth(web_key)
        )
        assert header.status_code == 200
