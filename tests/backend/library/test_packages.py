"""Sliced packages end to end: .gcode.3mf (one G-code per plate) and .ufp.

The packages are assembled here from real-slicer G-code fixtures following the published
layouts: Bambu Studio's/OrcaSlicer's .gcode.3mf (Metadata/plate_N.gcode with a .md5 beside it,
Metadata/plate_N.png, Metadata/slice_info.config, 3D/3dmodel.model) and UltiMaker's UFP (an
OPC package: /3D/model.gcode and /Metadata/thumbnail.png, related from _rels/.rels). Expected
values come from each source G-code's manifest entry, or from the slice_info we wrote."""

import base64
import hashlib
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from harness.packages import zip_of
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
CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                 b'package/2006/content-types"><Default Extension="rels" ContentType="application/'
                 b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="gcode" '
                 b'ContentType="text/x-gcode"/><Default Extension="png" ContentType="image/png"/></Types>')
MODEL = (b'<?xml version="1.0" encoding="UTF-8"?><model unit="millimeter" xmlns="http://schemas.microsoft.com/'
         b'3dmanufacturing/core/2015/02"><resources/><build/></model>')
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


def _png() -> bytes:
    text = fixture_path(PRUSA).read_bytes()
    block = re.search(rb"; thumbnail begin 300x300 \d+\n(.*?); thumbnail end", text, re.DOTALL)
    assert block is not None
    return base64.b64decode(b"".join(line[2:] for line in block[1].splitlines()))



def gcode_3mf(**override: bytes | None) -> bytes:
    plate1, plate2 = fixture_path(PRUSA).read_bytes(), fixture_path(CURA).read_bytes()
    members: dict[str, bytes | None] = {
        "[Content_Types].xml": CONTENT_TYPES, "3D/3dmodel.model": MODEL,
        "Metadata/plate_1.gcode": plate1, "Metadata/plate_1.gcode.md5": hashlib.md5(plate1).hexdigest().encode(),
        "Metadata/plate_1.png": _png(),
        "Metadata/plate_2.gcode": plate2, "Metadata/plate_2.gcode.md5": hashlib.md5(plate2).hexdigest().encode(),
        "Metadata/plate_2.png": _png(), "Metadata/slice_info.config": SLICE_INFO, **override,
    }
    return zip_of({k: v for k, v in members.items() if v is not None})


def ufp() -> bytes:
    rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Target="/3D/model.gcode" Id="rel0" '
            b'Type="http://schemas.ultimaker.org/package/2018/relationships/gcode"/><Relationship '
            b'Target="/Metadata/thumbnail.png" Id="rel1" Type="http://schemas.openxmlformats.org/package/'
            b'2006/relationships/metadata/thumbnail"/></Relationships>')
    return zip_of({"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": rels,
                 "3D/model.gcode": fixture_path(GRIFFIN).read_bytes(), "Metadata/thumbnail.png": _png()})


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
