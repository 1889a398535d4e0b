"""Shared by the e2e fixtures and tests: the running stack, the admin, screenshots."""

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.paths import REPO
from playwright.sync_api import Page

FRONTEND = REPO / "frontend"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
ADMIN = ("admin", "correct horse battery staple")


@dataclass
class Stack:
    web: str  # the web app, as a browser opens it
    api: str  # the api directly (for checks a person cannot make from the page)
    data_dir: Path
    setup_token: str
    logs: Path



def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot for reviewers (tests/e2e/screenshots, gitignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    time.sleep(0.2)  # let images decode and layout settle
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


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
