"""RFC 7662 introspection and STUPS tokeninfo against the loopback IdP."""

from __future__ import annotations

import time

import pytest
import warden

from .idp import IdP


def introspector(idp: IdP, **options) -> warden.Introspector:
    client_id, secret = idp.client_credentials
    options.setdefault("http_timeout", 2.0)
    return warden.Introspector(idp.url + "/introspect", client_id, secret, **options)


def active(**over):
    answer = {
        "active": True,
        "scope": "openid contacts:read",
        "client_id": "0oa1bcd2efGHIjk3l4x7",
        "username": "jane@example.com",
        "exp": int(time.time()) + 3600,
        "iat": int(time.time()),
        "sub": "jane@example.com",
        "aud": "api://default",
        "iss": "https://dev-123456.okta.com/oauth2/default",
        "token_type": "Bearer",
        "uid": "00ujmkLgOx4a8xQFG0h7",
        "groups": ["Admins"],
    }
    answer.update(over)
    return answer


def test_active_token_is_accepted_and_cached(idp):
    idp.introspection["opaque-token-1"] = active()
    i = introspector(idp)
    for _ in range(3):
        assert i.verify("opaque-token-1")["username"] == "jane@example.com"
    assert idp.count("/introspect") == 1 and i.cached_entries == 1
    form = idp.introspection_forms[0]
    assert form["token"] == ["opaque-token-1"] and form["token_type_hint"] == ["access_token"]
    p = i.principal("opaque-token-1")
    assert p.id == "jane@example.com" and set(p.roles) == {"Admins"} and p.attr["scope"] == "openid contacts:read"


@pytest.mark.parametrize(
    "answer", [{"active": False}, {"active": "true"}, {"active": 1}, {}], ids=["false", "string", "int", "missing"]
)
def test_only_boolean_true_is_active_and_refusals_are_not_cached(idp, answer):
    idp.introspection["t"] = answer
    i = introspector(idp)
    for _ in range(2):
        with pytest.raises(warden.InactiveToken):
            i.verify("t")
    assert idp.count("/introspect") == 2


def test_cache_never_outlives_exp(idp):
    exp = int(time.time()) + 3  # whole seconds: at least 2 s of validity left
    idp.introspection["short"] = active(exp=exp)
    i = introspector(idp, max_cache=3600)
    assert i.verify("short")["exp"] == exp
    for _ in range(200):  # bounded wait until the token's exp has passed
        if time.time() > exp + 0.05:
            break
        time.sleep(0.05)
    with pytest.raises(warden.ExpiredToken):
        i.verify("short")  # asked again (the cache entry ended at exp); the IdP's exp is past now
    assert idp.count("/introspect") == 2


def test_max_cache_zero_disables_caching(idp):
    idp.introspection["t"] = active()
    i = introspector(idp, max_cache=0)
    i.verify("t")
    i.verify("t")
    assert idp.count("/introspect") == 2


def test_issuer_and_audience_checks(idp):
    idp.introspection["t"] = active()
    with pytest.raises(warden.InvalidClaims, match="iss"):
        introspector(idp, issuer="https://other").verify("t")
    with pytest.raises(warden.InvalidClaims, match="aud"):
        introspector(idp, audience="api://other").verify("t")
    assert introspector(idp, issuer=active()["iss"], audience=["x", "api://default"]).verify("t")["uid"]


def test_server_failures_are_unavailable(idp):
    i = introspector(idp)
    idp.fail_status = 500
    with pytest.raises(warden.ProviderUnavailable, match="HTTP 500"):
        i.verify("t")
    idp.fail_status = None
    bad_creds = warden.Introspector(idp.url + "/introspect", "warden-client", "wrong")
    with pytest.raises(warden.ProviderUnavailable, match="HTTP 401"):
        bad_creds.verify("t")


def test_hanging_introspection_times_out(idp):
    idp.hang = True
    try:
        with pytest.raises(warden.ProviderUnavailable, match="failed"):
            introspector(idp, http_timeout=0.3).verify("t")
    finally:
        idp.release()


