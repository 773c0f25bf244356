# Type stubs for the Rust extension module warden._core (JWT part; other parts
# of the module add their entries here).
from typing import Any, Dict, List, Optional

__version__: str

class InvalidToken(Exception):
    """The bearer token was refused; ready for an RFC 6750 WWW-Authenticate header."""

    error: str
    description: str
    status_code: int

class MalformedToken(InvalidToken): ...
class InvalidHeader(InvalidToken): ...
class UnsupportedAlgorithm(InvalidToken): ...
class UnknownKey(InvalidToken): ...
class InvalidSignature(InvalidToken): ...
class ExpiredToken(InvalidToken): ...
class InvalidClaims(InvalidToken): ...
class NotYetValid(InvalidClaims): ...
class InactiveToken(InvalidToken): ...
class ProviderUnavailable(InvalidToken): ...

class JWTVerifierCore:
    def __init__(
        self,
        *,
        jwks: Optional[str] = None,
        jwks_url: Optional[str] = None,
        key_pem: Optional[bytes] = None,
        secret: Optional[bytes] = None,
        issuer: Optional[str] = None,
        audience: Optional[List[str]] = None,
        algorithms: Optional[List[str]] = None,
        leeway: int = 30,
        required_claims: List[str] = ...,
        expected_claims: Optional[str] = None,
        allowed_typ: List[str] = ...,
        max_token_bytes: int = 16384,
        max_lifetime: Optional[int] = None,
        allow_any_audience: bool = False,
        discovery: bool = False,
        http_timeout: float = 5.0,
        max_response_bytes: int = 524288,
        jwks_min_ttl: float = 60.0,
        jwks_max_ttl: float = 86400.0,
        jwks_default_ttl: float = 900.0,
        unknown_kid_cooldown: float = 30.0,
        max_stale: float = 86400.0,
        failure_backoff: float = 1.0,
    ) -> None: ...
    def verify(self, token: str) -> Dict[str, Any]: ...
    def verify_cached(self, token: str) -> Optional[Dict[str, Any]]: ...
    def refresh_keys(self) -> int: ...
    def key_status(self) -> Dict[str, Any]: ...

class IntrospectorCore:
    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        *,
        token_type_hint: Optional[str] = "access_token",
        issuer: Optional[str] = None,
        audience: Optional[List[str]] = None,
        max_cache: float = 60.0,
        cache_capacity: int = 10000,
        max_token_bytes: int = 16384,
        http_timeout: float = 5.0,
    ) -> None: ...
    def verify(self, token: str) -> Dict[str, Any]: ...
    @property
    def cached_entries(self) -> int: ...

class TokenInfoCore:
    def __init__(
        self,
        url: str,
        *,
        max_cache: float = 60.0,
        cache_capacity: int = 10000,
        max_token_bytes: int = 16384,
        http_timeout: float = 5.0,
    ) -> None: ...
    def verify(self, token: str) -> Dict[str, Any]: ...
    @property
    def cached_entries(self) -> int: ...

def discover_provider(issuer: str, *, http_timeout: float = 5.0) -> Dict[str, Optional[str]]: ...

# Entries of the other parts of the module (Engine, PolicyError, ...) until they are stubbed.
def __getattr__(name: str) -> Any: ...
