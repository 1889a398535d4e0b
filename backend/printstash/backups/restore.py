"""Verify and restore backups.

Restore never touches the current data until the whole archive has been read back into a
staging directory inside the data dir, every member's SHA-256 matched the manifest and the
database copy passed `PRAGMA integrity_check`. Then the data dir's CONTENTS (db/, files/,
thumbs/, secrets/) are swapped by renames inside it, so it works when the data dir itself is a
mount point (a docker volume) that cannot be renamed; backups/ stays where it is. The previous
contents are kept in before-restore-<time>/ until the admin removes them. A journal file makes
an interrupted swap finish on the next restore instead of leaving a mix.

With VAULT_STORAGE=s3 the stored files and thumbnails belong in the bucket: an archive's
files/ and thumbs/ members are uploaded there one at a time as they are read (each checked
against its SHA-256 first, create-only, so a stored object is never replaced), and the objects
an archive only lists must already be in the bucket: restore refuses otherwise unless told to
go ahead without them (backups/objects.py).
"""

import errno
import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from printstash.backups import pgdump
from printstash.backups.archive import (
    DB_MEMBER,
    DB_MEMBERS,
    PG_MEMBER,
    ArchiveError,
    Copier,
    Member,
    Reader,
    open_reader,
)
from printstash.backups.manifest import OBJECT_ROOTS
from printstash.backups.objects import ObjectCheck
from printstash.core import datalock
from printstash.core.db import utcnow
from printstash.core.errors import Conflict, DomainError, InsufficientStorage, Invalid, NotFound
from printstash.core.fastio import Background, syncfs
from printstash.core.objects import Storage
from printstash.core.settings import Settings
from printstash.core.storage import atomic_write_bytes, ensure_layout, fsync_dir, storage_for

SWAPPED = ("db", "files", "thumbs", "secrets")
ALLOWED_ROOTS = ("db", "files", "thumbs", "secrets")
JOURNAL = ".restore-journal.json"
STAGING_PREFIX = ".restore-"
ASIDE_PREFIX = "before-restore-"


@dataclass(frozen=True)
class RestoreResult:
    header: dict[str, Any]
    aside: Path | None  # where the previous data was kept (None: there was none)
    objects: ObjectCheck | None = None  # the listed bucket objects, when the archive lists any


@dataclass(frozen=True)
class Target:
    """Where a read archive goes: `dest` a staging dir (None: only verify), `bucket` the store
    that files/ and thumbs/ members and listed objects belong in (None: the data dir)."""

    dest: Path | None
    bucket: Storage | None
    deep: bool = False  # verify: re-hash each listed object's bytes in the bucket
    database: Literal["sqlite", "postgresql"] | None = None  # restore: what the data is loaded into


def _target_for(settings: Settings, dest: Path | None, deep: bool = False) -> Target:
    bucket = storage_for(settings) if settings.storage == "s3" else None
    if dest is None:
        return Target(dest, bucket, deep)
    return Target(dest, bucket, deep, "sqlite" if settings.sqlite_path is not None else "postgresql")


WRONG_DATABASE = {
    "postgresql": "this backup holds a PostgreSQL database (a pg_dump) and VAULT_DB_URL names SQLite: point "
                  "VAULT_DB_URL at an empty PostgreSQL database to restore it",
    "sqlite": "this backup holds a SQLite database and VAULT_DB_URL names PostgreSQL: restore it with the default "
              "SQLite database (VAULT_DB_URL unset), then move it over as docs/scaling.md describes",
}


def _corrupt(path: Path, exc: ArchiveError) -> Invalid:
    return Invalid(f"{path.name} cannot be used: {exc}", code="backup_corrupt")


def verify_backup(settings: Settings, path: Path, deep: bool = False) -> tuple[dict[str, Any], ObjectCheck]:
    """Read the whole archive: every hash, the manifest's own checksum, integrity_check; and
    every object it lists is in the bucket (`deep`: with the recorded SHA-256)."""
    _require_file(path)
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.tmp_dir, prefix="verify-") as work:
        try:
            head, found = _read_archive(path, Path(work), _target_for(settings, None, deep))
        except ArchiveError as exc:
            raise _corrupt(path, exc) from None
    if found.problems:
        raise Invalid(_objects_problem(settings, path, found), code="backup_objects_missing")
    return head, found


def _objects_problem(settings: Settings, path: Path, found: ObjectCheck) -> str:
    return (f"{path.name} is intact, but {found.problems} of the {found.checked} objects it lists are not as it "
            f"recorded them in bucket {settings.s3_bucket}: {found.summary()}")


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise NotFound(f"no backup file at {path}")


def _read_archive(path: Path, work: Path, to: Target) -> tuple[dict[str, Any], ObjectCheck]:
    """Stream every member to `to.dest` or the bucket (or only hash it); the database copy
    always lands on disk so integrity_check can run on it — in a thread, while the files are
    still streaming (it reads the whole database; overlapped, it costs restore almost nothing).
    Then every object the manifest lists is looked up in the bucket."""
    check = IntegrityCheck()
    try:
        with (work / "manifest").open("w+b") as spool, open_reader(path, spool) as reader, \
                Copier(reader.fd) as copier:
            _check_fits(reader.head, to)
            if to.dest is not None:
                _check_space(to.dest, reader.head)
            _read_members(reader, copier, to, work, check)
            found = _check_objects(reader, to)
        check.result()
    finally:
        check.join()
    head = dict(reader.head)
    head.pop("_raw", None)
    return head, found


