"""Many files at once, for the library's selection: to the trash and back (one transaction,
all or nothing, so an undo restores exactly what was trashed) and one zip of them all (a
browser refuses a burst of separate downloads after the first)."""

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from printstash.core.db import utcnow
from printstash.core.errors import NotFound
from printstash.core.settings import Settings
from printstash.core.storage import content_key, storage_for
from printstash.library.models import File

# G-code shrinks about fourfold at any level; the fastest keeps the api's CPU for others.
ZIP_LEVEL = 1


@dataclass(frozen=True)
class ArchiveEntry:
    name: str  # unique within the archive
    key: str
    size: int
    uploaded_at: datetime


def _rows(session: Session, ids: list[int], *, trashed: bool) -> list[File]:
    """Every asked-for file in the wanted state, or NotFound naming those that are not."""
    wanted = set(ids)
    state = File.deleted_at.is_not(None) if trashed else File.deleted_at.is_(None)
    rows = list(session.scalars(select(File).where(File.id.in_(wanted), state).order_by(File.id)))
    missing = sorted(wanted - {row.id for row in rows})
    if missing:
        where = "in the trash" if trashed else "in the library"
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise NotFound(f"not {where}: file {shown}; nothing was changed", code="file_not_found")
    return rows


def trash_files(session: Session, ids: list[int]) -> int:
    now = utcnow()
    rows = _rows(session, ids, trashed=False)
    for row in rows:
        row.deleted_at = now
    return len(rows)


def restore_files(session: Session, ids: list[int]) -> int:
    rows = _rows(session, ids, trashed=True)
    for row in rows:
        row.deleted_at = None
    return len(rows)


def archive_entries(session: Session, ids: list[int]) -> list[ArchiveEntry]:
    """The files of a zip, in the order asked; two files of one name become "a (2).gcode"."""
    rows = {row.id: row for row in _rows(session, ids, trashed=False)}
    taken: set[str] = set()
    entries = []
    for file_id in dict.fromkeys(ids):
        row = rows[file_id]
        name = _unique(row.name, taken)
        entries.append(ArchiveEntry(name, content_key(row.sha256), row.size, row.uploaded_at))
    return entries


def check_stored(settings: Settings, entries: list[ArchiveEntry]) -> None:
    """Before the first byte goes out: a zip cannot report a missing file half-way."""
    storage = storage_for(settings)
    for entry in entries:
        if storage.size(entry.key) is None:
            raise NotFound(f"the stored content of {entry.name} is missing", code="content_missing")


def _unique(name: str, taken: set[str]) -> str:
    path = PurePosixPath(name.replace("/", "_") or "file")
    suffixes = "".join(path.suffixes[-2:]) if path.name.endswith(".gcode.3mf") else path.suffix
    stem = path.name[: len(path.name) - len(suffixes)]
    candidate, n = path.name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem} ({n}){suffixes}"
    taken.add(candidate.casefold())
    return candidate


class _Sink:
    """Where zipfile writes: the bytes are handed on as they come (no seek, so zipfile
    writes data descriptors and the zip streams with bounded memory)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        parts, self.parts = self.parts, []
        yield from parts


def zip_chunks(settings: Settings, entries: list[ArchiveEntry]) -> Iterator[bytes]:
    """The zip of `entries`, streamed from the store (local or bucket)."""
    storage = storage_for(settings)
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive:
        for entry in entries:
            at = entry.uploaded_at
            info = zipfile.ZipInfo(entry.name, (at.year, at.month, at.day, at.hour, at.minute, at.second))
            info.compress_type, info.file_size = zipfile.ZIP_DEFLATED, entry.size
            with archive.open(info, "w") as member:
                body = storage.read_range(entry.key, 0, None) if entry.size else None
                for chunk in body.chunks if body else ():
                    member.write(chunk)
                    yield from sink.drain()
            yield from sink.drain()
    yield from sink.drain()
