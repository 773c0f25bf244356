"""BundleSource against an HTTP server on 127.0.0.1 that changes its bundle, answers 304, stalls,
serves a corrupt archive, a broken policy set, a bad signature, and goes away."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest
from warden.sources import BundleSource, PolicySourceError

from .servers import BundleServer, effect, policy, tarball, wait_until

ALLOW = tarball({"doc.yaml": policy("EFFECT_ALLOW")})
DENY = tarball({"doc.yaml": policy("EFFECT_DENY")})


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def server():
    with BundleServer() as s:
        s.bundle = ALLOW
        yield s


def test_polls_with_etag_and_swaps_in_a_new_bundle(server):
    with BundleSource(server.url, poll_interval=None) as source:
        assert (source.version, effect(source.engine)) == (digest(ALLOW), "EFFECT_ALLOW")
        assert source.poll() == "unchanged"
        assert server.requests["304"] == 1, "the second request names the ETag and gets 304"

        server.bundle = DENY
        assert source.poll() == "updated"
        assert (source.version, source.engine.policy_version, effect(source.engine)) == (
            digest(DENY),
            digest(DENY),
            "EFFECT_DENY",
        )
        assert source.poll() == "unchanged"


@pytest.mark.parametrize(
    "bad, error",
    [
        (b"\x1f\x8b\x08\x00 this is not gzip data", "not a readable tar archive"),
        (ALLOW[: len(ALLOW) // 2], "not a readable tar archive"),
        (tarball({"doc.yaml": policy("EFFECT_MAYBE")}), "doc.yaml:8"),
        (tarball({"../escape.yaml": policy("EFFECT_DENY")}), "'..' is not allowed"),
    ],
    ids=["corrupt", "truncated", "broken-policy", "escaping"],
)
def test_a_bad_bundle_is_refused_and_the_last_good_one_keeps_serving(server, bad, error):
    with BundleSource(server.url, poll_interval=None) as source:
        server.bundle = bad
        assert source.poll() == "failed"
        assert error in source.last_error
        assert (source.version, effect(source.engine)) == (digest(ALLOW), "EFFECT_ALLOW")
        assert source.poll() == "failed", "fetched and refused again: the bad bundle is not taken as current"
        server.bundle = DENY
        assert source.poll() == "updated"
        assert source.last_error is None


def test_a_stalled_server_is_abandoned_at_the_deadline(server):
    with BundleSource(server.url, poll_interval=None, timeout=1.0) as source:
        server.bundle = DENY
        server.mode = "stall"
        started = time.monotonic()
        assert source.poll() == "failed"
        assert time.monotonic() - started < 5.0, "bounded by the timeout, not by the server"
        assert "timed out" in source.last_error or "within 1.0 s" in source.last_error
        assert (source.version, effect(source.engine)) == (digest(ALLOW), "EFFECT_ALLOW")


def test_http_errors_and_a_server_that_went_away(server):
    with BundleSource(server.url, poll_interval=None, timeout=2.0) as source:
        server.mode = "error"
        assert source.poll() == "failed"
        assert "HTTP 500" in source.last_error
        server.stop()
        assert source.poll() == "failed"
        assert "refused" in source.last_error.lower()
        assert (source.version, effect(source.engine)) == (digest(ALLOW), "EFFECT_ALLOW")
        assert source.status()["version"] == digest(ALLOW)


def test_sha256_pin(server):
    with BundleSource(server.url, poll_interval=None, sha256=digest(ALLOW)) as source:
        server.bundle = DENY
        assert source.poll() == "failed"
        assert "not the pinned" in source.last_error
        assert effect(source.engine) == "EFFECT_ALLOW"
    with pytest.raises(PolicySourceError, match="not the pinned"):
        BundleSource(server.url, poll_interval=None, sha256=hashlib.sha256(b"other").hexdigest())


def test_ed25519_signature(server):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    server.signature = key.sign(ALLOW)
    with BundleSource(server.url, poll_interval=None, public_key=pem) as source:
        assert effect(source.engine) == "EFFECT_ALLOW"
        server.bundle = DENY  # the signature still covers the old bundle
        assert source.poll() == "failed"
        assert "signature does not verify" in source.last_error
        assert effect(source.engine) == "EFFECT_ALLOW"
        server.signature = base64.b64encode(key.sign(DENY))  # base64 text is accepted too
        assert source.poll() == "updated"
        assert effect(source.engine) == "EFFECT_DENY"

    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(PolicySourceError, match="signature does not verify"):
        BundleSource(server.url, poll_interval=None, public_key=other)


def test_the_polling_thread_and_close(server):
    source = BundleSource(server.url, poll_interval=0.1)
    try:
        server.bundle = DENY
        wait_until(lambda: source.version == digest(DENY), "the poll to pick up the new bundle")
    finally:
        source.close()
    assert not source._thread.is_alive()
    assert effect(source.engine) == "EFFECT_DENY"


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="http"):
        BundleSource("ftp://127.0.0.1/x.tar.gz")
    with pytest.raises(ValueError, match="sha256"):
        BundleSource("http://127.0.0.1:9/x.tar.gz", sha256="abc")
    with pytest.raises(TypeError, match="watch"):
        BundleSource("http://127.0.0.1:9/x.tar.gz", watch=True)
