"""Create, list and prune backups; remember the last success and error for /health.

A backup is written under a temp name in backups/ while holding backups/.create.lock, fsynced,
and only then renamed to printstash-<UTC time>-<kind>.tar. A killed backup leaves only
.tmp-* files, which `list` ignores and the next backup removes.
"""

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from printstash import __version__
from printstash.backups import objects, pgdump, snapshot
from printstash.backups.archive import (
    DB_MEMBER,
    DB_MEMBERS,
    FORMAT,
    FORMAT_VERSION,
    FORMAT_WITH_OBJECTS,
    MANIFEST_NAME,
    ArchiveError,
    Member,
    SourceChanged,
    TarWriter,
    read_header,
)
from printstash.backups.manifest import OBJECT_ROOTS
from printstash.backups.objects import MissingContent
from printstash.backups.schemas import BackupOutcome
from printstash.core.db import Database, utcnow
from printstash.core.errors import Conflict, DomainError, InsufficientStorage, Invalid, NotFound, Unavailable
from printstash.core.models import AppState
from printstash.core.settings import Settings
from printstash.core.storage import fsync_dir, publish, storage_for

log = logging.getLogger(__name__)

STATE_KEY = "backup"
TEMP_PREFIX = ".tmp-"
LOCK_NAME = ".create.lock"
NAME_RE = re.compile(r"^printstash-(\d{8}T\d{6}Z)-(manual|scheduled)(?:-(\d{1,3}))?\.tar$")
STAMP = "%Y%m%dT%H%M%SZ"
KINDS = ("manual", "scheduled")
ATTEMPTS = 3  # a trash purge between snapshot and listing is retried, not reported
# Free space left for the live database while a backup fills the disk.
HEADROOM_BYTES = 64 * 1024 * 1024
TAR_OVERHEAD_PER_MEMBER = 3 * 512


class CorruptSource(Exception):
    """A stored file no longer matches its SHA-256 name: bit rot the admin must hear about."""


@dataclass(frozen=True)
class BackupInfo:
    name: str
    path: Path
    size: int
    created_at: datetime
    kind: str
    seq: int = 1


def info_for(path: Path) -> BackupInfo | None:
    match = NAME_RE.match(path.name)
    if not match or not path.is_file():
        return None
    created = datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)
    seq = int(match.group(3) or 1)  # several backups within one second: -2, -3, …
    return BackupInfo(path.name, path, path.stat().st_size, created, match.group(2), seq)


def list_backups(settings: Settings) -> list[BackupInfo]:
    """Finished backups, newest first (temp names never look like one)."""
    if not settings.backups_dir.is_dir():
        return []
    found = (info_for(p) for p in settings.backups_dir.iterdir())
    return sorted((i for i in found if i), key=lambda i: (i.created_at, i.seq), reverse=True)


def backup_path(settings: Settings, name: str) -> Path:
    """A backup by name; the strict name pattern rules out path traversal."""
    if not NAME_RE.match(name):
        raise Invalid("not a backup name (printstash-<time>-<kind>.tar)", code="invalid_backup_name")
    path = settings.backups_dir / name
    if not path.is_file():
        raise NotFound(f"no backup named {name}")
    return path


def delete_backup(settings: Settings, name: str) -> None:
    """Remove one finished backup (the admin's choice; retention removes scheduled ones)."""
    backup_path(settings, name).unlink(missing_ok=True)
    fsync_dir(settings.backups_dir)


def header_of(path: Path) -> dict[str, Any] | None:
    try:
        head = read_header(path)
    except (ArchiveError, OSError):
        return None
    head.pop("_raw", None)
    return head


def create_backup(settings: Settings, db: Database, kind: str = "manual", with_objects: bool = False) -> BackupInfo:
    """Write one backup; the outcome is recorded in app_state for /health. Not a session
    function: it runs for minutes and must not hold a transaction open meanwhile.
    `with_objects`: a bucket vault's objects go into the archive too (else it lists them)."""
    started = time.monotonic()
    try:
        info = _create_locked(settings, kind, with_objects)
    except DomainError as exc:
        _record(db, error=exc.detail)
        raise
    _record(db, info=info, seconds=time.monotonic() - started)
    return info


def _create_locked(settings: Settings, kind: str, with_objects: bool) -> BackupInfo:
    settings.backups_dir.mkdir(parents=True, exist_ok=True)
    with _create_lock(settings):
        clean_temps(settings)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return _create(settings, kind, with_objects)
            except (SourceChanged, MissingContent, FileNotFoundError) as exc:
                if attempt == ATTEMPTS:
                    raise Unavailable(f"the vault kept changing during the backup: {exc}",
                                      code="backup_failed") from None
                log.info("backup attempt %d: %s; retrying", attempt, exc)
    raise AssertionError("unreachable")


