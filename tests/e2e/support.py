"""Shared by the e2e fixtures and tests: the running stack, the admin, screenshots."""

import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

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
