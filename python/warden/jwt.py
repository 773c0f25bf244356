"""Bearer-token authentication: JWTs verified in Rust, introspection and tokeninfo.

``JWTVerifier`` checks a compact JWT (signature, algorithm bound to the key,
``exp``/``nbf``/``iat``, ``iss``, ``aud``, header rules) and returns its claims;
presets configure it for AWS Cognito, Okta, Stytch and any OIDC provider.
``Introspector`` (RFC 7662) and ``TokenInfo`` (STUPS-style tokeninfo) ask the
authorization server instead. All three have ``verify`` and ``verify_async`` and
turn claims into a ``warden.Principal`` with ``principal``.

Refused tokens raise a subclass of ``InvalidToken`` whose ``error``,
``description`` and ``status_code`` make the RFC 6750 answer
(see ``www_authenticate``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple, Union

from warden._core import (
    ExpiredToken,
    InactiveToken,
    IntrospectorCore,
    InvalidClaims,
    InvalidHeader,
    InvalidSignature,
    InvalidToken,
    JWTVerifierCore,
    MalformedToken,
    NotYetValid,
    ProviderUnavailable,
    TokenInfoCore,
    UnknownKey,
    UnsupportedAlgorithm,
    discover_provider,
)

if TYPE_CHECKING:  # pragma: no cover
    from warden.models import Principal

__all__ = [
    "DEFAULT_TYP",
    "ExpiredToken",
    "InactiveToken",
    "Introspector",
    "InvalidClaims",
    "InvalidHeader",
    "InvalidSignature",
    "InvalidToken",
    "JWTVerifier",
    "MalformedToken",
    "NotYetValid",
    "PrincipalMapping",
    "ProviderUnavailable",
    "TokenInfo",
    "UnknownKey",
    "UnsupportedAlgorithm",
    "claim_path",
    "www_authenticate",
]

#: ``typ`` header values accepted by default (an absent ``typ`` is always accepted).
DEFAULT_TYP: Tuple[str, ...] = ("JWT", "at+jwt", "application/at+jwt")

Claims = Dict[str, Any]
JWKS = Union[Mapping[str, Any], str, bytes, "os.PathLike[str]"]


def www_authenticate(exc: InvalidToken, realm: Optional[str] = None) -> str:
    """The ``WWW-Authenticate`` header value for a refused token (RFC 6750 §3).

    >>> www_authenticate(ExpiredToken("token has expired"))
    'Bearer error="invalid_token", error_description="token has expired"'
    """
    parts = []
    if realm is not None:
        parts.append(f'realm="{_quote(realm)}"')
    parts.append(f'error="{_quote(getattr(exc, "error", "invalid_token"))}"')
    description = getattr(exc, "description", "") or (str(exc.args[0]) if exc.args else "")
    if description:
        parts.append(f'error_description="{_quote(description)}"')
    return "Bearer " + ", ".join(parts)


def _quote(text: str) -> str:
    # RFC 6750 §3: error_description is limited to printable ASCII without '"' and '\'.
    return "".join(c for c in str(text) if 0x20 <= ord(c) <= 0x7E and c not in '"\\')


# --- claims -> principal ------------------------------------------------------


def claim_path(claims: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` in ``claims``, or None.

    ``path`` is a literal claim name (which may contain ``:``, ``/`` or ``.``,
    such as ``cognito:groups`` or ``https://stytch.com/session``) or such names
    joined by ``.`` to go into nested objects (``trusted_metadata.roles``,
    ``https://stytch.com/session.roles``). A literal name wins over a nested reading.
    """
    current: Any = claims
    rest = path
    while True:
        if not isinstance(current, Mapping):
            return None
        if rest in current:
            return current[rest]
        # Longest prefix that is a key, then descend.
        cut = rest.rfind(".")
        while cut > 0 and rest[:cut] not in current:
            cut = rest.rfind(".", 0, cut)
        if cut <= 0:
            return None
        current, rest = current[rest[:cut]], rest[cut + 1 :]


