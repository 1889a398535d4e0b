"""Compat fixtures: a PrintStash with an admin API key, as a slicer is configured."""

from collections.abc import Iterator

import pytest
from compatkit import Slicer
from fastapi.testclient import TestClient

from printstash.app import create_app
from printstash.auth import service as auth_service
from printstash.core.db import Database
from printstash.core.settings import Settings


@pytest.fixture
def slicer(vault: Settings) -> Iterator[Slicer]:
    database = Database.from_settings(vault)
    with database.write() as session:
        user = auth_service.create_user(session, "maker", "maker password", "member")
        _, key = auth_service.create_api_key(session, user, "PrusaSlicer")
    with TestClient(create_app(vault)) as client:
        yield Slicer(client, key, database)
    database.dispose()
