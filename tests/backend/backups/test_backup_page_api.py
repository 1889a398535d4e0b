"""What the Backups page does over HTTP (issue 18): verify and delete from the list, and the
policy it shows (schedule with its next run, retention, where archives are written)."""

import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from harness.vault import add_user_with_key, make_settings, migrate

from printstash.app import create_app
from printstash.backups import policy
from printstash.core.settings import Settings

MANIFEST = "MANIFEST.jsonl"


def make_backup(client: TestClient) -> str:
    made = client.post("/api/v1/backups")
    assert made.status_code == 201, made.text
    return str(made.json()["name"])


def test_verify_reads_the_whole_archive(admin_client: TestClient, vault: Settings) -> None:
    name = make_backup(admin_client)
    with tarfile.open(vault.backups_dir / name) as tar:  # what the archive holds, read by the stdlib
        members = [m for m in tar.getmembers() if m.name != MANIFEST]
    resp = admin_client.post(f"/api/v1/backups/{name}/verify")
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == name
    assert resp.json()["members"] == len(members) and resp.json()["bytes"] == sum(m.size for m in members)
    assert resp.json()["alembic_revision"]


def test_verify_names_what_is_wrong_with_a_damaged_archive(admin_client: TestClient, vault: Settings) -> None:
    name = make_backup(admin_client)
    path = vault.backups_dir / name
    with tarfile.open(path) as tar:
        db = next(m for m in tar.getmembers() if m.name.startswith("db/"))
    data = bytearray(path.read_bytes())
    data[db.offset_data + db.size // 2] ^= 0xFF  # bit rot in the database copy
    path.write_bytes(bytes(data))
    resp = admin_client.post(f"/api/v1/backups/{name}/verify")
    assert resp.status_code == 422 and resp.json()["code"] == "backup_corrupt", resp.text
    assert name in resp.json()["detail"]


def test_delete_removes_the_archive(admin_client: TestClient, vault: Settings) -> None:
    name = make_backup(admin_client)
    assert admin_client.delete(f"/api/v1/backups/{name}").status_code == 204
    assert not (vault.backups_dir / name).exists()
    assert admin_client.get("/api/v1/backups").json()["total"] == 0
    again = admin_client.delete(f"/api/v1/backups/{name}")
    assert again.status_code == 404 and again.json()["code"] == "not_found"
    for bad in ("..%2Fdb%2Fprintstash.sqlite", ".create.lock", "printstash-x.tar"):
        resp = admin_client.delete(f"/api/v1/backups/{bad}")
        assert resp.status_code in (404, 422) and set(resp.json()) >= {"detail", "code"}, (bad, resp.text)
    assert admin_client.post("/api/v1/backups/printstash-20260101T000000Z-manual.tar/verify").status_code == 404


def test_only_admins_verify_delete_and_read_the_policy(member_client: TestClient) -> None:
    name = "printstash-20260101T000000Z-manual.tar"
    assert member_client.post(f"/api/v1/backups/{name}/verify").status_code == 403
    assert member_client.delete(f"/api/v1/backups/{name}").status_code == 403
    assert member_client.get("/api/v1/backups/policy").status_code == 403


def next_daily(now: datetime, hour: int, minute: int) -> datetime:
    today = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


@pytest.mark.parametrize(("cron", "keep"), [("30 4 * * *", 3), ("", 7)])
def test_policy_shows_schedule_next_run_retention_and_place(tmp_path: Path, cron: str, keep: int) -> None:
    settings = make_settings(tmp_path / "data", backup_schedule=cron, backup_keep=keep)
    migrate(settings)
    key = add_user_with_key(settings, "admin", "admin")
    with TestClient(create_app(settings), headers={"X-Api-Key": key}) as client:
        body = client.get("/api/v1/backups/policy").json()
    assert body["keep"] == keep and body["directory"] == str(settings.backups_dir)
    assert body["max_age_hours"] == settings.backup_max_age_hours
    if not cron:
        assert body["schedule"] is None and body["next_run_at"] is None
        return
    assert body["schedule"] == cron
    now = datetime.now(UTC)
    next_run = datetime.fromisoformat(body["next_run_at"])
    assert next_run in (next_daily(now, 4, 30), next_daily(now + timedelta(seconds=5), 4, 30))


def test_next_run_follows_the_cron_line() -> None:
    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert policy.next_run("0 3 * * *", now) == datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    assert policy.next_run("15 */6 * * *", now) == datetime(2026, 12, 3, 12, 15, tzinfo=UTC)
    assert policy.next_run("0 3 * * sun", now) == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)  # a Sunday
