"""core/fastio.py, the byte paths under upload, backup and restore.

MappedCopy hashes a range of one file in place while the kernel copies it into another
(copy_file_range), or writes it from the mapping where the kernel cannot copy (another
filesystem); write_stream writes an upload's batches while hashing them on a second thread.
Checked against hashlib and the bytes themselves, across window and batch boundaries, at
offsets no page or window lines up with, on the same filesystem and onto tmpfs, and for the
threads: whatever happens, none is left running or writing once the call returned or raised.
"""

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from printstash.core import fastio
from printstash.core.fastio import MappedCopy

DATA = os.urandom(3 * 1024 * 1024 + 12345)
SHM = Path("/dev/shm")  # tmpfs: a filesystem other than the one tmp_path lives on
needs_tmpfs = pytest.mark.skipif(not SHM.is_dir(), reason="needs a tmpfs at /dev/shm")
THREAD_PREFIXES = ("upload-", "sha256", "integrity-check")


@pytest.fixture
def copier(monkeypatch: pytest.MonkeyPatch) -> Iterator[MappedCopy]:
    monkeypatch.setattr(MappedCopy, "WINDOW", 1024 * 1024)  # several windows per range
    with MappedCopy() as copy:
        yield copy


@pytest.fixture
def shm_dir() -> Iterator[Path]:
    path = SHM / f"printstash-fastio-{os.getpid()}"
    path.mkdir()
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def _source(directory: Path) -> Path:
    path = directory / f"printstash-src-{os.getpid()}"
    path.write_bytes(DATA)
    return path


def _open(path: Path, flags: int = os.O_RDONLY) -> int:
    return os.open(path, flags | os.O_CREAT, 0o600)


def _our_threads() -> set[int]:
    return {t.ident or 0 for t in threading.enumerate() if t.name.startswith(THREAD_PREFIXES)}


def _assert_threads_end(before: set[int]) -> None:
    deadline = time.monotonic() + 5
    while _our_threads() - before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _our_threads() - before == set()


# ---- MappedCopy, hash_file -------------------------------------------------------------------

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


@needs_tmpfs
def test_across_filesystems_it_writes_from_the_mapping(copier: MappedCopy, tmp_path: Path, shm_dir: Path) -> None:
    src, dst = _open(_source(shm_dir)), _open(tmp_path / "dst", os.O_WRONLY)
    try:
        for at in (None, len(DATA) - 123):  # at the file position, then at an offset
            digest = copier.run(src, 123, len(DATA) - 123, dst, at)
            assert digest == hashlib.sha256(DATA[123:]).hexdigest()
    finally:
        os.close(src)
        os.close(dst)
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


@pytest.mark.parametrize("where", ["tmp_path", pytest.param("shm", marks=needs_tmpfs)])
def test_hash_file_across_windows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str) -> None:
    monkeypatch.setattr(MappedCopy, "WINDOW", 1024 * 1024)
    directory = tmp_path if where == "tmp_path" else SHM
    path = _source(directory)
    try:
        assert fastio.hash_file(path) == hashlib.sha256(DATA).hexdigest()
        path.write_bytes(b"")
        assert fastio.hash_file(path) == hashlib.sha256(b"").hexdigest()
    finally:
        path.unlink()


def test_a_failed_copy_ends_the_hashing_thread(tmp_path: Path) -> None:
    before = _our_threads()
    src, dst = _open(_source(tmp_path)), _open(tmp_path / "dst", os.O_RDONLY)  # not writable
    try:
        with pytest.raises(OSError), MappedCopy() as copy:
            copy.run(src, 0, len(DATA), dst, 0)
    finally:
        os.close(src)
        os.close(dst)
    _assert_threads_end(before)


# ---- write_pieces ----------------------------------------------------------------------------

def test_write_pieces_writes_more_pieces_than_one_writev_takes(tmp_path: Path) -> None:
    pieces = [DATA[i:i + 1 + i % 7] for i in range(0, 20_000, 4)]  # > IOV_MAX pieces, uneven sizes
    fd = _open(tmp_path / "out", os.O_WRONLY)
    try:
        assert fastio.write_pieces(fd, pieces) == sum(map(len, pieces))
    finally:
        os.close(fd)
    assert len(pieces) > fastio._IOV_MAX and (tmp_path / "out").read_bytes() == b"".join(pieces)


def test_write_pieces_finishes_a_short_writev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_writev = os.writev

    def short(fd: int, buffers: list[bytes]) -> int:  # stops inside the second piece
        return real_writev(fd, [buffers[0], buffers[1][:5]])
    monkeypatch.setattr(os, "writev", short)
    pieces = [DATA[:100], DATA[100:1000], DATA[1000:5000]]
    fd = _open(tmp_path / "out", os.O_WRONLY)
    try:
        assert fastio.write_pieces(fd, pieces) == 5000
    finally:
        os.close(fd)
    assert (tmp_path / "out").read_bytes() == DATA[:5000]


# ---- write_stream ----------------------------------------------------------------------------

