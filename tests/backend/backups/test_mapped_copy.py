"""MappedCopy, the copy under backup and restore: hash a range of one file in place while the
kernel copies it into another (copy_file_range), or writes it from the mapping where the
kernel cannot copy (the archive on another filesystem). Checked against hashlib and the bytes
themselves, across window boundaries and at offsets no page or window lines up with."""

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from printstash.backups.archive import MappedCopy

DATA = os.urandom(3 * 1024 * 1024 + 12345)
SHM = Path("/dev/shm")  # tmpfs: a filesystem other than the one tmp_path lives on


@pytest.fixture
def copier(monkeypatch: pytest.MonkeyPatch) -> Iterator[MappedCopy]:
    monkeypatch.setattr(MappedCopy, "WINDOW", 1024 * 1024)  # several windows per range
    copy = MappedCopy()
    yield copy
    copy.shutdown()


def _source(directory: Path) -> Path:
    path = directory / f"printstash-src-{os.getpid()}"
    path.write_bytes(DATA)
    return path


def _open(path: Path, flags: int = os.O_RDONLY) -> int:
    return os.open(path, flags | os.O_CREAT, 0o600)


@pytest.mark.parametrize("offset, size", [(0, len(DATA)), (4097, 2 * 1024 * 1024 + 3), (len(DATA) - 1, 1), (5, 0)])
def test_a_range_is_hashed_and_copied_exactly(copier: MappedCopy, tmp_path: Path, offset: int, size: int) -> None:
    src, dst = _open(_source(tmp_path)), _open(tmp_path / "dst", os.O_WRONLY)
    try:
        digest = copier.run(src, offset, size, dst, 7)
    finally:
        os.close(src)
        os.close(dst)
    expected = DATA[offset: offset + size]
    assert digest == hashlib.sha256(expected).hexdigest()
    assert (tmp_path / "dst").read_bytes() == (bytes(7) + expected if size else b"")


def test_without_a_destination_offset_it_appends_at_the_file_position(copier: MappedCopy, tmp_path: Path) -> None:
    src, dst = _open(_source(tmp_path)), _open(tmp_path / "dst", os.O_WRONLY)
    try:
        os.write(dst, b"head")
        copier.run(src, 10, 1_500_000, dst, None)
        copier.run(src, 0, 10, dst, None)
        os.write(dst, b"tail")
    finally:
        os.close(src)
        os.close(dst)
    assert (tmp_path / "dst").read_bytes() == b"head" + DATA[10:1_500_010] + DATA[:10] + b"tail"


@pytest.mark.skipif(not SHM.is_dir(), reason="needs a tmpfs at /dev/shm")
def test_across_filesystems_it_writes_from_the_mapping(copier: MappedCopy, tmp_path: Path) -> None:
    source = _source(SHM)
    src, dst = _open(source), _open(tmp_path / "dst", os.O_WRONLY)
    try:
        for at in (None, len(DATA) - 123):  # at the file position, then at an offset
            digest = copier.run(src, 123, len(DATA) - 123, dst, at)
            assert digest == hashlib.sha256(DATA[123:]).hexdigest()
    finally:
        os.close(src)
        os.close(dst)
        source.unlink()
    assert (tmp_path / "dst").read_bytes() == DATA[123:] * 2
    assert copier._kernel_copy is False  # the kernel refused: the fallback really ran


def test_a_source_shorter_than_the_range_is_an_eof_error_not_a_crash(copier: MappedCopy, tmp_path: Path) -> None:
    src, dst = _open(_source(tmp_path)), _open(tmp_path / "dst", os.O_WRONLY)
    try:
        with pytest.raises(EOFError):
            copier.run(src, 1000, len(DATA), dst, 0)
        with pytest.raises(EOFError):
            copier.run(src, 0, len(DATA) + 1, None, None)
    finally:
        os.close(src)
        os.close(dst)
