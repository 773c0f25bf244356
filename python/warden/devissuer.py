"""A local development issuer: signing keys made on start, a JWKS on 127.0.0.1, tokens for named users.

The examples embed it so they run without any cloud account::

    from warden.devissuer import DevIssuer

    with DevIssuer(audience="api://orders", users={"alice": {"roles": ["admin"]}}) as idp:
        verifier = warden.JWTVerifier(jwks_url=idp.jwks_url, issuer=idp.issuer, audience="api://orders")
        token = idp.mint("alice")                # signed RS256 JWT for alice

It serves, on loopback only:

- ``/.well-known/jwks.json`` (also ``/jwks`` and ``/v1/keys``, Okta's path): the public keys;
- ``/.well-known/openid-configuration``: OIDC discovery;
- ``POST /introspect``: RFC 7662 for the tokens it minted (HTTP Basic client credentials);
- ``GET /tokeninfo?access_token=...``: STUPS-style tokeninfo (``uid``, ``scope`` list, ``realm``, ``expires_in``).

Tokens are signed with ``cryptography`` (never with warden, which only verifies).
``issuer`` may be set to a real provider's issuer string (a Cognito user pool, an
Okta authorization server) so the provider's preset verifies the tokens with only
its key URL pointed here. This is a development tool: keys live in memory, users
need no password, and it refuses to listen anywhere but a loopback address.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import parse_qs, unquote_plus, urlparse

__all__ = ["DevIssuer"]


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(n: int) -> str:
    return _b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Clients that hang up early leave broken pipes; not worth a traceback in a dev tool.

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class DevIssuer:
    """A development identity provider on 127.0.0.1 that mints RS256 tokens for named users.

    ``users`` maps user names to their extra claims (for instance
    ``{"alice": {"roles": ["admin"]}}``, or provider-shaped claims such as
    ``cognito:groups``); ``mint(name)`` signs the user's claims plus ``iss``, ``aud``
    (when ``audience`` is set), ``sub`` (the name, unless the user's claims give one),
    ``iat``, ``exp`` (``lifetime`` seconds later) and ``jti``. ``issuer`` defaults to
    the server's own URL. ``client_id``/``client_secret`` are the credentials
    ``/introspect`` accepts. Start with ``start()`` or ``with``; ``stop()`` ends it.
    """

    def __init__(
        self,
        *,
        issuer: Optional[str] = None,
        audience: Optional[str] = None,
        users: Optional[Mapping[str, Mapping[str, Any]]] = None,
        lifetime: int = 3600,
        host: str = "127.0.0.1",
        port: int = 0,
        kid: Optional[str] = None,
        key_size: int = 2048,
        client_id: str = "dev-client",
        client_secret: str = "dev-secret",
        max_age: int = 300,
    ) -> None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise ValueError(f"host: the development issuer listens on loopback only, not {host!r}")
        if lifetime <= 0:
            raise ValueError("lifetime: must be positive")
        from cryptography.hazmat.primitives.asymmetric import rsa  # a dev-only dependency

        self._private = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        self.kid = kid or "dev-" + secrets.token_hex(4)
        self.audience = audience
        self.lifetime = lifetime
        self.users: Dict[str, Dict[str, Any]] = {name: dict(claims) for name, claims in (users or {}).items()}
        self.client_id = client_id
        self.client_secret = client_secret
        self.max_age = max_age
        self._issued: Dict[str, Dict[str, Any]] = {}  # token -> claims, for introspection and tokeninfo
        self._revoked: set = set()
        self._lock = threading.Lock()
        self._server = _Server((host, port), _handler(self))
        self._thread: Optional[threading.Thread] = None
        self._issuer = issuer

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> "DevIssuer":
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="warden-devissuer", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> "DevIssuer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- addresses ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. ``http://127.0.0.1:40123``."""
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host  # typeshed allows bytes (AF_UNIX); ours is IPv4
        return f"http://{host}:{port}"

    @property
    def issuer(self) -> str:
        """The ``iss`` of minted tokens."""
        return self._issuer or self.url

    @property
    def jwks_url(self) -> str:
        return self.url + "/.well-known/jwks.json"

    @property
    def introspection_url(self) -> str:
        return self.url + "/introspect"

    @property
    def tokeninfo_url(self) -> str:
        return self.url + "/tokeninfo"

    def jwks(self) -> Dict[str, Any]:
        """The public JWKS (one RSA key with ``kid``, ``alg`` and ``use``)."""
        nums = self._private.public_key().public_numbers()
        return {
            "keys": [
                {"kty": "RSA", "kid": self.kid, "alg": "RS256", "use": "sig", "n": _uint(nums.n), "e": _uint(nums.e)}
            ]
        }

    # --- tokens -------------------------------------------------------------------------------

    def add_user(self, name: str, **claims: Any) -> None:
        """Register (or replace) a user and the claims their tokens carry."""
        self.users[name] = dict(claims)

    def mint(self, user: str, *, lifetime: Optional[int] = None, **claims: Any) -> str:
        """A signed token for ``user`` (a registered name, or any subject when ``claims`` are given).

        ``claims`` are added to (and override) the user's registered claims; a claim
        given as None is removed.
        """
        if user not in self.users and not claims:
            raise KeyError(
                f"user: {user!r} is not one of {sorted(self.users)}; register it with add_user() or pass claims"
            )
        now = int(time.time())
        payload: Dict[str, Any] = {
            "iss": self.issuer,
            "sub": user,
            "iat": now,
            "exp": now + (lifetime or self.lifetime),
        }
        if self.audience is not None:
            payload["aud"] = self.audience
        payload["jti"] = secrets.token_hex(8)
        payload.update(self.users.get(user, {}))
        for name, value in claims.items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        token = self.sign(payload)
        with self._lock:
            self._issued[token] = payload
        return token

    def sign(self, payload: Mapping[str, Any], header: Optional[Mapping[str, Any]] = None) -> str:
        """Sign ``payload`` as a compact RS256 JWS with this issuer's key (for custom tokens)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        head = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        head.update(header or {})
        signing_input = (
            _b64u(json.dumps(head, separators=(",", ":")).encode())
            + "."
            + _b64u(json.dumps(dict(payload), separators=(",", ":")).encode())
        )
        signature = self._private.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64u(signature)

    def revoke(self, token: str) -> None:
        """Make introspection and tokeninfo answer ``active: false`` / 401 for ``token``."""
        with self._lock:
            self._revoked.add(token)

    def claims_of(self, token: str) -> Optional[Dict[str, Any]]:
        """The claims of a token this issuer minted, while it is active (not expired, not revoked)."""
        with self._lock:
            claims = self._issued.get(token)
            if claims is None or token in self._revoked:
                return None
        if claims.get("exp", 0) <= time.time():
            return None
        return claims

    def _client_ok(self, authorization: Optional[str]) -> bool:
        # RFC 6749 §2.3.1: id and secret are form-urlencoded inside the Basic credentials
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            user, sep, password = base64.b64decode(authorization[6:], validate=True).decode("ascii").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        id_ok = hmac.compare_digest(unquote_plus(user).encode(), self.client_id.encode())
        secret_ok = hmac.compare_digest(unquote_plus(password).encode(), self.client_secret.encode())
        return bool(sep) and id_ok and secret_ok


def _scopes(claims: Mapping[str, Any]) -> List[str]:
    value = claims.get("scope", claims.get("scp", []))
    return value.split() if isinstance(value, str) else [v for v in value if isinstance(v, str)]


def _handler(idp: DevIssuer) -> type:
    class Handler(BaseHTTPRequestHandler):
        server_version = "warden-devissuer"

        def log_message(self, *args: Any) -> None:  # quiet: tests and demos print their own story
            pass

        def _send(self, status: int, body: Any, headers: Optional[Dict[str, str]] = None) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path in ("/.well-known/jwks.json", "/jwks", "/v1/keys", "/oauth2/v1/keys"):
                self._send(200, idp.jwks(), {"Cache-Control": f"public, max-age={idp.max_age}"})
            elif url.path == "/.well-known/openid-configuration":
                self._send(
                    200,
                    {
                        "issuer": idp.issuer,
                        "jwks_uri": idp.jwks_url,
                        "introspection_endpoint": idp.introspection_url,
                        "response_types_supported": ["token"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    },
                )
            elif url.path == "/tokeninfo":
                token = parse_qs(url.query).get("access_token", [""])[0]
                auth = self.headers.get("Authorization", "")
                if not token and auth.lower().startswith("bearer "):
                    token = auth[7:].strip()
                claims = idp.claims_of(token) if token else None
                if claims is None:
                    self._send(401, {"error": "invalid_token", "error_description": "Access Token not valid"})
                    return
                answer = {k: v for k, v in claims.items() if k not in ("iss", "aud", "iat", "exp", "jti")}
                answer.update(
                    {
                        "uid": claims.get("uid", claims.get("sub")),
                        "scope": _scopes(claims),
                        "realm": claims.get("realm", "/employees"),
                        "expires_in": max(0, int(claims["exp"] - time.time())),
                        "token_type": "Bearer",
                        "access_token": token,
                    }
                )
                self._send(200, answer)
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), 1 << 16)
            body = self.rfile.read(length)
            if urlparse(self.path).path != "/introspect":
                self._send(404, {"error": "not_found"})
                return
            if not idp._client_ok(self.headers.get("Authorization")):
                self._send(401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="introspection"'})
                return
            token = parse_qs(body.decode("ascii", "replace")).get("token", [""])[0]
            claims = idp.claims_of(token) if token else None
            if claims is None:
                self._send(200, {"active": False})
                return
            answer = dict(claims)
            answer["active"] = True
            answer.setdefault("client_id", idp.client_id)
            answer.setdefault("token_type", "Bearer")
            if isinstance(answer.get("scp"), list) and "scope" not in answer:
                answer["scope"] = " ".join(answer["scp"])
            self._send(200, answer)

    return Handler
