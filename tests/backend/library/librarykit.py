"""Library test helpers (imported by name: a `from conftest import` is ambiguous when the whole
suite runs, as every test directory may have a conftest.py)."""

import hashlib
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from harness.paths import GCODE_FIXTURES

from printstash.auth import service as auth_service
from printstash.core.db import Database
from printstash.core.settings import Settings

API = "/api/v1"
MANIFEST: dict[str, Any] = json.loads((GCODE_FIXTURES / "manifest.json").read_text())
FIXTURE_FILES: list[dict[str, Any]] = MANIFEST["files"]


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
