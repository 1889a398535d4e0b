"""First run: the generated setup token is logged while no user exists, and only it works."""

import logging
import re

import pytest
from fastapi.testclient import TestClient

from printstash.app import create_app
from printstash.core.settings import Settings


def _setup(client: TestClient, token: str) -> int:
    body = {"setup_token": token, "username": "first", "password": "first admin pw"}
    return client.post("/api/v1/auth/setup", json=body).status_code


def test_generated_token_is_logged_and_required(vault: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="printstash.auth.setup")
    with TestClient(create_app(vault)) as client:
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("setup token: ")]
        assert len(lines) == 1
        token = lines[0].removeprefix("setup token: ")
        assert re.fullmatch(r"[A-Za-z0-9_-]{24,}", token)
        assert _setup(client, token[:-1] + ("A" if token[-1] != "A" else "B")) == 403
        assert _setup(client, "") == 403
        assert _setup(client, token) == 201
        assert _setup(client, token) == 409
    caplog.clear()
    with TestClient(create_app(vault)) as client:  # configured now: nothing to announce
        assert not [r for r in caplog.records if "setup token" in r.getMessage()]


def test_each_process_generates_its_own_token(vault: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="printstash.auth.setup")
    for _ in range(2):
        with TestClient(create_app(vault)):
            pass
    tokens = {r.getMessage() for r in caplog.records if r.getMessage().startswith("setup token: ")}
    assert len(tokens) == 2


def test_setup_validates_the_first_admin(vault: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="printstash.auth.setup")
    with TestClient(create_app(vault)) as client:
        token = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("setup token: "))
        token = token.removeprefix("setup token: ")
        weak = client.post("/api/v1/auth/setup", json={"setup_token": token, "username": "a", "password": "short"})
        assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
        missing = client.post("/api/v1/auth/setup", json={"setup_token": token})
        assert missing.status_code == 422 and missing.json()["code"] == "validation_error"
        assert client.get("/api/v1/auth/status").json() == {"configured": False}


def test_racing_setups_create_one_admin(vault: Settings) -> None:
    """Two browsers submitting the setup form at once: one admin, one 409."""
    from concurrent.futures import ThreadPoolExecutor

    from printstash.auth import service, setup
    from printstash.core.db import Database
    from printstash.core.errors import Conflict

    database = Database.from_settings(vault)

    def attempt(name: str) -> str:
        try:
            with database.write() as session:
                setup.create_first_admin(session, "tok", "tok", name, "first admin pw")
            return "created"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(attempt, ["a1", "a2", "a3", "a4"]))
    with database.read() as session:
        users = service.count_users(session)
    database.dispose()
    assert outcomes == ["conflict", "conflict", "conflict", "created"] and users == 1


def test_guessing_the_setup_token_is_slowed(vault: Settings) -> None:
    from printstash.auth import throttle

    with TestClient(create_app(vault)) as client:
        for i in range(throttle.ADDRESS_POLICY.free_failures):
            assert _setup(client, f"guess-{i}") == 403
        blocked = client.post("/api/v1/auth/setup", json={"setup_token": client.app.state.setup_token,  # type: ignore[attr-defined]
                                                          "username": "first", "password": "first admin pw"})
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
        assert client.get("/api/v1/auth/status").json() == {"configured": False}


def test_short_env_token_is_warned_about(vault: Settings, caplog: pytest.LogCaptureFixture) -> None:
    from harness.vault import make_settings

    caplog.set_level(logging.WARNING, logger="printstash.auth.setup")
    with TestClient(create_app(make_settings(vault.data_dir, setup_token="abc"))):
        pass
    assert any("shorter than" in r.getMessage() for r in caplog.records)
