"""Fast byte paths: everything that moves or hashes file contents at speed lives here, so the
domains (library/, backups/) read as plain steps.

The interface:
- write_stream(batches, fd, on_bytes) -> Written   an upload body (ordered batches of bytes)
  to an open file, SHA-256'd and shown to `on_bytes` (the G-code scan), then fsynced;
- MappedCopy / hash_file(path)                    a range of one file hashed in place while the
  kernel copies it into another (backup and restore);
- write_all(fd, data), write_pieces(fd, pieces)   a whole buffer / a list of them to a file;
- Writeback, syncfs(path)                          ask the kernel to flush early / one filesystem;
- Background(func, name)                          a slow reader (SQLite's integrity_check)
  overlapped with the copy;
- fsync_path(path), read_span(path, start, end)   make a written file durable / read one byte range.

Why threads: hashlib, os.write, copy_file_range and sqlite release the GIL, so on two cores a
hash, a copy and the event loop really run at once. Each helper owns its threads and ends them
before it returns or raises, whatever happened (tests/backend/core/test_fastio.py).
"""

import asyncio
import ctypes
import errno
import functools
import hashlib
import mmap
import os
import threading
import time
from collections import deque
from collections.abc import AsyncIterable, Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Batch = list[bytes]


# ---- small primitives ------------------------------------------------------------------------

def write_all(fd: int, data: bytes | memoryview) -> None:
    """os.write until every byte is written (a write may be short)."""
    with memoryview(data) as view:
        done = 0
        while done < len(view):
            done += os.write(fd, view[done:])


_IOV_MAX = os.sysconf("SC_IOV_MAX") if "SC_IOV_MAX" in os.sysconf_names else 1024


def write_pieces(fd: int, pieces: Batch) -> int:
    """Write the pieces in order, with one writev(2) per up to IOV_MAX of them; returns the
    bytes written. (One call per batch instead of one per piece: the store thread takes the
    GIL back once per batch, not once per piece; bench/ingest/RESULTS-upload.md.)"""
    total = 0
    for start in range(0, len(pieces), _IOV_MAX):
        group = pieces[start:start + _IOV_MAX]
        size = sum(map(len, group))
        done = os.writev(fd, group)
        if done < size:  # short (a signal, a nearly full disk): the rest piece by piece
            _write_rest(fd, group, done)
        total += size
    return total


def _write_rest(fd: int, pieces: Batch, skip: int) -> None:
    for piece in pieces:
        if skip >= len(piece):
            skip -= len(piece)
            continue
        write_all(fd, memoryview(piece)[skip:])
        skip = 0


class Writeback:
    """Starts the disk writeback of a file being written, every `step` bytes, without waiting
    (Linux sync_file_range SYNC_FILE_RANGE_WRITE), so the closing fsync finds little left to
    flush instead of the whole file. Best effort: elsewhere it does nothing, and the fsync
    alone still makes the file durable."""

    _WRITE = 2  # SYNC_FILE_RANGE_WRITE

    def __init__(self, fd: int, step: int = 8 << 20) -> None:
        self.fd, self.step = fd, step
        self._written = self._started = 0

    def wrote(self, n: int) -> None:
        self._written += n
        func = _sync_file_range()
        if func is not None and self._written - self._started >= self.step:
            func(self.fd, self._started, self._written - self._started, self._WRITE)
            self._started = self._written


@functools.cache
def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


@functools.cache
def _sync_file_range() -> Any:
    try:
        func = _libc().sync_file_range
    except (OSError, AttributeError):
        return None
    func.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    return func