def _check_fits(head: dict[str, Any], to: Target) -> None:
    """The archive's database must be the one a restore loads, and its listed objects need
    a bucket."""
    made_on = head.get("database", "sqlite")
    if to.database is not None and made_on != to.database:
        raise Invalid(WRONG_DATABASE[made_on], code="restore_wrong_database")
    if head.get("objects") == "referenced" and to.bucket is None:
        raise ArchiveError("its files live in a bucket it only lists (made without --with-objects): "
                           "run this with the vault's VAULT_STORAGE=s3 and VAULT_S3_* settings")


def _read_members(reader: Reader, copier: Copier, to: Target, work: Path, check: "IntegrityCheck") -> None:
    for member, offset in reader.members():
        if member.path in DB_MEMBERS:
            db_copy = (to.dest or work) / member.path
            _copy(copier, offset, member, db_copy)
            check.start(db_copy)
        elif to.dest is not None and to.bucket is not None and member.path.split("/", 1)[0] in OBJECT_ROOTS:
            _upload(copier, offset, member, work / "object", to.bucket)
        else:
            _copy(copier, offset, member, _target(to.dest, member))


def _upload(copier: Copier, offset: int, member: Member, tmp: Path, bucket: Storage) -> None:
    """One object into the bucket, only once its bytes matched the manifest's SHA-256."""
    _copy(copier, offset, member, tmp)
    try:
        bucket.put_file(member.path, tmp)
    finally:
        tmp.unlink(missing_ok=True)


def _check_objects(reader: Reader, to: Target) -> ObjectCheck:
    found = ObjectCheck(to.bucket, to.deep)
    for ref in reader.objects():
        found.check(ref)
    return found


class IntegrityCheck:
    """`PRAGMA integrity_check` of a SQLite copy, or `pg_restore --list` of a PostgreSQL dump,
    in the background once started."""

    def __init__(self) -> None:
        self._running: Background | None = None

    def start(self, db_copy: Path) -> None:
        self._running = Background(lambda: self._run(db_copy), name="integrity-check")

    def _run(self, db_copy: Path) -> None:
        try:
            if db_copy.name == PurePosixPath(PG_MEMBER).name:
                _check_dump(db_copy)
            else:
                _integrity_check(db_copy)
        except (ArchiveError, DomainError):
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


def _check_dump(dump: Path) -> None:
    try:
        pgdump.check_dump(dump)
    except pgdump.DumpFailed as exc:
        raise ArchiveError(f"the database dump is damaged: {exc}") from None


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


def restore_backup(settings: Settings, path: Path, allow_missing_objects: bool = False) -> RestoreResult:
    """Replace the data dir's contents with the backup's; refuses while api/worker run, and
    when objects the archive lists are missing from the bucket unless `allow_missing_objects`."""
    _require_file(path)
    db_name = _db_filename(settings)
    if db_name is None:
        pgdump.refuse_non_empty(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = datalock.acquire_exclusive(settings)
    except datalock.DataDirBusy as exc:
        raise Conflict(str(exc), code="data_dir_busy") from None
    try:
        finish_interrupted(settings)
        clean_staging(settings)
        return _restore(settings, path, db_name, allow_missing_objects)
    finally:
        datalock.release(lock)


def _db_filename(settings: Settings) -> str | None:
    """The SQLite file's name in <DATA_DIR>/db/; None for PostgreSQL (loaded by pg_restore)."""
    db_path = settings.sqlite_path
    if db_path is None:
        return None
    if db_path.parent.resolve() != settings.db_dir.resolve():
        raise Invalid("restore needs the SQLite database inside <DATA_DIR>/db/ (check VAULT_DB_URL)",
                      code="restore_unsupported")
    return db_path.name


def _restore(settings: Settings, path: Path, db_name: str | None, allow_missing: bool) -> RestoreResult:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    staging = settings.data_dir / f"{STAGING_PREFIX}{stamp}"
    try:
        head, found = _stage(settings, path, staging, db_name)
        if found.problems and not allow_missing:
            raise Invalid(f"{_objects_problem(settings, path, found)}. Nothing was changed: restore with the "
                          "bucket that holds them, use an archive made with --with-objects, or pass "
                          "--allow-missing-objects to restore without them (their files then fail to download)",
                          code="backup_objects_missing")
        if db_name is None:
            _load(settings, staging / PG_MEMBER)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    aside = settings.data_dir / f"{ASIDE_PREFIX}{stamp}"
    _swap(settings, staging, aside)
    ensure_layout(settings)
    return RestoreResult(head, aside if aside.exists() else None, found if found.checked else None)


def _load(settings: Settings, dump: Path) -> None:
    """Into the (empty) PostgreSQL database, in one transaction, as the last step before the
    data dir's swap; the dump itself does not stay in db/."""
    pgdump.refuse_non_empty(settings)  # still empty: nothing wrote to it while we staged
    try:
        pgdump.load(settings, dump)
    except pgdump.DumpFailed as exc:
        raise Invalid(f"loading the database failed and nothing was loaded: {exc}", code="restore_failed") from None
    dump.unlink()


def _stage(settings: Settings, path: Path, staging: Path, db_name: str | None) -> tuple[dict[str, Any], ObjectCheck]:
    work = staging / ".work"
    work.mkdir(parents=True)
    try:
        head, found = _read_archive(path, work, _target_for(settings, staging))
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
    if db_name is not None and db_name != PurePosixPath(DB_MEMBER).name:
        (staging / DB_MEMBER).rename(staging / "db" / db_name)
    syncfs(staging)  # one flush of everything restored before it becomes the live data
    return head, found


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
