"""Concurrent uploads of the same bytes through a real uvicorn, and the library jobs run by a
real `printstash worker`."""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from apscheduler.triggers.cron import CronTrigger
from harness.processes import live_api, live_worker
from harness.vault import make_settings, migrate
from librarykit import API, fixture_by_id, fixture_path, make_key, parts_left, row_count, stored_files
from sqlalchemy import select

from printstash.core.db import Database
from printstash.core.models import Job
from printstash.library import scheduled, service
from printstash.library.models import File

DATA = fixture_path(fixture_by_id("prusa_cube20x4_0.20mm_ASA_labels")).read_bytes()


def test_same_bytes_uploaded_concurrently_are_stored_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    migrate(settings)
    key = make_key(settings)
    # six at once from one user: above the default per-user cap (429), which is not this test's
    with live_api(settings.data_dir, VAULT_MAX_UPLOADS_PER_USER="8") as base:
        def send(i: int) -> httpx.Response:
            return httpx.post(f"{base}{API}/files", headers={"X-Api-Key": key}, timeout=60,
                              files={"file": (f"copy{i}.gcode", DATA, "application/octet-stream")})

        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(send, range(6)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert row_count(settings) == 1 and len(stored_files(settings)) == 1 and parts_left(settings) == []


def test_real_worker_runs_the_reparse_job(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    migrate(settings)
    key = make_key(settings)
    with live_api(settings.data_dir) as base:
        body = httpx.post(f"{base}{API}/files", headers={"X-Api-Key": key}, timeout=60,
                          files={"file": ("labels.gcode", DATA, "application/octet-stream")}).json()
    database = Database.from_settings(settings)
    with database.write() as session:  # as an upload whose scan did not finish leaves it
        row = session.get(File, body["id"])
        assert row is not None
        service.apply_metadata(row, {}, None)
        row.full_scan_done = False
        service.enqueue_reparse(session)
    with live_worker(settings.data_dir):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _reparsed(database, body["id"]):
            time.sleep(0.2)
    with database.read() as session:
        row = session.get(File, body["id"])
        states = set(session.scalars(select(Job.state).where(Job.kind == service.REPARSE_JOB)))
    database.dispose()
    assert row is not None and row.full_scan_done and row.metadata_json == body["metadata"]
    assert states == {"done"}


def _reparsed(database: Database, file_id: int) -> bool:
    with database.read() as session:
        row = session.get(File, file_id)
        pending = session.scalars(select(Job.id).where(Job.state != "done")).first()
        return bool(row and row.full_scan_done and pending is None)


def test_purge_is_scheduled_with_a_valid_cron() -> None:
    entries = scheduled.schedules(None)  # type: ignore[arg-type]
    assert [e.name for e in entries] == ["library.housekeeping"]
    CronTrigger.from_crontab(entries[0].cron)
    assert entries[0].func is scheduled.purge_job
