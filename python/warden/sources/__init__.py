"""Policy sources for a fleet of replicas: every replica serves the same version and says which.

* :class:`GitSource`: a branch or tag of a git repository, polled; the version is the commit.
* :class:`BundleSource`: a tar.gz of a policy directory over HTTP(S), polled with ``ETag``;
  the version is the archive's SHA-256; optional digest pin and Ed25519 signature.

A local directory needs no source: ``Engine.from_directory(path, watch=True)`` reloads on change.
Each source owns an :class:`~warden.Engine` (``source.engine``) that it reloads when a new version
compiles; a version that cannot be fetched, unpacked, verified or compiled is logged on the
``warden.sources`` logger and the last good one keeps serving. ``source.status()`` is made for
health endpoints. See docs/operations.md.
"""

from warden.sources._archive import ArchiveLimits, UnsafeArchive
from warden.sources._base import PolicySourceError, PolledSource, PollOutcome
from warden.sources.bundle import BundleSource
from warden.sources.git import GitSource

__all__ = [
    "ArchiveLimits",
    "BundleSource",
    "GitSource",
    "PollOutcome",
    "PolicySourceError",
    "PolledSource",
    "UnsafeArchive",
]
