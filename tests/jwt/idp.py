"""A small identity provider for tests: a real HTTP server on 127.0.0.1.

Serves a JWKS, OIDC discovery, RFC 7662 introspection and STUPS-style
tokeninfo. Tests can rotate keys, make it answer an HTTP error, hang (bounded),
trickle its bodies byte by byte (bounded), redirect, or send an arbitrary body, and
read how many requests each path got.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qs, unquote_plus, urlparse

from .signing import SigningKey

# Longest a "hanging" answer waits; tests release it earlier with `release()`.
MAX_HANG_SECONDS = 5.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests) leaves a broken pipe: expected, not news.
        pass


class IdP:
    """The server's state and controls. Use as a context manager."""

    def __init__(self, keys: List[SigningKey], max_age: Optional[int] = 300) -> None:
        self.keys = list(keys)
        self.extra_jwks: List[Dict[str, Any]] = []
        self.max_age = max_age
        self.requests: Counter = Counter()
        self.fail_status: Optional[int] = None
        self.hang = False
        # Seconds between body bytes (headers go at once); None sends bodies whole.
        self.trickle: Optional[float] = None
        self.redirect_to: Optional[str] = None
        self.raw_body: Optional[bytes] = None
        self.introspection: Dict[str, Dict[str, Any]] = {}
        self.tokeninfo: Dict[str, Dict[str, Any]] = {}
        self.client_credentials = ("warden-client", "s3cret")
        self.introspection_forms: List[Dict[str, List[str]]] = []
        self._released = threading.Event()
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="test-idp", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def issuer(self) -> str:
        return self.url

    @property
    def jwks_url(self) -> str:
        return self.url + "/jwks"

    def __enter__(self) -> "IdP":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    # --- controls ---------------------------------------------------------------

    def rotate(self, new: SigningKey, keep_old: bool = True) -> None:
        """Publish ``new``; drop the other keys unless ``keep_old``."""
        with self._lock:
            self.keys = (self.keys if keep_old else []) + [new]

    def release(self) -> None:
        """End any hanging answer now."""
        self._released.set()

    def count(self, path: str = "/jwks") -> int:
        with self._lock:
            return self.requests[path]

    def jwks(self) -> Dict[str, Any]:
        with self._lock:
            return {"keys": [k.public_jwk() for k in self.keys] + list(self.extra_jwks)}


def client_credentials(authorization: Optional[str]) -> Optional[tuple]:
    """(client_id, client_secret) from an HTTP Basic header, form-decoded as RFC 6749 §2.3.1 says."""
    if not authorization or not authorization.startswith("Basic "):
        return None
    try:
        user, sep, password = base64.b64decode(authorization[6:], validate=True).decode("ascii").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (unquote_plus(user), unquote_plus(password)) if sep else None


def _handler(idp: IdP):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any, headers: Optional[Dict[str, str]] = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if idp.trickle is None:
                self.wfile.write(data)
                return
            give_up = time.monotonic() + MAX_HANG_SECONDS
            for i in range(len(data)):
                if idp._released.is_set() or time.monotonic() > give_up:
                    return
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                time.sleep(idp.trickle)

        def _common(self) -> bool:
            """Apply the failure modes; True when the request was answered."""
            path = urlparse(self.path).path
            with idp._lock:
                idp.requests[path] += 1
            if idp.hang:
                idp._released.wait(MAX_HANG_SECONDS)
            if idp.redirect_to:
                self.send_response(302)
                self.send_header("Location", idp.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True
            if idp.fail_status:
                self._send(idp.fail_status, {"error": "server_error"})
                return True
            if idp.raw_body is not None:
                self._send(200, idp.raw_body)
                return True
            return False

        def do_GET(self) -> None:
            if self._common():
                return
            url = urlparse(self.path)
            if url.path in ("/jwks", "/.well-known/jwks.json", "/v1/keys"):
                headers = {} if idp.max_age is None else {"Cache-Control": f"public, max-age={idp.max_age}"}
                self._send(200, idp.jwks(), headers)
            elif url.path == "/.well-known/openid-configuration":
                self._send(
                    200,
                    {
                        "issuer": idp.issuer,
                        "jwks_uri": idp.jwks_url,
                        "introspection_endpoint": idp.url + "/introspect",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    },
                )
            elif url.path == "/tokeninfo":
                token = parse_qs(url.query).get("access_token", [""])[0]
                answer = idp.tokeninfo.get(token)
                if answer is None:
                    self._send(401, {"error": "invalid_token", "error_description": "Access Token not valid"})
                else:
                    self._send(200, answer)
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, 1 << 20))
            if self._common():
                return
            if urlparse(self.path).path != "/introspect":
                self._send(404, {"error": "not_found"})
                return
            if client_credentials(self.headers.get("Authorization")) != idp.client_credentials:
                self._send(401, {"error": "invalid_client"})
                return
            form = parse_qs(body.decode("ascii"))
            with idp._lock:
                idp.introspection_forms.append(form)
            token = form.get("token", [""])[0]
            self._send(200, idp.introspection.get(token, {"active": False}))

    return Handler
