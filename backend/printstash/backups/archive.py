"""The backup archive format: a plain POSIX tar (readable by GNU tar) whose first member is the
manifest, written and read as a stream so memory stays bounded whatever the vault size.

MANIFEST.jsonl is one JSON object per line: a header (format, app version, alembic revision,
creation time, counts), then one line per following member in archive order
{"path", "size", "sha256"}, then a trailer holding the SHA-256 of every line before it (so a
flipped byte in the manifest itself is caught too). Readers walk the members in lockstep with
the manifest lines, so nothing but the current line is held in memory.
"""

import errno
import hashlib
import json
import mmap
import os
import tarfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

MANIFEST_NAME = "MANIFEST.jsonl"
FORMAT = "printstash-backup"
FORMAT_VERSION = 1
DB_MEMBER = "db/printstash.sqlite"
CHUNK = 1024 * 1024
BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE


class ArchiveError(Exception):
    """The archive is not a complete, intact PrintStash backup."""


class SourceChanged(Exception):
    """A vault file changed size or content while it was being archived."""


@dataclass(frozen=True)
class Member:
    path: str  # inside the archive, e.g. files/ab/<sha256>
    size: int
    sha256: str

    def line(self) -> bytes:
        return json.dumps({"path": self.path, "size": self.size, "sha256": self.sha256}).encode() + b"\n"


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class TarWriter:
    """Writes ustar/PAX members with large buffers; hashes each member as it streams, on a
    helper thread (hashlib releases the GIL), so hashing overlaps the reads and writes."""

    BUFFERS = 3

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._written = 0
        self._bufs = [bytearray(CHUNK) for _ in range(self.BUFFERS)]
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")

    def add(self, name: str, size: int, src: IO[bytes], mtime: float = 0) -> str:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(mtime), 0o600
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        digest = hashlib.sha256()
        pending: list[Future[None] | None] = [None] * self.BUFFERS
        try:
            self._copy(src, size, digest, pending)
        finally:
            wait([f for f in pending if f is not None])
        self._write(bytes(-size % BLOCK))
        return digest.hexdigest()

    def _copy(self, src: IO[bytes], size: int, digest: Any, pending: list[Future[None] | None]) -> None:
        remaining, i = size, 0
        while remaining:
            if (previous := pending[i]) is not None:
                previous.result()
            view = memoryview(self._bufs[i])
            got = src.readinto(view[: min(CHUNK, remaining)])  # type: ignore[attr-defined]
            if not got:
                raise SourceChanged(f"{getattr(src, 'name', 'member')} shrank while being archived")
            pending[i] = self._hasher.submit(digest.update, view[:got])  # FIFO: one worker
            self._write(view[:got])
            remaining, i = remaining - got, (i + 1) % self.BUFFERS

    def _write(self, data: bytes | memoryview) -> None:
        self._fh.write(data)
        self._written += len(data)

    def close(self) -> None:
        """Two zero blocks end the archive; pad to a whole record like tar does."""
        end = self._written + 2 * BLOCK
        self._write(bytes(2 * BLOCK + (-end % RECORD)))

    def shutdown(self) -> None:
        self._hasher.shutdown()


def header(manifest: IO[bytes]) -> dict[str, Any]:
    line = manifest.readline()
    head = parse_header(line)
    head["_raw"] = line
    return head


def parse_header(line: bytes) -> dict[str, Any]:
    try:
        head = json.loads(line)
    except ValueError:
        raise ArchiveError("the manifest is unreadable (corrupt archive)") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ArchiveError("not a PrintStash backup (no PrintStash manifest)")
    if head.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(f"backup format {head.get('format_version')} is not supported by this version")
    return head


def read_header(path: Path) -> dict[str, Any]:
    """Just the manifest header (cheap: the first member's first line)."""
    with _open(path) as tar:
        manifest = _manifest_member(tar)
        return header(manifest)


@dataclass
class Reader:
    """Walks an archive member by member, checking each against the manifest. Headers come
    from tarfile; contents are read by the caller with pread() at each member's offset."""

    tar: tarfile.TarFile
    fd: int
    manifest: IO[bytes]
    head: dict[str, Any]
    _digest: Any = None

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *_: object) -> None:
        self.tar.close()
        os.close(self.fd)

    def members(self) -> Iterator[tuple[Member, int]]:
        """(member, offset of its data in the archive) in archive order."""
        self._digest = hashlib.sha256(self.head["_raw"])
        for line in self.manifest:
            entry = json.loads(line)
            if "manifest_sha256" in entry:
                self._check_trailer(entry["manifest_sha256"])
                return
            self._digest.update(line)
            yield self._next(entry)
        raise ArchiveError("the manifest has no trailer (corrupt archive)")

    def _next(self, entry: dict[str, Any]) -> tuple[Member, int]:
        member = Member(str(entry["path"]), int(entry["size"]), str(entry["sha256"]))
        info = _next_info(self.tar)
        if info is None:
            raise ArchiveError(f"the archive ends before {member.path} (truncated)")
        if info.name != member.path or info.size != member.size or not info.isreg():
            raise ArchiveError(f"member {info.name} does not match the manifest ({member.path})")
        return member, info.offset_data

    def _check_trailer(self, expected: str) -> None:
        if self._digest.hexdigest() != expected:
            raise ArchiveError("the manifest's checksum does not match (corrupt archive)")
        if _next_info(self.tar) is not None:
            raise ArchiveError("the archive holds members the manifest does not list")


