"""Library test fixtures; the helpers live in librarykit.py."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from harness.vault import make_settings, migrate
from librarykit import make_key

from printstash.app import create_app


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Build an authenticated client over a vault with custom settings."""
    clients: list[TestClient] = []

    def build(**overrides: object) -> TestClient:
        settings = make_settings(tmp_path / f"data{len(clients)}", **overrides)
        migrate(settings)
        client = TestClient(create_app(settings), headers={"X-Api-Key": make_key(settings)})
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)
