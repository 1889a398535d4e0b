"""POST /api/v1/files with the real slicer corpus: stored bytes, hash, metadata, duplicates."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from librarykit import (
    API,
    FIXTURE_FILES,
    fixture_by_id,
    fixture_path,
    parts_left,
    row_count,
    settings_of,
    sha256_of,
    stored_files,
    upload,
)
from sqlalchemy import select

from printstash.core.db import Database
from printstash.core.storage import content_path
from printstash.library.models import File

# manifest `expected` key -> FileRead metadata key (Moonraker's names)
EXPECTED_TO_FIELD = {
    "layer_height": "layer_height",
    "nozzle_diameter": "nozzle_diameter",
    "filament_type": "filament_type",
    "estimated_time_s": "estimated_time",
    "filament_used_mm": "filament_total",
    "slicer_in_file": "slicer",
}
TYPED_COLUMNS = ("slicer", "slicer_version", "printer_model", "filament_type", "nozzle_diameter",
                 "layer_height", "estimated_time", "filament_total", "filament_weight_total",
                 "object_height", "layer_count")


@pytest.mark.parametrize("entry", FIXTURE_FILES, ids=[f["id"] for f in FIXTURE_FILES])
def test_real_fixture_is_stored_byte_exact_with_its_metadata(admin_client: TestClient, entry: dict[str, Any]) -> None:
    data = fixture_path(entry).read_bytes()
    resp = upload(admin_client, fixture_path(entry).name, data)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    settings = settings_of(admin_client)

    assert resp.headers["location"] == f"{API}/files/{body['id']}"
    assert body["sha256"] == sha256_of(data) and body["size"] == len(data)
    assert body["name"] == fixture_path(entry).name and body["duplicate"] is False
    assert content_path(settings, body["sha256"]).read_bytes() == data
    assert parts_left(settings) == []
    _check_expected_metadata(entry["expected"], body["metadata"])
    _check_typed_columns(settings, body["id"], body["metadata"])
    assert admin_client.get(f"{API}/files/{body['id']}").json() == {**body, "duplicate": None}


def _check_expected_metadata(expected: dict[str, Any], metadata: dict[str, Any]) -> None:
    for key, field in EXPECTED_TO_FIELD.items():
        want = expected.get(key)
        if want is None or key in (expected.get("not_in_file") or []):
            continue
        got = metadata.get(field)
        if isinstance(want, str):
            assert got == want, (field, got, want)
        else:
            assert got == pytest.approx(want, rel=1e-3), (field, got, want)


def _check_typed_columns(settings: Any, file_id: int, metadata: dict[str, Any]) -> None:
    """The filterable columns carry the same values as the JSON metadata."""
    database = Database.from_settings(settings)
    with database.read() as session:
        row = session.scalars(select(File).where(File.id == file_id)).one()
        for column in TYPED_COLUMNS:
            value = metadata.get(column)
            if isinstance(value, int | float) and not isinstance(value, bool):
                assert getattr(row, column) == pytest.approx(value), column
            elif isinstance(value, str) and value:
                assert getattr(row, column) == value[:128], column
            elif value is None:
                assert getattr(row, column) is None, column
        assert row.full_scan_done is True
    database.dispose()


def test_full_file_facts_are_computed_while_uploading(admin_client: TestClient) -> None:
    """PrusaSlicer states no layer count in its header; the streaming scan counts them."""
    entry = fixture_by_id("prusa_tower_0.30mm_ABS_0.6n")
    body = upload(admin_client, "tower.gcode", fixture_path(entry).read_bytes()).json()
    assert body["metadata"]["layer_count"] == entry["expected"]["layer_count"]


def test_thumbnails_are_stored_and_served(admin_client: TestClient) -> None:
    entry = fixture_by_id("prusa_cube20_0.20mm_PLA_thumbs")
    body = upload(admin_client, "cube.gcode", fixture_path(entry).read_bytes()).json()
    injected = entry["thumbnails_injected"]
    assert [(t["width"], t["height"], t["size"]) for t in body["thumbnails"]] == [
        (t["width"], t["height"], t["png_bytes"]) for t in injected]
    for thumb in body["thumbnails"]:
        resp = admin_client.get(thumb["url"])
        assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.content.startswith(b"\x89PNG\r\n\x1a\n") and len(resp.content) == thumb["size"]
    assert admin_client.get(f"{API}/files/{body['id']}/thumbnails/9").status_code == 404


def test_identical_content_is_a_duplicate_not_a_second_copy(admin_client: TestClient) -> None:
    data = fixture_path(fixture_by_id("slic3r_cube20_0.25mm")).read_bytes()
    first = upload(admin_client, "cube.gcode", data)
    again = upload(admin_client, "other-name.gcode", data)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["id"] == first.json()["id"]
    assert again.json()["name"] == "cube.gcode"
    settings = settings_of(admin_client)
    assert len(stored_files(settings)) == 1 and row_count(settings) == 1 and parts_left(settings) == []


def test_same_name_different_content_keeps_both(admin_client: TestClient) -> None:
    one = fixture_path(fixture_by_id("klipper_dwell_only")).read_bytes()
    two = fixture_path(fixture_by_id("klipper_prusa_tinybox_0.20mm_noextrusion")).read_bytes()
    a = upload(admin_client, "part.gcode", one).json()
    b = upload(admin_client, "part.gcode", two).json()
    assert a["id"] != b["id"] and a["name"] == b["name"] == "part.gcode"
    assert admin_client.get(f"{API}/files/{a['id']}/download").content == one
    assert admin_client.get(f"{API}/files/{b['id']}/download").content == two


def test_text_fields_next_to_the_file_are_accepted(admin_client: TestClient) -> None:
    data = fixture_path(fixture_by_id("klipper_dwell_only")).read_bytes()
    resp = upload(admin_client, "x.gcode", data, print="false", path="sub/dir")
    assert resp.status_code == 201


def test_upload_needs_authentication(app_client: TestClient) -> None:
    data = fixture_path(fixture_by_id("klipper_dwell_only")).read_bytes()
    resp = upload(app_client, "x.gcode", data)
    assert resp.status_code == 401 and resp.json()["code"]
    assert stored_files(settings_of(app_client)) == []


def test_a_damaged_thumbnail_is_reported_and_the_file_still_stored(admin_client: TestClient) -> None:
    src = fixture_path(fixture_by_id("prusa_cube20_0.20mm_PLA_thumbs")).read_bytes()
    start = src.index(b"\n", src.index(b"; thumbnail begin 32x32")) + 1
    damaged = src[:start] + b"; !!!!notbase64!!!!\n" + src[start + 20:]
    resp = upload(admin_client, "damaged.gcode", damaged)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["parse_status"] == "ok" and "thumbnail 32x32" in body["parse_error"]
    assert [(t["width"], t["height"]) for t in body["thumbnails"]] == [(300, 300)]
    assert body["thumbnails"][0]["index"] == 0 and admin_client.get(body["thumbnails"][0]["url"]).status_code == 200
    assert body["metadata"]["layer_height"] == pytest.approx(0.2)
