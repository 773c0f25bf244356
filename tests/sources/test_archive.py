"""Safe extraction of policy archives: what could escape the directory or exhaust the disk is refused."""

from __future__ import annotations

import io
import tarfile

import pytest
from warden.sources import ArchiveLimits, UnsafeArchive
from warden.sources._archive import extract_bytes

from .servers import tarball


def archive_with(member: tarfile.TarInfo, data: bytes = b"") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        tar.addfile(member, io.BytesIO(data) if data else None)
    return out.getvalue()


def link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def test_a_plain_archive_unpacks(tmp_path):
    data = tarball({"./a/doc.yaml": "x", "b.yaml": "yy"})
    assert extract_bytes(data, tmp_path / "out") == 2
    assert (tmp_path / "out/a/doc.yaml").read_text() == "x"
    assert extract_bytes(tarball({"c.yaml": "z"}, gzip=False), tmp_path / "plain") == 1


@pytest.mark.parametrize(
    "data, error",
    [
        (tarball({"/etc/evil.yaml": "x"}), "absolute paths"),
        (tarball({"a/../../evil.yaml": "x"}), "'..'"),
        (archive_with(link("evil", "/etc/passwd", tarfile.SYMTYPE)), "not links"),
        (archive_with(link("evil", "../outside", tarfile.LNKTYPE)), "not links"),
        (archive_with(link("dev", "", tarfile.CHRTYPE)), "not links or devices"),
        (tarball({"a.yaml": "x", "./a.yaml": "y"}), "appears twice"),
        (b"plain text, not an archive", "not a readable tar archive"),
    ],
    ids=["absolute", "dotdot", "symlink", "hardlink", "device", "duplicate", "garbage"],
)
def test_unsafe_members_are_refused(tmp_path, data, error):
    with pytest.raises(UnsafeArchive, match=error):
        extract_bytes(data, tmp_path / "out")
    assert not (tmp_path / "evil").exists() and not (tmp_path / "outside").exists()


def test_size_caps(tmp_path):
    with pytest.raises(UnsafeArchive, match="more than 2 files"):
        extract_bytes(tarball({f"{i}.yaml": "x" for i in range(3)}), tmp_path / "a", ArchiveLimits(max_files=2))
    with pytest.raises(UnsafeArchive, match="11 bytes, more than 10"):
        extract_bytes(tarball({"big.yaml": "x" * 11}), tmp_path / "b", ArchiveLimits(max_file_bytes=10))
    # A compressed bomb: 64 MiB of zeros gzip to a few KiB; the total cap stops it from its header.
    bomb = tarball({"zeros.yaml": "\0" * (64 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    with pytest.raises(UnsafeArchive, match="bytes in all"):
        extract_bytes(
            bomb, tmp_path / "c", ArchiveLimits(max_total_bytes=1024 * 1024, max_file_bytes=128 * 1024 * 1024)
        )