@contextmanager
def _create_lock(settings: Settings) -> Iterator[None]:
    fd = os.open(settings.backups_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict("another backup is being written right now", code="backup_running") from None
        yield
    finally:
        os.close(fd)


def clean_temps(settings: Settings) -> int:
    """Remove what a killed or failed backup left (only called under the create lock)."""
    removed = 0
    for path in settings.backups_dir.glob(f"{TEMP_PREFIX}*"):
        path.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.info("removed %d temp file(s) of an unfinished backup", removed)
    return removed


def _create(settings: Settings, kind: str, with_objects: bool) -> BackupInfo:
    now = utcnow()
    final = _unique_path(settings, now, kind)
    tmp = settings.backups_dir / f"{TEMP_PREFIX}{final.name}"
    parts = [tmp, tmp.with_suffix(".db"), tmp.with_suffix(".members"), tmp.with_suffix(".manifest")]
    try:
        _write(settings, now, kind, with_objects, tmp, *parts[1:])
        publish(tmp, final)
    except FileNotFoundError:
        raise  # a file vanished mid-backup (trash purge): retried by the caller
    except OSError as exc:
        raise _storage_error(exc, settings) from None
    except sqlite3.Error as exc:
        raise _sqlite_error(exc) from None
    except CorruptSource as exc:
        raise Unavailable(str(exc), code="storage_corrupt") from None
    except (pgdump.DumpFailed, SQLAlchemyError) as exc:
        reason = str(exc).splitlines()[0]
        raise Unavailable(f"the database snapshot failed: {reason}", code="backup_failed") from None
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
    info = info_for(final)
    assert info is not None
    return info


def _unique_path(settings: Settings, now: datetime, kind: str) -> Path:
    """Several backups within one second get -2, -3, … after the newest one, never a gap
    left by pruning (that would sort the newest backup as the oldest)."""
    if kind not in KINDS:
        raise Invalid(f"unknown backup kind {kind!r}")
    base = f"printstash-{now.strftime(STAMP)}-{kind}"
    taken = [i.seq for i in map(info_for, settings.backups_dir.glob(f"{base}*.tar")) if i]
    if not taken:
        return settings.backups_dir / f"{base}.tar"
    return settings.backups_dir / f"{base}-{max(taken) + 1}.tar"


def _write(settings: Settings, now: datetime, kind: str, with_objects: bool, tmp: Path, db_tmp: Path,
           members_tmp: Path, manifest_tmp: Path) -> None:
    with snapshot.take(settings, db_tmp) as snap, members_tmp.open("w+b") as members:
        listing = snapshot.write_listing(settings, snap, members, with_objects)
        if settings.storage == "local":  # a bucket's listing is made from the references
            snapshot.check_references(snap, members)
        revision, tables = snap.facts()
        head = _header(now, kind, revision, tables, listing) | _storage_facts(settings, snap, listing)
        _write_manifest(manifest_tmp, head, members)
    _check_space(settings, manifest_tmp.stat().st_size + listing.bytes, listing.members)
    # Owner-only: the archive holds password hashes and the printer-key secret.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _write_tar(settings, fd, manifest_tmp, db_tmp)
        os.fsync(fd)
    finally:
        os.close(fd)


def _header(now: datetime, kind: str, revision: str | None, tables: dict[str, int],
            listing: snapshot.Listing) -> dict[str, Any]:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "app_version": __version__,
        "alembic_revision": revision, "created_at": now.isoformat(), "kind": kind,
        "counts": {"members": listing.members, "bytes": listing.bytes, **listing.per_root,
                   "tables": tables},
    }


def _storage_facts(settings: Settings, snap: snapshot.Snapshot, listing: snapshot.Listing) -> dict[str, Any]:
    """Which database and where the files were; for a bucket vault whether the archive holds
    its objects or only lists them (then the format version tells older versions they cannot
    read it)."""
    facts: dict[str, Any] = {"database": "sqlite" if snap.member == DB_MEMBER else "postgresql",
                             "storage": settings.storage}
    if settings.storage == "local":
        return facts
    if listing.objects:
        return facts | {"objects": "referenced", "format_version": FORMAT_WITH_OBJECTS}
    return facts | {"objects": "included"}


