"""OpenTelemetry for warden (placeholder until instrument() lands)."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional


class _NoReload:
    def done(self, outcome: str, version: Optional[str]) -> None:
        pass

    def failed(self, error: BaseException, version: Optional[str]) -> None:
        pass


@contextlib.contextmanager
def policy_reload(kind: str, location: str) -> Iterator[Any]:
    yield _NoReload()
