# Sorts after test_web_app.py, which begins on the shared stack's fresh vault (conftest.py).
"""The toolpath preview of a large file (issue 14): a G-code of more than 200 MB made of a
real PrusaSlicer fixture's layers (its head, its layer section repeated, its last layer and
footer; bench/ingest/bench_upload.py builds its benchmark file the same way), uploaded with
curl, opened in Chromium at desktop and phone sizes: the first layer is drawn, the last one
too after End, and the JS heap stays under the issue's 250 MB. The expected layer count is
counted while the file is built, not read from PrintStash."""

import json
import subprocess
from pathlib import Path

import pytest
from e2ekit import Stack, shot, sign_in
from harness.paths import GCODE_FIXTURES
from playwright.sync_api import Browser, Page, expect
from test_web_app_preview import CANVAS, HEAP_BOUND, PHONE, drawn_layer, drawn_pixels, heap_used, settled

pytestmark = pytest.mark.e2e

SOURCE = GCODE_FIXTURES / "prusaslicer" / "prusa_cylinder_0.15mm_PETG_thumbs.gcode"
MARK = b"\n;LAYER_CHANGE\n"
MIN_BYTES = 210_000_000


def build(path: Path) -> int:
    """Write the large file; the number of layer markers it holds."""
    src = SOURCE.read_bytes()
    first, last = src.index(MARK), src.rindex(MARK)
    head, body, tail = src[:first], src[first:last], src[last:]
    repeats = -(-(MIN_BYTES - len(head) - len(tail)) // len(body))
    with path.open("wb") as out:
        out.write(head)
        for _ in range(repeats):
            out.write(body)
        out.write(tail)
    return repeats * body.count(MARK) + tail.count(MARK)


@pytest.fixture(scope="module")
def large(stack: Stack, tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> dict:
    path = tmp_path_factory.mktemp("large") / "cylinder_repeated_210mb.gcode"
    layers = build(path)
    context = browser.new_context(base_url=stack.web)
    page = context.new_page()
    sign_in(page, stack)
    made = page.request.post("/api/v1/api-keys", headers={"X-Requested-With": "e2e"},
                             data={"name": "large preview test"})
    assert made.status == 201, made.text()
    key = made.json()
    try:
        out = subprocess.run(["curl", "-sS", "-H", f"X-Api-Key: {key['key']}", "-F", f"file=@{path}",
                              "-w", "\n%{http_code}", f"{stack.api}/api/v1/files"],
                             capture_output=True, text=True, check=True, timeout=600)
        body, _, status = out.stdout.rpartition("\n")
        assert status == "201", out.stdout[-500:]
    finally:
        page.request.delete(f"/api/v1/api-keys/{key['id']}", headers={"X-Requested-With": "e2e"})
        context.close()
        path.unlink()
    return {**json.loads(body), "layers": layers}


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_a_large_file_previews_its_first_and_last_layers_within_the_heap_bound(
        page: Page, stack: Stack, large: dict, viewport: dict) -> None:
    assert large["size"] > 200_000_000
    count = large["layers"]
    sign_in(page, stack)
    page.set_viewport_size(viewport)
    page.goto(f"/files/{large['id']}/preview")
    drawn_layer(page, 0)
    assert drawn_pixels(settled(page)) > 200, "the first layer is drawn"
    label = page.locator(".preview-controls label[for='preview-layer']")
    expect(label).to_contain_text(f"Layer 1 of {count}")

    page.get_by_role("slider").focus()
    page.keyboard.press("End")
    drawn_layer(page, count - 1)
    expect(label).to_contain_text(f"Layer {count} of {count}")
    assert drawn_pixels(settled(page)) > 200, "the last layer is drawn"
    assert heap_used(page) < HEAP_BOUND
    assert page.locator(CANVAS).count() == 1
    shot(page, f"preview-large-{'phone' if viewport is PHONE else 'desktop'}")
