"""Verify and restore backups.

Restore never touches the current data until the whole archive has been read back into a
staging directory inside the data dir, every member's SHA-256 matched the manifest and the
database copy passed `PRAGMA integrity_check`. Then the data dir's CONTENTS (db/, files/,
thumbs/, secrets/) are swapped by renames inside it, so it works when the data dir itself is a
mount point (a docker volume) that cannot be renamed; backups/ stays where it is. The previous
contents are kept in before-restore-<time>/ until the admin removes them. A journal file makes
an interrupted swap finish on the next restore instead of leaving a mix.
"""

import errno
import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from printstash.backups.archive import DB_MEMBER, ArchiveError, Copier, Member, open_reader
from printstash.core import datalock
from printstash.core.db import utcnow
from printstash.core.errors import Conflict, InsufficientStorage, Invalid, NotFound
from printstash.core.fastio import Background, syncfs
from printstash.core.settings import Settings
from printstash.core.storage import atomic_write_bytes, ensure_layout, fsync_dir

SWAPPED = ("db", "files", "thumbs", "secrets")
ALLOWED_ROOTS = ("db", "files", "thumbs", "secrets")
JOURNAL = ".restore-journal.json"
STAGING_PREFIX = ".restore-"
ASIDE_PREFIX = "before-restore-"


@dataclass(frozen=True)
class RestoreResult:
    header: dict[str, Any]
    aside: Path | None  # where the previous data was kept (None: there was none)


def _corrupt(path: Path, exc: ArchiveError) -> Invalid:
    return Invalid(f"{path.name} cannot be used: {exc}", code="backup_corrupt")


def verify_backup(settings: Settings, path: Path) -> dict[str, Any]:
    """Read the whole archive: every hash, the manifest's own checksum, integrity_check."""
    _require_file(path)
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.tmp_dir, prefix="verify-") as work:
        try:
            return _read_archive(path, Path(work), dest=None)
        except ArchiveError as exc:
            raise _corrupt(path, exc) from None


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise NotFound(f"no backup file at {path}")


def _read_archive(path: Path, work: Path, dest: Path | None) -> dict[str, Any]:
    """Stream every member to `dest` (or only hash it); the database copy always lands on
    disk so integrity_check can run on it — in a thread, while the files are still streaming
    (it reads the whole database; overlapped, it costs restore almost nothing)."""
    db_copy = (dest or work) / DB_MEMBER
    check = IntegrityCheck(db_copy)
    try:
        with (work / "manifest").open("w+b") as spool, open_reader(path, spool) as reader, \
                Copier(reader.fd) as copier:
            if dest is not None:
                _check_space(dest, reader.head)
            for member, offset in reader.members():
                target = _target(dest, member) if member.path != DB_MEMBER else db_copy
                _copy(copier, offset, member, target)
                if member.path == DB_MEMBER:
                    check.start()
        check.result()
    finally:
        check.join()
    head = dict(reader.head)
    head.pop("_raw", None)
    return head


class IntegrityCheck:
    """`PRAGMA integrity_check` of the database copy, in the background once started."""

    def __init__(self, db_copy: Path) -> None:
        self.db_copy = db_copy
        self._running: Background | None = None

    def start(self) -> None:
        self._running = Background(self._run, name="integrity-check")

    def _run(self) -> None:
        try:
            _integrity_check(self.db_copy)
        except ArchiveError:
            raise
        except Exception as exc:  # never let a failed check pass silently
            raise ArchiveError(f"the database copy could not be checked: {exc}") from None

    def join(self) -> None:
        if self._running is not None:
            self._running.join()

    def result(self) -> None:
        if self._running is None:
            raise ArchiveError("the archive holds no database")
        self._running.result()


def _target(dest: Path | None, member: Member) -> Path | None:
    """Refuse anything outside the known roots: a crafted archive must not write elsewhere."""
    rel = PurePosixPath(member.path)
    if rel.is_absolute() or ".." in rel.parts or rel.parts[0] not in ALLOWED_ROOTS or len(rel.parts) < 2:
        raise ArchiveError(f"member {member.path} is outside the data layout")
    return None if dest is None else dest.joinpath(*rel.parts)


def _copy(copier: Copier, offset: int, member: Member, target: Path | None) -> None:
    if target is None:
        copier.copy(offset, member, None)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # Owner-only, like everything in the data dir (core/storage.py PRIVATE_UMASK).
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        copier.copy(offset, member, fd)
    finally:
        os.close(fd)


