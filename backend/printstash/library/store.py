"""Files of the library: content under files/ab/<sha256> and thumbnails under thumbs/ in the
store (core/storage.py: the data dir or a bucket), partial uploads under tmp/<uuid>.part on
the local volume.

thumbs/ holds all of a file's derived data, named `<sha256>-…`: its thumbnails and each sliced
plate's layer index (`<sha256>-layers-<plate>.idx`, gcode/layers.py). So backups, restores,
the copy into a bucket, purge and the orphan sweep cover the indexes without knowing them.
The plain G-code of a packaged plate (.bgcode, .gcode.3mf, .ufp), which the preview reads
layer by layer, is a local cache under cache/plain/: rebuilt on demand, never backed up, its
least recently used plates removed beyond VAULT_PREVIEW_CACHE_MB (evict_plain_cache).

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

from printstash.core.objects import ObjectInfo
from printstash.core.settings import Settings
from printstash.core.storage import (
    FILES,
    LAYER_INDEX_TAG,
    THUMBS,
    content_key,
    layer_index_key,
    storage_for,
    thumbnail_key,
)
from printstash.gcode.layers import LayerIndex

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
    storage_for(settings).put_bytes(thumbnail_key(rel), data)
    return StoredThumbnail(index, width, height, fmt, len(data), rel, plate)


def read_thumbnail(settings: Settings, relpath: str) -> bytes | None:
    """A (small) thumbnail's bytes; None when it is missing or empty."""
    try:
        body = storage_for(settings).read_range(thumbnail_key(relpath), 0, None)
    except ValueError:  # an empty object: no range to read
        return None
    return b"".join(body.chunks) if body is not None else None


def _thumbnail_keys(settings: Settings, sha256: str) -> list[str]:
    named = f"{THUMBS}/{sha256[:2]}/{sha256}-"
    return [obj.key for obj in storage_for(settings).list(f"{THUMBS}/{sha256[:2]}") if obj.key.startswith(named)]


def remove_thumbnails(settings: Settings, sha256: str) -> None:
    """Every derived object of the file: thumbnails and layer indexes."""
    for key in _thumbnail_keys(settings, sha256):
        storage_for(settings).delete(key)


def remove_content(settings: Settings, sha256: str) -> None:
    """Drop a stored file, its thumbnails, layer indexes and cached plain G-code (after its
    row is gone)."""
    storage_for(settings).delete(content_key(sha256))
    remove_thumbnails(settings, sha256)
    for cached in plain_cache_path(settings, sha256, 1).parent.glob(f"{sha256}-*"):
        cached.unlink(missing_ok=True)


def write_layer_index(settings: Settings, sha256: str, plate: int, index: LayerIndex) -> None:
    storage_for(settings).put_bytes(layer_index_key(sha256, plate), index.to_bytes())


def read_layer_index(settings: Settings, sha256: str, plate: int) -> LayerIndex | None:
    """The stored index; None when there is none (or an older version's, which is rebuilt)."""
    try:
        body = storage_for(settings).read_range(layer_index_key(sha256, plate), 0, None)
        return LayerIndex.from_bytes(b"".join(body.chunks)) if body is not None else None
    except ValueError:  # empty, damaged or another format version
        return None


def plain_cache_path(settings: Settings, sha256: str, plate: int) -> Path:
    return _plain_cache(settings) / sha256[:2] / f"{sha256}-{plate}.gcode"


def _plain_cache(settings: Settings) -> Path:
    return settings.data_dir / "cache" / "plain"


# A cached plate used this recently is being previewed (its layers are read from it): never
# evicted, whatever the cache's size.
PLAIN_IN_USE_SECONDS = 600.0


def touch_plain(path: Path) -> None:
    """Mark a cached plate as just used. Eviction goes by modification time: access times are
    often not kept (noatime, relatime)."""
    with contextlib.suppress(FileNotFoundError):
        os.utime(path)


def evict_plain_cache(settings: Settings, limit: int, in_use_seconds: float = PLAIN_IN_USE_SECONDS) -> int:
    """Remove the least recently used cached plates until cache/plain/ holds at most `limit`
    bytes (VAULT_PREVIEW_CACHE_MB; a removed plate is decoded again when next previewed);
    returns how many were removed."""
    cached: list[tuple[float, int, Path]] = []
    for path in _plain_cache(settings).glob("*/*.gcode"):
        with contextlib.suppress(FileNotFoundError):
            stat = path.stat()
            cached.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in cached)
    recent = time.time() - in_use_seconds
    removed = 0
    for used, size, path in sorted(cached):  # least recently used first
        if total <= limit or used >= recent:
            break
        path.unlink(missing_ok=True)
        total -= size
        removed += 1
    return removed


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
    """Remove this file's thumbnails that a re-parse no longer lists (its layer indexes stay:
    the re-parse has just rewritten them)."""
    kept = {thumbnail_key(rel) for rel in keep}
    for key in _thumbnail_keys(settings, sha256):
        if key not in kept and LAYER_INDEX_TAG not in key:
            storage_for(settings).delete(key)


def old_objects(settings: Settings, min_age_seconds: float) -> list[ObjectInfo]:
    """Stored content and thumbnails older than min_age_seconds: what an orphan sweep may
    look at (an upload between storing its content and committing its row is younger)."""
    cutoff = time.time() - min_age_seconds
    storage = storage_for(settings)
    return [obj for obj in [*storage.list(FILES), *storage.list(THUMBS)] if obj.modified < cutoff]


def remove_unreferenced(settings: Settings, objects: list[ObjectInfo], known: set[str]) -> int:
    """Remove those of `objects` no row refers to (left by a crash between storing a file and
    committing its row), and atomic writes' temp files."""
    removed = 0
    for obj in objects:
        name = obj.key.rsplit("/", 1)[-1]
        if name.startswith(".") or name.split("-", 1)[0] not in known:
            storage_for(settings).delete(obj.key)
            removed += 1
    return removed
