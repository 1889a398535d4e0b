"""GET /api/v1/health: each component's states, the public/admin views, 200 vs 503."""

import json
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from harness import postgres
from harness.vault import add_user_with_key, downgrade, make_settings, migrate
from sqlalchemy import make_url, select

from printstash.app import create_app
from printstash.auth.models import User
from printstash.backups import service as backups
from printstash.core import maintenance
from printstash.core.db import Database, utcnow
from printstash.core.models import AppState
from printstash.core.schema import head_revision
from printstash.core.settings import Settings
from printstash.health.printers import provider_summary
from printstash.health.service import check_database
from printstash.printers.models import Printer

URL = "/api/v1/health"


def _set_backup_state(db: Database, **value: object) -> None:
    with db.write() as session:
        row = session.get(AppState, backups.STATE_KEY)
        if row is None:
            session.add(AppState(key=backups.STATE_KEY, value=dict(value)))
        else:
            row.value = dict(value)


def test_fresh_vault_is_ok_while_the_first_backup_is_pending(admin_client: TestClient) -> None:
    """Nothing for an admin to do on a new vault: the schedule makes the first backup."""
    resp = admin_client.get(URL)
    assert resp.status_code == 200
    body = resp.json()
    comps = body["components"]
    assert set(comps) == {"database", "storage", "backup", "printer_providers"}
    assert comps["database"]["status"] == "ok" and comps["database"]["revision"] == head_revision()
    assert comps["database"]["latency_ms"] >= 0
    assert comps["database"]["backend"] == ("postgresql" if postgres.wanted() else "sqlite")
    assert comps["storage"]["status"] == "ok" and comps["storage"]["free_bytes"] > 0
    assert comps["backup"] == {**comps["backup"], "status": "ok", "reason": "first_backup_pending"}
    assert comps["printer_providers"]["status"] == "ok"
    assert body["status"] == "ok" and body["maintenance"] == {"on": False}


def _age_vault(db: Database, hours: float) -> None:
    """As if setup (the first user) happened `hours` ago."""
    with db.write() as session:
        for user in session.scalars(select(User)):
            user.created_at = utcnow() - timedelta(hours=hours)


def test_no_backup_within_the_allowed_age_after_setup_is_degraded(admin_client: TestClient, db: Database,
                                                                  vault: Settings) -> None:
    _age_vault(db, vault.backup_max_age_hours - 1)
    assert admin_client.get(URL).json()["components"]["backup"]["status"] == "ok"
    _age_vault(db, vault.backup_max_age_hours + 1)
    body = admin_client.get(URL).json()
    assert body["components"]["backup"] == {**body["components"]["backup"], "status": "degraded",
                                            "reason": "no_backup_yet"}
    assert body["status"] == "degraded"


def test_no_backup_with_the_schedule_off_is_degraded(tmp_path: Path) -> None:
    """Without a schedule nobody makes the first backup but an admin: say so at once."""
    settings = make_settings(tmp_path / "data", backup_schedule="")
    migrate(settings)
    key = add_user_with_key(settings, "admin", "admin", "correct horse battery")
    with TestClient(create_app(settings), headers={"X-Api-Key": key}) as client:
        comp = client.get(URL).json()["components"]["backup"]
    assert comp["status"] == "degraded" and comp["reason"] == "no_backup_yet"


@pytest.mark.sqlite  # `printstash backup` archives the SQLite file; PostgreSQL backups are not built yet
def test_after_a_backup_everything_is_ok(admin_client: TestClient, vault: Settings) -> None:
    assert admin_client.post("/api/v1/backups").status_code == 201
    body = admin_client.get(URL).json()
    assert body["components"]["backup"]["status"] == "ok"
    assert body["components"]["backup"]["age_hours"] < 0.1
    assert body["status"] == "ok"


def test_anonymous_callers_get_statuses_only(app_client: TestClient, vault: Settings, db: Database) -> None:
    _set_backup_state(db, last_error=f"disk full at {vault.backups_dir}", last_error_at=utcnow().isoformat())
    resp = app_client.get(URL)
    assert resp.status_code == 200
    for comp in resp.json()["components"].values():
        assert set(comp) <= {"status", "reason"}
    text = resp.text
    assert str(vault.data_dir) not in text and "disk full" not in text
    bad_key = app_client.get(URL, headers={"X-Api-Key": "nope"})
    assert bad_key.status_code == 200 and set(bad_key.json()["components"]["storage"]) <= {"status", "reason"}


def test_members_get_the_public_view_too(member_client: TestClient) -> None:
    comps = member_client.get(URL).json()["components"]
    assert all(set(c) <= {"status", "reason"} for c in comps.values())


