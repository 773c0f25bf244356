"""warden: native-speed authentication and authorization for Python web apps.

``warden.Engine`` decides Cerbos-format policies in-process (Rust core);
``warden.Client`` is a drop-in for ``cerbos.sdk.client.CerbosClient`` on top of it.
"""
from warden._core import Engine, __version__
from warden.client import AsyncClient, AsyncPrincipalContext, Client, PrincipalContext
from warden.errors import CerbosRequestException, PolicyError
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
    "JWT",
    "OutputEntry",
    "PolicyError",
    "Principal",
    "PrincipalContext",
    "Resource",
    "ResourceAction",
    "ResourceDesc",
    "ResourceList",
    "Source",
    "ValidationError",
    "__version__",
]
