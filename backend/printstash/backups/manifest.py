"""Checks of a backup's manifest lines, before anything is read or written with them.

A damaged or crafted manifest must end in one clear message (ManifestError, which the
archive reader turns into ArchiveError), never a traceback. A member is accepted only where
a backup writes one (backups/snapshot.py): the database copy first and once, at DB_PATH
(SQLite) or PG_DUMP_PATH (PostgreSQL), then files under files/, thumbs/ and secrets/ whose
names do not start with a dot. Nothing
else may land in db/: a crafted `-wal` or `-journal` there would change the database after
its integrity check.

A backup of a vault whose files live in a bucket (VAULT_STORAGE=s3) made without
`--with-objects` lists the objects its rows reference instead of carrying them: one line
{"object", "size", "sha256"} each, after every member line (they are not archive members).
Their keys obey the same layout, under files/ or thumbs/ only.
"""

import json
import re
from pathlib import PurePosixPath
from typing import Any, TypeGuard

DB_PATH = "db/printstash.sqlite"
PG_DUMP_PATH = "db/printstash.pgdump"  # a PostgreSQL vault's pg_dump (custom format)
DB_PATHS = (DB_PATH, PG_DUMP_PATH)
CONTENT_ROOTS = ("files", "thumbs", "secrets")
OBJECT_ROOTS = ("files", "thumbs")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PATH_MAX = 4096


class ManifestError(ValueError):
    """The manifest says something a backup never writes."""


def check_header(head: dict[str, Any]) -> None:
    counts = head.get("counts")
    if not isinstance(counts, dict):
        raise ManifestError("the manifest header has no counts (corrupt archive)")
    for key in ("members", "bytes"):
        if not _count(counts.get(key)):
            raise ManifestError(f"the manifest header's counts.{key} is not a non-negative integer")


def parse_line(line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        raise ManifestError("a manifest line is not JSON (corrupt archive)") from None
    if not isinstance(value, dict):
        raise ManifestError("a manifest line is not a JSON object (corrupt archive)")
    return value


def trailer_digest(value: dict[str, Any]) -> str | None:
    """The trailer's checksum, or None when this line is a member line."""
    if "manifest_sha256" not in value:
        return None
    digest = value["manifest_sha256"]
    if not isinstance(digest, str) or not _SHA256.match(digest):
        raise ManifestError("the manifest's trailer has no valid checksum (corrupt archive)")
    return digest


def is_object(value: dict[str, Any]) -> bool:
    """True for a line naming an object in the bucket rather than an archive member."""
    return "object" in value


def member_entry(value: dict[str, Any], first: bool) -> tuple[str, int, str]:
    """(path, size, sha256) of a member line."""
    path, size, sha = _entry(value, "path")
    check_layout(path, first)
    return path, size, sha


def object_entry(value: dict[str, Any]) -> tuple[str, int, str]:
    """(key, size, sha256) of an object line."""
    key, size, sha = _entry(value, "object")
    check_layout(key, first=False)
    if key.split("/", 1)[0] not in OBJECT_ROOTS:
        raise ManifestError(f"the manifest lists object {key[:200]!r}, which is not under files/ or thumbs/")
    return key, size, sha


def _entry(value: dict[str, Any], name: str) -> tuple[str, int, str]:
    path, size, sha = value.get(name), value.get("size"), value.get("sha256")
    if not isinstance(path, str) or not path:
        raise ManifestError(f"a manifest entry has no {name} (corrupt archive)")
    if not _count(size) or not isinstance(sha, str) or not _SHA256.match(sha):
        raise ManifestError(f"the manifest entry for {path[:200]!r} has no valid size and sha256")
    return path, size, sha


def check_layout(path: str, first: bool) -> None:
    """Only where a backup writes: DB_PATH first and only there, else a visible file in a content root."""
    shown = repr(path[:200])
    if first != (path in DB_PATHS):
        raise ManifestError(f"the manifest lists {shown} where a backup never writes it "
                            "(the database copy comes first, once)")
    if path in DB_PATHS:
        return
    parts = path.split("/")
    if (len(path) > _PATH_MAX or len(parts) < 2 or parts[0] not in CONTENT_ROOTS or PurePosixPath(path).is_absolute()
            or any(not p or p.startswith(".") or "\\" in p or "\x00" in p for p in parts)):
        raise ManifestError(f"the manifest lists {shown}, which is outside the data layout")


def _count(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
