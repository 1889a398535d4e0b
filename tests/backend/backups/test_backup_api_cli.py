"""The admin API (create/list/download, names validated), the CLI's list/verify, maintenance
mode (CLI, API, uploads refused, worker skips scheduled jobs) and scheduled retention."""

import asyncio
import fcntl
import os
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from harness.backups import archives, cli

from printstash.backups import scheduled, service
from printstash.core import maintenance
from printstash.core.db import Database
from printstash.core.runtime import Scheduled, WorkerContext
from printstash.core.settings import Settings
from printstash.worker import schedule


def test_admin_creates_lists_and_downloads_a_backup(admin_client: TestClient, vault: Settings) -> None:
    made = admin_client.post("/api/v1/backups")
    assert made.status_code == 201, made.text
    name = made.json()["name"]
    assert made.json()["kind"] == "manual" and (vault.backups_dir / name).is_file()
    listed = admin_client.get("/api/v1/backups").json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == name
    got = admin_client.get(f"/api/v1/backups/{name}/download")
    assert got.status_code == 200 and got.headers["content-type"] == "application/x-tar"
    assert got.content == (vault.backups_dir / name).read_bytes()


def test_backups_are_admin_only(member_client: TestClient, app_client: TestClient) -> None:
    for client, status in ((member_client, 403), (app_client, 401)):
        assert client.post("/api/v1/backups").status_code == status
        assert client.get("/api/v1/backups").status_code == status
        assert client.get("/api/v1/backups/printstash-20260101T000000Z-manual.tar/download").status_code == status
        assert client.get("/api/v1/maintenance").status_code == status


@pytest.mark.parametrize("name", [
    "..%2F..%2Fdb%2Fprintstash.sqlite", "%2E%2E", ".create.lock", ".tmp-printstash-20260101T000000Z-manual.tar",
    "printstash-20260101T000000Z-manual.tar%00.txt", "a" * 200,
])
def test_download_names_are_validated(admin_client: TestClient, name: str) -> None:
    resp = admin_client.get(f"/api/v1/backups/{name}/download")
    assert resp.status_code in (404, 422), resp.text
    assert set(resp.json()) >= {"detail", "code"}


def test_download_of_a_missing_backup_is_404(admin_client: TestClient) -> None:
    resp = admin_client.get("/api/v1/backups/printstash-20260101T000000Z-manual.tar/download")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"


def test_cli_list_and_verify(vault: Settings) -> None:
    assert "no backups" in cli(vault.data_dir, "backup", "list").stdout
    made = cli(vault.data_dir, "backup", "create")
    assert made.returncode == 0, made.stderr
    [archive] = archives(vault)
    listed = cli(vault.data_dir, "backup", "list")
    assert archive.name in listed.stdout and "revision" in listed.stdout
    verified = cli(vault.data_dir, "backup", "verify", archive.name)
    assert verified.returncode == 0 and verified.stdout.startswith("ok:")
    missing = cli(vault.data_dir, "backup", "verify", "/nonexistent/x.tar")
    assert missing.returncode == 1 and "no backup file" in missing.stderr


@pytest.mark.sqlite  # a missing SQLite file; PostgreSQL's database is a server's
def test_cli_on_a_data_dir_without_database_says_so(tmp_path: Path) -> None:
    result = cli(tmp_path / "nothing", "maintenance", "status")
    assert result.returncode == 1 and "no database" in result.stderr
    assert not (tmp_path / "nothing" / "db" / "printstash.sqlite").exists()


def test_maintenance_cli_pauses_uploads_and_api_reports_it(admin_client: TestClient, vault: Settings) -> None:
    on = cli(vault.data_dir, "maintenance", "on", "--message", "upgrading to 0.2")
    assert on.returncode == 0 and "maintenance: on" in on.stdout
    assert "upgrading to 0.2" in cli(vault.data_dir, "maintenance", "status").stdout
    assert admin_client.get("/api/v1/maintenance").json()["on"] is True
    refused = admin_client.post("/api/v1/files", files={"file": ("a.gcode", b"G28\n", "text/x-gcode")})
    assert refused.status_code == 503 and refused.headers["retry-after"]
    assert "upgrading to 0.2" in refused.json()["detail"]
    off = admin_client.put("/api/v1/maintenance", json={"on": False})
    assert off.status_code == 200 and off.json()["on"] is False
    assert "maintenance: off" in cli(vault.data_dir, "maintenance", "status").stdout
    ok = admin_client.post("/api/v1/files", files={"file": ("a.gcode", b"G28\n", "text/x-gcode")})
    assert ok.status_code == 201


def _ctx(vault: Settings, db: Database) -> WorkerContext:
    return WorkerContext(vault, db, httpx.AsyncClient(), asyncio.Event(), "test-worker")


def test_worker_skips_scheduled_jobs_in_maintenance(vault: Settings, db: Database) -> None:
    ran = threading.Event()
    item = Scheduled("probe", "* * * * *", lambda ctx: ran.set())
    with db.write() as session:
        maintenance.set_mode(session, True, "upgrade")
    asyncio.run(schedule._runner(_ctx(vault, db), item)())
    assert not ran.is_set()
    with db.write() as session:
        maintenance.set_mode(session, False)
    asyncio.run(schedule._runner(_ctx(vault, db), item)())
    assert ran.is_set()


def test_scheduled_backup_keeps_the_newest_n(settings: Settings, db: Database, vault: Settings) -> None:
    keep2 = vault.model_copy(update={"backup_keep": 2})
    ctx = _ctx(keep2, db)
    manual = service.create_backup(vault, db, "manual")
    for _ in range(4):
        scheduled.run_backup(ctx)
    kept = service.list_backups(vault)
    names = [i.name for i in kept]
    assert manual.name in names
    assert [i.kind for i in kept].count("scheduled") == 2
    with db.read() as session:
        state = service.state(session)
    newest_scheduled = next(i for i in kept if i.kind == "scheduled")  # kept is newest first
    assert state.last_name == newest_scheduled.name


def test_schedule_is_disabled_by_an_empty_cron(vault: Settings, db: Database) -> None:
    assert scheduled.schedules(_ctx(vault.model_copy(update={"backup_schedule": ""}), db)) == []
    [item] = scheduled.schedules(_ctx(vault, db))
    assert item.cron == vault.backup_schedule


def test_a_second_concurrent_backup_is_refused(vault: Settings, db: Database) -> None:
    vault.backups_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(vault.backups_dir / service.LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(Exception, match="another backup is being written"):
            service.create_backup(vault, db)
    finally:
        os.close(fd)
    with db.read() as session:
        assert "another backup" in (service.state(session).last_error or "")
