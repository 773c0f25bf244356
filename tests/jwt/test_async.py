"""The async path inside a running event loop: key fetches never block the loop."""

from __future__ import annotations

import asyncio

import pytest
import warden

from .conftest import remote_verifier
from .signing import token


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=30))


def test_verify_async_with_local_keys(verifier, keys):
    async def main():
        claims = await verifier.verify_async(token(keys["rs"]))
        with pytest.raises(warden.ExpiredToken):
            await verifier.verify_async(
                token(keys["rs"], {"iss": "https://idp.test", "aud": "api://warden-tests", "exp": 1})
            )
        return claims

    assert run(main())["sub"] == "user-1"


def test_key_fetch_does_not_block_the_event_loop(idp, keys):
    """While the JWKS endpoint hangs, other coroutines keep running."""
    idp.hang = True
    v = remote_verifier(idp, http_timeout=10.0)

    async def main():
        task = asyncio.ensure_future(v.verify_async(token(keys["rs"])))
        ticks = 0
        for _ in range(100_000):  # bounded: until the fetch has reached the IdP
            await asyncio.sleep(0)
            ticks += 1
            if idp.count() > 0:
                break
        for _ in range(50):  # the loop still runs while the fetch is pending
            await asyncio.sleep(0)
            ticks += 1
        pending = not task.done()
        idp.release()
        claims = await task
        return ticks, pending, claims

    ticks, pending, claims = run(main())
    assert pending and ticks > 50 and claims["sub"] == "user-1"
    # Keys are now cached: the next call completes inline, no new fetch.
    assert run(v.verify_async(token(keys["es"])))["sub"] == "user-1"
    assert idp.count() == 1


def test_async_remote_checks(idp):
    idp.introspection["opaque"] = {"active": True, "sub": "u1", "exp": 4102444800}
    idp.tokeninfo["stups"] = {"uid": "jdoe", "scope": ["uid"], "realm": "/employees", "expires_in": 60}
    client_id, secret = idp.client_credentials
    introspector = warden.Introspector(idp.url + "/introspect", client_id, secret)
    info = warden.TokenInfo(idp.url + "/tokeninfo")

    async def main():
        a, b = await asyncio.gather(introspector.verify_async("opaque"), info.verify_async("stups"))
        with pytest.raises(warden.InactiveToken):
            await introspector.verify_async("unknown")
        return a, b

    a, b = run(main())
    assert a["sub"] == "u1" and b["uid"] == "jdoe"
