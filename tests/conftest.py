"""Shared fixtures: a migrated vault in tmp_path, the app, and authenticated clients."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from harness import postgres
from harness.s3 import MotoS3, moto_s3
from harness.vault import add_user_with_key, make_settings, migrate

from printstash.app import create_app
from printstash.core.db import Database
from printstash.core.settings import Settings

ADMIN_PASSWORD = "correct horse battery"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests about one database engine itself run only on the database the suite uses."""
    engine = "postgresql" if postgres.wanted() else "sqlite"
    for item in items:
        for other in {"sqlite", "postgresql"} - {engine}:
            if item.get_closest_marker(other):
                item.add_marker(pytest.mark.skip(reason=f"about {other}; this run uses {engine}"))
@pytest.fixture(scope="session")
def moto() -> Iterator[MotoS3]:
    """One S3 server (moto, loopback) for the session; each test takes a fresh bucket."""
    with moto_s3() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an empty data dir (not migrated)."""
    return make_settings(tmp_path / "data")


@pytest.fixture
def vault(settings: Settings) -> Settings:
    """A data dir migrated to head, as after `uv run alembic upgrade head`."""
    migrate(settings)
    return settings


@pytest.fixture
def db(vault: Settings) -> Iterator[Database]:
    database = Database.from_settings(vault)
    yield database
    database.dispose()


@pytest.fixture
def app_client(vault: Settings) -> Iterator[TestClient]:
    """The app with no credentials."""
    with TestClient(create_app(vault)) as client:
        yield client


def _client_with_key(vault: Settings, username: str, role: str) -> Iterator[TestClient]:
    key = add_user_with_key(vault, username, role, ADMIN_PASSWORD)
    with TestClient(create_app(vault), headers={"X-Api-Key": key}) as client:
        yield client


@pytest.fixture
def admin_client(vault: Settings) -> Iterator[TestClient]:
    """The app, authenticated as an admin by API key."""
    yield from _client_with_key(vault, "admin", "admin")


@pytest.fixture
def member_client(vault: Settings) -> Iterator[TestClient]:
    yield from _client_with_key(vault, "member", "member")


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """On PostgreSQL, drop the databases a test made (they would fill the disk otherwise)."""
    if not postgres.wanted():
        yield
        return
    made_before = len(postgres.server().created)
    yield
    postgres.server().drop_created(since=made_before)
