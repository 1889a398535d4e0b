"""The library's selection (issue 18's list view): many files to the trash and back in one
transaction (the Undo), and one zip of them streamed from the store."""

import io
import zipfile

import pytest
from fastapi.testclient import TestClient
from librarykit import API, fixture_by_id, fixture_path, upload

CUBE = fixture_path(fixture_by_id("prusa_cube20_0.20mm_PLA_thumbs")).read_bytes()
CYLINDER = fixture_path(fixture_by_id("slic3r_cylinder_0.10mm_0.35n")).read_bytes()
TOWER = fixture_path(fixture_by_id("prusa_tower_0.30mm_ABS_0.6n")).read_bytes()


def library_ids(client: TestClient) -> set[int]:
    return {f["id"] for f in client.get(f"{API}/files", params={"limit": 100}).json()["items"]}


def trash_ids(client: TestClient) -> set[int]:
    return {f["id"] for f in client.get(f"{API}/files/trash").json()["items"]}


@pytest.fixture
def three(admin_client: TestClient) -> list[int]:
    return [upload(admin_client, name, data).json()["id"] for name, data in
            (("cube.gcode", CUBE), ("cylinder.gcode", CYLINDER), ("tower.gcode", TOWER))]


def test_trash_and_undo_move_exactly_the_selection(admin_client: TestClient, three: list[int]) -> None:
    cube, cylinder, tower = three
    moved = admin_client.post(f"{API}/files/trash", json={"file_ids": [cube, cylinder]})
    assert moved.status_code == 200 and moved.json() == {"files": 2}
    assert library_ids(admin_client) == {tower} and trash_ids(admin_client) == {cube, cylinder}
    back = admin_client.post(f"{API}/files/restore", json={"file_ids": [cube, cylinder]})
    assert back.status_code == 200 and back.json() == {"files": 2}
    assert library_ids(admin_client) == set(three) and trash_ids(admin_client) == set()


def test_one_file_in_the_wrong_place_changes_nothing(admin_client: TestClient, three: list[int]) -> None:
    cube, cylinder, tower = three
    admin_client.post(f"{API}/files/trash", json={"file_ids": [cube]})
    again = admin_client.post(f"{API}/files/trash", json={"file_ids": [tower, cube]})  # cube is trashed already
    assert again.status_code == 404 and again.json()["code"] == "file_not_found"
    assert f"file {cube}" in again.json()["detail"] and "nothing was changed" in again.json()["detail"]
    assert library_ids(admin_client) == {cylinder, tower}  # tower was not moved alone
    not_trashed = admin_client.post(f"{API}/files/restore", json={"file_ids": [cube, cylinder]})
    assert not_trashed.status_code == 404 and trash_ids(admin_client) == {cube}


@pytest.mark.parametrize("body", [{"file_ids": []}, {"file_ids": [0]}, {"file_ids": ["x"]}, {},
                                  {"file_ids": [1], "all": True}, {"file_ids": [2**63]}])
def test_bad_selections_are_422(admin_client: TestClient, body: dict[str, object]) -> None:
    for path in ("trash", "restore"):
        resp = admin_client.post(f"{API}/files/{path}", json=body)
        assert resp.status_code == 422 and "detail" in resp.json(), (path, body, resp.text)


def test_members_may_trash_and_restore_too(member_client: TestClient) -> None:
    file_id = upload(member_client, "cube.gcode", CUBE).json()["id"]
    assert member_client.post(f"{API}/files/trash", json={"file_ids": [file_id]}).json() == {"files": 1}
    assert member_client.post(f"{API}/files/restore", json={"file_ids": [file_id]}).json() == {"files": 1}


def test_archive_is_a_zip_of_the_exact_bytes_in_the_order_asked(admin_client: TestClient, three: list[int]) -> None:
    cube, cylinder, tower = three
    twin = upload(admin_client, "cube.gcode", CUBE + b"\n; another cube\n").json()["id"]  # same name, other bytes
    resp = admin_client.get(f"{API}/files/archive", params={"file_id": [tower, cube, twin, cylinder]})
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/zip"
    assert "printstash-4-files.zip" in resp.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(resp.content))
    assert archive.testzip() is None
    assert archive.namelist() == ["tower.gcode", "cube.gcode", "cube (2).gcode", "cylinder.gcode"]
    assert archive.read("cube.gcode") == CUBE and archive.read("cube (2).gcode") == CUBE + b"\n; another cube\n"
    assert archive.read("tower.gcode") == TOWER and archive.read("cylinder.gcode") == CYLINDER
    assert archive.getinfo("cube.gcode").compress_size < len(CUBE)  # G-code is deflated


def test_archive_refuses_missing_trashed_and_too_many(admin_client: TestClient, three: list[int]) -> None:
    cube = three[0]
    admin_client.delete(f"{API}/files/{cube}")
    trashed = admin_client.get(f"{API}/files/archive", params={"file_id": [cube]})
    assert trashed.status_code == 404 and trashed.json()["code"] == "file_not_found"
    assert admin_client.get(f"{API}/files/archive").status_code == 422
    too_many = admin_client.get(f"{API}/files/archive", params={"file_id": list(range(1, 502))})
    assert too_many.status_code == 422 and "detail" in too_many.json()
    assert admin_client.get(f"{API}/files/archive", params={"file_id": "abc"}).status_code == 422