def _strings(value: Any) -> Iterable[str]:
    """Role names from a claim value: a list of strings or a space-separated string."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str) and v]
    return ()


@dataclass(frozen=True)
class PrincipalMapping:
    """How claims become a ``warden.Principal``.

    ``roles_claim`` is one claim path or several (their roles are combined);
    ``attr_claims`` maps attribute names to claim paths (absent claims are left out);
    ``default_roles`` are used when the token carries no role, since a principal
    needs at least one; ``strip_role_prefix`` removes a leading string from each role
    (e.g. ``/`` from a STUPS realm).
    """

    id_claim: str = "sub"
    roles_claim: Union[str, Sequence[str]] = ("roles",)
    attr_claims: Mapping[str, str] = field(default_factory=dict)
    default_roles: Tuple[str, ...] = ("user",)
    strip_role_prefix: str = ""

    def principal(
        self,
        claims: Mapping[str, Any],
        *,
        roles_claim: Union[str, Sequence[str], None] = None,
        id_claim: Optional[str] = None,
        attr_claims: Optional[Union[Mapping[str, str], Sequence[str]]] = None,
        policy_version: str = "default",
        scope: str = "",
    ) -> "Principal":
        """Build the principal from already verified ``claims``."""
        from warden.models import Principal  # lazy: keeps warden.jwt importable on its own

        id_path = id_claim or self.id_claim
        principal_id = claim_path(claims, id_path)
        if not isinstance(principal_id, str) or not principal_id:
            raise InvalidClaims(f'claim "{id_path}" (the principal id) is missing or not a string')
        paths = self.roles_claim if roles_claim is None else roles_claim
        if isinstance(paths, str):
            paths = (paths,)
        roles = set()
        for path in paths:
            for role in _strings(claim_path(claims, path)):
                if self.strip_role_prefix and role.startswith(self.strip_role_prefix):
                    role = role[len(self.strip_role_prefix) :]
                if role:
                    roles.add(role)
        if not roles:
            roles = set(self.default_roles)
        wanted = self.attr_claims if attr_claims is None else attr_claims
        if not isinstance(wanted, Mapping):
            wanted = {path: path for path in wanted}
        attr = {}
        for name, path in wanted.items():
            value = claim_path(claims, path)
            if value is not None:
                attr[name] = value
        return Principal(principal_id, roles, attr, policy_version=policy_version, scope=scope)


class _PrincipalMixin:
    _mapping: PrincipalMapping

    def verify(self, token: str) -> Claims:  # pragma: no cover - replaced per class
        raise NotImplementedError

    def principal(
        self,
        token_or_claims: Union[str, Mapping[str, Any]],
        *,
        roles_claim: Union[str, Sequence[str], None] = None,
        id_claim: Optional[str] = None,
        attr_claims: Optional[Union[Mapping[str, str], Sequence[str]]] = None,
        policy_version: str = "default",
        scope: str = "",
    ) -> "Principal":
        """A ``warden.Principal`` for a token (verified first) or for claims already verified.

        Defaults for ``roles_claim``, ``id_claim`` and ``attr_claims`` come from the preset
        (``principal_mapping``); arguments given here override them for this call.
        """
        claims = self.verify(token_or_claims) if isinstance(token_or_claims, str) else token_or_claims
        return self._mapping.principal(
            claims,
            roles_claim=roles_claim,
            id_claim=id_claim,
            attr_claims=attr_claims,
            policy_version=policy_version,
            scope=scope,
        )

    @property
    def principal_mapping(self) -> PrincipalMapping:
        """The defaults ``principal`` uses."""
        return self._mapping


# --- local verification ----------------------------------------------------------


def _jwks_text(jwks: JWKS) -> str:
    if isinstance(jwks, Mapping):
        return json.dumps(jwks)
    if isinstance(jwks, bytes):
        return jwks.decode("utf-8")
    if isinstance(jwks, os.PathLike):
        with open(jwks, encoding="utf-8") as f:
            return f.read()
    if isinstance(jwks, str):
        return jwks
    raise TypeError(f"jwks: expected a dict, JSON text or a path, not {type(jwks).__name__}")


def _as_list(value: Union[str, Sequence[str], None], name: str) -> Optional[list]:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    items = list(value)
    if not all(isinstance(v, str) for v in items):
        raise TypeError(f"{name}: expected a string or a sequence of strings")
    return items


class JWTVerifier(_PrincipalMixin):
    """Verifies bearer JWTs in Rust and returns their claims.

    Give the keys one way: ``jwks`` (a JWKS or single JWK as a dict, JSON text or a
    file path), ``jwks_url`` (fetched and cached), ``key`` (a PEM public key, or an
    HMAC secret of at least 32 bytes with ``algorithms=["HS256"]``), or
    ``discovery=True`` with ``issuer`` (OIDC discovery finds the JWKS).

    Each key is bound to its algorithm (the JWK's ``alg``, else its type); the
    token's ``alg`` header only selects among those. ``algorithms`` narrows further
    and may not mix HMAC with public-key algorithms. ``issuer`` is compared exactly,
    ``audience`` must appear in ``aud``; ``exp``/``nbf``/``iat`` are checked with
    ``leeway`` seconds of skew; ``required_claims`` must be present and
    ``expected_claims`` must have exactly the given values. A token with an ``aud``
    is refused when no ``audience`` is configured (RFC 7519 §4.1.3) unless
    ``allow_any_audience``; ``max_lifetime`` caps how far ``exp`` may be ahead.

    Remote key sets are cached per ``Cache-Control`` (clamped to
    ``[jwks_min_ttl, jwks_max_ttl]``), refetched at most once per
    ``unknown_kid_cooldown`` for unknown ``kid`` values, and kept serving up to
    ``max_stale`` seconds past expiry while the endpoint fails.
    """

    def __init__(
        self,
        *,
        jwks: Optional[JWKS] = None,
        jwks_url: Optional[str] = None,
        key: Union[str, bytes, None] = None,
        issuer: Optional[str] = None,
        audience: Union[str, Sequence[str], None] = None,
        algorithms: Optional[Sequence[str]] = None,
        leeway: int = 30,
        required_claims: Sequence[str] = ("exp",),
        allowed_typ: Sequence[str] = DEFAULT_TYP,
        max_token_bytes: int = 16384,
        discovery: bool = False,
        expected_claims: Optional[Mapping[str, Any]] = None,
        max_lifetime: Optional[int] = None,
        allow_any_audience: bool = False,
        principal_mapping: Optional[PrincipalMapping] = None,
        http_timeout: float = 5.0,
        max_response_bytes: int = 512 * 1024,
        jwks_min_ttl: float = 60.0,
        jwks_max_ttl: float = 86400.0,
        jwks_default_ttl: float = 900.0,
        unknown_kid_cooldown: float = 30.0,
        max_stale: float = 86400.0,
        failure_backoff: float = 1.0,
    ) -> None:
        # PEM or HMAC secret: the core tells them apart (one test for every reader of key text).
        raw = None if key is None else key.encode("utf-8") if isinstance(key, str) else bytes(key)
        self._core = JWTVerifierCore(
            jwks=None if jwks is None else _jwks_text(jwks),
            jwks_url=jwks_url,
            key=raw,
            issuer=issuer,
            audience=_as_list(audience, "audience"),
            algorithms=_as_list(algorithms, "algorithms"),
            leeway=leeway,
            required_claims=list(required_claims),
            expected_claims=None if expected_claims is None else json.dumps(dict(expected_claims)),
            allowed_typ=list(allowed_typ),
            max_token_bytes=max_token_bytes,
            max_lifetime=max_lifetime,
            allow_any_audience=allow_any_audience,
            discovery=discovery,
            http_timeout=http_timeout,
            max_response_bytes=max_response_bytes,
            jwks_min_ttl=jwks_min_ttl,
            jwks_max_ttl=jwks_max_ttl,
            jwks_default_ttl=jwks_default_ttl,
            unknown_kid_cooldown=unknown_kid_cooldown,
            max_stale=max_stale,
            failure_backoff=failure_backoff,
        )
        self.issuer = issuer
        self._mapping = principal_mapping or PrincipalMapping()
        # The Rust method itself, bound on the instance: no Python frame per call.
        self.verify = self._core.verify  # type: ignore[method-assign]

    def verify(self, token: str) -> Claims:  # noqa: F811 - documented signature; replaced in __init__
        """Verify ``token`` and return its claims; raises a subclass of ``InvalidToken``."""
        return self._core.verify(token)

    async def verify_async(self, token: str) -> Claims:
        """``verify`` for async apps: never blocks the event loop on the network.

        With the keys cached, the check (tens of microseconds) runs inline with
        the GIL released; when keys must be fetched it runs in a worker thread.
        """
        claims = self._core.verify_cached(token)
        if claims is not None:
            return claims
        return await asyncio.to_thread(self._core.verify, token)  # to_thread keeps the context (traces)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(issuer={self.issuer!r})"

    def refresh_keys(self) -> int:
        """Fetch the remote key set now; returns how many usable keys it has."""
        return self._core.refresh_keys()

    def key_status(self) -> Dict[str, Any]:
        """Remote key cache state: ``fetches``, ``keys``, ``age_seconds``, ``expires_in_seconds``, ``last_error``."""
        return self._core.key_status()

    # --- presets -----------------------------------------------------------------

    @classmethod
    def cognito(
        cls,
        region: str,
        user_pool_id: str,
        client_id: str,
        token_use: str = "access",
        jwks: Optional[JWKS] = None,
        **options: Any,
    ) -> "JWTVerifier":
        """Amazon Cognito user pool tokens.

        Issuer ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}``, RS256,
        ``token_use`` required and equal to ``token_use``; access tokens must carry
        ``client_id``, ID tokens must have it as ``aud``. Roles come from ``cognito:groups``.
        """
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+", region or ""):
            raise ValueError(f"region: {region!r} is not an AWS region name such as 'eu-west-1'")
        if not re.fullmatch(r"[\w-]+_[0-9A-Za-z]+", user_pool_id or ""):
            raise ValueError(f"user_pool_id: {user_pool_id!r} is not a Cognito user pool id such as 'eu-west-1_AbC123'")
        if not client_id:
            raise ValueError("client_id: must not be empty")
        issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        if token_use == "access":
            audience, expected = None, {"token_use": "access", "client_id": client_id}
            username = "username"
        elif token_use == "id":
            audience, expected = client_id, {"token_use": "id"}
            username = "cognito:username"
        else:
            raise ValueError(f"token_use: must be 'access' or 'id', not {token_use!r}")
        options.setdefault(
            "principal_mapping",
            PrincipalMapping(
                roles_claim=("cognito:groups",),
                attr_claims={"username": username, "email": "email", "scope": "scope", "client_id": "client_id"},
            ),
        )
        return cls._preset(
            issuer=issuer,
            audience=audience,
            expected_claims=expected,
            required_claims=("exp", "iss", "token_use"),
            algorithms=["RS256"],
            jwks=jwks,
            jwks_url=f"{issuer}/.well-known/jwks.json",
            options=options,
        )

    @classmethod
    def okta(
        cls,
        issuer: str,
        audience: Union[str, Sequence[str]],
        client_id: Optional[str] = None,
        jwks: Optional[JWKS] = None,
        **options: Any,
    ) -> "JWTVerifier":
        """Okta access tokens from an authorization server (``issuer`` as Okta shows it).

        RS256, ``aud`` must contain ``audience``, ``cid`` must equal ``client_id``
        when given. Roles come from ``groups``; ``scp`` is exposed as the ``scopes`` attribute.
        """
        if not issuer:
            raise ValueError("issuer: must not be empty")
        base = issuer.rstrip("/")
        # Custom authorization servers serve keys at {issuer}/v1/keys, the org server at /oauth2/v1/keys.
        jwks_url = f"{base}/v1/keys" if "/oauth2/" in base + "/" else f"{base}/oauth2/v1/keys"
        options.setdefault(
            "principal_mapping",
            PrincipalMapping(
                roles_claim=("groups",),
                attr_claims={"scopes": "scp", "client_id": "cid", "uid": "uid", "email": "email"},
            ),
        )
        return cls._preset(
            issuer=issuer,
            audience=audience,
            expected_claims={"cid": client_id} if client_id else None,
            required_claims=("exp", "iss", "aud"),
            algorithms=["RS256"],
            jwks=jwks,
            jwks_url=jwks_url,
            options=options,
        )

    @classmethod
    def stytch(cls, project_id: str, jwks: Optional[JWKS] = None, live: bool = False, **options: Any) -> "JWTVerifier":
        """Stytch session JWTs: issuer ``stytch.com/{project_id}``, audience ``project_id``, RS256.

        Keys from ``https://{test|api}.stytch.com/v1/sessions/jwks/{project_id}``
        (``live`` picks the live environment). Roles come from the session's
        ``https://stytch.com/session.roles`` and from ``trusted_metadata.roles``.
        """
        if not re.fullmatch(r"project-(test|live)-[0-9a-f-]+", project_id or ""):
            raise ValueError(f"project_id: {project_id!r} is not a Stytch project id such as 'project-test-...'")
        host = "api.stytch.com" if live else "test.stytch.com"
        options.setdefault(
            "principal_mapping",
            PrincipalMapping(
                roles_claim=("https://stytch.com/session.roles", "trusted_metadata.roles"),
                attr_claims={"session_id": "https://stytch.com/session.id", "trusted_metadata": "trusted_metadata"},
            ),
        )
        return cls._preset(
            issuer=f"stytch.com/{project_id}",
            audience=project_id,
            expected_claims=None,
            required_claims=("exp", "iss", "aud", "sub"),
            algorithms=["RS256"],
            jwks=jwks,
            jwks_url=f"https://{host}/v1/sessions/jwks/{project_id}",
            options=options,
        )

    @classmethod
    def oidc(
        cls, issuer: str, audience: Union[str, Sequence[str]], jwks: Optional[JWKS] = None, **options: Any
    ) -> "JWTVerifier":
        """Any OpenID Connect provider: keys found through ``{issuer}/.well-known/openid-configuration``."""
        options.setdefault("required_claims", ("exp", "iss", "aud"))
        if jwks is not None:
            return cls(jwks=jwks, issuer=issuer, audience=audience, **options)
        return cls(discovery=True, issuer=issuer, audience=audience, **options)

    @classmethod
    def _preset(cls, *, issuer, audience, expected_claims, required_claims, algorithms, jwks, jwks_url, options):
        options.setdefault("required_claims", required_claims)
        options.setdefault("algorithms", algorithms)
        if jwks is not None:
            return cls(jwks=jwks, issuer=issuer, audience=audience, expected_claims=expected_claims, **options)
        options.setdefault("jwks_url", jwks_url)
        return cls(issuer=issuer, audience=audience, expected_claims=expected_claims, **options)


# --- remote checks ---------------------------------------------------------------


class Introspector(_PrincipalMixin):
    """RFC 7662 token introspection (e.g. Okta ``/v1/introspect``) with client credentials.

    Only ``"active": true`` is accepted; ``issuer``/``audience`` are checked when
    given. Active answers are cached (by SHA-256 of the token) no longer than the
    token's ``exp`` and ``max_cache`` seconds.
    """

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        *,
        token_type_hint: Optional[str] = "access_token",
        issuer: Optional[str] = None,
        audience: Union[str, Sequence[str], None] = None,
        max_cache: float = 60.0,
        cache_capacity: int = 10000,
        max_token_bytes: int = 16384,
        http_timeout: float = 5.0,
        principal_mapping: Optional[PrincipalMapping] = None,
    ) -> None:
        self._core = IntrospectorCore(
            url,
            client_id,
            client_secret,
            token_type_hint=token_type_hint,
            issuer=issuer,
            audience=_as_list(audience, "audience"),
            max_cache=max_cache,
            cache_capacity=cache_capacity,
            max_token_bytes=max_token_bytes,
            http_timeout=http_timeout,
        )
        self._mapping = principal_mapping or PrincipalMapping(
            roles_claim=("groups", "roles"),
            attr_claims={"scope": "scope", "client_id": "client_id", "username": "username"},
        )
        self.verify = self._core.verify  # type: ignore[method-assign]

    def verify(self, token: str) -> Claims:  # noqa: F811 - documented signature; replaced in __init__
        """Introspect ``token``; the active token's claims, else a subclass of ``InvalidToken``."""
        return self._core.verify(token)

    async def verify_async(self, token: str) -> Claims:
        """``verify`` in a worker thread, so the event loop never waits on the network."""
        return await asyncio.to_thread(self._core.verify, token)  # to_thread keeps the context (traces)

    @property
    def cached_entries(self) -> int:
        """Number of cached introspection answers."""
        return self._core.cached_entries

    @classmethod
    def discover(cls, issuer: str, client_id: str, client_secret: str, **options: Any) -> "Introspector":
        """An introspector for the ``introspection_endpoint`` of ``issuer``'s OIDC discovery document.

        Fetches the document now (blocking); raises ``ProviderUnavailable`` when it cannot, and
        ``ValueError`` when the provider does not publish an introspection endpoint.
        """
        metadata = discover_provider(issuer, http_timeout=options.get("http_timeout", 5.0))
        url = metadata["introspection_endpoint"]
        if not url:
            raise ValueError(f"issuer: {issuer!r} publishes no introspection_endpoint")
        options.setdefault("issuer", issuer)
        return cls(url, client_id, client_secret, **options)


