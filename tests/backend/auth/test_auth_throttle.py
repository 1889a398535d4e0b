"""Failed sign-ins slow down further attempts per account and per client address + account,
without sleeping the server: 429 + Retry-After, and nothing is checked meanwhile. An address
alone never blocks a correct password: many people share one behind a proxy."""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from authkit import ADMIN, SETUP_TOKEN
from fastapi import Request
from fastapi.testclient import TestClient
from harness.vault import make_settings
from sqlalchemy import update

from printstash.app import create_app
from printstash.auth import client, throttle
from printstash.auth.models import LoginThrottle
from printstash.core.db import Database, utcnow
from printstash.core.settings import Settings


def _login(client: TestClient, username: str, password: str) -> tuple[int, dict[str, str], str]:
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return answer.status_code, dict(answer.headers), answer.json().get("code", "")


def _browser(app: Any, peer: str) -> TestClient:
    return TestClient(app, client=(peer, 40000), headers={"Origin": "http://testserver"})


def test_a_client_is_slowed_after_free_failures(configured: TestClient, token_vault: Settings) -> None:
    free = throttle.PAIR_POLICY.free_failures
    for _ in range(free - 1):
        assert _login(configured, ADMIN[0], "wrong password!")[0] == 401
    status, headers, _ = _login(configured, ADMIN[0], "wrong password!")
    assert status == 401  # the failure that starts the block is still an honest 401
    # now even the right password is refused from this client, quickly, with a Retry-After
    status, headers, code = _login(configured, ADMIN[0], ADMIN[1])
    assert (status, code) == (429, "too_many_attempts")
    assert 1 <= int(headers["retry-after"]) <= 2
    # other usernames are not blocked by someone guessing this one
    assert _login(configured, "someone-else", "x" * 10)[0] == 401
    # and the account's owner elsewhere is not under attack: the right password works
    with _browser(configured.app, "93.184.216.34") as elsewhere:
        assert _login(elsewhere, ADMIN[0], ADMIN[1])[0] == 200

    # once the window has passed, the right password works and clears this client's counter
    database = Database.from_settings(token_vault)
    with database.write() as session:
        session.execute(update(LoginThrottle).values(blocked_until=utcnow() - timedelta(seconds=1)))
    assert _login(configured, ADMIN[0], ADMIN[1])[0] == 200
    with database.read() as session:
        assert session.get(LoginThrottle, throttle.pair_subject("testclient", ADMIN[0])) is None
    database.dispose()


def test_an_account_attacked_from_many_addresses_is_blocked_for_everyone(configured: TestClient) -> None:
    with _browser(configured.app, "172.18.0.3") as proxy:  # the shipped proxy: a private peer
        for i in range(throttle.USER_POLICY.free_failures):
            proxy.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": "wrong password"},
                       headers={"X-Forwarded-For": f"198.51.100.{i}"})
        blocked = proxy.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]},
                             headers={"X-Forwarded-For": "203.0.113.1"})
        assert blocked.status_code == 429
        other = proxy.post("/api/v1/auth/login", json={"username": "nobody-attacked", "password": "x" * 10},
                           headers={"X-Forwarded-For": "198.51.100.1"})
        assert other.status_code == 401


def test_the_block_doubles_and_is_capped() -> None:
    policy = throttle.USER_POLICY
    delays = [throttle.delay_after(n, policy) for n in range(1, policy.free_failures + 12)]
    assert all(d == timedelta(0) for d in delays[: policy.free_failures - 1])
    growing = delays[policy.free_failures - 1:]
    assert growing[1] == 2 * growing[0] and growing[2] == 2 * growing[1]
    assert max(growing) == policy.max_delay and throttle.delay_after(10_000, policy) == policy.max_delay


def test_usernames_are_throttled_case_insensitively(configured: TestClient) -> None:
    for name in ["root", "ROOT", "Root", "rOOt", "RoOt"]:
        _login(configured, name, "wrong password!")
    assert _login(configured, "root", ADMIN[1])[0] == 429


def test_one_address_spraying_usernames_does_not_lock_out_the_others_behind_it(
        configured: TestClient, new_web: Callable[[], TestClient]) -> None:
    """Everyone behind one reverse proxy shares its address: a client there spraying many
    usernames is limited per account, and a correct password of another account still works."""
    for i in range(3 * throttle.ADDRESS_POLICY.free_failures):
        assert _login(configured, f"guess{i % 10}", "wrong password!")[0] in (401, 429)
    assert _login(configured, "guess0", "wrong password!")[0] == 429  # that account, from here
    colleague = new_web()  # another browser, same address ("testclient")
    assert _login(colleague, ADMIN[0], ADMIN[1])[0] == 200


def test_counts_are_forgotten_after_quiet_hour(token_vault: Settings, configured: TestClient) -> None:
    database = Database.from_settings(token_vault)
    subject = [throttle.user_subject("x")]
    now = utcnow()
    with database.write() as session:
        for _ in range(throttle.USER_POLICY.free_failures - 1):
            throttle.record_failure(session, subject, now)
        later = now + throttle.FORGET_AFTER + timedelta(seconds=1)
        throttle.record_failure(session, subject, later)
        row = session.get(LoginThrottle, subject[0])
        assert row is not None and row.failures == 1 and row.blocked_until is None
    database.dispose()


