"""Shared by the e2e fixtures and tests: the running stack, the admin, screenshots."""

import base64
import contextlib
import io
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.paths import REPO
from PIL import Image, ImageChops
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

FRONTEND = REPO / "frontend"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CANVAS = ".preview-canvas canvas"  # the 3D views' canvas (toolpaths and models)
ADMIN = ("admin", "correct horse battery staple")
PHONE = {"width": 390, "height": 844}
# page.evaluate(SIDEWAYS): the page's width and the first elements that stick out sideways or
# scroll sideways themselves (nothing may, at a phone's 390 px).
SIDEWAYS = """() => {
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    const scrolls = ['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
    const rect = el.getBoundingClientRect();
    const outside = style.position !== 'fixed' && rect.width > 0 && (rect.right > innerWidth + 1 || rect.left < -1)
      && !el.closest('.sr-only, .sr-only-input, .skip-link');
    const where = `${Math.round(rect.left)}..${Math.round(rect.right)}`;
    if (scrolls || outside) wide.push(`${el.tagName.toLowerCase()}.${el.className} ${where}`);
  }
  return { page: document.documentElement.scrollWidth, wide: wide.slice(0, 5) };
}"""


@dataclass
class Stack:
    web: str  # the web app, as a browser opens it
    api: str  # the api directly (for checks a person cannot make from the page)
    data_dir: Path
    setup_token: str
    logs: Path


def sign_in(page: Page, stack: Stack) -> None:
    """Whatever state the profile is in, end up signed in (tests can also run alone)."""
    page.goto("/")
    landing = re.compile("^(Library|Set up PrintStash|Sign in to PrintStash)$")
    page.get_by_role("heading", name=landing).wait_for()
    if page.url.endswith("/setup"):
        complete_setup(page, stack.setup_token)
    elif page.url.endswith("/login"):
        page.get_by_label("Username").fill(ADMIN[0])
        page.get_by_label("Password").fill(ADMIN[1])
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible()


def complete_setup(page: Page, token: str) -> None:
    page.get_by_label("Setup token").fill(token)
    page.get_by_label("Admin username").fill(ADMIN[0])
    page.get_by_label("Password", exact=True).fill(ADMIN[1])
    page.get_by_label("Repeat the password").fill(ADMIN[1])
    page.get_by_role("button", name="Create admin and sign in").click()


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot for reviewers (tests/e2e/screenshots, gitignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    time.sleep(0.2)  # let images decode and layout settle
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def shot_both_themes(page: Page, name: str) -> None:
    """Screenshots of the page as it is now in the light and the dark theme (the data-theme the
    toggle sets, lib/theme.ts), then the theme it had. For pages a walk cannot reach again:
    the setup wizard, the sign-in page, a print in progress."""
    before = page.evaluate("document.documentElement.dataset.theme ?? null")
    try:
        for theme in ("light", "dark"):
            page.evaluate("theme => { document.documentElement.dataset.theme = theme }", theme)
            shot(page, f"theme-{theme}-{name}")
    finally:
        page.evaluate("theme => { if (theme) document.documentElement.dataset.theme = theme; "
                      "else delete document.documentElement.dataset.theme }", before)


def sideways_when_settled(page: Page, width: int = PHONE["width"], timeout_ms: float = 5000) -> dict:
    """SIDEWAYS once nothing sticks out, or after timeout_ms: a page still laying itself out (live
    status text, a graph sized by its container) may stick out for a moment (4 px once, in a
    clean-clone CI run of the printer page)."""
    fits = f"() => {{ const found = ({SIDEWAYS})(); return found.page <= {width} && !found.wide.length; }}"
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(fits, timeout=timeout_ms)
    return page.evaluate(SIDEWAYS)


def sideways_on_a_phone(page: Page) -> dict:
    """SIDEWAYS for the page as it is now, laid out at a phone's 390x844 (then its own size again)."""
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        return page.evaluate(SIDEWAYS)
    finally:
        if size:
            page.set_viewport_size(size)


def _newest_mtime(*roots: Path) -> float:
    return max((p.stat().st_mtime for root in roots for p in root.rglob("*") if p.is_file()), default=0.0)


def ensure_build() -> None:
    """`make test` builds the app first; build here too when dist is missing or older than src."""
    index = FRONTEND / "dist" / "index.html"
    sources = _newest_mtime(FRONTEND / "src", FRONTEND / "public")
    if index.exists() and index.stat().st_mtime >= sources:
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the web app cannot be built")
    if not (FRONTEND / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True, capture_output=True)
    subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True, capture_output=True)


# ---- the 3D views' canvas, read back as a picture ---------------------------------------------

def picture(page: Page) -> Image.Image:
    url = page.locator(CANVAS).evaluate("canvas => canvas.toDataURL('image/png')")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA")


def drawn_pixels(image: Image.Image) -> int:
    """Pixels drawn on: the canvas is cleared to transparent, the page shows through."""
    return sum(image.getchannel("A").histogram()[1:])


def changed_pixels(before: Image.Image, after: Image.Image) -> int:
    difference = ImageChops.difference(before, after).convert("L")
    return sum(difference.histogram()[1:])


def settled(page: Page) -> Image.Image:
    """The picture once two frames in a row are the same (a render follows each change)."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    return picture(page)


def mouse_drag(page: Page, dx: float, dy: float) -> None:
    """Press in the canvas's middle and move by (dx, dy), as a person turns the view."""
    box = page.locator(CANVAS).bounding_box()
    assert box
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy, steps=8)
    page.mouse.up()


def touch_drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """One finger across the screen, as the phone's touch screen reports it."""
    session = page.context.new_cdp_session(page)
    steps = [(start[0] + (end[0] - start[0]) * k / 8, start[1] + (end[1] - start[1]) * k / 8) for k in range(9)]
    session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]})
    for x, y in steps[1:]:
        session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    session.detach()
