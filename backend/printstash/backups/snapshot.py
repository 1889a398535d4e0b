"""What goes into a backup: a one-step online snapshot of the live database (SQLite's backup
API, or pg_dump: backups/pgdump.py) and a
listing of every stored file, thumbnail and secret (for a bucket vault: every object its rows
reference), written line by line to a temp file so memory does not grow with the vault.
"""

import builtins
import functools
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from printstash.backups import objects, pgdump
from printstash.backups.archive import DB_MEMBER, PG_MEMBER, Member
from printstash.backups.objects import MissingContent
from printstash.core.errors import Invalid
from printstash.core.fastio import hash_file
from printstash.core.settings import Settings
from printstash.core.storage import content_key, layer_index_key, storage_for, thumbnail_key

CONTENT_ROOTS = ("files", "thumbs", "secrets")
SHA_NAME = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Listing:
    members: int = 0
    bytes: int = 0
    objects: int = 0  # listed as bucket objects, not held in the archive
    per_root: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONTENT_ROOTS, 0))

    def add(self, out: "IO[builtins.bytes]", root: str, line: "builtins.bytes", size: int | None) -> None:
        """Write one manifest line: a member of `size` bytes, or (size None) an object line."""
        out.write(line)
        self.per_root[root] += 1
        if size is None:
            self.objects += 1
            return
        self.members += 1
        self.bytes += size


def snapshot_db(settings: Settings, dst: Path) -> None:
    """SQLite's online backup in ONE step (pages=-1): a stepwise copy restarts on every write
    of the worker and may never finish (measured: 31 s for 1 GiB, done only once writes stopped);
    one step does not block writers (about 2 s per GiB)."""
    src_path = settings.sqlite_path
    assert src_path is not None
    if not src_path.exists():
        raise Invalid(f"no database at {src_path}: nothing to back up", code="backup_no_database")
    os.close(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # owner-only, like the archive
    src = sqlite3.connect(f"file:{quote(str(src_path))}?mode=ro", uri=True, timeout=30)
    dst_conn = sqlite3.connect(dst)
    try:
        # A throwaway input to the archive (which is fsynced itself) and removed after it:
        # no journal and no syncs, so the copy is not forced to the disk for nothing.
        dst_conn.execute("PRAGMA journal_mode=OFF")
        dst_conn.execute("PRAGMA synchronous=OFF")
        src.backup(dst_conn, pages=-1)
    finally:
        dst_conn.close()
        src.close()


Query = Callable[[str], Iterable[tuple[Any, ...]]]
SQLITE_TABLES = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"


@dataclass(frozen=True)
class Snapshot:
    """The database as this backup holds it: `path`, the copy that becomes archive member
    `member`, and `query`, which reads the very same state (the SQLite copy itself; on
    PostgreSQL the transaction whose snapshot pg_dump used)."""

    member: str
    path: Path
    query: Query
    tables: tuple[str, ...]

    def facts(self) -> tuple[str | None, dict[str, int]]:
        """The alembic revision and every table's row count."""
        # Names come from the snapshot's own catalogue, not from a user.
        counts = {t: int(next(iter(self.query(f'SELECT count(*) FROM "{t}"')))[0])  # noqa: S608
                  for t in self.tables}
        found = list(self.query("SELECT version_num FROM alembic_version")) if "alembic_version" in self.tables else []
        return (str(found[0][0]) if found else None), counts

    def referenced(self) -> Iterator[tuple[str, str]]:
        """(what, key) of every stored file, thumbnail and plate layer index the rows reference
        (an index not built yet is skipped: objects.LAYER_INDEX)."""
        if "files" in self.tables:
            for (sha,) in self.query("SELECT sha256 FROM files ORDER BY sha256"):
                yield "stored file", content_key(sha)
        if "thumbnails" in self.tables:
            for (path,) in self.query("SELECT DISTINCT path FROM thumbnails ORDER BY path"):
                yield "thumbnail", thumbnail_key(path)
        if "files" in self.tables and "file_plates" in self.tables:
            plates = ('SELECT f.sha256, p."index" FROM files f JOIN file_plates p ON p.file_id = f.id '
                      'ORDER BY f.sha256, p."index"')
            for sha, plate in self.query(plates):
                yield objects.LAYER_INDEX, layer_index_key(sha, int(plate))


@contextmanager
def take(settings: Settings, dst: Path) -> Iterator[Snapshot]:
    """The database copied to `dst` (SQLite's online backup, or pg_dump), readable while the
    context lasts."""
    if settings.sqlite_path is None:
        with pgdump.snapshot(settings, dst) as conn:
            query = functools.partial(pgdump.rows, conn)
            yield Snapshot(PG_MEMBER, dst, query, tuple(r[0] for r in query(pgdump.USER_TABLES)))
        return
    snapshot_db(settings, dst)
    copy = sqlite3.connect(dst)
    try:
        yield Snapshot(DB_MEMBER, dst, copy.execute, tuple(r[0] for r in copy.execute(SQLITE_TABLES)))
    finally:
        copy.close()


def write_listing(settings: Settings, snap: Snapshot, out: IO[bytes], with_objects: bool = False) -> Listing:
    """The database copy first, then every file under files/, thumbs/, secrets/ (sorted). A
    bucket vault's files/ and thumbs/ are the objects its rows reference (backups/objects.py):
    after the local members, as members too `with_objects`, else as object lines."""
    listing = Listing()
    db_member = Member(snap.member, snap.path.stat().st_size, hash_file(snap.path))
    out.write(db_member.line())
    listing.members, listing.bytes = 1, db_member.size
    in_bucket = settings.storage == "s3"
    for root in ("secrets",) if in_bucket else CONTENT_ROOTS:
        for member in _members(settings.data_dir, root):
            listing.add(out, root, member.line(), member.size)
    if in_bucket:
        for ref in objects.object_refs(storage_for(settings), snap.referenced()):
            line = Member(ref.key, ref.size, ref.sha256).line() if with_objects else ref.line()
            listing.add(out, ref.key.split("/", 1)[0], line, ref.size if with_objects else None)
    return listing


def _members(data_dir: Path, root: str) -> Iterator[Member]:
    for path in _walk(data_dir / root):
        rel = path.relative_to(data_dir).as_posix()
        size = path.stat().st_size
        # Stored content is named by its SHA-256: trust the name here and check it while
        # streaming (a mismatch there means bit rot, reported, never archived silently).
        known = root == "files" and SHA_NAME.match(path.name) and path.parent.name == path.name[:2]
        yield Member(rel, size, path.name if known else hash_file(path))


def _walk(top: Path) -> Iterator[Path]:
    if not top.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink() and not name.startswith("."):
                yield path


def check_references(snap: Snapshot, manifest_lines: IO[bytes]) -> None:
    """No row without its file: every files.sha256 / thumbnails.path in the snapshot must be
    in the listing (it is taken after the snapshot, so concurrent uploads cannot break this)."""
    listed = _listed_paths(manifest_lines)
    for kind, rel in snap.referenced():
        if rel not in listed:
            raise MissingContent(f"the database references {kind} {rel}, which is missing from the data dir")


def _listed_paths(lines: IO[bytes]) -> set[str]:
    lines.seek(0)
    return {json.loads(line)["path"] for line in lines}
