"""Models (.stl binary and ASCII, .obj, .3mf) as first-class kinds: each uploads through the api
and the OctoPrint-compatible route, its mesh facts equal what PrusaSlicer reports about it
(tests/fixtures/models/manifest.json, made by make_fixtures.py there), it gets a drawable
thumbnail (a 3MF's own, else rendered), is found by name and kind, downloads byte-identical,
cannot be printed, and broken models are refused with nothing stored."""

import io
import json
import struct
import zipfile
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from harness.packages import zip_of
from harness.paths import MODEL_FIXTURES
from librarykit import API, fixture_by_id, fixture_path, row_count, settings_of, stored_files, upload
from PIL import Image
from sqlalchemy import select

from printstash.core.db import Database
from printstash.core.models import Job
from printstash.library import ingest, jobs, service

MANIFEST: dict[str, Any] = json.loads((MODEL_FIXTURES / "manifest.json").read_text())
MODELS: list[dict[str, Any]] = MANIFEST["files"]


def model_bytes(file: str) -> bytes:
    return (MODEL_FIXTURES / file).read_bytes()


def check_facts(model: dict[str, Any], expected: dict[str, Any]) -> None:
    """The facts as PrusaSlicer reported them (it prints six decimals, of float32 sums)."""
    assert model["triangles"] == expected["triangles"]
    assert model["size_mm"] == pytest.approx(expected["size_mm"], abs=1e-3)
    assert model["volume_mm3"] == pytest.approx(expected["volume_mm3"], rel=1e-5)
    assert model["watertight"] is expected["watertight"]


def drawn_pixels(client: TestClient, url: str) -> int:
    """The thumbnail is a PNG a browser draws; how many of its pixels are not background."""
    answer = client.get(url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(answer.content)) as image:
        assert image.format == "PNG"
        return int((np.asarray(image.convert("RGBA").getchannel("A")) > 0).sum())


@pytest.mark.parametrize("entry", MODELS, ids=[m["id"] for m in MODELS])
def test_a_model_uploads_with_prusaslicers_facts_and_a_drawn_thumbnail(admin_client: TestClient,
                                                                       entry: dict[str, Any]) -> None:
    data = model_bytes(entry["file"])
    answer = upload(admin_client, entry["file"], data)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["kind"] == entry["kind"] and body["plates"] == [] and body["parse_error"] is None
    check_facts(body["model"], entry["expected"])
    assert [t["format"] for t in body["thumbnails"]] == ["png"]
    assert 1000 < drawn_pixels(admin_client, body["thumbnails"][0]["url"]) < 300 * 300  # a shape, not a fill
    assert admin_client.get(f"{API}/files/{body['id']}").json()["model"] == body["model"]
    assert admin_client.get(f"{API}/files/{body['id']}/download").content == data


def test_a_model_uploads_through_the_octoprint_route(admin_client: TestClient) -> None:
    entry = next(m for m in MODELS if m["kind"] == "3mf")
    data = model_bytes(entry["file"])
    answer = admin_client.post("/api/files/local", files={"file": (entry["file"], data, "application/octet-stream")})
    assert answer.status_code == 201, answer.text
    resource = answer.json()["files"]["local"]["refs"]["resource"]
    stored = admin_client.get(resource).json()
    assert stored["kind"] == "3mf" and stored["name"] == entry["file"]
    check_facts(stored["model"], entry["expected"])
    assert admin_client.get(answer.json()["files"]["local"]["refs"]["download"]).content == data


def test_models_are_found_by_name_and_kind(admin_client: TestClient) -> None:
    for entry in MODELS:
        assert upload(admin_client, entry["file"], model_bytes(entry["file"])).status_code == 201
    per_kind = {kind: sum(1 for m in MODELS if m["kind"] == kind) for kind in ("stl", "obj", "3mf")}
    for kind, count in per_kind.items():
        found = admin_client.get(f"{API}/files", params={"kind": kind}).json()
        assert found["total"] == count and {f["kind"] for f in found["items"]} == {kind}
    facets = {f["value"]: f["count"] for f in admin_client.get(f"{API}/files/facets").json()["kind"]}
    assert facets == per_kind
    found = admin_client.get(f"{API}/files", params={"q": "cylinder"}).json()
    assert [f["name"] for f in found["items"]] == ["cylinder_binary.stl"]


def test_a_model_is_not_gcode_and_cannot_be_printed(admin_client: TestClient) -> None:
    file_id = upload(admin_client, "cone.obj", model_bytes("cone.obj")).json()["id"]
    answer = admin_client.get(f"{API}/files/{file_id}/gcode")
    assert answer.status_code == 409 and answer.json()["code"] == "not_sliced" and "model" in answer.json()["detail"]
    printer = admin_client.post(f"{API}/printers", json={"name": "voron", "url": "http://127.0.0.1:7125"}).json()
    answer = admin_client.post(f"{API}/printers/{printer['id']}/print", json={"file_id": file_id})
    assert answer.status_code == 409 and answer.json()["code"] == "not_sliced"


