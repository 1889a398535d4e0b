"""Auth fixtures: an unconfigured vault with a known setup token, and signed-in browsers."""

from collections.abc import Callable, Iterator

import pytest
from authkit import ADMIN, ORIGIN, SETUP_TOKEN
from fastapi.testclient import TestClient
from harness.vault import make_settings

from printstash.app import create_app
from printstash.core.settings import Settings


@pytest.fixture
def token_vault(vault: Settings) -> Settings:
    """The migrated, unconfigured vault with VAULT_SETUP_TOKEN set."""
    return make_settings(vault.data_dir, setup_token=SETUP_TOKEN)


@pytest.fixture
def web(token_vault: Settings) -> Iterator[TestClient]:
    """A web on the PrintStash page (sends Origin on POSTs, keeps cookies)."""
    with TestClient(create_app(token_vault), headers=ORIGIN) as client:
        yield client


@pytest.fixture
def configured(web: TestClient) -> TestClient:
    """`web` after first-run setup: signed in as the admin."""
    answer = web.post("/api/v1/auth/setup",
                          json={"setup_token": SETUP_TOKEN, "username": ADMIN[0], "password": ADMIN[1]})
    assert answer.status_code == 201, answer.text
    return web


@pytest.fixture
def new_web(token_vault: Settings) -> Iterator[Callable[[], TestClient]]:
    """Factory for further browsers (other people) on the same running vault."""
    clients: list[TestClient] = []

    def make() -> TestClient:
        client = TestClient(create_app(token_vault), headers=ORIGIN)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def token_vault_https(token_vault: Settings) -> Iterator[TestClient]:
    """A web reaching PrintStash over https (e.g. behind a TLS proxy)."""
    with TestClient(create_app(token_vault), base_url="https://testserver",
                    headers={"Origin": "https://testserver"}) as client:
        yield client
