"""GET / download (Range) / PATCH / DELETE (trash) / restore / purge."""

import os
import time
from datetime import timedelta
from urllib.parse import quote

from fastapi.testclient import TestClient
from librarykit import API, fixture_by_id, fixture_path, settings_of, stored_files, upload

from printstash.core.db import Database, utcnow
from printstash.core.storage import content_path
from printstash.library import scheduled
from printstash.library.models import File

DATA = fixture_path(fixture_by_id("prusa_cube20_0.20mm_PLA_thumbs")).read_bytes()


def test_download_streams_the_exact_bytes_with_a_unicode_safe_name(admin_client: TestClient) -> None:
    body = upload(admin_client, "Würfel 20mm.gcode", DATA).json()
    resp = admin_client.get(f"{API}/files/{body['id']}/download")
    assert resp.status_code == 200 and resp.content == DATA
    disposition = resp.headers["content-disposition"]
    assert disposition.startswith("attachment;") and quote("Würfel 20mm.gcode") in disposition
    assert resp.headers["accept-ranges"] == "bytes" and resp.headers["x-content-type-options"] == "nosniff"


def test_download_honours_http_range(admin_client: TestClient) -> None:
    file_id = upload(admin_client, "cube.gcode", DATA).json()["id"]
    url = f"{API}/files/{file_id}/download"
    part = admin_client.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == DATA[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(DATA)}"
    tail = admin_client.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == DATA[-500:]
    beyond = admin_client.get(url, headers={"Range": f"bytes={len(DATA) + 10}-"})
    assert beyond.status_code == 416


def test_unknown_file_is_404_everywhere(admin_client: TestClient) -> None:
    for path in ("/files/999", "/files/999/download", "/files/999/thumbnails/0"):
        resp = admin_client.get(API + path)
        assert resp.status_code == 404 and resp.json()["code"] == "file_not_found"
    assert admin_client.patch(f"{API}/files/999", json={"notes": "x"}).status_code == 404
    assert admin_client.delete(f"{API}/files/999").status_code == 404


