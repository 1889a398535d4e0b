"""Library test helpers (imported by name: a `from conftest import` is ambiguous when the whole
suite runs, as every test directory may have a conftest.py)."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from harness.paths import GCODE_FIXTURES
from sqlalchemy import text
from sqlalchemy.orm import Session

from printstash.auth import service as auth_service
from printstash.core.db import Database
from printstash.core.settings import Settings
from printstash.library.models import File
from printstash.library.substrings import name_text

API = "/api/v1"
MANIFEST: dict[str, Any] = json.loads((GCODE_FIXTURES / "manifest.json").read_text())
FIXTURE_FILES: list[dict[str, Any]] = MANIFEST["files"]


PG_STALE_SEARCH_ROWS = """SELECT count(*) FROM files AS f LEFT JOIN files_fts AS x ON x.id = f.id
                           WHERE x.document IS DISTINCT FROM files_fts_document(f.id)
                              OR x.live IS DISTINCT FROM (f.deleted_at IS NULL)"""


def check_search_index(session: Session) -> None:
    """Raise when files_fts (migration 0005) or the names' substring index (0013) disagrees
    with the files it indexes. SQLite: FTS5's own integrity-check against its content
    (rank=1); PostgreSQL: each stored tsvector against the one files_fts_document() makes
    now, and its live flag (0018) against the file's trash. Both: every file's name_search is
    its name folded as library/substrings.py says."""
    if session.get_bind().dialect.name == "postgresql":
        stale = session.scalar(text(PG_STALE_SEARCH_ROWS))
        if stale:
            raise AssertionError(f"files_fts is corrupt: {stale} stale rows")
    else:
        session.execute(text("INSERT INTO files_fts(files_fts, rank) VALUES ('integrity-check', 1)"))
        session.execute(text("INSERT INTO files_fts_names(files_fts_names, rank) VALUES ('integrity-check', 1)"))
    names = session.execute(text("SELECT name, name_search FROM files")).all()
    stale_names = [name for name, folded in names if folded != name_text(name)]
    if stale_names:
        raise AssertionError(f"name_search is stale for {stale_names}")


def add_file(session: Session, name: str, **fields: object) -> File:
    """A bare files row (no content stored) for search tests."""
    fields.setdefault("notes", "")
    row = File(name=name, size=1, sha256=hashlib.sha256(name.encode()).hexdigest(), **fields)
    session.add(row)
    session.flush()
    return row


def fixture_path(entry: dict[str, Any]) -> Path:
    return GCODE_FIXTURES / entry["file"]


def fixture_by_id(fixture_id: str) -> dict[str, Any]:
    return next(f for f in FIXTURE_FILES if f["id"] == fixture_id)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_key(settings: Settings, username: str = "uploader", role: str = "admin") -> str:
    database = Database.from_settings(settings)
    try:
        with database.write() as session:
            user = auth_service.create_user(session, username, "correct horse battery", role)
            _, key = auth_service.create_api_key(session, user, "tests")
    finally:
        database.dispose()
    return key


def multipart(parts: list[tuple[bytes, bytes]], boundary: bytes = b"psb0undary") -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body from (content-disposition params, data) pairs, byte-exact
    (so tests control names byte by byte, control characters included)."""
    body = b""
    for disposition, data in parts:
        body += b"--" + boundary + b"\r\nContent-Disposition: form-data; " + disposition + b"\r\n"
        body += b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    body += b"--" + boundary + b"--\r\n"
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}


def file_part(name: bytes, data: bytes) -> tuple[bytes, bytes]:
    return b'name="file"; filename="' + name + b'"', data


def settings_of(client: TestClient) -> Settings:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    return settings


def upload(client: TestClient, name: str, data: bytes, **fields: str) -> Any:
    return client.post(f"{API}/files", files={"file": (name, data, "application/octet-stream")}, data=fields)


def stored_files(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.files_dir.rglob("*") if p.is_file())


def parts_left(settings: Settings) -> list[Path]:
    return sorted(settings.tmp_dir.glob("*.part"))


def row_count(settings: Settings) -> int:
    from sqlalchemy import func, select

    from printstash.library.models import File

    database = Database.from_settings(settings)
    try:
        with database.read() as session:
            return int(session.scalar(select(func.count()).select_from(File)) or 0)
    finally:
        database.dispose()


# manifest `expected` key -> FileRead metadata key (Moonraker's names)
EXPECTED_TO_FIELD = {
    "layer_height": "layer_height",
    "nozzle_diameter": "nozzle_diameter",
    "filament_type": "filament_type",
    "estimated_time_s": "estimated_time",
    "filament_used_mm": "filament_total",
    "slicer_in_file": "slicer",
}

def check_expected_metadata(expected: dict[str, Any], metadata: dict[str, Any]) -> None:
    for key, field in EXPECTED_TO_FIELD.items():
        want = expected.get(key)
        if want is None or key in (expected.get("not_in_file") or []):
            continue
        got = metadata.get(field)
        if isinstance(want, str):
            assert got == want, (field, got, want)
        else:
            assert got == pytest.approx(want, rel=1e-3), (field, got, want)