class TokenInfo(_PrincipalMixin):
    """STUPS-style OAuth2 tokeninfo: ``GET {url}?access_token=...``.

    The answer (``uid``, ``scope`` list, ``realm``, ``expires_in``) is returned as
    claims and cached no longer than ``expires_in`` and ``max_cache`` seconds.
    ``principal`` uses ``uid`` as the id, the realm (without its leading ``/``) as
    the role, and ``scope``/``realm`` as attributes.
    """

    def __init__(
        self,
        url: str,
        *,
        max_cache: float = 60.0,
        cache_capacity: int = 10000,
        max_token_bytes: int = 16384,
        http_timeout: float = 5.0,
        principal_mapping: Optional[PrincipalMapping] = None,
    ) -> None:
        self._core = TokenInfoCore(
            url,
            max_cache=max_cache,
            cache_capacity=cache_capacity,
            max_token_bytes=max_token_bytes,
            http_timeout=http_timeout,
        )
        self._mapping = principal_mapping or PrincipalMapping(
            id_claim="uid",
            roles_claim=("realm",),
            attr_claims={"scope": "scope", "realm": "realm"},
            strip_role_prefix="/",
        )
        self.verify = self._core.verify  # type: ignore[method-assign]

    def verify(self, token: str) -> Claims:  # noqa: F811 - documented signature; replaced in __init__
        """Look ``token`` up; its tokeninfo answer, else a subclass of ``InvalidToken``."""
        return self._core.verify(token)

    async def verify_async(self, token: str) -> Claims:
        """``verify`` in a worker thread, so the event loop never waits on the network."""
        return await asyncio.to_thread(self._core.verify, token)  # to_thread keeps the context (traces)

    @property
    def cached_entries(self) -> int:
        """Number of cached tokeninfo answers."""
        return self._core.cached_entries
