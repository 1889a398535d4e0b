# The e2e files share one session stack (conftest.py) and test_web_app.py begins on the fresh vault
# (the setup wizard), so every other browser test file sorts after it: test_web_app_*.py.
"""The toolpath preview (issue 14) in real Chromium against the real api: a real PrusaSlicer
fixture uploaded, its Preview opened from the file page, the canvas read back for drawn
pixels, the layer slider driven by the keyboard, mouse and touch turning the view, and the JS
heap measured through the DevTools protocol. Expected layer counts and heights come from the
fixtures manifest."""

import json
import time
from collections.abc import Iterator

import pytest
from e2ekit import (
    ADMIN,
    CANVAS,
    PHONE,
    Stack,
    changed_pixels,
    drawn_pixels,
    mouse_drag,
    settled,
    shot,
    shot_both_themes,
    sign_in,
    touch_drag,
)
from harness.packages import zip_of
from harness.paths import GCODE_FIXTURES
from harness.peers import KlipperPrinter, klipper_printer
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e

MANIFEST = {f["id"]: f for f in json.loads((GCODE_FIXTURES / "manifest.json").read_text())["files"]}
CUBE = MANIFEST["prusa_cube20_0.20mm_PLA_thumbs"]
LAYERS = CUBE["expected"]["layer_count"]
TOP_Z = CUBE["expected"]["max_layer_z"]
FIRST_Z = CUBE["expected"]["first_layer_height"]
HEAP_BOUND = 250 * 1024 * 1024


def upload(page: Page, fixture: dict = CUBE) -> dict:
    """Through the api with the page's own session (setup for the checks, not the check)."""
    path = GCODE_FIXTURES / fixture["file"]
    answer = page.request.post("/api/v1/files", headers={"X-Requested-With": "e2e"}, multipart={
        "file": {"name": path.name, "mimeType": "text/x-gcode", "buffer": path.read_bytes()}})
    assert answer.status in (200, 201), answer.text()
    return answer.json()


def drawn_layer(page: Page, index: int) -> None:
    """Wait until the view has rendered a frame with layer `index` in it."""
    expect(page.locator(f"{CANVAS}[data-drawn-layer='{index}']")).to_have_count(1)


def heap_used(page: Page) -> int:
    session = page.context.new_cdp_session(page)
    try:
        return int(session.send("Runtime.getHeapUsage")["usedSize"])
    finally:
        session.detach()


def open_preview(page: Page, file: dict) -> None:
    page.goto(f"/files/{file['id']}")
    page.get_by_role("link", name="Preview", exact=True).click()
    expect(page.get_by_role("heading", name=f"Preview of {file['name']}")).to_be_visible()
    drawn_layer(page, 0)


@pytest.fixture(scope="module")
def cube(browser: Browser, stack: Stack) -> dict:
    context = browser.new_context(base_url=stack.web)
    page = context.new_page()
    sign_in(page, stack)
    file = upload(page)
    context.close()
    return file


def test_preview_draws_the_layers_and_follows_the_keyboard(page: Page, stack: Stack, cube: dict) -> None:
    sign_in(page, stack)
    index = page.request.get(f"/api/v1/files/{cube['id']}/layers").json()
    assert index["count"] == LAYERS
    open_preview(page, cube)
    label = page.locator(".preview-controls label[for='preview-layer']")
    expect(label).to_have_text(f"Layer 1 of {LAYERS} · Z {FIRST_Z:.2f} mm")
    first = settled(page)
    assert drawn_pixels(first) > 500, "the first layer is drawn"

    slider = page.get_by_role("slider")
    slider.focus()
    page.keyboard.press("End")
    drawn_layer(page, LAYERS - 1)
    expect(label).to_have_text(f"Layer {LAYERS} of {LAYERS} · Z {TOP_Z:.2f} mm")
    expect(page.locator(".preview-pending")).to_have_text("")  # the layers below have come in
    whole = settled(page)
    assert drawn_pixels(whole) > drawn_pixels(first) * 1.5, "the layers below the last one are drawn too"
    shot(page, "preview-last-layer")

    for key, layer in [("Home", 0), ("PageUp", 10), ("ArrowUp", 11), ("ArrowRight", 12), ("ArrowLeft", 11),
                       ("ArrowDown", 10), ("PageDown", 0)]:
        page.keyboard.press(key)
        expect(label).to_contain_text(f"Layer {layer + 1} of {LAYERS}")
        drawn_layer(page, layer)

    # The legend names only features of the index, and at least one drawn.
    legend = page.get_by_role("list", name="Feature types").get_by_role("listitem").all_inner_texts()
    assert legend and set(legend) <= set(index["features"]), (legend, index["features"])
    assert heap_used(page) < HEAP_BOUND


