"""Sliced packages end to end: .gcode.3mf (one G-code per plate) and .ufp.

The packages are assembled by harness/packages.py from real-slicer G-code fixtures following
the published layouts (Bambu Studio's/OrcaSlicer's .gcode.3mf, UltiMaker's UFP). Expected
values come from each source G-code's manifest entry, or from the slice_info we wrote."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from harness import packages
from harness.packages import gcode_3mf_members, thumbnail_png, zip_of
from librarykit import (
    API,
    check_expected_metadata,
    fixture_by_id,
    fixture_path,
    row_count,
    settings_of,
    stored_files,
    upload,
)

PRUSA = fixture_by_id("prusa_cube20_0.20mm_PLA_thumbs")
CURA = fixture_by_id("cura_cube20_0.20mm_ender3")
GRIFFIN = fixture_by_id("cura_cylinder_0.15mm_ultimakerS3_griffin")
SLICE_INFO = b"""<?xml version="1.0" encoding="UTF-8"?>
<config>
  <header><header_item key="X-BBL-Client-Type" value="slicer"/></header>
  <plate>
    <metadata key="index" value="1"/>
    <metadata key="prediction" value="999999"/>
    <metadata key="weight" value="4.43"/>
    <filament id="1" type="PLA" color="#29B2B2" used_m="1.49" used_g="4.43"/>
    <object identify_id="1" name="cube20" skipped="false"/>
  </plate>
  <plate>
    <metadata key="index" value="2"/>
    <metadata key="prediction" value="1234"/>
    <metadata key="weight" value="5.67"/>
    <filament id="1" type="PETG" color="#FF8000" used_m="1.9" used_g="5.67"/>
    <object identify_id="2" name="cube20 (cura)" skipped="false"/>
  </plate>
</config>
"""


def gcode_3mf(**override: bytes | None) -> bytes:
    """Plate 1 PrusaSlicer's cube, plate 2 Cura's; `override` replaces (None: drops) members."""
    plates = [fixture_path(PRUSA).read_bytes(), fixture_path(CURA).read_bytes()]
    members: dict[str, bytes | None] = {
        **gcode_3mf_members(plates, image=_png(), slice_info=SLICE_INFO), **override}
    return zip_of({k: v for k, v in members.items() if v is not None})


def _png() -> bytes:
    return thumbnail_png(fixture_path(PRUSA).read_bytes())


def ufp() -> bytes:
    return packages.ufp(fixture_path(GRIFFIN).read_bytes(), _png())


def _plate(body: dict[str, Any], index: int) -> dict[str, Any]:
    return next(p for p in body["plates"] if p["index"] == index)


def test_gcode_3mf_has_one_plate_per_gcode_with_its_own_facts(admin_client: TestClient) -> None:
    data = gcode_3mf()
    answer = upload(admin_client, "two.gcode.3mf", data)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["kind"] == "gcode.3mf" and [p["index"] for p in body["plates"]] == [1, 2]
    check_expected_metadata(PRUSA["expected"], _plate(body, 1)["metadata"])
    check_expected_metadata(CURA["expected"], _plate(body, 2)["metadata"])
    assert body["metadata"] == _plate(body, 1)["metadata"]
    # slice_info fills what the G-code does not say; the G-code wins where both speak
    assert _plate(body, 1)["metadata"]["estimated_time"] == PRUSA["expected"]["estimated_time_s"]
    assert _plate(body, 2)["metadata"]["filament_weight_total"] == 5.67
    # plate 1's thumbnails are the G-code's; plate 2's G-code has none: the package's plate image
    assert [(t["width"], t["height"]) for t in _plate(body, 1)["thumbnails"]] == [
        (t["width"], t["height"]) for t in PRUSA["thumbnails_injected"]]
    assert [(t["width"], t["height"]) for t in _plate(body, 2)["thumbnails"]] == [(300, 300)]
    assert admin_client.get(_plate(body, 2)["thumbnails"][0]["url"]).headers["content-type"] == "image/png"
    for index, source in ((1, PRUSA), (2, CURA)):
        plain = admin_client.get(f"{API}/files/{body['id']}/gcode", params={"plate": index})
        assert plain.status_code == 200 and plain.content == fixture_path(source).read_bytes()
    assert admin_client.get(f"{API}/files/{body['id']}/download").content == data
    assert admin_client.get(f"{API}/files/{body['id']}/gcode", params={"plate": 3}).status_code == 404
    assert admin_client.get(f"{API}/files", params={"kind": "gcode.3mf"}).json()["total"] == 1


def test_ufp_has_cura_metadata_and_the_package_thumbnail(admin_client: TestClient) -> None:
    data = ufp()
    answer = upload(admin_client, "cylinder.ufp", data)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["kind"] == "ufp" and [p["index"] for p in body["plates"]] == [1]
    check_expected_metadata(GRIFFIN["expected"], body["metadata"])
    assert [(t["width"], t["height"], t["format"]) for t in body["thumbnails"]] == [(300, 300, "png")]
    plain = admin_client.get(f"{API}/files/{body['id']}/gcode")
    assert plain.content == fixture_path(GRIFFIN).read_bytes()


@pytest.mark.parametrize(("override", "code"), [
    ({"Metadata/plate_2.gcode.md5": b"0" * 32}, "plate_checksum"),
    ({"Metadata/plate_2.gcode": None, "Metadata/plate_2.gcode.md5": None}, "plate_missing"),
])
def test_a_broken_gcode_3mf_is_422_and_nothing_is_stored(admin_client: TestClient, override: dict[str, Any],
                                                        code: str) -> None:
    answer = upload(admin_client, "bad.gcode.3mf", gcode_3mf(**override))
    assert answer.status_code == 422 and answer.json()["code"] == code, answer.text
    settings = settings_of(admin_client)
    assert stored_files(settings) == [] and row_count(settings) == 0
    assert list(settings.tmp_dir.glob("*.part")) == []


def test_reparse_of_a_gcode_3mf_rebuilds_the_same_plates(admin_client: TestClient) -> None:
    from printstash.core.db import Database
    from printstash.library import jobs

    body = upload(admin_client, "two.gcode.3mf", gcode_3mf()).json()
    settings = settings_of(admin_client)
    database = Database.from_settings(settings)
    assert jobs.reparse_file(settings, database, body["id"]) is True
    database.dispose()
    after = admin_client.get(f"{API}/files/{body['id']}").json()
    assert after["plates"] == body["plates"] and after["thumbnails"] == body["thumbnails"]
    assert list(settings.tmp_dir.glob("*.part")) == []