@pytest.mark.parametrize(("state", "reason"), [
    ({"age": 40}, "too_old"),
    ({"age": 1, "failed_after": True}, "last_backup_failed"),
    ({"age": None, "failed_after": True}, "failed"),
])
def test_backup_component_states(admin_client: TestClient, db: Database, state: dict[str, object],
                                 reason: str) -> None:
    value: dict[str, object] = {}
    if state["age"] is not None:
        value["last_success_at"] = (utcnow() - timedelta(hours=float(state["age"]))).isoformat()  # type: ignore[arg-type]
    if state.get("failed_after"):
        value.update(last_error="the disk holding backups/ is full", last_error_at=utcnow().isoformat())
    _set_backup_state(db, **value)
    comp = admin_client.get(URL).json()["components"]["backup"]
    assert comp["status"] == "degraded" and comp["reason"] == reason
    if state.get("failed_after"):
        assert "is full" in comp["last_error"]


def test_old_error_before_a_newer_success_is_not_reported(admin_client: TestClient, db: Database) -> None:
    _set_backup_state(db, last_error="old", last_error_at=(utcnow() - timedelta(hours=2)).isoformat(),
                      last_success_at=(utcnow() - timedelta(hours=1)).isoformat())
    comp = admin_client.get(URL).json()["components"]["backup"]
    assert comp["status"] == "ok" and "last_error" not in comp


def test_maintenance_is_reported(admin_client: TestClient, db: Database) -> None:
    with db.write() as session:
        maintenance.set_mode(session, True, "upgrading")
    body = admin_client.get(URL).json()
    assert body["maintenance"]["on"] is True and body["maintenance"]["message"] == "upgrading"


def test_printer_providers_come_from_the_printers_domain(admin_client: TestClient, db: Database) -> None:
    with db.write() as session:
        session.add(Printer(name="p1", provider="moonraker", base_url="http://127.0.0.1:1"))
    comp = admin_client.get(URL).json()["components"]["printer_providers"]
    with db.read() as session:
        expected = provider_summary(session)
    assert comp["printers"] == 1 and comp["status"] == expected["status"]


def test_schema_behind_head_is_an_error_with_503(admin_client: TestClient, vault: Settings) -> None:
    downgrade(vault, "0004")  # as if an older backup was restored under the running api
    resp = admin_client.get(URL)
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "error"
    assert body["components"]["database"] == {**body["components"]["database"], "status": "error",
                                              "reason": "schema_mismatch", "revision": "0004"}


@pytest.mark.postgresql
def test_postgresql_unreachable_is_an_error_with_503(admin_client: TestClient, vault: Settings, db: Database) -> None:
    postgres.server().drop_database(make_url(vault.database_url).database or "")  # the server loses it
    resp = admin_client.get(URL)  # nobody can be signed in now: the public view
    assert resp.status_code == 503
    assert resp.json()["components"]["database"] == {"status": "error", "reason": "unreachable"}
    found = check_database(db)  # what an admin sees
    assert found == {**found, "status": "error", "reason": "unreachable", "backend": "postgresql"}


# ---- storage on real small or read-only filesystems ----------------------------------------

def _mount(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True).returncode == 0


@pytest.fixture
def tiny_vault(tmp_path: Path) -> Iterator[Settings]:
    mount = tmp_path / "tiny"
    if not _mount(mount, "size=64m"):
        pytest.skip("cannot mount a tmpfs here")
    settings = make_settings(mount / "data")
    migrate(settings)
    try:
        yield settings
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _admin_get(settings: Settings) -> tuple[int, dict[str, object]]:

    key = add_user_with_key(settings, "admin", "admin", "correct horse battery")
    with TestClient(create_app(settings), headers={"X-Api-Key": key}) as client:
        resp = client.get(URL)
        return resp.status_code, json.loads(resp.text)


def test_storage_under_1_gib_free_is_degraded(tiny_vault: Settings) -> None:
    status, body = _admin_get(tiny_vault)
    storage = body["components"]["storage"]  # type: ignore[index]
    assert status == 200 and storage["status"] == "degraded" and storage["reason"] == "low_free_space"
    assert storage["free_bytes"] <= 64 * 1024 * 1024  # the whole tmpfs at most


def test_storage_not_writable_is_an_error(tiny_vault: Settings) -> None:
    tiny_vault.tmp_dir.mkdir(parents=True, exist_ok=True)
    if not _mount(tiny_vault.tmp_dir, "size=1m,ro"):
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        status, body = _admin_get(tiny_vault)
    finally:
        subprocess.run(["umount", "-l", str(tiny_vault.tmp_dir)], check=False)
    storage = body["components"]["storage"]  # type: ignore[index]
    assert status == 503 and body["status"] == "error"
    assert storage["status"] == "error" and storage["reason"] == "not_writable"


def test_live_endpoint_is_public(app_client: TestClient) -> None:
    assert app_client.get("/api/v1/health/live").json()["status"] == "ok"
