"""Shared by the e2e fixtures and tests: the running stack, the admin, screenshots."""

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.paths import REPO
from playwright.sync_api import Page, expect

FRONTEND = REPO / "frontend"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
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
