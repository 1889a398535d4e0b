# The e2e files share one session stack (conftest.py) and test_web_app.py begins on the fresh vault
# (the setup wizard), so every other browser test file sorts after it: test_web_app_*.py.
"""The model viewer (issue 14) in real Chromium against the real api: real PrusaSlicer models
(tests/fixtures/models) uploaded, "View in 3D" opened from the file page, the canvas read back
for drawn pixels, the mouse and a finger turning the view, the theme toggle recolouring it, a
20 MB STL opening with its progress shown, and a mesh the loader cannot read answered in words.
Expected triangle counts come from the fixtures manifest."""

import hashlib
import json

import pytest
from e2ekit import CANVAS, PHONE, Stack, changed_pixels, mouse_drag, settled, shot, sign_in, touch_drag
from harness.meshes import torus_stl
from harness.paths import MODEL_FIXTURES
from PIL import Image, ImageFilter
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

MODELS = {m["id"]: m for m in json.loads((MODEL_FIXTURES / "manifest.json").read_text())["files"]}
MEDIA = {"stl": "model/stl", "obj": "model/obj", "3mf": "model/3mf"}
# Watches from the page's start: the progress bar of the download (it may show only briefly on
# loopback) and the longest stretch the page's main thread was held (Long Tasks API).
WATCH = """
window.__seen = { progress: false, longest: 0 };
new MutationObserver(() => {
  if (document.querySelector('progress[aria-label="Downloading the model"]')) window.__seen.progress = true;
}).observe(document, { childList: true, subtree: true });
new PerformanceObserver((list) => {
  for (const task of list.getEntries()) window.__seen.longest = Math.max(window.__seen.longest, task.duration);
}).observe({ type: 'longtask', buffered: true });
"""


def upload(page: Page, name: str, data: bytes, kind: str) -> dict:
    """Through the api with the page's own session (setup for the checks, not the check)."""
    answer = page.request.post("/api/v1/files", headers={"X-Requested-With": "e2e"}, multipart={
        "file": {"name": name, "mimeType": MEDIA[kind], "buffer": data}})
    assert answer.status in (200, 201), answer.text()
    return answer.json()


def upload_fixture(page: Page, entry: dict) -> dict:
    return upload(page, entry["file"], (MODEL_FIXTURES / entry["file"]).read_bytes(), entry["kind"])


def open_viewer(page: Page, file: dict) -> None:
    page.goto(f"/files/{file['id']}")
    page.get_by_role("link", name="View in 3D").click()
    expect(page.get_by_role("heading", name=f"3D view of {file['name']}")).to_be_visible()


def drawn(page: Page, timeout: float = 15_000) -> None:
    """Wait until the view has rendered a frame with the model in it."""
    expect(page.locator(f"{CANVAS}[data-drawn='model']")).to_have_count(1, timeout=timeout)


def solid_pixels(image: Image.Image) -> int:
    """Pixels inside drawn surfaces: the opaque area shrunk by 2 px each way, so the grid's
    thin lines fall away and the model's faces remain."""
    opaque = image.getchannel("A").point(lambda a: 255 if a > 200 else 0)
    return opaque.filter(ImageFilter.MinFilter(5)).histogram()[255]


@pytest.mark.parametrize("model", ["cylinder_binary", "cone_ascii", "cone", "two_objects"])
def test_each_model_kind_opens_in_the_mesh_viewer_and_turns(page: Page, stack: Stack, model: str) -> None:
    entry = MODELS[model]
    sign_in(page, stack)
    file = upload_fixture(page, entry)
    open_viewer(page, file)
    drawn(page)
    facts = page.locator(".mesh-facts")
    expect(facts).to_contain_text(f"{entry['expected']['triangles']:,} triangles")
    before = settled(page)
    width, height = before.size
    assert solid_pixels(before) > width * height * 0.02, "the model's faces are drawn, not only the grid"
    mouse_drag(page, 160, 40)
    assert changed_pixels(before, settled(page)) > 500, "dragging turns the view"
    shot(page, f"model-{model}")


def test_the_viewer_follows_the_theme(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    file = upload_fixture(page, MODELS["cylinder_binary"])
    open_viewer(page, file)
    drawn(page)
    light_or_dark = settled(page)
    page.get_by_role("button", name="Dark mode").click()
    toggled = settled(page)
    assert changed_pixels(light_or_dark, toggled) > 2000, "the model and grid take the other theme's colours"
    page.get_by_role("button", name="Dark mode").click()
    assert changed_pixels(light_or_dark, settled(page)) == 0, "and back"


def test_the_viewer_on_a_phone_fits_and_turns_by_touch(phone: Page) -> None:
    file = upload_fixture(phone, MODELS["cone"])
    open_viewer(phone, file)
    drawn(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = phone.locator(CANVAS).bounding_box()
    assert box and box["width"] <= PHONE["width"] and box["height"] >= 250
    before = settled(phone)
    assert solid_pixels(before) > before.size[0] * before.size[1] * 0.02
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    touch_drag(phone, middle, (middle[0] + 120, middle[1]))
    assert changed_pixels(before, settled(phone)) > 200, "a finger turns the view"
    shot(phone, "model-phone")


def test_a_20_mb_stl_opens_with_progress_and_the_page_stays_responsive(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    data = torus_stl()  # bench/models measures the same 20.1 MB, 401,408 triangles
    assert len(data) >= 20_000_000
    file = upload(page, "torus.stl", data, "stl")
    page.add_init_script(WATCH)
    open_viewer(page, file)
    drawn(page, timeout=60_000)
    expect(page.locator(".mesh-facts")).to_contain_text(f"{(len(data) - 84) // 50:,} triangles")
    seen = page.evaluate("window.__seen")
    print(f"20 MB STL: longest main-thread task {seen['longest']:.0f} ms")  # shown with -s (docs/performance.md)
    assert seen["progress"], "the download's progress was shown"
    # The parse and the first frame of 400k triangles hold the main thread once, briefly; a
    # frozen page (a whole-file parse per frame, a loop) holds it for many seconds.
    assert seen["longest"] < 4_000, seen
    assert solid_pixels(settled(page)) > 0
    shot(page, "model-torus-20mb")


def test_a_mesh_the_loader_cannot_read_is_answered_in_words(page: Page, stack: Stack) -> None:
    """The stored bytes of a model damaged after its upload (a disk's fault): the viewer says it
    cannot show it; the file's own bytes are put back afterwards."""
    sign_in(page, stack)
    original = (MODEL_FIXTURES / MODELS["cylinder_binary"]["file"]).read_bytes()
    unique = b"damaged-viewer-test".ljust(80, b" ") + original[80:]  # another header: its own content
    file = upload(page, "damaged.stl", unique, "stl")
    stored = stack.data_dir / "files" / file["sha256"][:2] / file["sha256"]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == file["sha256"]
    stored.write_bytes(bytes(len(unique)))  # all zeros: no triangle count, no triangles
    try:
        open_viewer(page, file)
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("This model cannot be shown")
        expect(alert).to_contain_text("no triangles")
        expect(page.locator(f"{CANVAS}[data-drawn='model']")).to_have_count(0)
    finally:
        stored.write_bytes(unique)