def test_patch_renames_sanitised_and_sets_notes(admin_client: TestClient) -> None:
    file_id = upload(admin_client, "cube.gcode", DATA).json()["id"]
    resp = admin_client.patch(f"{API}/files/{file_id}", json={"name": "../new\x00name.gcode", "notes": "PLA+, 0.2"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "newname.gcode" and resp.json()["notes"] == "PLA+, 0.2"
    again = admin_client.get(f"{API}/files/{file_id}").json()
    assert again["name"] == "newname.gcode" and again["notes"] == "PLA+, 0.2"
    bad = admin_client.patch(f"{API}/files/{file_id}", json={"name": "   "})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_name"
    assert admin_client.patch(f"{API}/files/{file_id}", json={"name": 5}).status_code == 422


def test_delete_moves_to_trash_and_restore_brings_it_back(admin_client: TestClient) -> None:
    file_id = upload(admin_client, "cube.gcode", DATA).json()["id"]
    assert admin_client.delete(f"{API}/files/{file_id}").status_code == 204
    assert admin_client.get(f"{API}/files/{file_id}").status_code == 404
    assert admin_client.get(f"{API}/files/{file_id}/download").status_code == 404
    assert admin_client.get(f"{API}/files").json() == {"items": [], "total": 0}  # counted as live less trash
    assert len(stored_files(settings_of(admin_client))) == 1  # content kept until purged
    trash = admin_client.get(f"{API}/files/trash").json()
    assert trash["total"] == 1 and trash["items"][0]["id"] == file_id and trash["items"][0]["deleted_at"]
    assert admin_client.get(f"{API}/files/trash", params={"limit": 0}).status_code == 422
    restored = admin_client.post(f"{API}/files/{file_id}/restore")
    assert restored.status_code == 200 and restored.json()["id"] == file_id
    assert admin_client.get(f"{API}/files/{file_id}/download").content == DATA
    assert restored.json()["deleted_at"] is None and admin_client.get(f"{API}/files/trash").json()["total"] == 0
    assert admin_client.get(f"{API}/files").json()["total"] == 1


def test_uploading_trashed_content_restores_it(admin_client: TestClient) -> None:
    file_id = upload(admin_client, "cube.gcode", DATA).json()["id"]
    admin_client.delete(f"{API}/files/{file_id}")
    again = upload(admin_client, "cube-again.gcode", DATA)
    assert again.status_code == 200 and again.json()["duplicate"] is True and again.json()["id"] == file_id
    assert admin_client.get(f"{API}/files/{file_id}").status_code == 200


def test_purge_removes_rows_and_content_only_after_retention(admin_client: TestClient) -> None:
    settings = settings_of(admin_client)
    old = upload(admin_client, "old.gcode", DATA).json()
    recent = upload(admin_client, "recent.gcode", fixture_path(fixture_by_id("klipper_dwell_only")).read_bytes()).json()
    kept = upload(admin_client, "kept.gcode", fixture_path(fixture_by_id("slic3r_cube20_0.25mm")).read_bytes()).json()
    database = Database.from_settings(settings)
    with database.write() as session:
        session.get(File, old["id"]).deleted_at = utcnow() - timedelta(days=31)  # type: ignore[union-attr]
        session.get(File, recent["id"]).deleted_at = utcnow() - timedelta(days=29)  # type: ignore[union-attr]
    assert scheduled.purge(settings, database) == 1
    with database.read() as session:
        assert session.get(File, old["id"]) is None
        assert session.get(File, recent["id"]) is not None and session.get(File, kept["id"]) is not None
    database.dispose()
    assert not content_path(settings, old["sha256"]).exists()
    assert not list(settings.thumbs_dir.rglob(f"{old['sha256']}*"))
    assert content_path(settings, recent["sha256"]).exists() and content_path(settings, kept["sha256"]).exists()
    # once purged, the same bytes are a new upload again
    assert upload(admin_client, "old.gcode", DATA).status_code == 201


def test_member_can_use_file_routes(member_client: TestClient) -> None:
    body = upload(member_client, "cube.gcode", DATA).json()
    assert member_client.get(f"{API}/files/{body['id']}").status_code == 200


def test_orphaned_content_from_a_crash_is_swept_but_young_files_are_kept(admin_client: TestClient) -> None:
    settings = settings_of(admin_client)
    kept = upload(admin_client, "cube.gcode", DATA).json()
    old, young = "ab" + "1" * 62, "ab" + "2" * 62
    for sha in (old, young):
        path = content_path(settings, sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"G28\n")
    old_thumb = settings.thumbs_dir / "ab" / f"{old}-0.png"
    old_thumb.parent.mkdir(parents=True, exist_ok=True)
    old_thumb.write_bytes(b"\x89PNG")
    temp = settings.thumbs_dir / "ab" / f".{young}-0.png.123.tmp"
    temp.write_bytes(b"half")
    two_hours_ago = time.time() - 7200
    for path in (content_path(settings, old), old_thumb, temp, content_path(settings, kept["sha256"])):
        os.utime(path, (two_hours_ago, two_hours_ago))
    database = Database.from_settings(settings)
    assert scheduled.sweep_orphans(settings, database) == 3
    database.dispose()
    assert not content_path(settings, old).exists() and not old_thumb.exists() and not temp.exists()
    assert content_path(settings, young).exists()  # may be an upload between rename and commit
    assert admin_client.get(f"{API}/files/{kept['id']}/download").content == DATA
    assert all(admin_client.get(t["url"]).status_code == 200 for t in kept["thumbnails"])


def test_admin_can_empty_the_trash_now(admin_client: TestClient, member_client: TestClient) -> None:
    settings = settings_of(admin_client)
    gone = upload(admin_client, "gone.gcode", DATA).json()
    live = upload(admin_client, "live.gcode", fixture_path(fixture_by_id("klipper_dwell_only")).read_bytes()).json()
    admin_client.delete(f"{API}/files/{gone['id']}")
    denied = member_client.delete(f"{API}/files/trash")
    assert denied.status_code == 403 and content_path(settings, gone["sha256"]).exists()
    emptied = admin_client.delete(f"{API}/files/trash")
    assert emptied.status_code == 200 and emptied.json() == {"purged": 1}
    assert not content_path(settings, gone["sha256"]).exists()
    assert not list(settings.thumbs_dir.rglob(f"{gone['sha256']}*"))
    assert admin_client.post(f"{API}/files/{gone['id']}/restore").status_code == 404
    assert admin_client.get(f"{API}/files/{live['id']}/download").status_code == 200
    assert admin_client.delete(f"{API}/files/trash").json() == {"purged": 0}
