"""Data-directory layout and the atomic-write primitives (temp + fsync + rename)."""

import os
from pathlib import Path

from printstash.core.settings import Settings


def ensure_layout(settings: Settings) -> None:
    for path in (settings.db_dir, settings.files_dir, settings.thumbs_dir, settings.tmp_dir,
                 settings.backups_dir):
        path.mkdir(parents=True, exist_ok=True)


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

