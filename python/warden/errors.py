"""The one import path for warden's exceptions.

* :class:`PolicyError`: policies failed to load or compile. ``.errors`` lists
  every problem as ``{"file", "line", "column", "message"}`` and ``str()``
  shows them all as ``file:line:col: message``.
* Bad request input raises the builtins ``ValueError`` / ``TypeError``, with
  the offending field named first (``principal.roles: ...``).
* The ``cerbos.sdk.model`` exceptions are kept for drop-in code that catches
  them; warden itself raises ``CerbosRequestException`` only from
  ``CheckResourcesResponse.raise_if_failed``.
"""

from warden._core import PolicyError
from warden.models import CerbosRequestException, CerbosTLSError, CerbosTypeError

__all__ = ["CerbosRequestException", "CerbosTLSError", "CerbosTypeError", "PolicyError"]
