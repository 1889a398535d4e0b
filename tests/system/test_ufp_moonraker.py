"""Differential test of .ufp against the real Moonraker 0.11.0, which unpacks a .ufp uploaded to
its gcodes root: /3D/model.gcode becomes <name>.gcode and /Metadata/thumbnail.png becomes
.thumbs/<name>.png. The same package uploaded to PrintStash serves the same G-code bytes from
/files/{id}/gcode and the same thumbnail bytes.

The package: harness/packages.py's UFP layout around real CuraEngine G-code (the Griffin
fixture, the flavour Cura uses for the UltiMaker S-series that take .ufp) and the 300x300 PNG
PrusaSlicer's cube fixture carries."""

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from harness.packages import thumbnail_png, ufp
from harness.paths import GCODE_FIXTURES
from harness.peers import KlipperPrinter, klipper_printer

pytestmark = pytest.mark.system
GRIFFIN = GCODE_FIXTURES / "cura" / "cura_cylinder_0.15mm_ultimakerS3_griffin.gcode"
CUBE = GCODE_FIXTURES / "prusaslicer" / "prusa_cube20_0.20mm_PLA_thumbs.gcode"


@pytest.fixture(scope="module")
def moonraker() -> Iterator[KlipperPrinter]:
    """Moonraker alone: unpacking an upload needs no Klippy."""
    with klipper_printer(with_klippy=False) as printer:
        yield printer


def _moonraker_file(printer: KlipperPrinter, path: str, timeout: float = 30.0) -> bytes:
    """A file Moonraker serves from its gcodes root, once its upload processing wrote it."""
    deadline = time.monotonic() + timeout
    while True:
        answer = printer.http.get(f"/server/files/gcodes/{path}")
        if answer.status_code == 200 or time.monotonic() > deadline:
            answer.raise_for_status()
            return answer.content
        time.sleep(0.2)


def _moonraker_thumbnail(printer: KlipperPrinter, gcode_name: str) -> bytes:
    """The full-size thumbnail Moonraker's metadata lists for the unpacked G-code."""
    answer = printer.http.get("/server/files/metadata", params={"filename": gcode_name})
    answer.raise_for_status()
    thumbs = answer.json()["result"]["thumbnails"]
    largest = max(thumbs, key=lambda t: t["width"] * t["height"])
    return _moonraker_file(printer, largest["relative_path"])


def test_ufp_gcode_and_thumbnail_equal_what_moonraker_unpacks(moonraker: KlipperPrinter,
                                                            admin_client: TestClient) -> None:
    package = ufp(GRIFFIN.read_bytes(), thumbnail_png(CUBE.read_bytes()))
    uploaded = moonraker.http.post("/server/files/upload", files={"file": ("cylinder.ufp", package)})
    uploaded.raise_for_status()
    theirs_gcode = _moonraker_file(moonraker, "cylinder.gcode")
    theirs_thumb = _moonraker_thumbnail(moonraker, "cylinder.gcode")
    assert "cylinder.ufp" not in moonraker.files()  # Moonraker keeps only what it unpacked

    ours = admin_client.post("/api/v1/files", files={"file": ("cylinder.ufp", package)})
    assert ours.status_code == 201, ours.text
    body = ours.json()
    assert body["kind"] == "ufp"
    assert admin_client.get(f"/api/v1/files/{body['id']}/gcode").content == theirs_gcode
    assert len(body["thumbnails"]) == 1
    assert admin_client.get(body["thumbnails"][0]["url"]).content == theirs_thumb
    assert admin_client.get(f"/api/v1/files/{body['id']}/download").content == package
