"""warden: native-speed authentication and authorization for Python web apps.

``warden.Engine`` decides Cerbos-format policies in-process (Rust core);
``warden.Client`` is a drop-in for ``cerbos.sdk.client.CerbosClient`` on top of it.
"""

from warden._core import Engine, __version__
from warden.client import AsyncClient, AsyncPrincipalContext, Client, PrincipalContext
from warden.errors import CerbosRequestException, PolicyError
from warden.jwt import (
    ExpiredToken,
    InactiveToken,
    Introspector,
    InvalidClaims,
    InvalidHeader,
    InvalidSignature,
    InvalidToken,
    JWTVerifier,
    MalformedToken,
    NotYetValid,
    PrincipalMapping,
    ProviderUnavailable,
    TokenInfo,
    UnknownKey,
    UnsupportedAlgorithm,
    www_authenticate,
)
from warden.models import (
    JWT,
    APIError,
    AuxData,
    CheckResourcesResponse,
    CheckResourcesResult,
    Effect,
    OutputEntry,
    Principal,
    Resource,
    ResourceAction,
    ResourceDesc,
    ResourceList,
    Source,
    ValidationError,
)
from warden.rego import Rego, RegoError, RegoEvalError, RegoLoadError

__all__ = [
    "APIError",
    "AsyncClient",
    "AsyncPrincipalContext",
    "AuxData",
    "CerbosRequestException",
    "CheckResourcesResponse",
    "CheckResourcesResult",
    "Client",
    "Effect",
    "Engine",
    "ExpiredToken",
    "InactiveToken",
    "Introspector",
    "InvalidClaims",
    "InvalidHeader",
    "InvalidSignature",
    "InvalidToken",
    "JWT",
    "JWTVerifier",
    "MalformedToken",
    "NotYetValid",
    "OutputEntry",
    "PolicyError",
    "Principal",
    "PrincipalContext",
    "PrincipalMapping",
    "ProviderUnavailable",
    "Rego",
    "RegoError",
    "RegoEvalError",
    "RegoLoadError",
    "Resource",
    "ResourceAction",
    "ResourceDesc",
    "ResourceList",
    "Source",
    "TokenInfo",
    "UnknownKey",
    "UnsupportedAlgorithm",
    "ValidationError",
    "www_authenticate",
    "__version__",
]
