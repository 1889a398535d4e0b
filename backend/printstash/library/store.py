"""Files of the library on disk: content under files/ab/<sha256>, thumbnails under thumbs/,
partial uploads under tmp/<uuid>.part.

A .part file is flock'ed by the upload writing it, so the start-up cleanup can tell an
abandoned part (no lock: its process died) from one still being written by another api
process sharing the data dir.
"""

import contextlib
import fcntl
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from printstash.core.settings import Settings
from printstash.core.storage import atomic_write_bytes, content_path

log = logging.getLogger(__name__)

PART_SUFFIX = ".part"
THUMB_FORMATS = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "qoi": "qoi"}
THUMB_MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg"}  # what is served (library/images.py)


@dataclass(frozen=True)
class StoredThumbnail:
    index: int
    width: int
    height: int
    format: str
    size: int
    path: str  # relative to thumbs/
    plate: int = 1  # the plate it shows


@dataclass(frozen=True)
class PlateFields:
    """One sliced plate's metadata, as parsed."""

    index: int  # 1-based, as slicers number plates
    fields: dict[str, Any]


def thumbnail_relpath(sha256: str, index: int, fmt: str) -> str:
    return f"{sha256[:2]}/{sha256}-{index}.{fmt}"


def thumbnail_format(raw: str) -> str | None:
    return THUMB_FORMATS.get(raw.strip().lower())


def write_thumbnail(settings: Settings, sha256: str, index: int, width: int, height: int,
                    fmt: str, data: bytes, plate: int = 1) -> StoredThumbnail:
    rel = thumbnail_relpath(sha256, index, fmt)
    atomic_write_bytes(settings.thumbs_dir / rel, data)
    return StoredThumbnail(index, width, height, fmt, len(data), rel, plate)


def remove_thumbnails(settings: Settings, sha256: str) -> None:
    for path in (settings.thumbs_dir / sha256[:2]).glob(f"{sha256}-*"):
        path.unlink(missing_ok=True)


def remove_content(settings: Settings, sha256: str) -> None:
    """Drop a stored file and its thumbnails (after its row is gone)."""
    content_path(settings, sha256).unlink(missing_ok=True)
    remove_thumbnails(settings, sha256)


def clean_stale_parts(settings: Settings) -> int:
    """Remove tmp/*.part left by a crashed or killed upload; returns how many were removed."""
    removed = 0
    for path in settings.tmp_dir.glob(f"*{PART_SUFFIX}"):
        if _remove_if_unlocked(path):
            removed += 1
    if removed:
        log.info("removed %d abandoned partial upload(s) from %s", removed, settings.tmp_dir)
    return removed


def _remove_if_unlocked(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # an upload in progress holds it
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return True
    finally:
        os.close(fd)


def prune_thumbnails(settings: Settings, sha256: str, keep: set[str]) -> None:
    """Remove this file's thumbnails that a re-parse no longer lists."""
    for path in (settings.thumbs_dir / sha256[:2]).glob(f"{sha256}-*"):
        if f"{sha256[:2]}/{path.name}" not in keep:
            path.unlink(missing_ok=True)


def remove_orphans(settings: Settings, known: set[str], min_age_seconds: float) -> int:
    """Remove stored content and thumbnails that no row refers to (left by a crash between
    publishing a file and committing its row). Only files older than min_age_seconds, so an
    upload between those two steps is never touched."""
    cutoff = time.time() - min_age_seconds
    removed = 0
    for path in [*settings.files_dir.glob("??/*"), *settings.thumbs_dir.glob("??/*")]:
        temp = path.name.startswith(".")  # an atomic write's temp file, left by a crash
        if (not temp and path.name.split("-", 1)[0] in known) or not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed
