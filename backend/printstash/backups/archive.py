"""The backup archive format: a plain POSIX tar (readable by GNU tar) whose first member is the
manifest, written and read as a stream so memory stays bounded whatever the vault size.

MANIFEST.jsonl is one JSON object per line: a header (format, app version, alembic revision,
creation time, counts), then one line per following member in archive order
{"path", "size", "sha256"}, then a trailer holding the SHA-256 of every line before it (so a
flipped byte in the manifest itself is caught too). Readers walk the members in lockstep with
the manifest lines, so nothing but the current line is held in memory.

A backup of a bucket vault made without `--with-objects` lists the bucket's objects after the
members ({"object", "size", "sha256"}; backups/manifest.py): format version 2, so that an older
PrintStash refuses it by its version instead of misreading it. Everything else is version 1.
"""

import hashlib
import json
import os
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from printstash.backups import manifest as manifest_lines
from printstash.core.fastio import MappedCopy, write_all

MANIFEST_NAME = "MANIFEST.jsonl"
FORMAT = "printstash-backup"
FORMAT_VERSION = 1
FORMAT_WITH_OBJECTS = 2  # the manifest lists bucket objects after the members
FORMAT_VERSIONS = (FORMAT_VERSION, FORMAT_WITH_OBJECTS)
DB_MEMBER = manifest_lines.DB_PATH
PG_MEMBER = manifest_lines.PG_DUMP_PATH
DB_MEMBERS = manifest_lines.DB_PATHS
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


@dataclass(frozen=True)
class ObjectRef:
    """An object in the bucket that the backup's rows reference but the archive does not hold."""

    key: str  # files/ab/<sha256> or thumbs/<path>
    size: int
    sha256: str

    def line(self) -> bytes:
        return json.dumps({"object": self.key, "size": self.size, "sha256": self.sha256}).encode() + b"\n"


class TarWriter:
    """Writes ustar/PAX members straight to an open file descriptor; each member's content is
    hashed and copied by core/fastio.py's MappedCopy (no pass through Python buffers)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._written = 0
        self._copy = MappedCopy()

    def add(self, name: str, size: int, src: int, mtime: float = 0) -> str:
        """Append `size` bytes of the file `src` as member `name`; returns their SHA-256."""
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(mtime), 0o600
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        try:
            digest = self._copy.run(src, 0, size, self._fd, None)
        except EOFError:
            raise SourceChanged(f"{name} shrank while being archived") from None
        self._written += size
        self._write(bytes(-size % BLOCK))
        return digest

    def add_stream(self, name: str, size: int, chunks: Iterable[bytes], mtime: float = 0) -> str:
        """Append a member whose `size` bytes arrive as chunks (an object read from the bucket);
        returns their SHA-256. Never writes more or fewer bytes than the header announced."""
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(mtime), 0o600
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        digest, got = hashlib.sha256(), 0
        for chunk in chunks:
            got += len(chunk)
            if got > size:
                raise SourceChanged(f"{name} grew while being archived")
            digest.update(chunk)
            self._write(chunk)
        if got != size:
            raise SourceChanged(f"{name} shrank while being archived")
        self._write(bytes(-size % BLOCK))
        return digest.hexdigest()

    def _write(self, data: bytes) -> None:
        write_all(self._fd, data)
        self._written += len(data)

    def close(self) -> None:
        """Two zero blocks end the archive; pad to a whole record like tar does."""
        end = self._written + 2 * BLOCK
        self._write(bytes(2 * BLOCK + (-end % RECORD)))

    def shutdown(self) -> None:
        self._copy.shutdown()


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
    if head.get("format_version") not in FORMAT_VERSIONS:
        raise ArchiveError(f"backup format {head.get('format_version')} is not supported by this version")
    try:
        manifest_lines.check_header(head)
    except manifest_lines.ManifestError as exc:
        raise ArchiveError(str(exc)) from None
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
    _pending: ObjectRef | None = field(default=None, init=False)

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *_: object) -> None:
        self.tar.close()
        os.close(self.fd)

    def __post_init__(self) -> None:
        self._entries = self._lines()

    def members(self) -> Iterator[tuple[Member, int]]:
        """(member, offset of its data in the archive) in archive order. Call objects() after."""
        for entry in self._entries:
            if isinstance(entry, ObjectRef):
                self._pending = entry
                return
            yield self._next(entry)

    def objects(self) -> Iterator[ObjectRef]:
        """The bucket objects listed after the members (none in most archives); the manifest's
        own checksum is checked once the last is read."""
        if self._pending is not None:
            yield self._pending
        for entry in self._entries:
            if isinstance(entry, Member):
                raise ArchiveError(f"the manifest lists member {entry.path} after the objects (corrupt archive)")
            yield entry

    def _lines(self) -> Iterator[Member | ObjectRef]:
        digest = hashlib.sha256(self.head["_raw"])
        for index, line in enumerate(self.manifest):
            try:
                entry = manifest_lines.parse_line(line)
                expected = manifest_lines.trailer_digest(entry)
                if expected is not None:
                    self._check_trailer(digest.hexdigest(), expected)
                    return
                yield (ObjectRef(*manifest_lines.object_entry(entry)) if manifest_lines.is_object(entry)
                       else Member(*manifest_lines.member_entry(entry, first=index == 0)))
            except manifest_lines.ManifestError as exc:
                raise ArchiveError(str(exc)) from None
            digest.update(line)
        raise ArchiveError("the manifest has no trailer (corrupt archive)")

    def _next(self, member: Member) -> tuple[Member, int]:
        info = _next_info(self.tar)
        if info is None:
            raise ArchiveError(f"the archive ends before {member.path} (truncated)")
        if info.name != member.path or info.size != member.size or not info.isreg():
            raise ArchiveError(f"member {info.name} does not match the manifest ({member.path})")
        return member, info.offset_data

    def _check_trailer(self, got: str, expected: str) -> None:
        if got != expected:
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
    """Copies members out of an archive (MappedCopy) and checks their SHA-256 on the way."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._copy = MappedCopy()

    def __enter__(self) -> "Copier":
        return self

    def __exit__(self, *_: object) -> None:
        self._copy.shutdown()

    def copy(self, offset: int, member: Member, dst: int | None) -> None:
        """Copy one member to the file `dst` (or only hash it); fail on a hash mismatch or a
        short archive."""
        try:
            digest = self._copy.run(self.fd, offset, member.size, dst, 0)
        except EOFError:
            raise ArchiveError(f"{member.path}: the archive is truncated") from None
        if digest != member.sha256:
            raise ArchiveError(f"{member.path}: SHA-256 does not match the manifest (corrupt archive)")