def test_a_3mf_keeps_its_own_thumbnail(admin_client: TestClient) -> None:
    own = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 90, 200)).save(own, format="PNG")
    package = _with_member(model_bytes("two_objects.3mf"), "Metadata/thumbnail.png", own.getvalue())
    body = upload(admin_client, "with-thumbnail.3mf", package).json()
    assert [(t["width"], t["height"]) for t in body["thumbnails"]] == [(64, 48)]
    assert admin_client.get(body["thumbnails"][0]["url"]).content == own.getvalue()


def _with_member(package: bytes, name: str, data: bytes) -> bytes:
    out = io.BytesIO(package)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return out.getvalue()


def _truncated_binary_stl() -> bytes:
    return model_bytes("cylinder_binary.stl")[:-10]


def _stl_with_a_nan() -> bytes:
    data = bytearray(model_bytes("cylinder_binary.stl"))
    data[84 + 12:84 + 16] = struct.pack("<f", float("nan"))  # the first triangle's first corner's x
    return bytes(data)


EMPTY_MODEL = (b'<?xml version="1.0"?><model unit="millimeter" '
               b'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"><resources/><build/></model>')
BAD_INPUTS = [
    ("short.stl", _truncated_binary_stl(), "stl_size_mismatch"),
    ("nan.stl", _stl_with_a_nan(), "bad_stl"),
    ("nothing.3mf", zip_of({"[Content_Types].xml": b"<x/>", "Metadata/readme.txt": b"hi"}), "empty_package"),
    ("no-mesh.3mf", zip_of({"3D/3dmodel.model": EMPTY_MODEL}), "empty_model"),
    ("evil.3mf", zip_of({"3D/3dmodel.model": EMPTY_MODEL, "../../evil.model": b"x"}), "unsafe_member"),
    ("bomb.3mf", zip_of({"3D/3dmodel.model": b" " * (64 * 1024 * 1024)}), "package_too_large"),
    ("entities.3mf", zip_of({"3D/3dmodel.model": b'<!DOCTYPE m [<!ENTITY a "aaaa">]><model>&a;</model>'}),
     "bad_3mf"),
    ("dangling.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", "bad_obj"),
    ("points.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", "empty_model"),
]


@pytest.mark.parametrize(("name", "data", "code"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_a_broken_model_is_422_and_nothing_is_stored(admin_client: TestClient, name: str, data: bytes,
                                                     code: str) -> None:
    answer = upload(admin_client, name, data)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == code and answer.json()["detail"]
    settings = settings_of(admin_client)
    assert stored_files(settings) == [] and row_count(settings) == 0
    assert list(settings.tmp_dir.glob("*.part")) == [] and list(settings.thumbs_dir.rglob("*.png")) == []


def test_a_large_model_answers_first_and_the_worker_draws_its_thumbnail(
        admin_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = next(m for m in MODELS if m["id"] == "cylinder_binary")
    monkeypatch.setattr(ingest, "RENDER_INLINE_TRIANGLES", entry["expected"]["triangles"] - 1)
    body = upload(admin_client, entry["file"], model_bytes(entry["file"])).json()
    check_facts(body["model"], entry["expected"])
    assert body["thumbnails"] == []
    settings = settings_of(admin_client)
    database = Database.from_settings(settings)
    try:
        with database.read() as session:
            queued = session.scalars(select(Job.payload).where(Job.kind == service.MODEL_THUMBNAIL_JOB)).all()
        assert queued == [{"file_id": body["id"]}]
        assert jobs.render_model_thumbnail(settings, database, body["id"])
    finally:
        database.dispose()
    thumbnails = admin_client.get(f"{API}/files/{body['id']}").json()["thumbnails"]
    assert len(thumbnails) == 1 and drawn_pixels(admin_client, thumbnails[0]["url"]) > 1000


def test_a_reparse_of_a_model_keeps_its_facts_and_thumbnail(admin_client: TestClient) -> None:
    entry = next(m for m in MODELS if m["id"] == "open_box")
    body = upload(admin_client, entry["file"], model_bytes(entry["file"])).json()
    database = Database.from_settings(settings_of(admin_client))
    try:
        assert jobs.reparse_file(settings_of(admin_client), database, body["id"])
    finally:
        database.dispose()
    again = admin_client.get(f"{API}/files/{body['id']}").json()
    check_facts(again["model"], entry["expected"])
    assert again["model"] == body["model"] and len(again["thumbnails"]) == 1
    assert drawn_pixels(admin_client, again["thumbnails"][0]["url"]) > 1000


def test_a_model_too_large_to_analyse_is_stored_without_facts(admin_client: TestClient,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    data = model_bytes("cone_ascii.stl")
    monkeypatch.setattr(ingest, "MODEL_MAX_BYTES", len(data) - 1)
    body = upload(admin_client, "cone_ascii.stl", data).json()
    assert body["kind"] == "stl" and body["model"] is None and body["thumbnails"] == []
    assert "too large to analyse" in body["parse_error"]
    assert admin_client.get(f"{API}/files/{body['id']}/download").content == data


def test_sliced_files_have_no_model(admin_client: TestClient) -> None:
    gcode = fixture_path(fixture_by_id("prusa_cylinder_0.15mm_PETG_thumbs"))
    body = upload(admin_client, "cylinder.gcode", gcode.read_bytes()).json()
    assert body["kind"] == "gcode" and body["model"] is None
