"""`printstash db copy --to postgresql+psycopg://…` (printstash/dbcopy.py): a SQLite vault with
real uploads, tags and a printer moves into a throwaway PostgreSQL database, every table
compared; the copied vault then answers the same through the api; a non-empty target is
refused. The source is the SQLite file, so this runs in the SQLite run (it needs the
PostgreSQL server binaries, which `make` installs)."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from harness import postgres
from harness.paths import BACKEND
from harness.processes import vault_env
from harness.vault import make_settings, migrate
from librarykit import API, fixture_by_id, fixture_path, make_key, upload
from sqlalchemy import func, make_url, select

from printstash.app import create_app
from printstash.core.db import Base, Database
from printstash.core.settings import Settings

pytestmark = pytest.mark.sqlite
FIXTURES = [fixture_by_id(i) for i in ("prusa_cube20_0.20mm_PLA_thumbs", "prusa_cone_0.05mm_PLA_0.25n_comments")]


@pytest.fixture
def target() -> Iterator[str]:
    """An empty database on the test PostgreSQL server; its URL."""
    try:
        postgres.bin_dir()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    name = postgres.server().new_database()
    yield postgres.server().url(name)
    postgres.server().drop_database(name)


def db_copy(data_dir: Path, to: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "printstash.cli", "db", "copy", "--to", to], cwd=BACKEND,
                          env=vault_env(data_dir), capture_output=True, text=True, timeout=300)


def _vault_with_data(data_dir: Path) -> tuple[Settings, str, list[dict[str, object]]]:
    vault = make_settings(data_dir)
    migrate(vault)
    key = make_key(vault)
    with TestClient(create_app(vault), headers={"X-Api-Key": key}) as client:
        files = [upload(client, f"{e['id']}.gcode", fixture_path(e).read_bytes()).json() for e in FIXTURES]
        assert client.put(f"{API}/files/{files[0]['id']}/tags", json={"tags": ["PETG", "farm"]}).status_code == 200
        assert client.put(f"{API}/files/{files[1]['id']}/tags", json={"tags": ["farm"]}).status_code == 200
        resp = client.post(f"{API}/printers", json={"name": "voron", "url": "http://127.0.0.1:7125"})
        assert resp.status_code == 201, resp.text
        listing = client.get(f"{API}/files", params={"sort": "name"}).json()["items"]
    return vault, key, listing


def _counts(settings: Settings) -> dict[str, int]:
    db = Database.from_settings(settings)
    try:
        with db.read() as session:
            return {t.name: session.scalar(select(func.count()).select_from(t)) or 0
                    for t in Base.metadata.sorted_tables}
    finally:
        db.dispose()


def test_a_sqlite_vault_moves_into_postgresql_with_every_table_compared(tmp_path: Path, target: str) -> None:
    vault, key, listing = _vault_with_data(tmp_path / "data")
    done = db_copy(vault.data_dir, target)
    assert done.returncode == 0, done.stderr
    source_counts = _counts(vault)
    assert source_counts["files"] == 2 and source_counts["tags"] == 2 and source_counts["printers"] == 1
    for table, rows in source_counts.items():
        assert any(line.split()[:2] == [table, str(rows)] and line.endswith("ok")
                   for line in done.stdout.splitlines()), (table, done.stdout)
    moved = make_settings(vault.data_dir, db_url=target)
    assert _counts(moved) == source_counts
    with TestClient(create_app(moved), headers={"X-Api-Key": key}) as client:
        got = client.get(f"{API}/files", params={"sort": "name"}).json()["items"]
        # a file's tags come in each database's own order of names (SQLite: case-insensitive)
        assert [{**f, "tags": sorted(f["tags"])} for f in got] == [{**f, "tags": sorted(f["tags"])} for f in listing]
        found = client.get(f"{API}/files", params={"q": "petg"}).json()["items"]
        assert [f["id"] for f in found] == [f["id"] for f in listing if "PETG" in f["tags"]]
        assert client.get(f"{API}/printers").json()["items"][0]["name"] == "voron"
        # ids go on after the copied ones (the sequences were moved along)
        again = upload(client, "again.gcode", b"G28\nG1 X1\n").json()
        assert again["id"] > max(f["id"] for f in listing)

    refused = db_copy(vault.data_dir, target)
    assert refused.returncode == 1 and "already holds PrintStash data" in refused.stderr
    assert _counts(moved)["files"] == 3  # the refused copy changed nothing


def test_a_database_of_another_application_is_refused_untouched(tmp_path: Path, target: str) -> None:
    vault = make_settings(tmp_path / "data")
    migrate(vault)
    name = make_url(target).database
    postgres.server().psql("CREATE TABLE invoices (id integer)", name)
    refused = db_copy(vault.data_dir, target)
    assert refused.returncode == 1 and "not empty" in refused.stderr
    assert postgres.server().psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", name) == [
        ("invoices",)]


def test_only_a_postgresql_target_is_taken(tmp_path: Path) -> None:
    vault = make_settings(tmp_path / "data")
    migrate(vault)
    refused = db_copy(vault.data_dir, f"sqlite:///{tmp_path}/other.sqlite")
    assert refused.returncode == 1 and "--to takes a PostgreSQL URL" in refused.stderr
