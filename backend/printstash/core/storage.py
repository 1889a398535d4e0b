"""Data-directory layout, the atomic-write primitives (temp + fsync + rename), and the store of
content-addressed data (files/, thumbs/; its interface is core/objects.py): a key like
`files/ab/<sha256>` lives under the data dir (LocalStorage) or in a bucket (core/s3.py);
domains never know which.

Both keep the same guarantees: an object is visible only once complete, stored content is
never overwritten by an upload, and listing gives each object's age so a sweep can remove
what no row refers to after a grace period.
"""

import contextlib
import errno
import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from printstash.core.fastio import fsync_path
from printstash.core.objects import READ_CHUNK, ByteRange, ObjectInfo, Storage, StorageUnavailable
from printstash.core.settings import Settings

# The data holds password hashes, sessions and every user's files: owner-only, like the
# backups and secrets. Each process sets this umask first (printstash.cli, alembic/env.py).
PRIVATE_UMASK = 0o077


def private_files() -> None:
    """Everything this process creates from now on is owner-only (files 0600, dirs 0700)."""
    os.umask(PRIVATE_UMASK)


FILES, THUMBS = "files", "thumbs"


def ensure_layout(settings: Settings) -> None:
    """Create the data dir's directories owner-only, and tighten those (and the database files)
    that an older version left readable by everyone."""
    for path in (settings.db_dir, settings.files_dir, settings.thumbs_dir, settings.tmp_dir,
                 settings.backups_dir):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        _owner_only(path, 0o700)
    _owner_only(settings.data_dir, 0o700)
    for path in settings.db_dir.iterdir():
        if path.is_file() and not path.is_symlink():
            _owner_only(path, 0o600)


def _owner_only(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(mode)
    except OSError:  # not ours (a mount point owned by root) or read-only: leave it; health
        pass         # reports a store it cannot write, start-up should not die on a chmod


def content_key(sha256: str) -> str:
    """Content-addressed key: files/ab/<sha256>."""
    return f"{FILES}/{sha256[:2]}/{sha256}"


def thumbnail_key(relpath: str) -> str:
    """A thumbnail's key from the path its row keeps (relative to thumbs/)."""
    return f"{THUMBS}/{relpath}"


LAYER_INDEX_TAG = "-layers-"


def layer_index_key(sha256: str, plate: int) -> str:
    """A plate's layer index (gcode/layers.py), derived data beside the file's thumbnails."""
    return f"{THUMBS}/{sha256[:2]}/{sha256}{LAYER_INDEX_TAG}{plate}.idx"


def content_path(settings: Settings, sha256: str) -> Path:
    """Where the local store keeps files/ab/<sha256>."""
    return settings.data_dir / content_key(sha256)


class LocalStorage:
    """Keys are paths under the data dir; objects appear by rename, so never half-written."""

    kind: Literal["local", "s3"] = "local"

    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root, self.tmp_dir = root, tmp_dir

    def path(self, key: str) -> Path:
        return self.root / key

    def put_file(self, key: str, path: Path) -> bool:
        """A second name (a hard link) for the fsynced file, so `path` stays the caller's, as with
        a bucket: the caller may still read it while this runs (library/ingest.py store_part).
        Content is stored under its own hash, so an object already there has these bytes."""
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, final)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in NO_HARD_LINKS:
                raise
            if final.exists():
                return False
            _copy_into_place(path, final)
        fsync_dir(final.parent)
        return True

    def put_bytes(self, key: str, data: bytes) -> None:
        atomic_write_bytes(self.path(key), data)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    def read_range(self, key: str, start: int, end: int | None) -> ByteRange | None:
        total = self.size(key)
        if total is None:
            return None
        last = _last_byte(start, end, total)
        return ByteRange(_file_chunks(self.path(key), start, last), start, last, total)

    def local_path(self, key: str) -> Path | None:
        return self.path(key)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path | None]:
        path = self.path(key)
        yield path if path.is_file() else None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def list(self, folder: str) -> Iterator[ObjectInfo]:
        for path in self.path(folder).rglob("*"):
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                if path.is_file():
                    yield ObjectInfo(path.relative_to(self.root).as_posix(), stat.st_size, stat.st_mtime)

    def presigned_url(self, key: str, filename: str | None, media_type: str) -> str | None:
        return None

    def probe(self) -> None:
        probe = self.tmp_dir / f".health-{os.getpid()}-{id(self)}"
        try:
            atomic_write_bytes(probe, b"ok")
            probe.unlink()
        except OSError as exc:
            raise StorageUnavailable(f"the data volume is not writable: {exc.strerror or exc}") from exc


def _last_byte(start: int, end: int | None, total: int) -> int:
    if start >= total:
        raise ValueError(f"range starts at {start}, past the end ({total} bytes)")
    return total - 1 if end is None else min(end, total - 1)


def _file_chunks(path: Path, start: int, last: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        fh.seek(start)
        left = last - start + 1
        while left > 0:
            chunk = fh.read(min(READ_CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


@functools.lru_cache(maxsize=32)
def storage_for(settings: Settings) -> Storage:
    """The store these settings name (one per settings: the S3 client pools connections)."""
    if settings.storage == "s3":
        from printstash.core.s3 import S3Storage  # boto3 only where it is used

        return S3Storage.from_settings(settings)
    return LocalStorage(settings.data_dir, settings.tmp_dir)


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a rename, a new file) durable: flushed like a file."""
    fsync_path(path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a whole small file so readers see either the old or the new content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    fsync_dir(path.parent)


# A volume that cannot hard-link (FAT, some network and FUSE file systems) gets a copy instead.
NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK)


def _copy_into_place(path: Path, final: Path) -> None:
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.copyfile(path, tmp)
    fsync_path(tmp)
    tmp.replace(final)


def publish(tmp: Path, final: Path) -> None:
    """Move a fully written, fsynced temp file into place (same filesystem)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp.replace(final)
    fsync_dir(final.parent)