# Resource Timing of the requests a preview opened by its address starts (ms from navigation).
REQUESTS = """() => {
  const named = { me: /\\/auth\\/me$/, index: /\\/layers(\\?|$)/, layer0: /\\/layers\\/0(\\?|$)/ }
  const seen = {}
  for (const entry of performance.getEntriesByType('resource')) {
    for (const [name, pattern] of Object.entries(named)) {
      if (!seen[name] && pattern.test(entry.name)) seen[name] = { start: entry.startTime, end: entry.responseEnd }
    }
  }
  return seen
}"""


def test_a_preview_opened_by_its_address_asks_for_its_layers_at_once(page: Page, stack: Stack, cube: dict) -> None:
    """A reload or a link straight to the preview: the layer index and layer 0 are asked for as
    the app starts, not after the sign-in check answered, and layer 0 not after the index."""
    sign_in(page, stack)
    page.goto(f"/files/{cube['id']}/preview")
    drawn_layer(page, 0)
    expect(page.locator(".preview-controls label[for='preview-layer']")).to_have_text(
        f"Layer 1 of {LAYERS} · Z {FIRST_Z:.2f} mm")
    assert drawn_pixels(settled(page)) > 500
    seen = page.evaluate(REQUESTS)
    assert seen.keys() == {"me", "index", "layer0"}, seen
    assert seen["index"]["start"] < seen["me"]["end"], seen
    assert seen["layer0"]["start"] < seen["me"]["end"] and seen["layer0"]["start"] < seen["index"]["end"], seen


def test_a_preview_opened_signed_out_draws_after_signing_in(browser: Browser, stack: Stack, cube: dict) -> None:
    """The early requests of a signed-out visit are refused (401): after signing in the page asks again."""
    context = browser.new_context(base_url=stack.web)
    page = context.new_page()
    try:
        page.goto(f"/files/{cube['id']}/preview")
        expect(page.get_by_role("heading", name="Sign in to PrintStash")).to_be_visible()
        page.get_by_label("Username").fill(ADMIN[0])
        page.get_by_label("Password").fill(ADMIN[1])
        page.get_by_role("button", name="Sign in").click()  # back to the preview, in the same page
        expect(page.get_by_role("heading", name=f"Preview of {cube['name']}")).to_be_visible()
        drawn_layer(page, 0)
        assert drawn_pixels(settled(page)) > 500
    finally:
        context.close()


def test_travels_toggle_and_the_mouse_turns_the_view(page: Page, stack: Stack, cube: dict) -> None:
    sign_in(page, stack)
    open_preview(page, cube)
    page.get_by_role("slider").focus()
    page.keyboard.press("PageUp")
    drawn_layer(page, 10)
    without = settled(page)
    page.get_by_label("Show travel moves").check()
    expect(page.get_by_role("list", name="Feature types")).to_contain_text("Travel")
    with_travels = settled(page)
    assert changed_pixels(without, with_travels) > 50, "travel moves are drawn when asked for"

    mouse_drag(page, 150, 40)
    assert changed_pixels(with_travels, settled(page)) > 500, "dragging turns the view"


