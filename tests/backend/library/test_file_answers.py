"""A file's answer is one thing: GET /files lists each file exactly as GET /files/{id} shows
it. The list loads its page's rows without the ORM (library/service.py `read_files`), the
single-file routes from ORM objects (`to_read`); both go through one mapping, and these tests
hold them to it over the real fixtures: every slicer's G-code, a two-plate .gcode.3mf, a
.bgcode, a mesh, with tags, notes, a favourite and a recorded print."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from harness.packages import binarize, gcode_3mf, thumbnail_png
from harness.paths import MODEL_FIXTURES
from harness.vault import add_user_with_key, make_settings, migrate
from librarykit import API, FIXTURE_FILES, fixture_by_id, fixture_path, upload
from sqlalchemy import select

from printstash.app import create_app
from printstash.core.db import Database
from printstash.core.pagination import Page
from printstash.library import service
from printstash.library.models import File, Plate
from printstash.library.schemas import FileRead

PRUSA = fixture_by_id("prusa_cube20_0.20mm_PLA_thumbs")
CURA = fixture_by_id("cura_cube20_0.20mm_ender3")
MESH = MODEL_FIXTURES / "cylinder_binary.stl"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Every kind of answer a file can have, uploaded through POST /files."""
    tmp = tmp_path_factory.mktemp("answers")
    settings = make_settings(tmp / "data")
    migrate(settings)
    key = add_user_with_key(settings, "lister", "admin")
    with TestClient(create_app(settings), headers={"X-Api-Key": key}) as client:
        bodies = [upload(client, fixture_path(e).name, fixture_path(e).read_bytes()) for e in FIXTURE_FILES]
        plates = [fixture_path(PRUSA).read_bytes(), fixture_path(CURA).read_bytes()]
        bodies.append(upload(client, "two plates.gcode.3mf", gcode_3mf(plates, image=thumbnail_png(plates[0]))))
        bodies.append(upload(client, "cube.bgcode", binarize(fixture_path(PRUSA), tmp / "cube.bgcode")))
        bodies.append(upload(client, MESH.name, MESH.read_bytes()))
        assert all(b.status_code == 201 for b in bodies), [b.text for b in bodies]
        ids = [b.json()["id"] for b in bodies]
        for n, file_id in enumerate(ids):  # tags whose name order is not their creation order
            tagged = client.post(f"{API}/files/{file_id}/tags", json={"tags": ["zeta", f"Alpha {n % 3}"]})
            assert tagged.status_code == 200, tagged.text
        assert client.patch(f"{API}/files/{ids[0]}", json={"notes": "crème, brûlée"}).status_code == 200
        assert client.put(f"{API}/files/{ids[1]}/favourite").status_code == 200
        database = Database.from_settings(settings)
        with database.write() as session:
            service.record_print(session, ids[2], datetime(2026, 12, 1, 12, 30, tzinfo=UTC), "completed")
        database.dispose()
        yield client


def typed(value: Any) -> str:
    """JSON text that tells 1 from 1.0 and keeps key order (== on parsed JSON does neither)."""
    return json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("sort", ["name", "-uploaded_at"])
def test_every_list_item_is_the_files_own_answer(library: TestClient, sort: str) -> None:
    page = library.get(f"{API}/files", params={"limit": 200, "sort": sort})
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert len(items) == page.json()["total"] == len(FIXTURE_FILES) + 3
    kinds = {item["kind"] for item in items}
    assert {"gcode", "gcode.3mf", "bgcode", "stl"} <= kinds
    for item in items:
        assert typed(item) == typed(library.get(f"{API}/files/{item['id']}").json())
    package = next(item for item in items if item["kind"] == "gcode.3mf")
    assert [p["index"] for p in package["plates"]] == [1, 2] and package["plates"][1]["thumbnails"]
    assert all(item["tags"][0].startswith("Alpha") and item["tags"][1] == "zeta" for item in items)


def test_the_list_is_byte_for_byte_the_orm_answer(library: TestClient) -> None:
    """The list's body, bytes and all, is what the ORM objects' mapping gives for the same page;
    also for a plate 1 whose metadata is not its file's (read_files takes the file's when equal)."""
    database = Database.from_settings(library.app.state.settings)  # type: ignore[attr-defined]
    with database.write() as session:
        plate = session.scalars(select(Plate).where(Plate.index == 1).order_by(Plate.file_id)).first()
        assert plate is not None
        plate.metadata_json = {**plate.metadata_json, "layer_count": 12345}
    body = library.get(f"{API}/files", params={"limit": 200, "sort": "name"}).content
    assert b'"layer_count":12345' in body
    try:
        with database.read() as session:
            rows = session.scalars(select(File).order_by(File.name, File.id)).all()
            expected = Page[FileRead](items=[service.to_read(row) for row in rows], total=len(rows))
    finally:
        database.dispose()
    assert body == expected.model_dump_json().encode()


def test_read_files_keeps_the_order_asked_and_skips_missing_ids(library: TestClient) -> None:
    database = Database.from_settings(library.app.state.settings)  # type: ignore[attr-defined]
    try:
        with database.read() as session:
            ids = list(session.scalars(select(File.id).order_by(File.id.desc()).limit(3)))
            answers = service.read_files(session, [ids[2], 10**9, ids[0], ids[1]])
    finally:
        database.dispose()
    assert [a.id for a in answers] == [ids[2], ids[0], ids[1]]
