"""Browser end-to-end fixtures: the whole product as a person meets it.

Real processes only: uvicorn api + worker on a fresh migrated vault, `vite preview` serving
the built web app and proxying the api (PRINTSTASH_API_URL), Debian's chromium driven by
pytest-playwright, and (for the printer test) real Moonraker 0.11.0 + Klippy from the
harness. Every port is free-picked, so parallel sessions do not collide.
"""

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2ekit import FRONTEND, PHONE, Stack, ensure_build, sign_in
from harness.paths import BACKEND
from harness.processes import free_port, logged_process, vault_env, wait_http
from harness.vault import make_settings, migrate
from playwright.sync_api import Browser, BrowserContext, Page, expect

CHROMIUM = "/usr/bin/chromium"
# What Debian's chromium needs to run headless as root (found when these tests were set up).
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
POLL_SECONDS = "0.5"

expect.set_options(timeout=15_000)


def _ensure_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, capture_output=True)
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed and cannot be installed here "
                    "(run `sudo apt-get install chromium`)")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    _ensure_chromium()
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A fresh, unconfigured vault behind api + worker + `vite preview`."""
    ensure_build()
    root = tmp_path_factory.mktemp("e2e")
    data_dir = root / "data"
    migrate(make_settings(data_dir))
    token = secrets.token_urlsafe(16)
    env = vault_env(data_dir, VAULT_SETUP_TOKEN=token, VAULT_PRINTER_POLL_SECONDS=POLL_SECONDS)
    api_port, web_port = free_port(), free_port()
    api, web = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{web_port}"
    cli = [sys.executable, "-m", "printstash.cli"]
    vite = ["node", str(FRONTEND / "node_modules" / "vite" / "bin" / "vite.js"), "preview",
            "--host", "127.0.0.1", "--port", str(web_port), "--strictPort"]
    web_env = {**os.environ, "PRINTSTASH_API_URL": api}
    with logged_process([*cli, "serve", "--port", str(api_port)], BACKEND, env, root / "api.log"), \
            logged_process([*cli, "worker"], BACKEND, env, root / "worker.log"), \
            logged_process(vite, FRONTEND, web_env, root / "vite.log"):
        # Generous: on a busy 2-CPU machine the api's first start can take half a minute.
        wait_http(f"{api}/api/v1/health/live", timeout=90)
        wait_http(f"{web}/api/v1/health/live", timeout=90)
        yield Stack(web=web, api=api, data_dir=data_dir, setup_token=token, logs=root)


@pytest.fixture(scope="session")
def context(browser: Browser, stack: Stack) -> Iterator[BrowserContext]:
    """One browser profile for the whole run, so the sign-in carries from test to test."""
    ctx = browser.new_context(base_url=stack.web, viewport={"width": 1280, "height": 860})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())  # "Revoke …?", "Cancel the print?"
    # the app must work under its Content-Security-Policy: any violation fails the test
    refused: list[str] = []
    tab.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield tab
    tab.close()
    assert refused == [], refused


@pytest.fixture
def phone(browser: Browser, stack: Stack) -> Iterator[Page]:
    """A phone (390 x 844, touch), signed in, in a profile of its own."""
    context = browser.new_context(base_url=stack.web, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, stack)
    yield page
    context.close()
