"""The one import path for warden's exceptions.

* :class:`PolicyError`: policies failed to load or compile. ``.errors`` lists
  every problem as ``{"file", "line", "column", "kind", "message"}`` and
  ``str()`` shows them all as ``file:line:col: message``.
* Bad request input raises the builtins ``ValueError`` / ``TypeError``, with
  the offending field named first (``principal.roles: ...``); a value nested
  too deep or containing itself is a ``ValueError`` too (see docs/security.md).
* :class:`InternalError`: a bug in warden (a Rust panic stopped at the Python
  boundary); it is logged on the ``warden`` logger. Every warden exception,
  this one included, is a subclass of ``Exception``.
* :class:`InvalidToken` and its subclasses: a bearer token was refused
  (``warden.jwt``); :class:`RegoError` and its subclasses: Rego policies
  failed to load or evaluate (``warden.rego``).
* The ``cerbos.sdk.model`` exceptions are kept for drop-in code that catches
  them; warden itself raises ``CerbosRequestException`` only from
  ``CheckResourcesResponse.raise_if_failed``.
"""

from warden._core import (
    ExpiredToken,
    InactiveToken,
    InternalError,
    InvalidClaims,
    InvalidHeader,
    InvalidSignature,
    InvalidToken,
    MalformedToken,
    NotYetValid,
    PolicyError,
    ProviderUnavailable,
    RegoError,
    RegoEvalError,
    RegoLoadError,
    UnknownKey,
    UnsupportedAlgorithm,
)
from warden.models import CerbosRequestException, CerbosTLSError, CerbosTypeError

__all__ = [
    "CerbosRequestException",
    "CerbosTLSError",
    "CerbosTypeError",
    "ExpiredToken",
    "InactiveToken",
    "InternalError",
    "InvalidClaims",
    "InvalidHeader",
    "InvalidSignature",
    "InvalidToken",
    "MalformedToken",
    "NotYetValid",
    "PolicyError",
    "ProviderUnavailable",
    "RegoError",
    "RegoEvalError",
    "RegoLoadError",
    "UnknownKey",
    "UnsupportedAlgorithm",
]
