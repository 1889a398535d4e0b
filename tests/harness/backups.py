"""Helpers for the operations tests: a vault with real slicer G-code, tags, users and
printers; database dumps and file-tree hashes to compare a restore with its source."""

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from harness.paths import BACKEND, GCODE_FIXTURES
from harness.processes import vault_env
from printstash.auth import service as auth_service
from printstash.core.db import Database, driver_url
from printstash.core.settings import Settings
from printstash.printers.models import Printer

CONTENT_ROOTS = ("files", "thumbs", "secrets")


def fixture_paths() -> list[Path]:
    return sorted(GCODE_FIXTURES.rglob("*.gcode"))


def upload(client: TestClient, path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        resp = client.post("/api/v1/files", files={"file": (path.name, fh, "text/x-gcode")})
    assert resp.status_code in (200, 201), resp.text
    return resp.json()  # type: ignore[no-any-return]


def populate(client: TestClient, settings: Settings) -> list[dict[str, Any]]:
    """Every real fixture uploaded through the API, tags on some, a second user, two printers
    (one with an encrypted API key, whose key file lives in secrets/)."""
    files = [upload(client, p) for p in fixture_paths()]
    for i, f in enumerate(files[:6]):
        resp = client.post(f"/api/v1/files/{f['id']}/tags", json={"tags": ["calibration", f"batch-{i % 2}"]})
        assert resp.status_code == 200, resp.text
    db = Database.from_settings(settings)
    with db.write() as session:
        auth_service.create_user(session, "operator", "another long password", "member")
        session.add(Printer(name="voron", provider="moonraker", base_url="http://127.0.0.1:7125",
                            api_key_encrypted="gAAAAAB-token-for-the-test"))
        session.add(Printer(name="ender", provider="moonraker", base_url="http://127.0.0.1:7126"))
    db.dispose()
    secrets = settings.data_dir / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / "printer-keys.fernet").write_bytes(b"k" * 44)
    return files


def dump_db(where: Path | Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sorted) of a SQLite file, or of a vault's database (SQLite or
    PostgreSQL); app_state's "backup" row (written after the snapshot, by design) is left out."""
    url = f"sqlite:///{where}" if isinstance(where, Path) else where.database_url
    engine = create_engine(driver_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            out = {}
            for table in sorted(inspect(conn).get_table_names()):
                skip = " WHERE key != 'backup'" if table == "app_state" else ""
                rows = conn.execute(text(f'SELECT * FROM "{table}"{skip}'))
                out[table] = sorted((tuple(r) for r in rows), key=repr)
            return out
    finally:
        engine.dispose()


def tree(data_dir: Path) -> dict[str, str]:
    """relative path -> SHA-256 of every file under files/, thumbs/, secrets/."""
    found = {}
    for root in CONTENT_ROOTS:
        for path in sorted((data_dir / root).rglob("*")):
            if path.is_file():
                found[path.relative_to(data_dir).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def cli(data_dir: Path, *args: str, timeout: float = 120,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`printstash ARGS` as an admin would run it, against this data dir (`env`: more settings,
    such as a bucket's)."""
    return subprocess.run([sys.executable, "-m", "printstash.cli", *args], cwd=BACKEND,
                          env=vault_env(data_dir, **(env or {})), capture_output=True, text=True, timeout=timeout)


def archives(settings: Settings) -> list[Path]:
    return sorted(settings.backups_dir.glob("printstash-*.tar"))
