"""The toolpath preview's routes over real slicer output: GET /files/{id}/layers (the index)
and GET /files/{id}/layers/{index} (one layer's segments, decoded here by the documented record
layout, not by the server's code). Expected values come from the fixtures manifest."""

import asyncio
import itertools
import os
import re
import struct
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from harness.backups import archives, cli
from harness.packages import binarize
from harness.vault import make_settings
from librarykit import API, FIXTURE_FILES, fixture_by_id, fixture_path, settings_of, upload
from test_packages import gcode_3mf

from printstash.app import create_app
from printstash.core.db import Database
from printstash.core.runtime import WorkerContext
from printstash.core.settings import Settings
from printstash.gcode import LayerIndex
from printstash.library import jobs, scheduled, service, store

RECORD = struct.Struct("<6fBBH")  # docs/api.md: x0 y0 z0 x1 y1 z1, feature, flags, tool
PRUSA = fixture_by_id("prusa_cube20_0.20mm_PLA_thumbs")
CURA = fixture_by_id("cura_cube20_0.20mm_ender3")
SLIC3R = fixture_by_id("slic3r_cube20_0.25mm")
CURA_CONE = fixture_by_id("cura_cone_0.06mm_ender3")
SLICED = [f for f in FIXTURE_FILES if f.get("slicer")]
Z = 1e-3


def records(data: bytes) -> list[tuple[Any, ...]]:
    assert len(data) % RECORD.size == 0
    return [RECORD.unpack_from(data, i) for i in range(0, len(data), RECORD.size)]


def layers_of(client: TestClient, file_id: int, plate: int = 1) -> dict[str, Any]:
    answer = client.get(f"{API}/files/{file_id}/layers", params={"plate": plate})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def layer(client: TestClient, file_id: int, index: int, plate: int = 1) -> list[tuple[Any, ...]]:
    answer = client.get(f"{API}/files/{file_id}/layers/{index}", params={"plate": plate})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/octet-stream"
    return records(answer.content)


def bed(entry: dict[str, Any]) -> tuple[float, float]:
    """The bed's far corner from the slicer command's --bed-shape (PrusaSlicer fixtures)."""
    shape = entry["command"][entry["command"].index("--bed-shape") + 1]
    corners = [tuple(float(v) for v in c.split("x")) for c in shape.split(",")]
    return max(c[0] for c in corners), max(c[1] for c in corners)


@pytest.mark.parametrize("entry", SLICED, ids=lambda e: e["id"])
def test_layer_count_is_the_files_layer_count(admin_client: TestClient, entry: dict[str, Any]) -> None:
    data = fixture_path(entry).read_bytes()
    body = upload(admin_client, fixture_path(entry).name, data).json()
    index = layers_of(admin_client, body["id"])
    expected = entry["expected"].get("layer_count")
    assert index["plate"] == 1 and index["count"] == len(index["layers"])
    assert [la["index"] for la in index["layers"]] == list(range(index["count"]))
    if expected is None:  # Slic3r 1.3 writes no layer comments: layers from Z (tested below)
        assert index["count"] > 0
        return
    assert index["count"] == expected == body["metadata"]["layer_count"]
    zs = [la["z"] for la in index["layers"]]
    assert zs == sorted(zs) and zs[0] > 0
    top = entry["expected"].get("max_layer_z") or entry["expected"].get("max_z")
    if top is not None:  # the highest layer with moves (declared empty layers may follow)
        highest = next(i for i in reversed(range(index["count"])) if layer(admin_client, body["id"], i))
        assert zs[highest] == pytest.approx(top, abs=Z)


