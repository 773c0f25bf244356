"""Verified JWT claims kept by token, so a client's repeated requests skip the signature check."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Tuple

from warden.models import Principal

Claims = Dict[str, Any]


class TokenCache:
    """Verified claims (and, for the default mapping, the principal) by token.

    Envoy's ``jwt_cache_config`` does the same. Only for local JWT checks:
    ``Introspector`` and ``TokenInfo`` cache answers themselves and must see
    revocations. An entry is kept until the token expires (no leeway) or ``ttl``
    seconds pass, whichever is first; past ``size`` entries the oldest goes.
    """

    __slots__ = ("size", "ttl", "entries")

    def __init__(self, size: int, ttl: float) -> None:
        self.size = size
        self.ttl = ttl
        #: token -> (claims, principal or None, deadline as a time.time() value)
        self.entries: Dict[str, Tuple[Claims, Optional[Principal], float]] = {}

    def get(self, token: str) -> Optional[Tuple[Claims, Optional[Principal]]]:
        """``(claims, principal)`` for a token verified before and still within its deadline, else None."""
        hit = self.entries.get(token)
        if hit is None:
            return None
        if hit[2] > time.time():
            return hit[0], hit[1]
        self.entries.pop(token, None)
        return None

    def put(self, token: str, claims: Claims, principal: Optional[Principal]) -> None:
        """Remember a verified token's claims (and principal, None when it must be mapped each time)."""
        deadline = time.time() + self.ttl
        exp = claims.get("exp")
        if isinstance(exp, (int, float)) and not isinstance(exp, bool):
            deadline = min(deadline, float(exp))
        if len(self.entries) >= self.size:
            self.entries.pop(next(iter(self.entries)), None)  # the oldest entry
        self.entries[token] = (claims, principal, deadline)

    def clear(self) -> None:
        """Forget every token."""
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"TokenCache(size={self.size}, ttl={self.ttl}, entries={len(self.entries)})"
