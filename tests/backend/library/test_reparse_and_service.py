"""The library.reparse job (files already on disk) and the service functions other domains call."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from librarykit import API, fixture_by_id, fixture_path, settings_of, upload
from sqlalchemy import func, select

from printstash.core.db import Database
from printstash.core.errors import NotFound
from printstash.core.models import Job
from printstash.core.storage import content_path
from printstash.library import jobs, service
from printstash.library.models import File, Thumbnail

THUMBS = fixture_by_id("prusa_cylinder_0.15mm_PETG_thumbs")


def test_reparse_rebuilds_metadata_thumbnails_and_full_facts_from_disk(admin_client: TestClient) -> None:
    settings = settings_of(admin_client)
    body = upload(admin_client, "cyl.gcode", fixture_path(THUMBS).read_bytes()).json()
    database = Database.from_settings(settings)
    with database.write() as session:  # as an older parser version would have left it
        row = session.get(File, body["id"])
        assert row is not None
        service.apply_metadata(row, {"slicer": "stale"}, None)
        service.replace_thumbnails(row, [])
        row.full_scan_done = False
    for path in settings.thumbs_dir.rglob("*"):
        if path.is_file():
            path.unlink()
    assert jobs.reparse_file(settings, database, body["id"]) is True
    after = admin_client.get(f"{API}/files/{body['id']}").json()
    assert after["metadata"] == body["metadata"] and after["thumbnails"] == body["thumbnails"]
    assert after["metadata"]["layer_count"] == THUMBS["expected"]["layer_count"]
    for thumb in after["thumbnails"]:
        assert admin_client.get(thumb["url"]).status_code == 200
    with database.read() as session:
        row = session.get(File, body["id"])
        assert row is not None and row.full_scan_done and row.slicer == body["metadata"]["slicer"]
        assert session.scalar(select(Thumbnail.id).where(Thumbnail.file_id == row.id)) is not None
    database.dispose()


def test_reparse_without_a_file_id_fans_out_one_job_per_file(admin_client: TestClient) -> None:
    settings = settings_of(admin_client)
    ids = [upload(admin_client, f"{i}.gcode", fixture_path(f).read_bytes()).json()["id"]
           for i, f in enumerate([THUMBS, fixture_by_id("klipper_dwell_only")])]
    database = Database.from_settings(settings)
    assert jobs.fan_out_reparse(database) == 2
    with database.read() as session:
        payloads = [j.payload for j in session.scalars(select(Job).where(Job.kind == service.REPARSE_JOB))]
    database.dispose()
    assert sorted(p["file_id"] for p in payloads) == sorted(ids)
    assert set(jobs.HANDLERS) == {"library.reparse", "library.model_thumbnail"}


def test_reparse_of_a_purged_or_missing_file_is_a_no_op(admin_client: TestClient) -> None:
    settings = settings_of(admin_client)
    database = Database.from_settings(settings)
    assert jobs.reparse_file(settings, database, 12345) is False
    database.dispose()


def test_lookups_and_record_print(admin_client: TestClient) -> None:
    settings = settings_of(admin_client)
    data = fixture_path(THUMBS).read_bytes()
    first = upload(admin_client, "same.gcode", fixture_path(fixture_by_id("klipper_dwell_only")).read_bytes()).json()
    newest = upload(admin_client, "same.gcode", data).json()
    database = Database.from_settings(settings)
    t1 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    with database.write() as session:
        assert service.get_file(session, first["id"]).name == "same.gcode"
        assert service.find_by_sha256(session, newest["sha256"].upper()).id == newest["id"]  # type: ignore[union-attr]
        assert service.find_by_sha256(session, "0" * 64) is None
        assert service.find_by_name(session, "same.gcode").id == newest["id"]  # type: ignore[union-attr]
        assert content_path(settings, service.get_file(session, newest["id"]).sha256).read_bytes() == data
        service.record_print(session, newest["id"], t1, "completed")
        service.record_print(session, newest["id"], t1 - timedelta(days=3), "cancelled")  # older, imported late
        with pytest.raises(NotFound):
            service.record_print(session, 999, t1, "completed")
        service.trash_file(session, newest["id"])
        assert service.find_by_name(session, "same.gcode").id == first["id"]  # type: ignore[union-attr]
        with pytest.raises(NotFound):
            service.get_file(session, newest["id"])
        service.restore_file(session, newest["id"])
    database.dispose()
    shown = admin_client.get(f"{API}/files/{newest['id']}").json()
    assert shown["print_count"] == 1 and shown["last_print_result"] == "completed"  # cancelled: not a print
    assert shown["last_printed_at"].startswith("2026-11-01T12:00:00")


@pytest.mark.parametrize(("raw", "want"), [
    ("../../etc/passwd.gcode", "passwd.gcode"),
    ("C:\\Users\\me\\cube.gcode", "cube.gcode"),
    ("a\u202egcode.exe", "agcode.exe"),
    ("  .hidden.gcode ", "hidden.gcode"),
    ("Cafe\u0301.gcode", "Café.gcode"),
    (None, "upload.gcode"),
])
def test_sanitize_name(raw: str | None, want: str) -> None:
    assert service.sanitize_name(raw) == want


def _queued(database: Database) -> list[dict[str, object]]:
    with database.read() as session:
        return [dict(j.payload) for j in session.scalars(select(Job).where(Job.kind == service.REPARSE_JOB))]


def test_reparse_routes_queue_jobs(admin_client: TestClient, member_client: TestClient) -> None:
    file_id = upload(admin_client, "cyl.gcode", fixture_path(THUMBS).read_bytes()).json()["id"]
    database = Database.from_settings(settings_of(admin_client))
    one = admin_client.post(f"{API}/files/{file_id}/reparse")
    assert one.status_code == 202 and one.json() == {"queued": True, "file_id": file_id}
    assert admin_client.post(f"{API}/files/999/reparse").status_code == 404
    assert admin_client.post(f"{API}/files/reparse").status_code == 202
    assert _queued(database) == [{"file_id": file_id}, {}]
    database.dispose()
    forbidden = member_client.post(f"{API}/files/reparse")
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "admin_required"


def test_every_file_is_reparsed_once_after_an_upgrade(admin_client: TestClient) -> None:
    database = Database.from_settings(settings_of(admin_client))
    with database.write() as session:  # a fresh install: nothing to re-parse
        assert service.reparse_after_upgrade(session, "1.0.0") is False
    upload(admin_client, "cyl.gcode", fixture_path(THUMBS).read_bytes())
    with database.write() as session:
        assert service.reparse_after_upgrade(session, "1.0.0") is False  # same version: nothing
    assert _queued(database) == []
    with database.write() as session:
        assert service.reparse_after_upgrade(session, "1.1.0") is True
    with database.write() as session:
        assert service.reparse_after_upgrade(session, "1.1.0") is False
    assert _queued(database) == [{}]
    database.dispose()


def test_reparse_replaces_existing_thumbnails_in_place(admin_client: TestClient) -> None:
    """Re-parsing a file that still has its thumbnail rows (the usual case after an upgrade)
    must not collide with them on (file_id, index)."""
    settings = settings_of(admin_client)
    body = upload(admin_client, "cyl.gcode", fixture_path(THUMBS).read_bytes()).json()
    assert body["thumbnails"], "the fixture carries thumbnails"
    database = Database.from_settings(settings)
    with database.write() as session:  # an older parser version left one row fewer and stale sizes
        row = session.get(File, body["id"])
        assert row is not None
        for thumb in row.thumbnails:
            thumb.width = 1
        row.full_scan_done = False
    for _ in range(2):
        assert jobs.reparse_file(settings, database, body["id"]) is True
    after = admin_client.get(f"{API}/files/{body['id']}").json()
    assert after["thumbnails"] == body["thumbnails"] and after["metadata"] == body["metadata"]
    with database.read() as session:
        count = session.scalar(select(func.count()).select_from(Thumbnail).where(Thumbnail.file_id == body["id"]))
    assert count == len(body["thumbnails"])
    database.dispose()
