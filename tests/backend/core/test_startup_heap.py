"""The api keeps its startup objects out of the garbage collector's full passes (app.py
lifespan): an upload that builds a 50,000-layer index paid 0.14 s for those passes walking
the app's ~200k startup objects. It also spaces the young collections out while it runs."""

import gc

from fastapi.testclient import TestClient

from printstash.app import YOUNG_GC_THRESHOLD, create_app
from printstash.core.settings import Settings


def test_startup_objects_are_frozen_once_the_api_has_started(vault: Settings) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(vault)) as client:
        assert client.get("/api/v1/health/live").status_code == 200
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0  # stopped: released again


def test_young_collections_are_spaced_out_while_the_api_runs(vault: Settings) -> None:
    """A list request's own objects crossed CPython's default threshold (700) about twice per
    request; the api raises it while it runs and puts the process's back when it stops."""
    before = gc.get_threshold()
    with TestClient(create_app(vault)) as client:
        assert client.get("/api/v1/health/live").status_code == 200
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *before[1:])
        assert 10 * before[0] < YOUNG_GC_THRESHOLD
    assert gc.get_threshold() == before
