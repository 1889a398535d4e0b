"""Data-directory layout and the atomic-write primitives (temp + fsync + rename)."""

import os
from pathlib import Path

from printstash.core.settings import Settings

# The data holds password hashes, sessions and every user's files: owner-only, like the
# backups and secrets. Each process sets this umask first (printstash.cli, alembic/env.py).
PRIVATE_UMASK = 0o077


def private_files() -> None:
    """Everything this process creates from now on is owner-only (files 0600, dirs 0700)."""
    os.umask(PRIVATE_UMASK)


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
    except PermissionError:  # not ours (e.g. a mount point owned by root): leave it
        pass


def content_path(settings: Settings, sha256: str) -> Path:
    """Content-addressed location: files/ab/<sha256>."""
    return settings.files_dir / sha256[:2] / sha256


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def publish(tmp: Path, final: Path) -> None:
    """Move a fully written, fsynced temp file into place (same filesystem)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp.replace(final)
    fsync_dir(final.parent)

