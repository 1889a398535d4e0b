"""A vault large enough that a backup takes a noticeable time (for kill -9, disk-full and
load tests): real G-code fixtures repeated with a unique header into content-addressed files
(in the data dir, or in the bucket of a VAULT_STORAGE=s3 vault), each with its files row, so
the database and the files agree. And a copy of a bucket, for tests that damage one."""

import hashlib
from itertools import cycle
from pathlib import Path
from typing import Any

from harness.backups import fixture_paths
from harness.s3 import MotoS3

from printstash.core.db import Database
from printstash.core.settings import Settings
from printstash.core.storage import content_key, content_path, ensure_layout
from printstash.library.models import File

MIB = 1024 * 1024


def fill(settings: Settings, total_mb: int, file_mb: int = 8, bucket: Any = None) -> int:
    """Add about `total_mb` of stored G-code (into `bucket`, an S3 client, when given);
    returns how many files were written."""
    ensure_layout(settings)
    sources = cycle([p.read_bytes() for p in fixture_paths() if p.stat().st_size > 200_000])
    db = Database.from_settings(settings)
    count = 0
    with db.write() as session:
        for i in range(max(1, total_mb // file_mb)):
            data = _one(next(sources), i, file_mb)
            sha = hashlib.sha256(data).hexdigest()
            _store(settings, bucket, sha, data)
            session.add(File(name=f"big-{i}.gcode", size=len(data), sha256=sha))
            count += 1
    db.dispose()
    return count


def _store(settings: Settings, bucket: Any, sha: str, data: bytes) -> None:
    if bucket is not None:
        bucket.put_object(Bucket=settings.s3_bucket, Key=content_key(sha), Body=data)
        return
    path = content_path(settings, sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _one(source: bytes, i: int, file_mb: int) -> bytes:
    body = source * (file_mb * MIB // len(source) + 1)
    return f"; bigvault file {i}\n".encode() + body[: file_mb * MIB]


def data_files(data_dir: Path) -> dict[str, int]:
    """Path -> size of everything under files/ (cheap fingerprint for large vaults)."""
    return {p.relative_to(data_dir).as_posix(): p.stat().st_size
            for p in sorted((data_dir / "files").rglob("*")) if p.is_file()}


def copy_bucket(moto: MotoS3, source: str) -> str:
    """A new bucket holding a copy of every object of `source`; returns its name."""
    target, client = moto.new_bucket(), moto.client()
    for key in moto.keys(source):
        client.copy_object(Bucket=target, Key=key, CopySource={"Bucket": source, "Key": key})
    return target


def drop_bucket(moto: MotoS3, bucket: str) -> None:
    """Free what moto holds in memory for a bucket a test is done with."""
    client = moto.client()
    for key in moto.keys(bucket):
        client.delete_object(Bucket=bucket, Key=key)
    client.delete_bucket(Bucket=bucket)
