"""System-test fixtures: real peers started by tests/harness (no ../shared needed).

Printer fixtures: `klipper` is one real Moonraker 0.11.0 + Klippy (PyPI) for the whole
session (start-up ~3 s); tests that stop Moonraker or Klippy restart them before they end.
`printstash_stack` is a real api (uvicorn) + worker on a migrated vault, polling fast.
"""

import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from harness.paths import BACKEND
from harness.peers import KlipperPrinter, klipper_printer
from harness.processes import free_port, logged_process, vault_env, wait_http
from harness.vault import add_user_with_key, make_settings, migrate
from systemkit import POLL_SECONDS, Stack

from printstash.core.db import Database


@pytest.fixture(scope="session")
def klipper() -> Iterator[KlipperPrinter]:
    with klipper_printer() as printer:
        yield printer


def _process(args: list[str], env: dict[str, str], log: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """`printstash ARGS`, its output in a log file."""
    return logged_process([sys.executable, "-m", "printstash.cli", *args], BACKEND, env, log)


def _client(base: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"X-Api-Key": key}, timeout=60.0)


@pytest.fixture(scope="module")
def printstash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A migrated vault with an admin and a member, real api + worker polling every 0.5 s."""
    data_dir = tmp_path_factory.mktemp("stack") / "data"
    settings = make_settings(data_dir)
    migrate(settings)
    admin_key = add_user_with_key(settings, "admin", "admin")
    member_key = add_user_with_key(settings, "member", "member")
    db = Database.from_settings(settings)
    env = vault_env(data_dir, VAULT_PRINTER_POLL_SECONDS=str(POLL_SECONDS))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = data_dir.parent
    with _process(["serve", "--port", str(port)], env, logs / "api.log"), \
            _process(["worker"], env, logs / "worker.log"):
        wait_http(f"{base}/api/v1/health/live", timeout=90.0)  # a loaded CI machine starts slowly
        admin_client, member_client = _client(base, admin_key), _client(base, member_key)
        try:
            yield Stack(base, admin_client, member_client, data_dir, db, logs / "worker.log")
        finally:
            admin_client.close()
            member_client.close()
            db.dispose()