def _batches_of(data: bytes, sizes: list[int]) -> list[fastio.Batch]:
    """Batches of pieces whose sizes cycle through `sizes` (pieces straddle every boundary)."""
    batches: list[fastio.Batch] = []
    pos, n = 0, 0
    while pos < len(data):
        batch: fastio.Batch = []
        for _ in range(1 + n % 5):
            size = sizes[n % len(sizes)]
            n += 1
            batch.append(data[pos:pos + size])
            pos += size
        batches.append([p for p in batch if p])
    return [b for b in batches if b]


async def _aiter(batches: list[fastio.Batch], fail_after: int | None = None) -> AsyncIterator[fastio.Batch]:
    for i, batch in enumerate(batches):
        if i == fail_after:
            raise ValueError("the body was refused")
        yield batch


@pytest.mark.parametrize("where", ["tmp_path", pytest.param("shm", marks=needs_tmpfs)])
def test_write_stream_writes_hashes_and_shows_every_byte_in_order(tmp_path: Path, where: str,
                                                                    request: pytest.FixtureRequest) -> None:
    directory = tmp_path if where == "tmp_path" else request.getfixturevalue("shm_dir")
    data = DATA * 4  # > 8 MiB: the writeback starts on the way
    seen = bytearray()
    batches = _batches_of(data, [65536, 1, 4093, 1 << 20, 77777])
    fd = _open(directory / "part", os.O_WRONLY)
    try:
        written = asyncio.run(fastio.write_stream(_aiter(batches), fd, seen.extend))
    finally:
        os.close(fd)
    assert written.sha256 == hashlib.sha256(data).hexdigest() and written.size == len(data)
    assert (directory / "part").read_bytes() == data
    assert bytes(seen) == data


@pytest.mark.parametrize("durable", [True, False])
def test_write_stream_flushes_only_a_durable_file(tmp_path: Path, durable: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A bucket upload's .part is scratch (library/ingest.py): same bytes and digest, but no
    fsync and no early writeback for it; a .part that becomes the stored file gets both."""
    calls: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(fastio.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    real_wrote = fastio.Writeback.wrote
    monkeypatch.setattr(fastio.Writeback, "wrote", lambda self, n: (calls.append("writeback"), real_wrote(self, n))[1])
    data = DATA * 2
    fd = _open(tmp_path / "part", os.O_WRONLY)
    try:
        written = asyncio.run(fastio.write_stream(_aiter(_batches_of(data, [1 << 20])), fd, durable=durable))
    finally:
        os.close(fd)
    assert written.sha256 == hashlib.sha256(data).hexdigest() and written.size == len(data)
    assert (tmp_path / "part").read_bytes() == data
    assert ("fsync" in calls, "writeback" in calls) == (durable, durable)


def test_write_stream_refused_midway_raises_after_its_threads_stopped_writing(tmp_path: Path) -> None:
    before = _our_threads()
    batches = _batches_of(DATA, [300_000])
    fd = _open(tmp_path / "part", os.O_WRONLY)
    try:
        with pytest.raises(ValueError, match="refused"):
            asyncio.run(fastio.write_stream(_aiter(batches, fail_after=3), fd))
        size_at_raise = os.fstat(fd).st_size
        time.sleep(0.2)
        assert os.fstat(fd).st_size == size_at_raise  # nothing writes after the raise
    finally:
        os.close(fd)
    assert (tmp_path / "part").read_bytes() == b"".join(b"".join(b) for b in batches[:3])
    _assert_threads_end(before)


def test_write_stream_raises_a_write_error_and_ends_its_threads(tmp_path: Path) -> None:
    before = _our_threads()
    fd = _open(tmp_path / "part", os.O_RDONLY)  # every write fails (EBADF), like a full disk
    try:
        with pytest.raises(OSError):
            asyncio.run(fastio.write_stream(_aiter(_batches_of(DATA, [200_000])), fd))
    finally:
        os.close(fd)
    _assert_threads_end(before)


def test_write_stream_raises_an_on_bytes_error_and_ends_its_threads(tmp_path: Path) -> None:
    before = _our_threads()

    def broken(_: bytes) -> None:
        raise RuntimeError("scanner bug")
    fd = _open(tmp_path / "part", os.O_WRONLY)
    try:
        with pytest.raises(RuntimeError, match="scanner bug"):
            asyncio.run(fastio.write_stream(_aiter(_batches_of(DATA, [200_000])), fd, broken))
    finally:
        os.close(fd)
    _assert_threads_end(before)


# ---- Background ------------------------------------------------------------------------------

def test_background_hands_its_error_to_result_and_ends() -> None:
    before = _our_threads()
    ran = threading.Event()

    def fail() -> None:
        ran.set()
        raise LookupError("checked: damaged")
    job = fastio.Background(fail, name="integrity-check")
    with pytest.raises(LookupError, match="damaged"):
        job.result()
    assert ran.is_set()
    _assert_threads_end(before)


def test_read_span_is_exact_and_short_at_the_end(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    path = tmp_path / "f"
    path.write_bytes(data)
    assert fastio.read_span(path, 100, 3000) == data[100:3000]
    assert fastio.read_span(path, len(data) - 5, len(data) + 50) == data[-5:]
    assert fastio.read_span(path, 20, 10) == b""
