"""Tags (create on first use, rename, delete, bulk), favourites and notes through the API,
with search staying in step (FTS triggers) after each change."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from harness.paths import GCODE_FIXTURES
from librarykit import check_search_index
from sqlalchemy import insert, text

from printstash.core.db import Database, utcnow
from printstash.library.models import File
from printstash.library.substrings import name_text

API = "/api/v1"
FIXTURES = ["prusaslicer/prusa_cube20_0.20mm_PLA_thumbs.gcode", "cura/cura_cone_0.06mm_ender3.gcode",
            "slic3r/slic3r_cylinder_0.10mm_0.35n.gcode"]


@pytest.fixture
def ids(member_client: TestClient) -> list[int]:
    found = []
    for rel in FIXTURES:
        path = GCODE_FIXTURES / rel
        answer = member_client.post(f"{API}/files", files={"file": (path.name, path.read_bytes())})
        assert answer.status_code == 201, answer.text
        found.append(answer.json()["id"])
    return found


def found_ids(client: TestClient, **params: Any) -> list[int]:
    answer = client.get(f"{API}/files", params={"sort": "name", **params})
    assert answer.status_code == 200, answer.text
    return sorted(item["id"] for item in answer.json()["items"])


def fts_intact(client: TestClient) -> None:
    database = Database.from_settings(client.app.state.settings)  # type: ignore[attr-defined]
    try:
        with database.read() as session:
            check_search_index(session)
    finally:
        database.dispose()


def tags_by_name(client: TestClient) -> dict[str, dict[str, Any]]:
    answer = client.get(f"{API}/tags")
    assert answer.status_code == 200
    return {t["name"]: t for t in answer.json()["items"]}


def test_tag_on_first_use_and_search(member_client: TestClient, ids: list[int]) -> None:
    c = member_client
    answer = c.post(f"{API}/files/{ids[0]}/tags", json={"tags": [" Calibration ", "calibration", "Sliced  Today"]})
    assert answer.status_code == 200 and answer.json()["tags"] == ["Calibration", "Sliced Today"]
    assert tags_by_name(c)["Calibration"]["file_count"] == 1
    assert found_ids(c, q="calib") == [ids[0]]
    assert found_ids(c, tag="CALIBRATION") == [ids[0]]
    answer = c.put(f"{API}/files/{ids[0]}/tags", json={"tags": ["today"]})
    assert answer.json()["tags"] == ["today"]
    assert found_ids(c, q="calibration") == []
    assert c.delete(f"{API}/files/{ids[0]}/tags/TODAY").json()["tags"] == []
    assert c.delete(f"{API}/files/{ids[0]}/tags/today").status_code == 404
    fts_intact(c)


def test_rename_merge_conflict_and_delete(member_client: TestClient, ids: list[int]) -> None:
    c = member_client
    c.post(f"{API}/files/{ids[0]}/tags", json={"tags": ["red", "blue"]})
    c.post(f"{API}/files/{ids[1]}/tags", json={"tags": ["red"]})
    red = tags_by_name(c)["red"]
    assert red["file_count"] == 2
    clash = c.patch(f"{API}/tags/{red['id']}", json={"name": "BLUE"})
    assert clash.status_code == 409 and clash.json()["code"] == "tag_exists"
    renamed = c.patch(f"{API}/tags/{red['id']}", json={"name": "crimson"})
    assert renamed.status_code == 200 and renamed.json() == {"id": red["id"], "name": "crimson", "file_count": 2}
    assert found_ids(c, q="crimson") == sorted(ids[:2]) and found_ids(c, q="red") == []
    assert c.patch(f"{API}/tags/{red['id']}", json={"name": "Crimson"}).status_code == 200  # case only
    assert c.delete(f"{API}/tags/{red['id']}").status_code == 204
    assert found_ids(c, q="crimson") == [] and found_ids(c, q="blue") == [ids[0]]
    assert c.get(f"{API}/files/{ids[1]}").json()["tags"] == []
    assert c.delete(f"{API}/tags/{red['id']}").status_code == 404
    fts_intact(c)


def test_create_tag_is_idempotent(member_client: TestClient) -> None:
    first = member_client.post(f"{API}/tags", json={"name": "PETG"})
    again = member_client.post(f"{API}/tags", json={"name": "petg"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "name": "PETG", "file_count": 0}


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "   "}, {"name": "\x00\x07"}, {"name": "x" * 65},
                                  {"name": 5}, {}])
def test_bad_tag_names(member_client: TestClient, body: dict[str, Any]) -> None:
    answer = member_client.post(f"{API}/tags", json=body)
    assert answer.status_code == 422 and answer.json()["code"] in {"invalid_tag", "validation_error"}
    assert member_client.get(f"{API}/tags").json()["total"] == 0


def test_bulk_tag_untag(member_client: TestClient, ids: list[int]) -> None:
    c = member_client
    done = c.post(f"{API}/tags/bulk", json={"file_ids": ids, "add": ["batch", "ender"]})
    assert done.status_code == 200 and done.json() == {"files": 3, "added": 6, "removed": 0}
    again = c.post(f"{API}/tags/bulk", json={"file_ids": ids, "add": ["batch"]})
    assert again.json() == {"files": 3, "added": 0, "removed": 0}
    assert found_ids(c, tag="batch") == sorted(ids)
    moved = c.post(f"{API}/tags/bulk", json={"file_ids": ids[:2], "remove": ["batch"], "add": ["moved"]})
    assert moved.json() == {"files": 2, "added": 2, "removed": 2}
    assert found_ids(c, q="batch") == [ids[2]] and found_ids(c, q="moved") == sorted(ids[:2])
    facets = c.get(f"{API}/files/facets").json()["tags"]
    assert {f["value"]: f["count"] for f in facets} == {"ender": 3, "moved": 2, "batch": 1}
    fts_intact(c)


def test_bulk_is_all_or_nothing(member_client: TestClient, ids: list[int]) -> None:
    answer = member_client.post(f"{API}/tags/bulk", json={"file_ids": [*ids, 999999], "add": ["lost"]})
    assert answer.status_code == 404 and "999999" in answer.json()["detail"]
    assert found_ids(member_client, tag="lost") == [] and member_client.get(f"{API}/tags").json()["total"] == 0
    empty = member_client.post(f"{API}/tags/bulk", json={"file_ids": [], "add": ["x"]})
    assert empty.status_code == 422


def test_favourites(member_client: TestClient, ids: list[int]) -> None:
    c = member_client
    marked = c.put(f"{API}/files/{ids[1]}/favourite")
    assert marked.status_code == 200 and marked.json()["favourite"] is True
    assert c.put(f"{API}/files/{ids[1]}/favourite").status_code == 200  # idempotent
    assert found_ids(c, favourite=True) == [ids[1]]
    assert found_ids(c, favourite=False) == sorted(set(ids) - {ids[1]})
    assert c.delete(f"{API}/files/{ids[1]}/favourite").json()["favourite"] is False
    assert found_ids(c, favourite=True) == []
    assert c.put(f"{API}/files/999999/favourite").status_code == 404


def test_notes_rename_and_trash_follow_search(member_client: TestClient, ids: list[int]) -> None:
    c = member_client
    c.post(f"{API}/files/{ids[2]}/tags", json={"tags": ["spare"]})
    assert c.patch(f"{API}/files/{ids[2]}", json={"notes": "Glued to the Über-base"}).status_code == 200
    assert found_ids(c, q="uber base") == [ids[2]]
    assert c.patch(f"{API}/files/{ids[2]}", json={"name": "widget.gcode"}).status_code == 200
    assert found_ids(c, q="widget") == [ids[2]] and found_ids(c, q="slic3r_cylinder") == []
    assert c.delete(f"{API}/files/{ids[2]}").status_code == 204
    assert found_ids(c, q="widget") == [] and found_ids(c, tag="spare") == []
    assert tags_by_name(c)["spare"]["file_count"] == 0
    assert c.post(f"{API}/files/{ids[2]}/tags", json={"tags": ["x"]}).status_code == 404  # trashed
    assert c.post(f"{API}/files/{ids[2]}/restore").status_code == 200
    assert found_ids(c, q="widget") == [ids[2]] and found_ids(c, tag="spare") == [ids[2]]
    fts_intact(c)


def test_facets_leave_out_the_trash(member_client: TestClient, ids: list[int]) -> None:
    """Whole-library facets (index counts minus the trash) agree with filtered facets
    (counted over live rows) once a file is in the trash."""
    c = member_client
    c.post(f"{API}/tags/bulk", json={"file_ids": ids, "add": ["all"]})
    before = c.get(f"{API}/files/facets").json()
    assert c.delete(f"{API}/files/{ids[0]}").status_code == 204  # the PrusaSlicer PLA cube
    after = c.get(f"{API}/files/facets").json()
    filtered = c.get(f"{API}/files/facets", params={"uploaded_after": "2000-01-01T00:00:00Z"}).json()
    assert after["total"] == before["total"] - 1 == 2
    for name in ("slicer", "filament_type", "nozzle_diameter", "printer_model", "tags"):
        assert after[name] == filtered[name], name
    assert {f["value"]: f["count"] for f in after["tags"]} == {"all": 2}
    assert "PrusaSlicer" in {f["value"] for f in before["slicer"]}
    assert "PrusaSlicer" not in {f["value"] for f in after["slicer"]}
    assert "PLA" not in {f["value"] for f in after["filament_type"]}


def test_bulk_at_the_size_limit(member_client: TestClient) -> None:
    """5000 files x 8 tags (40,000 pairs: more than SQLite's 32,766 variables in one
    statement) are tagged, found, counted and untagged."""
    database = Database.from_settings(member_client.app.state.settings)  # type: ignore[attr-defined]
    try:
        with database.write() as session:
            session.execute(insert(File.__table__), [
                {"name": f"part_{i}.gcode", "name_search": name_text(f"part_{i}.gcode"),
                 "size": 1, "sha256": f"{i:064d}", "notes": "", "uploaded_at": utcnow(),
                 "parse_status": "ok", "full_scan_done": True, "metadata_json": {}, "thumbnail_count": 0,
                 "print_count": 0, "favourite": False} for i in range(1, 5001)])
            ids = list(session.scalars(text("SELECT id FROM files ORDER BY id")))
    finally:
        database.dispose()
    names = [f"bulk{k}" for k in range(8)]
    added = member_client.post(f"{API}/tags/bulk", json={"file_ids": ids, "add": names})
    assert added.status_code == 200 and added.json() == {"files": 5000, "added": 40000, "removed": 0}
    assert member_client.get(f"{API}/files", params={"tag": "bulk7", "limit": 1}).json()["total"] == 5000
    assert member_client.get(f"{API}/files", params={"q": "bulk3 part_4999"}).json()["total"] == 1
    removed = member_client.post(f"{API}/tags/bulk", json={"file_ids": ids, "remove": names})
    assert removed.status_code == 200 and removed.json() == {"files": 5000, "added": 0, "removed": 40000}
    counts = {t["name"]: t["file_count"] for t in member_client.get(f"{API}/tags").json()["items"]}
    assert counts == dict.fromkeys(names, 0)
    fts_intact(member_client)