def test_address_comes_from_a_trusted_proxy_only(token_vault: Settings, configured: TestClient) -> None:
    """Behind the shipped proxy (a private peer) each browser is its own address; a public
    peer cannot pick one with a forged X-Forwarded-For."""
    free = throttle.PAIR_POLICY.free_failures
    wrong = {"username": ADMIN[0], "password": "wrong password"}
    right = {"username": ADMIN[0], "password": ADMIN[1]}
    with _browser(configured.app, "172.18.0.3") as proxy:
        for _ in range(free):
            proxy.post("/api/v1/auth/login", json=wrong, headers={"X-Forwarded-For": "198.51.100.7"})
        blocked = proxy.post("/api/v1/auth/login", json=right, headers={"X-Forwarded-For": "198.51.100.7"})
        assert blocked.status_code == 429
        other = proxy.post("/api/v1/auth/login", json=right,
                           headers={"X-Forwarded-For": "203.0.113.1, 198.51.100.8"})
        assert other.status_code == 200  # another browser behind the same proxy
    with _browser(configured.app, "93.184.216.34") as direct:
        for i in range(free):  # a new forged address every time: still one client
            direct.post("/api/v1/auth/login", json=wrong, headers={"X-Forwarded-For": f"192.0.2.{i}"})
        spoofed = direct.post("/api/v1/auth/login", json=right, headers={"X-Forwarded-For": "192.0.2.200"})
        assert spoofed.status_code == 429


def test_configured_trusted_proxies(token_vault: Settings) -> None:
    """VAULT_TRUSTED_PROXIES names the proxies whose X-Forwarded-For is believed, hop by hop
    from the right; empty believes none, even a private peer."""
    def address_seen(trusted: str, peer: str, forwarded: str) -> str:
        settings = make_settings(token_vault.data_dir, setup_token=SETUP_TOKEN, trusted_proxies=trusted)
        seen: list[str] = []
        app = create_app(settings)

        @app.get("/probe")
        def probe(request: Request) -> dict[str, str]:
            seen.append(client.client_address(request))
            return {}

        with _browser(app, peer) as browser:
            browser.get("/probe", headers={"X-Forwarded-For": forwarded} if forwarded else {})
        return seen[0]

    assert address_seen("", "172.18.0.3", "198.51.100.7") == "172.18.0.3"
    assert address_seen("203.0.113.9", "203.0.113.9", "198.51.100.7") == "198.51.100.7"
    assert address_seen("203.0.113.9", "172.18.0.3", "198.51.100.7") == "172.18.0.3"
    assert address_seen("203.0.113.0/24,10.0.0.0/8", "10.0.0.5", "198.51.100.7, 203.0.113.9") == "198.51.100.7"
    assert address_seen("10.0.0.0/8", "10.0.0.5", "not-an-ip") == "10.0.0.5"
    assert address_seen("10.0.0.0/8", "10.0.0.5", "") == "10.0.0.5"
    with pytest.raises(ValueError, match="trusted_proxies"):
        make_settings(token_vault.data_dir, trusted_proxies="10.0.0.0/8,proxy.example")


def test_secure_cookie_behind_tls_proxy(configured: TestClient) -> None:
    body = {"username": ADMIN[0], "password": ADMIN[1]}
    with TestClient(configured.app, client=("10.0.0.2", 1), headers={"Origin": "http://testserver"}) as proxy:
        tls = proxy.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in tls.headers["set-cookie"]
    with TestClient(configured.app, client=("93.184.216.34", 1), headers={"Origin": "http://testserver"}) as direct:
        forged = direct.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-Proto": "https"})
        assert "Secure" not in forged.headers["set-cookie"]


def test_stale_entries_are_purged(token_vault: Settings, configured: TestClient) -> None:
    database = Database.from_settings(token_vault)
    long_ago = utcnow() - throttle.FORGET_AFTER - timedelta(minutes=1)
    with database.write() as session:
        throttle.record_failure(session, ["user:sprayed-1", "user:sprayed-2"], long_ago)
        throttle.record_failure(session, ["user:recent"], utcnow())
    assert _login(configured, ADMIN[0], ADMIN[1])[0] == 200
    with database.read() as session:
        left = {row.subject for row in session.query(LoginThrottle)}
    database.dispose()
    assert "user:recent" in left and not {"user:sprayed-1", "user:sprayed-2"} & left


def test_failures_are_logged_for_the_admin(configured: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="printstash.auth.login")
    _login(configured, ADMIN[0], "wrong password!")
    assert any("failed sign-in: user='root' from testclient" in r.getMessage() for r in caplog.records)


def test_password_change_guesses_are_limited(configured: TestClient) -> None:
    """A borrowed session cannot be used to guess the current password without limit."""
    for _ in range(throttle.PAIR_POLICY.free_failures):
        wrong = configured.post("/api/v1/auth/password", json={"current_password": "guess guess guess",
                                                               "new_password": "taken over pw"})
        assert wrong.status_code == 401
    blocked = configured.post("/api/v1/auth/password", json={"current_password": ADMIN[1],
                                                             "new_password": "taken over pw"})
    assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_attempts"
