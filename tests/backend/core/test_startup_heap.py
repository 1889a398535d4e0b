"""The api keeps its startup objects out of the garbage collector's full passes (app.py
lifespan): an upload that builds a 50,000-layer index paid 0.14 s for those passes walking
the app's ~200k startup objects."""

import gc

from fastapi.testclient import TestClient

from printstash.app import create_app
from printstash.core.settings import Settings


def test_startup_objects_are_frozen_once_the_api_has_started(vault: Settings) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(vault)) as client:
        assert client.get("/api/v1/health/live").status_code == 200
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0  # stopped: released again