@pytest.mark.parametrize("bad", ["", "has space", "new\nline", "x" * 20000])
def test_bad_tokens_are_refused_before_any_request(idp, bad):
    with pytest.raises(warden.MalformedToken):
        introspector(idp).verify(bad)
    assert idp.count("/introspect") == 0


def test_introspector_configuration_errors():
    with pytest.raises(ValueError, match="^url: must use https"):
        warden.Introspector("http://idp.example.com/introspect", "c", "s")
    with pytest.raises(ValueError, match="^client_id:"):
        warden.Introspector("https://idp.example.com/introspect", "", "s")


# --- STUPS tokeninfo ------------------------------------------------------------------


def stups(**over):
    answer = {
        "access_token": "token-abc",
        "cn": "Jane Doe",
        "expires_in": 3515,
        "grant_type": "password",
        "realm": "/employees",
        "scope": ["uid", "cn"],
        "token_type": "Bearer",
        "uid": "jdoe",
    }
    answer.update(over)
    return answer


def tokeninfo(idp: IdP, **options) -> warden.TokenInfo:
    options.setdefault("http_timeout", 2.0)
    return warden.TokenInfo(idp.url + "/tokeninfo", **options)


def test_tokeninfo_valid_token_and_principal(idp):
    idp.tokeninfo["token-abc"] = stups()
    t = tokeninfo(idp)
    assert t.verify("token-abc")["uid"] == "jdoe"
    p = t.principal("token-abc")
    assert (
        p.id == "jdoe" and set(p.roles) == {"employees"} and p.attr == {"scope": ["uid", "cn"], "realm": "/employees"}
    )
    assert idp.count("/tokeninfo") == 1 and t.cached_entries == 1


def test_tokeninfo_refusals(idp):
    t = tokeninfo(idp)
    with pytest.raises(warden.InactiveToken, match="Access Token not valid"):
        t.verify("unknown-token")
    idp.tokeninfo["expired"] = stups(expires_in=0)
    with pytest.raises(warden.ExpiredToken):
        t.verify("expired")
    idp.tokeninfo["no-uid"] = stups(uid=None)
    with pytest.raises(warden.InvalidClaims, match="uid"):
        t.verify("no-uid")
    idp.tokeninfo["bad-scope"] = stups(scope="uid cn")
    with pytest.raises(warden.InvalidClaims, match="scope"):
        t.verify("bad-scope")
    idp.fail_status = 502
    with pytest.raises(warden.ProviderUnavailable):
        t.verify("token-abc")


def test_tokeninfo_cache_is_bounded_by_expires_in(idp):
    idp.tokeninfo["t"] = stups(expires_in=3600)
    t = tokeninfo(idp, max_cache=0)
    t.verify("t")
    t.verify("t")
    assert idp.count("/tokeninfo") == 2


def test_introspection_endpoint_from_discovery(idp):
    idp.introspection["t"] = active(iss=idp.issuer)
    client_id, secret = idp.client_credentials
    i = warden.Introspector.discover(idp.issuer, client_id, secret)
    assert i.verify("t")["uid"] == "00ujmkLgOx4a8xQFG0h7"
    assert idp.count("/.well-known/openid-configuration") == 1
    idp.fail_status = 500
    with pytest.raises(warden.ProviderUnavailable, match="discovery"):
        warden.Introspector.discover(idp.issuer, client_id, secret)


def test_client_credentials_are_form_encoded_inside_basic(idp):
    """RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding, so a secret
    with ':', '+', '%', spaces or non-ASCII reaches the server as it was issued."""
    idp.client_credentials = ("client:one+two", "p@ss:w%rd +é/=")
    idp.introspection["opaque-token-1"] = active()
    assert introspector(idp).verify("opaque-token-1")["active"] is True
    # and a client holding the raw, un-decoded form is refused
    wrong = warden.Introspector(idp.url + "/introspect", "client%3Aone%2Btwo", "p@ss:w%rd +é/=", http_timeout=2.0)
    with pytest.raises(warden.InvalidToken):
        wrong.verify("opaque-token-1")
