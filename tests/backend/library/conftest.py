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


@pytest.fixture(autouse=True)
def statements_kept_for_their_shape(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A list statement that binds a value outside its query's parameters cannot be kept for the
    query's shape: library/search.py (`_prepared`) logs it, and the test that built it fails here."""
    yield
    unkept = [record.getMessage() for record in caplog.get_records("call")
              if record.name == "printstash.library.search" and "not kept" in record.getMessage()]
    assert not unkept, unkept