def test_preview_on_a_phone_fits_and_turns_by_touch(phone: Page, cube: dict) -> None:
    open_preview(phone, cube)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = phone.locator(CANVAS).bounding_box()
    assert box and box["width"] <= PHONE["width"] and box["height"] >= 250
    before = settled(phone)
    assert drawn_pixels(before) > 200
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    touch_drag(phone, middle, (middle[0] + 120, middle[1]))
    assert changed_pixels(before, settled(phone)) > 200, "a finger turns the view"
    shot(phone, "preview-phone")


CYLINDER = MANIFEST["prusa_cylinder_0.15mm_PETG_thumbs"]


def test_each_plate_of_a_package_has_its_preview(page: Page, stack: Stack) -> None:
    """A .gcode.3mf (Bambu Studio's layout) of two real PrusaSlicer plates: one Preview per plate."""
    sign_in(page, stack)
    plates = [(GCODE_FIXTURES / fixture["file"]).read_bytes() for fixture in (CUBE, CYLINDER)]
    package = zip_of({"3D/3dmodel.model": b'<model unit="millimeter"><resources/><build/></model>',
                      **{f"Metadata/plate_{n}.gcode": data for n, data in enumerate(plates, start=1)}})
    answer = page.request.post("/api/v1/files", headers={"X-Requested-With": "e2e"}, multipart={
        "file": {"name": "two plates.gcode.3mf", "mimeType": "application/octet-stream", "buffer": package}})
    assert answer.status == 201, answer.text()
    page.goto(f"/files/{answer.json()['id']}")
    page.get_by_role("link", name="Preview plate 2").click()
    label = page.locator(".preview-controls label[for='preview-layer']")
    expect(label).to_have_text(f"Layer 1 of {CYLINDER['expected']['layer_count']} · "
                               f"Z {CYLINDER['expected']['first_layer_height']:.2f} mm")
    drawn_layer(page, 0)
    page.get_by_role("navigation", name="Plates").get_by_role("link", name="Plate 1").click()
    expect(label).to_contain_text(f"Layer 1 of {LAYERS}")
    drawn_layer(page, 0)
    assert drawn_pixels(settled(page)) > 500


TINYBOX = MANIFEST["klipper_prusa_tinybox_0.20mm_noextrusion"]


@pytest.fixture(scope="module")
def printer() -> Iterator[KlipperPrinter]:
    with klipper_printer() as real:
        yield real


def test_printer_preview_follows_a_real_print_layer_by_layer(page: Page, stack: Stack, printer: KlipperPrinter) -> None:
    """Real Moonraker + Klippy print a file that reports its layers (SET_PRINT_STATS_INFO);
    the printer's preview moves with `print_stats.info.current_layer`, never ahead of it."""
    sign_in(page, stack)
    added = page.request.post("/api/v1/printers", headers={"X-Requested-With": "e2e"},
                              data={"name": "Layer Voron", "url": printer.url})
    assert added.status == 201, added.text()
    box = upload(page, TINYBOX)
    printer.gcode("M220 S300")  # 3x speed: a few seconds a layer
    started = page.request.post(f"/api/v1/printers/{added.json()['id']}/print", headers={"X-Requested-With": "e2e"},
                                data={"file_id": box["id"]})
    assert started.status == 202, started.text()

    page.goto(f"/printers/{added.json()['id']}")
    page.get_by_role("link", name="Follow the print layer by layer").click()
    page.get_by_label("Show travel moves").check()  # this file only travels (no extrusion)
    label = page.locator(".preview-controls label[for='preview-layer']")
    expect(label).to_contain_text(f"of {TINYBOX['expected']['layer_count']}")
    shot_both_themes(page, "printer-preview-printing")
    seen: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and printer.print_state() != "complete":
        shown = int(label.inner_text().split()[1])
        reported = printer.current_layer()
        if shown not in seen:
            seen.append(shown)
        assert reported is None or shown <= max(reported, 1), (shown, reported)
        time.sleep(0.3)
    assert len(seen) >= 3 and seen == sorted(seen), seen
    drawn_layer(page, seen[-1] - 1)
    assert drawn_pixels(settled(page)) > 100