def _open(path: Path) -> tarfile.TarFile:
    try:
        # "r:" reads members straight from the file; the "r|" stream mode copies every byte
        # through its own buffer (measured: a third of restore's CPU).
        return tarfile.open(path, mode="r:")
    except (tarfile.TarError, EOFError) as exc:
        raise ArchiveError(f"not a readable tar archive: {exc}") from None


def _next_info(tar: tarfile.TarFile) -> tarfile.TarInfo | None:
    try:
        info = tar.next()
    except (tarfile.TarError, EOFError) as exc:
        raise ArchiveError(f"the archive is damaged or truncated: {exc}") from None
    tar.members.clear()  # type: ignore[attr-defined]  # TarFile keeps every member; we stream
    return info


def _manifest_member(tar: tarfile.TarFile) -> IO[bytes]:
    info = _next_info(tar)
    if info is None or info.name != MANIFEST_NAME:
        raise ArchiveError("not a PrintStash backup (the manifest is not the first member)")
    fh = tar.extractfile(info)
    assert fh is not None
    return fh


def open_reader(path: Path, spool: IO[bytes]) -> Reader:
    """Open an archive; the manifest is copied to `spool` (a temp file) so the members that
    follow it can be read in lockstep with its lines. Use as a context manager."""
    tar = _open(path)
    try:
        manifest = _manifest_member(tar)
        _copy_all(manifest, spool)
        spool.seek(0)
        return Reader(tar, os.open(path, os.O_RDONLY), spool, header(spool))
    except BaseException:
        tar.close()
        raise


def _copy_all(src: IO[bytes], dst: IO[bytes]) -> None:
    try:
        while chunk := src.read(CHUNK):
            dst.write(chunk)
    except (tarfile.TarError, EOFError) as exc:
        raise ArchiveError(f"the manifest is truncated: {exc}") from None


class Copier:
    """Copies members out of an archive and checks their SHA-256 on the way.

    A member's bytes are never copied into Python: the archive is mapped a window at a time,
    one thread hashes the mapped pages in place, and meanwhile the kernel copies the same
    range into the target file (copy_file_range). That is one memory copy per byte instead of
    the three of read() and write() through a buffer, which is where restore spent most of
    its time (perf: the kernel's two copy routines took 55% of the samples). Where the kernel
    cannot copy between the two files (another filesystem, an old kernel) it writes from the
    mapping instead.
    """

    WINDOW = 64 * 1024 * 1024  # mapped at a time: bounds the mapping whatever the member size

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._size = os.fstat(fd).st_size
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        self._kernel_copy = True

    def __enter__(self) -> "Copier":
        return self

    def __exit__(self, *_: object) -> None:
        self._hasher.shutdown()

    def copy(self, offset: int, member: Member, dst: int | None) -> None:
        """Copy one member to the file `dst` (or only hash it); fail on a hash mismatch or a
        short archive."""
        if offset + member.size > self._size:
            raise ArchiveError(f"{member.path}: the archive is truncated")
        digest = hashlib.sha256()
        for done in range(0, member.size, self.WINDOW):
            self._window(offset + done, min(self.WINDOW, member.size - done), digest, dst, done)
        if digest.hexdigest() != member.sha256:
            raise ArchiveError(f"{member.path}: SHA-256 does not match the manifest (corrupt archive)")

    def _window(self, start: int, size: int, digest: Any, dst: int | None, dst_offset: int) -> None:
        base = start - start % mmap.ALLOCATIONGRANULARITY
        with mmap.mmap(self.fd, start - base + size, prot=mmap.PROT_READ, offset=base) as mapped:
            mapped.madvise(mmap.MADV_SEQUENTIAL)
            with memoryview(mapped) as whole, whole[start - base:] as view:
                hashed = self._hasher.submit(digest.update, view)
                try:
                    if dst is not None:
                        self._write(view, start, dst, dst_offset)
                finally:
                    wait([hashed])  # the mapping must outlive the hash
                hashed.result()

    def _write(self, view: memoryview, start: int, dst: int, dst_offset: int) -> None:
        done = 0
        while done < len(view):
            got = self._copy_range(start + done, dst, dst_offset + done, len(view) - done)
            if got is None:
                with view[done:] as rest:
                    got = os.pwrite(dst, rest, dst_offset + done)
            if got <= 0:
                raise ArchiveError("the archive is truncated")
            done += got

    def _copy_range(self, src_offset: int, dst: int, dst_offset: int, count: int) -> int | None:
        if not self._kernel_copy:
            return None
        try:
            return os.copy_file_range(self.fd, dst, count, src_offset, dst_offset)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
            self._kernel_copy = False
            return None
