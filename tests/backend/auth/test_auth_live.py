"""The browser flow over real HTTP (uvicorn on loopback): the Host header carries a port,
cookies travel as a browser sends them, and the Origin check must compare like with like."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from authkit import ADMIN, SETUP_TOKEN
from harness.processes import live_api
from harness.vault import make_settings, migrate

from printstash.auth.dependencies import SESSION_COOKIE


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("live-auth") / "data"
    migrate(make_settings(data_dir))
    with live_api(data_dir, VAULT_SETUP_TOKEN=SETUP_TOKEN) as url:
        yield url


def test_browser_flow_over_http(base: str) -> None:
    page = {"Origin": base}  # what the browser sends from a page served by this host:port
    with httpx.Client(base_url=base, headers=page) as browser:
        assert browser.get("/api/v1/auth/status").json() == {"configured": False}
        setup = browser.post("/api/v1/auth/setup", json={"setup_token": SETUP_TOKEN, "username": ADMIN[0],
                                                         "password": ADMIN[1]})
        assert setup.status_code == 201
        cookie = setup.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert browser.get("/api/v1/auth/me").json()["username"] == ADMIN[0]
        assert browser.post("/api/v1/users", json={"username": "m1", "password": "member pw 123"}).status_code == 201

        other_port = base.rsplit(":", 1)[0] + ":1"
        for origin in (other_port, "http://localhost.evil.example", base.replace("127.0.0.1", "127.0.0.2")):
            refused = browser.post("/api/v1/users", json={"username": "m2", "password": "member pw 123"},
                                   headers={"Origin": origin})
            assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed", origin

        assert browser.post("/api/v1/auth/logout").status_code == 204
        assert browser.get("/api/v1/auth/me").status_code == 401
