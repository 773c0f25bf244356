"""Safe extraction of a policy archive (a tar stream, gzipped or not) into a fresh directory.

Archives come from the network (HTTP bundles) or a git server, so every member is checked
before a byte is written: relative names only, no ``..``, regular files and directories
only (links and devices are refused, so nothing can point outside), and caps on the number
of members, each file's size and the total size, so that a compressed bomb stops early.
"""

from __future__ import annotations

import io
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on what an archive may unpack to."""

    max_files: int = 10_000
    max_file_bytes: int = 4 * 1024 * 1024
    max_total_bytes: int = 64 * 1024 * 1024


class UnsafeArchive(ValueError):
    """The archive is corrupt, too large, or holds a member that could escape its directory."""


def extract(stream: IO[bytes], dest: Path, limits: ArchiveLimits = ArchiveLimits()) -> int:
    """Unpack the tar (or tar.gz) ``stream`` into the new directory ``dest``; returns the number of files.

    Raises :class:`UnsafeArchive` naming the offending member; ``dest`` may then hold part of
    the archive and is for the caller to remove.
    """
    dest.mkdir(mode=0o700)
    files = 0
    total = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as archive:
            for member in archive:
                parts = _parts(member.name)
                if not parts and member.isdir():  # "./": the archive's root
                    continue
                if not parts:
                    raise UnsafeArchive(f"{member.name!r}: empty member name")
                target = dest.joinpath(*parts)
                if member.isdir():
                    target.mkdir(mode=0o700, parents=True, exist_ok=True)
                    continue
                if not member.isfile():
                    raise UnsafeArchive(
                        f"{member.name}: only regular files and directories are allowed, not links or devices"
                    )
                files += 1
                total += member.size
                if files > limits.max_files:
                    raise UnsafeArchive(f"more than {limits.max_files} files")
                if member.size > limits.max_file_bytes:
                    raise UnsafeArchive(f"{member.name}: {member.size} bytes, more than {limits.max_file_bytes}")
                if total > limits.max_total_bytes:
                    raise UnsafeArchive(f"more than {limits.max_total_bytes} bytes in all")
                data = archive.extractfile(member)
                if data is None:  # pragma: no cover - isfile() members always have data
                    raise UnsafeArchive(f"{member.name}: no data")
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                if target.exists():
                    raise UnsafeArchive(f"{member.name}: appears twice")
                with open(target, "xb") as out:
                    out.write(data.read(member.size))
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise UnsafeArchive(f"not a readable tar archive: {e}") from e
    except OSError as e:
        raise UnsafeArchive(f"cannot unpack the archive: {e}") from e
    return files


def extract_bytes(data: bytes, dest: Path, limits: ArchiveLimits = ArchiveLimits()) -> int:
    """:func:`extract` from bytes in memory."""
    return extract(io.BytesIO(data), dest, limits)


def _parts(name: str) -> tuple:
    """The path components of a member name, refusing absolute names and ``..``."""
    if PurePosixPath(name).is_absolute():
        raise UnsafeArchive(f"{name}: absolute paths are not allowed")
    parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
    if ".." in parts:
        raise UnsafeArchive(f"{name}: '..' is not allowed in member names")
    return parts