def _write_manifest(path: Path, head: dict[str, Any], members: IO[bytes]) -> None:
    """Header, the member lines, then a trailer with the SHA-256 of everything before it."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for line in _manifest_lines(head, members):
            digest.update(line)
            out.write(line)
        out.write(json.dumps({"manifest_sha256": digest.hexdigest()}).encode() + b"\n")


def _manifest_lines(head: dict[str, Any], members: IO[bytes]) -> Iterator[bytes]:
    yield json.dumps(head).encode() + b"\n"
    members.seek(0)
    yield from members


def _check_space(settings: Settings, payload: int, members: int) -> None:
    need = payload + members * TAR_OVERHEAD_PER_MEMBER + HEADROOM_BYTES
    free = shutil.disk_usage(settings.backups_dir).free
    if free < need:
        raise InsufficientStorage(
            f"not enough free space for the backup: it needs about {_mib(need)} MiB "
            f"(including {_mib(HEADROOM_BYTES)} MiB left for the live database) but only "
            f"{_mib(free)} MiB are free where backups/ lives; free space or move old backups away",
            code="backup_disk_full")


def _mib(n: int) -> int:
    return n // (1024 * 1024)


def _write_tar(settings: Settings, fd: int, manifest: Path, db_tmp: Path) -> None:
    writer = TarWriter(fd)
    try:
        _write_members(settings, writer, manifest, db_tmp)
        writer.close()
    finally:
        writer.shutdown()


def _write_members(settings: Settings, writer: TarWriter, manifest: Path, db_tmp: Path) -> None:
    mtime = time.time()
    with manifest.open("rb") as fh:
        writer.add(MANIFEST_NAME, manifest.stat().st_size, fh.fileno(), mtime)
        fh.readline()  # the header; member lines follow
        for line in fh:
            entry = json.loads(line)
            if "manifest_sha256" in entry or "object" in entry:
                break  # the trailer, or the objects a bucket backup lists without holding
            _add_member(settings, writer, Member(entry["path"], entry["size"], entry["sha256"]), db_tmp, mtime)


def _add_member(settings: Settings, writer: TarWriter, member: Member, db_tmp: Path, mtime: float) -> None:
    if settings.storage == "s3" and member.path.split("/", 1)[0] in OBJECT_ROOTS:
        chunks = objects.chunks(storage_for(settings), member.path)
        digest = writer.add_stream(member.path, member.size, chunks, mtime)
    else:
        digest = _add_file(settings, writer, member, db_tmp, mtime)
    if digest != member.sha256:
        if member.path.startswith("files/"):
            raise CorruptSource(f"stored file {member.path} no longer matches its SHA-256 (damaged on disk); "
                                "restore it from an older backup or delete the file, then back up again")
        raise SourceChanged(f"{member.path} changed during the backup")


def _add_file(settings: Settings, writer: TarWriter, member: Member, db_tmp: Path, mtime: float) -> str:
    source = db_tmp if member.path in DB_MEMBERS else settings.data_dir / member.path
    fd = os.open(source, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size != member.size:
            raise SourceChanged(f"{member.path} changed size during the backup")
        return writer.add(member.path, member.size, fd, mtime)
    finally:
        os.close(fd)


def _storage_error(exc: OSError, settings: Settings) -> DomainError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return InsufficientStorage(
            f"the disk holding {settings.backups_dir.name}/ is full: the backup was abandoned and its "
            "temp files removed; nothing else was changed", code="backup_disk_full")
    return Unavailable(f"the backup failed: {exc.strerror or exc}", code="backup_failed")


def _sqlite_error(exc: sqlite3.Error) -> DomainError:
    if "full" in str(exc).lower():
        return InsufficientStorage(
            "the disk is full: the database snapshot could not be written; the backup was abandoned "
            "and nothing else was changed", code="backup_disk_full")
    return Unavailable(f"the database snapshot failed: {exc}", code="backup_failed")


def prune(settings: Settings, keep: int) -> list[str]:
    """Keep the newest `keep` scheduled backups; manual ones are the admin's to remove."""
    scheduled = [i for i in list_backups(settings) if i.kind == "scheduled"]
    removed = []
    for info in scheduled[keep:]:
        info.path.unlink(missing_ok=True)
        removed.append(info.name)
    if removed:
        fsync_dir(settings.backups_dir)
    return removed


def state(session: Session) -> BackupOutcome:
    row = session.get(AppState, STATE_KEY)
    return BackupOutcome.model_validate(row.value if row and isinstance(row.value, dict) else {})


def _record(db: Database, *, info: BackupInfo | None = None, error: str | None = None,
            seconds: float = 0.0) -> None:
    """Best effort: a full disk may refuse this write too, and must not hide the real error."""
    try:
        with db.write() as session:
            record(session, info=info, error=error, seconds=seconds)
    except Exception:
        log.exception("could not record the backup outcome in app_state")


def record(session: Session, *, info: BackupInfo | None = None, error: str | None = None,
           seconds: float = 0.0) -> None:
    outcome = state(session)
    now = utcnow().isoformat()
    if info is not None:
        outcome = outcome.model_copy(update={"last_success_at": now, "last_name": info.name,
                                             "last_size": info.size, "last_seconds": round(seconds, 2)})
    if error is not None:
        outcome = outcome.model_copy(update={"last_error": error, "last_error_at": now})
        log.error("backup failed: %s", error)
    value = outcome.model_dump()
    row = session.get(AppState, STATE_KEY)
    if row is None:
        session.add(AppState(key=STATE_KEY, value=value))
    else:
        row.value = value