def syncfs(path: Path) -> None:
    """syncfs(2) of the filesystem holding `path` only; os.sync() would also wait for every
    other disk's dirty pages on a shared host."""
    fd = os.open(path, os.O_RDONLY)
    try:
        func = getattr(_libc(), "syncfs", None)
        if func is None or func(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def fsync_path(path: Path) -> None:
    """Flush a file written by someone else (a decoded plate) to disk before it is published,
    or a directory after a rename in it (core/storage.py fsync_dir)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_span(path: Path, start: int, end: int) -> bytes:
    """Bytes [start, end) of a file (fewer at its end), in one positioned read."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, max(0, end - start), start)
    finally:
        os.close(fd)


# ---- an upload body to disk ------------------------------------------------------------------

@dataclass(frozen=True)
class Written:
    sha256: str
    size: int
    fsync_seconds: float


async def write_stream(batches: AsyncIterable[Batch], fd: int,
                       on_bytes: Callable[[bytes], None] | None = None, durable: bool = True) -> Written:
    """Write every batch to `fd` in order, SHA-256 them and pass each piece to `on_bytes`;
    fsync at the end unless the file is scratch (`durable=False`: a copy that is stored
    elsewhere before anything refers to it). The pieces are written and hashed on two threads
    of this call while the event loop receives the next batches (memory: at most
    _Stages.DEPTH batches in flight). An error of the batches (the caller refusing the body)
    or of a thread is raised once no thread touches `fd` any more."""
    sink = _Sink(fd, on_bytes, durable)
    stages = _Stages(sink.store, sink.digest)
    try:
        async for batch in batches:
            await stages.submit(batch)
        await stages.drain()
    finally:
        await stages.settle()
    started = time.perf_counter()
    if durable:
        await asyncio.to_thread(os.fsync, fd)
    return Written(sink.sha.hexdigest(), sink.size, time.perf_counter() - started)


class _Sink:
    """What the two threads do with each batch: write it (store); hash and show it (digest)."""

    def __init__(self, fd: int, on_bytes: Callable[[bytes], None] | None, durable: bool) -> None:
        self.fd, self.on_bytes = fd, on_bytes
        self.writeback = Writeback(fd) if durable else None  # scratch: no disk writes to start
        self.sha = hashlib.sha256()
        self.size = 0

    def store(self, batch: Batch) -> None:
        written = write_pieces(self.fd, batch)
        if self.writeback is not None:
            self.writeback.wrote(written)
        self.size += written

    def digest(self, batch: Batch) -> None:
        for piece in batch:
            self.sha.update(piece)
        if self.on_bytes is not None:
            for piece in batch:
                self.on_bytes(piece)


class _Stages:
    """Two single-thread executors (store; digest), so the batches stay in order on each.
    Up to DEPTH batches are in flight, so a thread that falls behind briefly does not stall
    receiving; memory stays bounded at DEPTH batches."""

    DEPTH = 4

    def __init__(self, store: Callable[[Batch], None], digest: Callable[[Batch], None]) -> None:
        self._steps = ((ThreadPoolExecutor(1, thread_name_prefix="upload-store"), store),
                       (ThreadPoolExecutor(1, thread_name_prefix="upload-digest"), digest))
        self._inflight: deque[asyncio.Future[None]] = deque()

    async def submit(self, batch: Batch) -> None:
        while len(self._inflight) >= 2 * self.DEPTH:
            await self._inflight.popleft()  # raises the batch's error, if it had one
        loop = asyncio.get_running_loop()
        for executor, step in self._steps:
            self._inflight.append(loop.run_in_executor(executor, step, batch))

    async def drain(self) -> None:
        """Wait for every batch in flight; the first error (e.g. disk full) is raised here."""
        while self._inflight:
            await self._inflight.popleft()

    async def settle(self) -> None:
        """Wait until no thread runs a step any more (errors were or will be raised by
        drain); then let the threads go."""
        if self._inflight:
            await asyncio.wait(self._inflight)
            self._inflight.clear()
        for executor, _ in self._steps:
            executor.shutdown(wait=False)


# ---- file to file: hash in place while the kernel copies -----------------------------------

class MappedCopy:
    """Hashes a range of one file in place while the kernel copies it into another.

    The source is mapped a window at a time (mmap); one thread hashes the mapped pages while
    copy_file_range copies the same range inside the kernel. That is one memory copy per byte
    instead of the three of read() and write() through a buffer, which is where backup and
    restore spent most of their time (perf: the kernel's two copy routines took 55% of a
    restore's samples). Where the kernel cannot copy between the two files (another
    filesystem, an old kernel) the bytes are written from the mapping instead.
    Sources must not shrink while mapped: backups read only content-addressed files (never
    rewritten in place) and their own database snapshot; restore reads a finished archive.
    Use as a context manager (or call shutdown()): it ends its hashing thread.
    """

    WINDOW = 16 * 1024 * 1024  # mapped at a time: bounds memory (RSS) whatever the file size

    def __init__(self) -> None:  # the hashing thread starts with the first copy, if any
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        self._kernel_copy = True

    def __enter__(self) -> "MappedCopy":
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        self._hasher.shutdown()

    def run(self, src: int, offset: int, size: int, dst: int | None, dst_offset: int | None) -> str:
        """SHA-256 of src[offset:offset+size], copied to `dst` at `dst_offset` (None: at its
        current position; dst None: hash only). EOFError when the source ends early."""
        digest = hashlib.sha256()
        for done in range(0, size, self.WINDOW):
            at = None if dst_offset is None else dst_offset + done
            self._window(src, offset + done, min(self.WINDOW, size - done), digest, dst, at)
        return digest.hexdigest()

    def _window(self, src: int, start: int, size: int, digest: Any, dst: int | None, at: int | None) -> None:
        base = start - start % mmap.ALLOCATIONGRANULARITY
        if os.fstat(src).st_size < start + size:
            raise EOFError  # mapping past the end would crash the process (SIGBUS) on access
        with mmap.mmap(src, start - base + size, prot=mmap.PROT_READ, offset=base) as mapped:
            mapped.madvise(mmap.MADV_SEQUENTIAL)
            with memoryview(mapped) as whole, whole[start - base:] as view:
                if dst is None:  # hash only: nothing to overlap with, no thread
                    digest.update(view)
                    return
                hashed = self._hasher.submit(digest.update, view)
                try:
                    self._copy(src, start, view, dst, at)
                finally:
                    wait([hashed])  # the mapping must outlive the hash
                hashed.result()

    def _copy(self, src: int, start: int, view: memoryview, dst: int, at: int | None) -> None:
        done = 0
        while done < len(view):
            where = None if at is None else at + done
            got = self._copy_range(src, start + done, dst, where, len(view) - done)
            if got is None:
                with view[done:] as rest:
                    got = os.write(dst, rest) if where is None else os.pwrite(dst, rest, where)
            if got <= 0:
                raise EOFError
            done += got

    def _copy_range(self, src: int, offset: int, dst: int, at: int | None, count: int) -> int | None:
        if not self._kernel_copy:
            return None
        try:
            return os.copy_file_range(src, dst, count, offset, at)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
            self._kernel_copy = False
            return None


def hash_file(path: Path) -> str:
    """SHA-256 of a whole file, hashed from the mapping (no copy into Python buffers)."""
    with path.open("rb") as fh, MappedCopy() as copy:
        return copy.run(fh.fileno(), 0, os.fstat(fh.fileno()).st_size, None, None)


# ---- a slow reader beside the copy ---------------------------------------------------------

class Background:
    """One function running on its own thread; result() waits and raises its error."""

    def __init__(self, func: Callable[[], object], name: str) -> None:
        self._func = func
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._func()
        except BaseException as exc:  # handed to result(), in the caller's thread
            self._error = exc

    def join(self) -> None:
        self._thread.join()

    def result(self) -> None:
        self.join()
        if self._error is not None:
            raise self._error
