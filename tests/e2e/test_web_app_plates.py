"""A multi-plate .gcode.3mf on its file page: each plate's preview and key facts, and "Send to
printer" printing the plate picked, on a real Moonraker 0.11.0 + Klippy. Real api, worker,
vite preview and Chromium (see conftest.py).

The package: harness/packages.py's Bambu Studio layout around two real PrusaSlicer files that
Klippy can print (tests/fixtures/gcode/klipper), with a plate image each; expected values from
their manifest entries."""

import json
from collections.abc import Iterator

import pytest
from e2ekit import Stack, shot, sign_in
from harness.packages import gcode_3mf, thumbnail_png
from harness.paths import GCODE_FIXTURES
from harness.peers import KlipperPrinter, klipper_printer
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

MANIFEST = {f["id"]: f for f in json.loads((GCODE_FIXTURES / "manifest.json").read_text())["files"]}
PLATES = [MANIFEST["klipper_prusa_cube20_0.30mm_noextrusion"], MANIFEST["klipper_prusa_tinybox_0.20mm_noextrusion"]]
IMAGE = thumbnail_png((GCODE_FIXTURES / "prusaslicer" / "prusa_cube20_0.20mm_PLA_thumbs.gcode").read_bytes())


@pytest.fixture(scope="module")
def printer() -> Iterator[KlipperPrinter]:
    with klipper_printer() as real:
        yield real


def test_file_page_shows_each_plate_and_prints_the_one_picked(page: Page, stack: Stack,
                                                              printer: KlipperPrinter) -> None:
    sign_in(page, stack)
    plates = [(GCODE_FIXTURES / entry["file"]).read_bytes() for entry in PLATES]
    answer = page.request.post("/api/v1/files", headers={"X-Requested-With": "e2e"}, multipart={
        "file": {"name": "pair.gcode.3mf", "mimeType": "application/octet-stream",
                 "buffer": gcode_3mf(plates, image=IMAGE)}})
    assert answer.status == 201, answer.text()
    file = answer.json()
    added = page.request.post("/api/v1/printers", headers={"X-Requested-With": "e2e"},
                              data={"name": "Plate Voron", "provider": "moonraker", "url": printer.url})
    assert added.status == 201, added.text()

    page.goto(f"/files/{file['id']}")
    section = page.get_by_role("region", name="Plates (2)")
    expect(section).to_be_visible()
    for index, entry in enumerate(PLATES, start=1):
        plate = section.get_by_role("listitem", name=f"Plate {index}")
        preview = plate.get_by_role("img", name=f"Preview of plate {index} of pair.gcode.3mf")
        expect(preview).to_be_visible()
        expect(preview).to_have_js_property("complete", True)  # visible comes before loaded
        assert preview.evaluate("img => img.naturalWidth") == 300  # drawn, not a broken image
        expected = entry["expected"]
        expect(plate.locator("dl.meta")).to_contain_text(
            f"{expected['nozzle_diameter']} mm nozzle · {expected['layer_height']} mm layer height")
    shot(page, "20-file-plates")

    page.get_by_label("Printer").select_option(str(added.json()["id"]))
    page.get_by_label("Plate", exact=True).select_option("2")
    page.get_by_role("button", name="Start print").click()
    expect(page.get_by_text("Sent.")).to_be_visible(timeout=60_000)  # the api uploads the plate to Moonraker first
    remote = f"printstash/{file['sha256']}/pair-plate2.gcode"
    assert printer.wait_print_state({"printing", "complete"}, timeout=30) in {"printing", "complete"}
    assert remote in printer.files()
    on_printer = printer.http.get(f"/server/files/gcodes/{remote}")
    assert on_printer.status_code == 200 and on_printer.content == plates[1]  # plate 2, byte for byte
    printer.http.post("/printer/print/cancel")
