"""Kinds and plates in the API: `kind` by content, `plates` (plate 1's metadata is the file's),
the kind= filter and facet, and migration 0008 giving files stored before it one plate."""

from pathlib import Path

from fastapi.testclient import TestClient
from harness.packages import zip_of
from harness.vault import downgrade, make_settings, migrate
from librarykit import API, fixture_by_id, fixture_path, row_count, settings_of, stored_files, upload
from sqlalchemy import text

from printstash.core.db import Database
from printstash.library import service
from printstash.library.store import PlateFields

THUMBS = fixture_by_id("prusa_cylinder_0.15mm_PETG_thumbs")



def test_a_gcode_file_has_kind_and_one_plate_equal_to_its_metadata(admin_client: TestClient) -> None:
    body = upload(admin_client, "cyl.bin", fixture_path(THUMBS).read_bytes()).json()
    assert body["kind"] == "gcode"
    assert [p["index"] for p in body["plates"]] == [1]
    plate = body["plates"][0]
    assert plate["metadata"] == body["metadata"] and plate["thumbnails"] == body["thumbnails"]
    assert plate["metadata"]["layer_count"] == THUMBS["expected"]["layer_count"]
    assert admin_client.get(f"{API}/files/{body['id']}").json()["plates"] == body["plates"]


def test_kind_filter_and_facet(admin_client: TestClient) -> None:
    upload(admin_client, "cyl.gcode", fixture_path(THUMBS).read_bytes())
    assert admin_client.get(f"{API}/files", params={"kind": "gcode"}).json()["total"] == 1
    assert admin_client.get(f"{API}/files", params={"kind": "bgcode"}).json()["total"] == 0
    facets = admin_client.get(f"{API}/files/facets").json()
    assert facets["kind"] == [{"value": "gcode", "count": 1}]


def test_an_unsafe_package_is_422_and_nothing_is_stored(admin_client: TestClient) -> None:
    answer = upload(admin_client, "evil.gcode.3mf", zip_of({"../../evil.gcode": b"G28\n"}))
    assert answer.status_code == 422 and answer.json()["code"] == "unsafe_member"
    bomb = zip_of({"Metadata/plate_1.gcode": b"\0" * (64 * 1024 * 1024)})
    answer = upload(admin_client, "bomb.gcode.3mf", bomb)
    assert answer.status_code == 422 and answer.json()["code"] == "package_too_large"
    answer = upload(admin_client, "empty.3mf", zip_of({"Metadata/readme.txt": b"hi"}))
    assert answer.status_code == 422 and answer.json()["code"] == "empty_package"
    settings = settings_of(admin_client)
    assert stored_files(settings) == [] and row_count(settings) == 0
    assert list(settings.tmp_dir.glob("*.part")) == []


def test_migration_gives_existing_files_kind_gcode_and_plate_one(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    migrate(settings, "0007")
    database = Database.from_settings(settings)
    with database.write() as session:
        session.execute(text(
            "INSERT INTO files (name, size, sha256, notes, uploaded_at, parse_status, full_scan_done, "
            "metadata_json, thumbnail_count, print_count, favourite) VALUES ('old.gcode', 1, :sha, '', "
            "'2026-01-01 00:00:00', 'ok', TRUE, '{\"slicer\": \"PrusaSlicer\"}', 0, 0, FALSE)"), {"sha": "a" * 64})
    database.dispose()
    migrate(settings)
    database = Database.from_settings(settings)
    with database.read() as session:
        row = service.find_by_sha256(session, "a" * 64)
        assert row is not None
        read = service.to_read(row)
    assert read.kind == "gcode" and [(p.index, p.metadata) for p in read.plates] == [(1, {"slicer": "PrusaSlicer"})]
    database.dispose()
    downgrade(settings, "0007")  # and back: the plate table goes, the file stays
    migrate(settings)


def test_replace_plates_twice_keeps_one_row_per_index(admin_client: TestClient) -> None:
    body = upload(admin_client, "cyl.gcode", fixture_path(THUMBS).read_bytes()).json()
    database = Database.from_settings(settings_of(admin_client))
    for _ in range(2):
        with database.write() as session:
            row = service.get_file(session, body["id"])
            service.replace_plates(row, [PlateFields(1, {"slicer": "x"}), PlateFields(2, {})])
    database.dispose()
    assert [p["index"] for p in admin_client.get(f"{API}/files/{body['id']}").json()["plates"]] == [1, 2]
