"""A vault large enough that a backup takes a noticeable time (for kill -9, disk-full and
load tests): real G-code fixtures repeated with a unique header into content-addressed files,
each with its files row, so the database and the files agree."""

import hashlib
from itertools import cycle
from pathlib import Path

from harness.backups import fixture_paths

from printstash.core.db import Database
from printstash.core.settings import Settings
from printstash.core.storage import content_path, ensure_layout
from printstash.library.models import File

MIB = 1024 * 1024


def fill(settings: Settings, total_mb: int, file_mb: int = 8) -> int:
    """Add about `total_mb` of stored G-code; returns how many files were written."""
    ensure_layout(settings)
    sources = cycle([p.read_bytes() for p in fixture_paths() if p.stat().st_size > 200_000])
    db = Database.from_settings(settings)
    count = 0
    with db.write() as session:
        for i in range(max(1, total_mb // file_mb)):
            data = _one(next(sources), i, file_mb)
            sha = hashlib.sha256(data).hexdigest()
            path = content_path(settings, sha)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            session.add(File(name=f"big-{i}.gcode", size=len(data), sha256=sha))
            count += 1
    db.dispose()
    return count


def _one(source: bytes, i: int, file_mb: int) -> bytes:
    body = source * (file_mb * MIB // len(source) + 1)
    return f"; bigvault file {i}\n".encode() + body[: file_mb * MIB]


def data_files(data_dir: Path) -> dict[str, int]:
    """Path -> size of everything under files/ (cheap fingerprint for large vaults)."""
    return {p.relative_to(data_dir).as_posix(): p.stat().st_size
            for p in sorted((data_dir / "files").rglob("*")) if p.is_file()}