def test_declared_layers_the_slicer_did_not_write_are_empty_on_top(admin_client: TestClient) -> None:
    """Cura's ';LAYER_COUNT:249' counts layers above the cone's tip that it then does not write
    (nothing printable is left): the index has them as empty layers, Z going on by the layer
    height, so the slider, a printer's "layer N of M" and the metadata agree."""
    data = fixture_path(CURA_CONE).read_bytes()
    written = len(re.findall(rb"\n;LAYER:\d+", data))
    declared = CURA_CONE["expected"]["layer_count"]
    assert written < declared  # the case at hand: fewer layers written than declared
    body = upload(admin_client, "cone.gcode", data).json()
    [stored] = settings_of(admin_client).thumbs_dir.rglob("*-layers-*")
    assert len(LayerIndex.from_bytes(stored.read_bytes()).layers) == declared  # as written at upload
    stored.unlink()  # and as the preview builds it on first use (library/preview.py), checked below
    zs = [la["z"] for la in layers_of(admin_client, body["id"])["layers"]]
    assert len(zs) == declared
    assert zs[written - 1] == pytest.approx(CURA_CONE["expected"]["max_z"], abs=Z)
    assert layer(admin_client, body["id"], written - 1), "the last written layer has its moves"
    for i in range(written, declared):
        assert layer(admin_client, body["id"], i) == [], i  # 200, no segments
        assert zs[i] == pytest.approx(zs[i - 1] + CURA_CONE["settings"]["layer_height"], abs=Z), i
    answer = admin_client.get(f"{API}/files/{body['id']}/layers/{declared}")
    assert answer.status_code == 404 and answer.json()["code"] == "layer_not_found"


def test_layers_continue_where_the_one_before_ended_and_stay_on_the_bed(admin_client: TestClient) -> None:
    body = upload(admin_client, "cube.gcode", fixture_path(PRUSA).read_bytes()).json()
    index = layers_of(admin_client, body["id"])
    width, depth = bed(PRUSA)
    top = PRUSA["expected"]["max_layer_z"]
    features = index["features"]
    seen: set[str] = set()
    end = None
    for la in index["layers"]:
        segs = layer(admin_client, body["id"], la["index"])
        assert segs, f"layer {la['index']} has no moves"
        if end is not None:
            assert segs[0][:3] == pytest.approx(end, abs=1e-4), la["index"]
        end = segs[-1][3:6]
        for x0, y0, z0, x1, y1, z1, feature, flags, tool in segs:
            assert min(x0, x1) >= 0 and max(x0, x1) <= width and min(y0, y1) >= 0 and max(y0, y1) <= depth
            assert tool == 0 and flags in (0, 1)
            if flags & 1:  # extrusion happens at the layer's own Z
                assert z0 == pytest.approx(la["z"], abs=Z) and z1 == pytest.approx(la["z"], abs=Z)
                assert la["z"] <= top + Z
                seen.add(features[feature])
    assert {"External perimeter", "Perimeter", "Solid infill", "Top solid infill"} <= seen
    assert "Unknown" not in seen  # every extrusion of a PrusaSlicer file follows a ;TYPE:


def test_cura_feature_names_map_onto_the_legend(admin_client: TestClient) -> None:
    body = upload(admin_client, "cura.gcode", fixture_path(CURA).read_bytes()).json()
    index = layers_of(admin_client, body["id"])
    seen = {index["features"][s[6]] for s in layer(admin_client, body["id"], 1) if s[7] & 1}
    assert {"External perimeter", "Perimeter", "Solid infill"} <= seen  # WALL-OUTER, WALL-INNER, SKIN
    last = layer(admin_client, body["id"], index["count"] - 1)
    extruded = [s for s in last if s[7] & 1]
    assert extruded and all(s[2] == pytest.approx(index["layers"][-1]["z"], abs=Z) for s in extruded)