def _check_space(dest: Path, head: dict[str, Any]) -> None:
    need = int(head.get("counts", {}).get("bytes", 0))
    free = shutil.disk_usage(dest).free
    if free < need:
        raise InsufficientStorage(
            f"restoring needs {need // 2**20} MiB free beside the data but only {free // 2**20} MiB are free; "
            "nothing was changed", code="restore_disk_full")


def _integrity_check(db_copy: Path) -> None:
    if not db_copy.is_file():
        raise ArchiveError("the archive holds no database")
    conn = sqlite3.connect(db_copy)
    try:
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"the database copy is damaged: {exc}") from None
    finally:
        conn.close()
    if result != ["ok"]:
        raise ArchiveError(f"the database copy fails integrity_check: {'; '.join(result[:5])}")


def restore_backup(settings: Settings, path: Path) -> RestoreResult:
    """Replace the data dir's contents with the backup's; refuses while api/worker run."""
    _require_file(path)
    db_name = _db_filename(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = datalock.acquire_exclusive(settings)
    except datalock.DataDirBusy as exc:
        raise Conflict(str(exc), code="data_dir_busy") from None
    try:
        finish_interrupted(settings)
        clean_staging(settings)
        return _restore(settings, path, db_name)
    finally:
        datalock.release(lock)


def _db_filename(settings: Settings) -> str:
    db_path = settings.sqlite_path
    if db_path is None or db_path.parent.resolve() != settings.db_dir.resolve():
        raise Invalid("restore needs the SQLite database inside <DATA_DIR>/db/ (check VAULT_DB_URL)",
                      code="restore_unsupported")
    return db_path.name


def _restore(settings: Settings, path: Path, db_name: str) -> RestoreResult:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    staging = settings.data_dir / f"{STAGING_PREFIX}{stamp}"
    try:
        head = _stage(settings, path, staging, db_name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    aside = settings.data_dir / f"{ASIDE_PREFIX}{stamp}"
    _swap(settings, staging, aside)
    ensure_layout(settings)
    return RestoreResult(head, aside if aside.exists() else None)


def _stage(settings: Settings, path: Path, staging: Path, db_name: str) -> dict[str, Any]:
    work = staging / ".work"
    work.mkdir(parents=True)
    try:
        head = _read_archive(path, work, dest=staging)
    except ArchiveError as exc:
        raise _corrupt(path, exc) from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise InsufficientStorage("the disk filled up while restoring; nothing was changed",
                                      code="restore_disk_full") from None
        raise Invalid(f"could not stage the restore ({exc}); nothing was changed", code="restore_failed") from None
    shutil.rmtree(work)
    for root in ("db", "files", "thumbs"):
        (staging / root).mkdir(exist_ok=True)
    if db_name != PurePosixPath(DB_MEMBER).name:
        (staging / DB_MEMBER).rename(staging / "db" / db_name)
    syncfs(staging)  # one flush of everything restored before it becomes the live data
    return head


def _swap(settings: Settings, staging: Path, aside: Path) -> None:
    journal = {"staging": staging.name, "aside": aside.name}
    atomic_write_bytes(settings.data_dir / JOURNAL, json.dumps(journal).encode())
    _apply(settings.data_dir, staging, aside)


def _apply(data_dir: Path, staging: Path, aside: Path) -> None:
    """Idempotent: each root moves current → aside, then staging → current."""
    aside.mkdir(exist_ok=True)
    for root in SWAPPED:
        current, new, old = data_dir / root, staging / root, aside / root
        if new.exists() and current.exists() and not old.exists():
            current.rename(old)
        if new.exists() and not current.exists():
            new.rename(current)
    fsync_dir(aside)
    fsync_dir(data_dir)
    (data_dir / JOURNAL).unlink()
    shutil.rmtree(staging, ignore_errors=True)
    if not any(aside.iterdir()):
        aside.rmdir()
    fsync_dir(data_dir)


def finish_interrupted(settings: Settings) -> bool:
    """Complete a swap a crash interrupted (the staged data was fully verified before it began)."""
    path = settings.data_dir / JOURNAL
    if not path.exists():
        return False
    journal = json.loads(path.read_text())
    _apply(settings.data_dir, settings.data_dir / journal["staging"], settings.data_dir / journal["aside"])
    return True


def clean_staging(settings: Settings) -> None:
    """Staging dirs of a restore that died before its swap began hold nothing needed."""
    if (settings.data_dir / JOURNAL).exists():
        return
    for path in settings.data_dir.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(path, ignore_errors=True)
