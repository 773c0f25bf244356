"""Policies from an HTTP(S) bundle: a tar.gz of a policy directory, polled with ``If-None-Match``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from warden.sources._archive import ArchiveLimits, UnsafeArchive, extract_bytes
from warden.sources._base import PolicySourceError, PolledSource

PublicKey = Union[str, bytes, Any]


class BundleSource(PolledSource):
    """Serves the policies of the tar.gz archive at ``url`` (``http://`` or ``https://``).

    Each poll sends ``If-None-Match`` with the ``ETag`` of the version serving; a ``304`` is
    "unchanged". A new archive is checked, unpacked safely (see :class:`ArchiveLimits`: relative
    names only, no ``..``, no links or devices, size caps) and swapped in if it compiles.
    :attr:`version` is ``"sha256:<hex>"`` of the archive, the same on every replica whatever the
    server's ``ETag``.

    Checks: ``sha256`` pins the archive's digest (hex); ``public_key`` (an Ed25519 public key:
    PEM text, 32 raw bytes, or a ``cryptography`` key object; needs the ``cryptography``
    package) requires a valid Ed25519 signature over the archive's bytes, fetched from
    ``signature_url`` (default: ``url + ".sig"``) as 64 raw bytes or their base64 text.

    ``timeout`` bounds each request: the transfer is abandoned once ``timeout`` seconds have
    passed (checked between reads; one read waits at most ``timeout``). ``max_bytes`` caps the
    archive's size on the wire; ``headers`` are sent with every request (an ``Authorization``
    header, say). Other keyword arguments, ``poll_interval``, ``cache_dir``, the first fetch
    and :meth:`close` are as for :class:`~warden.sources.GitSource`.
    """

    kind = "bundle"

    def __init__(
        self,
        url: str,
        *,
        poll_interval: Optional[float] = 60.0,
        timeout: float = 30.0,
        sha256: Optional[str] = None,
        public_key: Optional[PublicKey] = None,
        signature_url: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        max_bytes: int = 16 * 1024 * 1024,
        limits: ArchiveLimits = ArchiveLimits(),
        cache_dir: Union[str, Path, None] = None,
        **engine_options: Any,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url: expected an http:// or https:// URL, got {url!r}")
        if not timeout > 0:
            raise ValueError("timeout: must be a positive number of seconds")
        if sha256 is not None:
            sha256 = sha256.lower().removeprefix("sha256:")
            if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
                raise ValueError(f"sha256: expected 64 hex digits, got {sha256!r}")
        self.url = url
        self.timeout = timeout
        self.sha256 = sha256
        self.signature_url = signature_url or url + ".sig"
        self.headers = dict(headers or {})
        self.max_bytes = max_bytes
        self.limits = limits
        self._verify_signature = None if public_key is None else _ed25519_verifier(public_key)
        # ETag of each version seen; If-None-Match names the one serving, so a version that
        # failed to compile is fetched again (and reported again) rather than taken as current.
        self._etags: Dict[str, str] = {}
        super().__init__(url, poll_interval=poll_interval, cache_dir=cache_dir, engine_options=engine_options)

    def _fetch_new(self, current: Optional[str]) -> Tuple[Optional[str], Optional[Path]]:
        etag = self._etags.get(current) if current else None
        status, body, new_etag = self._get(self.url, etag, self.max_bytes)
        if status == 304:
            return current, None
        version = "sha256:" + hashlib.sha256(body).hexdigest()
        if new_etag:
            self._etags[version] = new_etag
        if version == current:
            return current, None
        if self.sha256 is not None and version != "sha256:" + self.sha256:
            raise PolicySourceError(
                f"{self.url}: the archive's digest is {version}, not the pinned sha256:{self.sha256}"
            )
        if self._verify_signature is not None:
            _, signature, _ = self._get(self.signature_url, None, 4096)
            self._verify_signature(_signature_bytes(signature, self.signature_url), body)
        staged = self.staging_dir()
        try:
            extract_bytes(body, staged, self.limits)
        except UnsafeArchive as e:
            raise PolicySourceError(f"{self.url}: {version}: {e}") from e
        return version, staged

    def _get(self, url: str, etag: Optional[str], limit: int) -> Tuple[int, bytes, Optional[str]]:
        """GETs ``url`` within the deadline: (status, body, ETag); 304 has an empty body."""
        request = urllib.request.Request(url, headers=self.headers)
        if etag:
            request.add_header("If-None-Match", etag)
        deadline = time.monotonic() + self.timeout
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                chunks = []
                size = 0
                while True:
                    if time.monotonic() > deadline:
                        raise PolicySourceError(f"{url}: no complete answer within {self.timeout} s")
                    chunk = response.read(65536)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        raise PolicySourceError(f"{url}: more than {limit} bytes")
                    chunks.append(chunk)
                return response.status, b"".join(chunks), response.headers.get("ETag")
        except urllib.error.HTTPError as e:
            if e.code == 304:
                return 304, b"", etag
            raise PolicySourceError(f"{url}: HTTP {e.code} {e.reason}") from e
        except PolicySourceError:
            raise
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", e)
            raise PolicySourceError(f"{url}: {reason}") from e


def _ed25519_verifier(public_key: PublicKey) -> Any:
    """A function (signature, data) that raises PolicySourceError unless the signature is valid."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError as e:  # pragma: no cover - cryptography is in the test extra
        raise ImportError("public_key: signature checks need the cryptography package") from e
    if isinstance(public_key, str):
        public_key = public_key.encode()
    if isinstance(public_key, Ed25519PublicKey):
        key = public_key
    elif isinstance(public_key, bytes) and public_key.lstrip().startswith(b"-----BEGIN"):
        loaded = load_pem_public_key(public_key)
        if not isinstance(loaded, Ed25519PublicKey):
            raise ValueError(f"public_key: expected an Ed25519 key, got {type(loaded).__name__}")
        key = loaded
    elif isinstance(public_key, bytes) and len(public_key) == 32:
        key = Ed25519PublicKey.from_public_bytes(public_key)
    else:
        raise ValueError("public_key: expected an Ed25519 public key (PEM, 32 raw bytes or a cryptography key)")

    def verify(signature: bytes, data: bytes) -> None:
        try:
            key.verify(signature, data)
        except InvalidSignature as e:
            raise PolicySourceError("the archive's Ed25519 signature does not verify") from e

    return verify


def _signature_bytes(raw: bytes, url: str) -> bytes:
    """A signature sent as 64 raw bytes or as base64 text."""
    if len(raw) == 64:
        return raw
    try:
        decoded = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError) as e:
        raise PolicySourceError(f"{url}: not an Ed25519 signature (64 bytes or base64)") from e
    if len(decoded) != 64:
        raise PolicySourceError(f"{url}: not an Ed25519 signature (64 bytes or base64)")
    return decoded