def test_a_file_without_layer_comments_gets_layers_from_z(admin_client: TestClient) -> None:
    settings = SLIC3R["settings"]
    body = upload(admin_client, "slic3r.gcode", fixture_path(SLIC3R).read_bytes()).json()
    zs = [la["z"] for la in layers_of(admin_client, body["id"])["layers"]]
    assert zs[0] == pytest.approx(settings["first-layer-height"], abs=Z)
    steps = [b - a for a, b in itertools.pairwise(zs)]
    assert steps and all(s == pytest.approx(settings["layer-height"], abs=Z) for s in steps)
    assert abs(zs[-1] - 20) <= settings["layer-height"] / 2 + Z  # cube20.stl is 20 mm tall
    assert any(s[7] & 1 for s in layer(admin_client, body["id"], len(zs) // 2))


def test_etag_cache_headers_and_304(admin_client: TestClient) -> None:
    body = upload(admin_client, "cube.gcode", fixture_path(PRUSA).read_bytes()).json()
    url = f"{API}/files/{body['id']}/layers/3"
    first = admin_client.get(url)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert body["sha256"] in tag
    assert first.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert float(first.headers["x-layer-z"]) == pytest.approx(0.8, abs=Z)  # layer 3 of 0.2 mm layers
    assert int(first.headers["x-layer-count"]) == PRUSA["expected"]["layer_count"]
    again = admin_client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    other = admin_client.get(f"{API}/files/{body['id']}/layers/4", headers={"If-None-Match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag


def test_the_index_is_gzipped_for_a_client_that_accepts_it(admin_client: TestClient) -> None:
    body = upload(admin_client, "cube.gcode", fixture_path(PRUSA).read_bytes()).json()
    url = f"{API}/files/{body['id']}/layers"
    plain = admin_client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.json()["count"] == len(plain.json()["layers"]) > 0
    for accepts in ("gzip", "br;q=1.0, gzip;q=0.8", "*"):
        packed = admin_client.get(url, headers={"Accept-Encoding": accepts})  # httpx unpacks it
        assert packed.headers["content-encoding"] == "gzip", accepts
        assert int(packed.headers["content-length"]) < len(plain.content) / 2
        assert packed.json() == plain.json()
    for refuses in ("gzip;q=0", "br", "gzip;q=x"):
        answer = admin_client.get(url, headers={"Accept-Encoding": refuses})
        assert "content-encoding" not in answer.headers and answer.content == plain.content, refuses


def test_bad_requests_are_clear_4xx(admin_client: TestClient) -> None:
    body = upload(admin_client, "cube.gcode", fixture_path(PRUSA).read_bytes()).json()
    count = PRUSA["expected"]["layer_count"]
    base = f"{API}/files/{body['id']}/layers"
    cases = [
        (f"{base}/{count}", {}, 404, "layer_not_found"),
        (f"{base}/0", {"plate": 2}, 404, "plate_not_found"),
        (base, {"plate": 2}, 404, "plate_not_found"),
        (f"{API}/files/999999/layers", {}, 404, "file_not_found"),
        (f"{base}/-1", {}, 422, "validation_error"),
        (f"{base}/x", {}, 422, "validation_error"),
        (base, {"plate": 0}, 422, "validation_error"),
    ]
    for url, params, status, code in cases:
        answer = admin_client.get(url, params=params)
        assert (answer.status_code, answer.json()["code"]) == (status, code), url
    model = _model_row(settings_of(admin_client))
    for url in (f"{API}/files/{model}/layers", f"{API}/files/{model}/layers/0"):
        answer = admin_client.get(url)
        assert answer.status_code == 409 and answer.json()["code"] == "not_sliced"
        assert "model" in answer.json()["detail"]


def _model_row(settings: Settings) -> int:
    """A stored model's row (this version refuses model uploads with 415 until it reads them)."""
    database = Database.from_settings(settings)
    with database.write() as session:
        row = service.create_file(session, name="cube.stl", size=684, sha256="ab" * 32, kind="stl", uploaded_by=None,
                                  fields={}, parse_error=None, full_scan_done=True, thumbnails=[], plates=[])
        file_id = row.id
    database.dispose()
    return file_id


def test_members_read_layers_and_strangers_do_not(member_client: TestClient, app_client: TestClient) -> None:
    body = upload(member_client, "cube.gcode", fixture_path(PRUSA).read_bytes()).json()
    assert member_client.get(f"{API}/files/{body['id']}/layers/0").status_code == 200
    assert app_client.get(f"{API}/files/{body['id']}/layers").status_code == 401
    assert app_client.get(f"{API}/files/{body['id']}/layers/0").status_code == 401


def _index_files(client: TestClient) -> list[str]:
    return sorted(p.name for p in settings_of(client).thumbs_dir.rglob("*-layers-*"))


def test_index_is_rebuilt_by_the_reparse_job_and_removed_on_purge(admin_client: TestClient) -> None:
    body = upload(admin_client, "cube.gcode", fixture_path(PRUSA).read_bytes()).json()
    assert _index_files(admin_client) == [f"{body['sha256']}-layers-1.idx"]
    before = admin_client.get(f"{API}/files/{body['id']}/layers/5").content
    for path in settings_of(admin_client).thumbs_dir.rglob("*-layers-*"):
        path.unlink()  # as a file stored by a version without the preview
    database = Database.from_settings(settings_of(admin_client))
    assert jobs.reparse_file(settings_of(admin_client), database, body["id"]) is True
    database.dispose()
    assert _index_files(admin_client) == [f"{body['sha256']}-layers-1.idx"]
    assert admin_client.get(f"{API}/files/{body['id']}/layers/5").content == before
    assert admin_client.delete(f"{API}/files/{body['id']}").status_code == 204
    assert admin_client.delete(f"{API}/files/trash").json() == {"purged": 1}
    assert _index_files(admin_client) == []


def test_a_file_without_an_index_is_indexed_when_first_previewed(admin_client: TestClient) -> None:
    body = upload(admin_client, "cura.gcode", fixture_path(CURA).read_bytes()).json()
    for path in settings_of(admin_client).thumbs_dir.rglob("*-layers-*"):
        path.unlink()
    assert layers_of(admin_client, body["id"])["count"] == CURA["expected"]["layer_count"]
    assert _index_files(admin_client) == [f"{body['sha256']}-layers-1.idx"]


def _all_layers(client: TestClient, file_id: int, plate: int = 1) -> list[bytes]:
    count = layers_of(client, file_id, plate)["count"]
    return [client.get(f"{API}/files/{file_id}/layers/{i}", params={"plate": plate}).content for i in range(count)]


def test_a_gcode_3mf_plate_previews_like_its_gcode(admin_client: TestClient) -> None:
    plain = upload(admin_client, "cura.gcode", fixture_path(CURA).read_bytes()).json()
    package = upload(admin_client, "two.gcode.3mf", gcode_3mf()).json()
    assert layers_of(admin_client, package["id"], 2)["count"] == CURA["expected"]["layer_count"]
    assert layers_of(admin_client, package["id"], 1)["count"] == PRUSA["expected"]["layer_count"]
    assert _all_layers(admin_client, package["id"], 2) == _all_layers(admin_client, plain["id"])


def test_a_bgcode_previews_like_its_gcode(admin_client: TestClient, tmp_path: Path) -> None:
    plain = upload(admin_client, "cube.gcode", fixture_path(PRUSA).read_bytes()).json()
    data = binarize(fixture_path(PRUSA), tmp_path / "cube.bgcode")
    packed = upload(admin_client, "cube.bgcode", data).json()
    assert packed["kind"] == "bgcode"
    assert layers_of(admin_client, packed["id"])["count"] == PRUSA["expected"]["layer_count"]
    first, last = 0, PRUSA["expected"]["layer_count"] - 1
    for i in (first, last):
        mine = records(admin_client.get(f"{API}/files/{packed['id']}/layers/{i}").content)
        theirs = records(admin_client.get(f"{API}/files/{plain['id']}/layers/{i}").content)
        assert len(mine) == len(theirs) and mine == theirs


def test_the_index_survives_backup_and_restore(admin_client: TestClient, vault: Settings, tmp_path: Path) -> None:
    body = upload(admin_client, "cube.gcode", fixture_path(PRUSA).read_bytes()).json()
    before = admin_client.get(f"{API}/files/{body['id']}/layers/5").content
    name = Path(body["sha256"][:2]) / f"{body['sha256']}-layers-1.idx"
    made = cli(vault.data_dir, "backup", "create")
    assert made.returncode == 0, made.stderr
    [archive] = archives(vault)
    target = make_settings(tmp_path / "restored" / "data")
    restored = cli(target.data_dir, "backup", "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert (target.thumbs_dir / name).read_bytes() == (vault.thumbs_dir / name).read_bytes()
    with TestClient(create_app(target), headers={"X-Api-Key": admin_client.headers["X-Api-Key"]}) as client:
        assert client.get(f"{API}/files/{body['id']}/layers/5").content == before


def test_the_plain_gcode_cache_keeps_to_its_size_least_recently_used_first(admin_client: TestClient,
                                                                          tmp_path: Path) -> None:
    """Packaged plates are previewed from plain G-code decoded into cache/plain/; the hourly
    housekeeping (library/scheduled.py) removes the least recently previewed beyond
    VAULT_PREVIEW_CACHE_MB, never one in use, and a removed plate previews again."""
    packed = upload(admin_client, "cube.bgcode", binarize(fixture_path(PRUSA), tmp_path / "cube.bgcode")).json()
    package = upload(admin_client, "two.gcode.3mf", gcode_3mf()).json()
    settings = settings_of(admin_client)
    cached = {}
    for name, body, plate in (("bgcode", packed, 1), ("plate 1", package, 1), ("plate 2", package, 2)):
        before = admin_client.get(f"{API}/files/{body['id']}/layers/3", params={"plate": plate}).content
        cached[name] = (store.plain_cache_path(settings, body["sha256"], plate), body, plate, before)
    sizes = {name: entry[0].stat().st_size for name, entry in cached.items()}
    hour_ago = time.time() - 3600
    for age, name in enumerate(("plate 1", "bgcode", "plate 2")):  # plate 1 used longest ago
        os.utime(cached[name][0], (hour_ago + age, hour_ago + age))

    room = sizes["bgcode"] + sizes["plate 2"]  # all but the least recently used one fit
    assert store.evict_plain_cache(settings, 0, in_use_seconds=7200) == 0  # all in use within 2 h
    assert store.evict_plain_cache(settings, room) == 1
    assert {name for name, entry in cached.items() if entry[0].exists()} == {"bgcode", "plate 2"}

    path, body, plate, before = cached["plate 1"]  # previewed again: decoded again, same layer
    assert admin_client.get(f"{API}/files/{body['id']}/layers/3", params={"plate": plate}).content == before
    assert path.exists() and path.stat().st_mtime > time.time() - 60
    old = cached["bgcode"][0]
    admin_client.get(f"{API}/files/{packed['id']}/layers/4")  # used now: touched, so not evicted
    assert old.stat().st_mtime > time.time() - 60
    assert store.evict_plain_cache(settings, 0) == 1  # of the three, only plate 2 is unused for long
    assert not cached["plate 2"][0].exists() and old.exists() and path.exists()
    for entry in cached.values():  # the hourly housekeeping, VAULT_PREVIEW_CACHE_MB=0: all go
        if entry[0].exists():
            os.utime(entry[0], (hour_ago, hour_ago))
    database = Database.from_settings(settings)
    try:
        scheduled.purge_job(WorkerContext(settings.model_copy(update={"preview_cache_mb": 0}), database,
                                          httpx.AsyncClient(), asyncio.Event(), "test-worker"))
    finally:
        database.dispose()
    assert not any(entry[0].exists() for entry in cached.values())
