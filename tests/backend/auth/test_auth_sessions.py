"""Sessions: expiry, real logout, CSRF, credentials precedence, disabled users, resets."""

from collections.abc import Callable
from datetime import timedelta

from authkit import ADMIN, sign_in
from fastapi.testclient import TestClient
from sqlalchemy import update

from printstash.auth.dependencies import SESSION_COOKIE
from printstash.auth.models import UserSession
from printstash.core.db import Database, utcnow
from printstash.core.settings import Settings


def test_expired_session_is_refused(configured: TestClient, token_vault: Settings) -> None:
    assert configured.get("/api/v1/auth/me").status_code == 200
    database = Database.from_settings(token_vault)
    with database.write() as session:
        session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    database.dispose()
    answer = configured.get("/api/v1/auth/me")
    assert answer.status_code == 401 and answer.json()["code"] == "session_expired"


def test_session_lifetimes(configured: TestClient, token_vault: Settings) -> None:
    configured.post("/api/v1/auth/logout")
    sign_in(configured, *ADMIN)
    sign_in(configured, *ADMIN, remember=True)
    database = Database.from_settings(token_vault)
    with database.read() as session:
        rows = session.query(UserSession).order_by(UserSession.id).all()
    database.dispose()
    lifetimes = {row.remember: row.expires_at - row.created_at for row in rows[1:]}
    assert timedelta(hours=1) <= lifetimes[False] <= timedelta(days=1)
    assert lifetimes[True] >= timedelta(days=14)


def test_logout_revokes_server_side(configured: TestClient, new_web: Callable[[], TestClient]) -> None:
    stolen = configured.cookies.get(SESSION_COOKIE)
    assert stolen
    thief = new_web()
    thief.cookies.set(SESSION_COOKIE, stolen)
    assert thief.get("/api/v1/auth/me").status_code == 200
    assert configured.post("/api/v1/auth/logout").status_code == 204
    # the copied cookie is dead too: logout is not just the web forgetting it
    answer = thief.get("/api/v1/auth/me")
    assert answer.status_code == 401 and answer.json()["code"] == "session_expired"


def test_csrf_rejects_cross_site_cookie_writes(configured: TestClient) -> None:
    body = {"username": "victim2", "password": "long enough pw"}
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Origin": "http://testserver.evil.example"}):
        answer = configured.post("/api/v1/users", json=body, headers=headers)
        assert answer.status_code == 403 and answer.json()["code"] == "csrf_failed", headers
    # no Origin: the Referer decides; neither and no custom header: refused
    bare = TestClient(configured.app, cookies=dict(configured.cookies))
    assert bare.post("/api/v1/users", json=body, headers={"Referer": "http://evil.example/x"}).status_code == 403
    assert bare.post("/api/v1/users", json=body).status_code == 403
    assert bare.delete("/api/v1/api-keys/1").status_code == 403
    assert configured.get("/api/v1/users").json()["total"] == 1  # nothing was created
    # same-origin writes pass, by Origin, by Referer, or by a custom header
    assert configured.post("/api/v1/users", json=body).status_code == 201
    referer = bare.post("/api/v1/users", json={**body, "username": "v3"},
                        headers={"Referer": "http://testserver/users"})
    assert referer.status_code == 201
    custom = bare.post("/api/v1/users", json={**body, "username": "v4"}, headers={"X-Requested-With": "fetch"})
    assert custom.status_code == 201
    # reads need no origin check
    assert bare.get("/api/v1/users").status_code == 200


def test_api_keys_are_exempt_from_csrf(configured: TestClient) -> None:
    key = configured.post("/api/v1/api-keys", json={"name": "script"}).json()["key"]
    scripted = TestClient(configured.app, headers={"X-Api-Key": key, "Origin": "http://elsewhere.example"})
    assert scripted.post("/api/v1/api-keys", json={"name": "another"}).status_code == 201


def test_proxy_forwarded_host_counts_as_ours(configured: TestClient) -> None:
    answer = configured.post("/api/v1/api-keys", json={"name": "k"},
                             headers={"Origin": "http://vault.lan:3000", "X-Forwarded-Host": "vault.lan:3000"})
    assert answer.status_code == 201


def test_default_ports_are_the_same_origin(configured: TestClient) -> None:
    answer = configured.post("/api/v1/api-keys", json={"name": "k"},
                             headers={"Origin": "http://vault.lan", "Host": "vault.lan:80"})
    assert answer.status_code == 201
    other = configured.post("/api/v1/api-keys", json={"name": "k"},
                            headers={"Origin": "http://vault.lan:8080", "Host": "vault.lan:80"})
    assert other.status_code == 403


def test_cross_site_login_refused(web: TestClient, configured: TestClient) -> None:
    answer = configured.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]},
                             headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and answer.json()["code"] == "csrf_failed"


def test_wrong_and_absent_credentials(configured: TestClient, new_web: Callable[[], TestClient]) -> None:
    anonymous = new_web()
    absent = anonymous.get("/api/v1/auth/me")
    assert absent.status_code == 401 and absent.json()["code"] == "not_authenticated"
    for headers in ({"X-Api-Key": "ps_wrong"}, {"Authorization": "Bearer ps_wrong"}, {"X-Api-Key": "x" * 5000}):
        answer = anonymous.get("/api/v1/auth/me", headers=headers)
        assert answer.status_code == 401 and answer.json()["code"] == "invalid_api_key"
    anonymous.cookies.set(SESSION_COOKIE, "forged-token")
    assert anonymous.get("/api/v1/auth/me").status_code == 401
    # a wrong key is not rescued by a valid cookie: the key is what the caller asked to use
    answer = configured.get("/api/v1/auth/me", headers={"X-Api-Key": "ps_wrong"})
    assert answer.status_code == 401


def test_disable_reset_delete_users(configured: TestClient, new_web: Callable[[], TestClient]) -> None:
    made = configured.post("/api/v1/users", json={"username": "bob", "password": "bob password 1"}).json()
    bob = new_web()
    sign_in(bob, "bob", "bob password 1")
    key = bob.post("/api/v1/api-keys", json={"name": "bob's"}).json()["key"]
    assert configured.patch(f"/api/v1/users/{made['id']}", json={"disabled": True}).json()["disabled"] is True
    assert bob.get("/api/v1/auth/me").status_code == 401  # session revoked
    assert bob.get("/api/v1/auth/me", headers={"X-Api-Key": key}).status_code == 401  # keys dead while disabled
    refused = bob.post("/api/v1/auth/login", json={"username": "bob", "password": "bob password 1"})
    assert refused.status_code == 401
    configured.patch(f"/api/v1/users/{made['id']}", json={"disabled": False, "password": "bob's new password"})
    assert bob.get("/api/v1/auth/me", headers={"X-Api-Key": key}).status_code == 401  # a reset revokes keys
    assert bob.post("/api/v1/auth/login", json={"username": "bob", "password": "bob password 1"}).status_code == 401
    sign_in(bob, "BOB", "bob's new password")  # usernames are case-insensitive
    key = bob.post("/api/v1/api-keys", json={"name": "bob's new"}).json()["key"]
    assert bob.get("/api/v1/auth/me", headers={"X-Api-Key": key}).status_code == 200
    assert configured.delete(f"/api/v1/users/{made['id']}").status_code == 204
    assert bob.get("/api/v1/auth/me").status_code == 401
    assert bob.get("/api/v1/auth/me", headers={"X-Api-Key": key}).status_code == 401
    assert configured.get(f"/api/v1/users/{made['id']}").status_code == 404


def test_an_admin_reset_signs_out_everywhere_and_revokes_api_keys(configured: TestClient,
                                                                  new_web: Callable[[], TestClient]) -> None:
    """docs/security.md: a reset is a response to a leak; the user's own change keeps keys."""
    made = configured.post("/api/v1/users", json={"username": "dave", "password": "dave password 1"}).json()
    dave, laptop = new_web(), new_web()
    sign_in(dave, "dave", "dave password 1")
    sign_in(laptop, "dave", "dave password 1")
    keys = [dave.post("/api/v1/api-keys", json={"name": f"hook {i}"}).json()["key"] for i in range(2)]
    own = dave.post("/api/v1/auth/password", json={"current_password": "dave password 1",
                                                   "new_password": "dave password 2"})
    assert own.status_code == 204
    assert laptop.get("/api/v1/auth/me").status_code == 401  # other sessions signed out
    assert all(dave.get("/api/v1/auth/me", headers={"X-Api-Key": k}).status_code == 200 for k in keys)
    reset = configured.patch(f"/api/v1/users/{made['id']}", json={"password": "set by the admin"})
    assert reset.status_code == 200
    assert dave.get("/api/v1/auth/me").status_code == 401
    for key in keys:
        answer = dave.get("/api/v1/auth/me", headers={"X-Api-Key": key})
        assert answer.status_code == 401 and answer.json()["code"] == "invalid_api_key"
    sign_in(dave, "dave", "set by the admin")
    assert dave.get("/api/v1/api-keys").json()["total"] == 0


def test_user_validation(configured: TestClient) -> None:
    cases = [({"username": "short", "password": "123"}, 422, "weak_password"),
             ({"username": "bad name!", "password": "long enough pw"}, 422, "invalid_username"),
             ({"username": "ROOT", "password": "long enough pw"}, 409, "user_exists"),
             ({"username": "x", "password": "long enough pw", "role": "owner"}, 422, "validation_error")]
    for body, code, error in cases:
        answer = configured.post("/api/v1/users", json=body)
        assert (answer.status_code, answer.json()["code"]) == (code, error), body
    assert configured.post("/api/v1/users", content=b"not json").status_code == 422


def test_last_admin_is_kept(configured: TestClient) -> None:
    me = configured.get("/api/v1/auth/me").json()
    for method, body in (("PATCH", {"role": "member"}), ("PATCH", {"disabled": True}), ("DELETE", None)):
        answer = configured.request(method, f"/api/v1/users/{me['id']}", json=body)
        assert answer.status_code == 409 and answer.json()["code"] == "last_admin"
    second = configured.post("/api/v1/users", json={"username": "admin2", "password": "long enough pw",
                                                    "role": "admin"}).json()
    assert configured.patch(f"/api/v1/users/{me['id']}", json={"role": "member"}).status_code == 200
    assert configured.get("/api/v1/users").status_code == 403  # now a member
    assert second["role"] == "admin"


def test_change_own_password(configured: TestClient, new_web: Callable[[], TestClient]) -> None:
    other_device = new_web()
    sign_in(other_device, *ADMIN)
    wrong = configured.post("/api/v1/auth/password", json={"current_password": "nope nope nope",
                                                           "new_password": "brand new password"})
    assert wrong.status_code == 401
    ok = configured.post("/api/v1/auth/password", json={"current_password": ADMIN[1],
                                                        "new_password": "brand new password"})
    assert ok.status_code == 204
    assert configured.get("/api/v1/auth/me").status_code == 200  # this web got a fresh session
    assert other_device.get("/api/v1/auth/me").status_code == 401  # the others were signed out
    sign_in(other_device, ADMIN[0], "brand new password")


def test_api_key_revocation_rules(configured: TestClient, new_web: Callable[[], TestClient]) -> None:
    configured.post("/api/v1/users", json={"username": "carol", "password": "carol password"})
    carol = new_web()
    sign_in(carol, "carol", "carol password")
    admin_key = configured.post("/api/v1/api-keys", json={"name": "admin's"}).json()
    carol_key = carol.post("/api/v1/api-keys", json={"name": "carol's"}).json()
    assert carol.delete(f"/api/v1/api-keys/{admin_key['id']}").status_code == 404  # not hers
    assert carol.get("/api/v1/api-keys").json()["total"] == 1
    assert configured.delete(f"/api/v1/api-keys/{carol_key['id']}").status_code == 204  # admin may
    assert carol.delete(f"/api/v1/api-keys/{carol_key['id']}").status_code == 404  # already revoked
    assert configured.post("/api/v1/api-keys", json={"name": ""}).status_code == 422


def test_long_dead_sessions_are_purged(configured: TestClient, token_vault: Settings) -> None:
    database = Database.from_settings(token_vault)
    with database.write() as session:
        session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(days=8)))
    sign_in(configured, *ADMIN)
    with database.read() as session:
        rows = session.query(UserSession).all()
    database.dispose()
    assert len(rows) == 1 and rows[0].expires_at > utcnow()  # only the new sign-in is left


def test_old_password_hashes_are_upgraded_at_sign_in(configured: TestClient, token_vault: Settings) -> None:
    from argon2 import PasswordHasher

    from printstash.auth.models import User

    database = Database.from_settings(token_vault)
    with database.write() as session:
        root = session.query(User).filter_by(username=ADMIN[0]).one()
        root.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(ADMIN[1])
    sign_in(configured, *ADMIN)
    with database.read() as session:
        upgraded = session.query(User).filter_by(username=ADMIN[0]).one().password_hash
    database.dispose()
    assert "m=19456,t=2,p=1" in upgraded
    sign_in(configured, *ADMIN)  # and the upgraded hash still matches the password


def test_admin_resetting_own_password_stays_signed_in(configured: TestClient,
                                                      new_web: Callable[[], TestClient]) -> None:
    other = new_web()
    sign_in(other, *ADMIN)
    me = configured.get("/api/v1/auth/me").json()
    assert configured.patch(f"/api/v1/users/{me['id']}", json={"password": "reset by myself"}).status_code == 200
    assert configured.get("/api/v1/auth/me").status_code == 200
    assert other.get("/api/v1/auth/me").status_code == 401
    sign_in(other, ADMIN[0], "reset by myself")


def test_list_and_revoke_own_sessions(configured: TestClient, new_web: Callable[[], TestClient],
                                      token_vault: Settings) -> None:
    laptop = new_web()
    sign_in(laptop, *ADMIN)
    listed = configured.get("/api/v1/auth/sessions").json()
    assert listed["total"] == 2 and [s["current"] for s in listed["items"]] == [True, False]
    assert "token" not in str(listed) and all("token_hash" not in s for s in listed["items"])
    laptop_id = listed["items"][1]["id"]
    assert configured.delete(f"/api/v1/auth/sessions/{laptop_id}").status_code == 204
    assert laptop.get("/api/v1/auth/me").status_code == 401
    assert configured.get("/api/v1/auth/sessions").json()["total"] == 1
    # someone else's session is not yours to see or end
    configured.post("/api/v1/users", json={"username": "dora", "password": "dora password"})
    dora = new_web()
    sign_in(dora, "dora", "dora password")
    mine = configured.get("/api/v1/auth/sessions").json()["items"][0]["id"]
    assert dora.delete(f"/api/v1/auth/sessions/{mine}").status_code == 404
    assert dora.get("/api/v1/auth/sessions").json()["total"] == 1


def test_last_seen_is_refreshed_at_most_once_a_minute(configured: TestClient, token_vault: Settings) -> None:
    database = Database.from_settings(token_vault)
    with database.write() as session:
        session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
    configured.get("/api/v1/auth/me")
    with database.read() as session:
        seen = session.query(UserSession).one().last_seen_at
    assert seen is not None and utcnow() - seen < timedelta(seconds=30)
    configured.get("/api/v1/auth/me")
    with database.read() as session:
        assert session.query(UserSession).one().last_seen_at == seen  # not rewritten within the minute
    database.dispose()


def test_api_key_last_used_is_refreshed_at_most_once_a_minute(configured: TestClient,
                                                              token_vault: Settings) -> None:
    from printstash.auth.models import ApiKey

    key = configured.post("/api/v1/api-keys", json={"name": "hook"}).json()["key"]
    scripted = TestClient(configured.app, headers={"X-Api-Key": key})
    assert scripted.get("/api/v1/auth/me").status_code == 200
    database = Database.from_settings(token_vault)
    with database.read() as session:
        first = session.query(ApiKey).one().last_used_at
    assert first is not None
    scripted.get("/api/v1/auth/me")
    with database.read() as session:
        assert session.query(ApiKey).one().last_used_at == first  # no write within the minute
    with database.write() as session:
        session.execute(update(ApiKey).values(last_used_at=utcnow() - timedelta(minutes=2)))
    scripted.get("/api/v1/auth/me")
    with database.read() as session:
        refreshed = session.query(ApiKey).one().last_used_at
    database.dispose()
    assert refreshed is not None and utcnow() - refreshed < timedelta(seconds=30)


def test_signing_in_again_ends_the_session_the_browser_had(configured: TestClient) -> None:
    """Setup signs the admin in; a sign-in from the same browser right after (as the web app
    once did) must not leave setup's session behind as a stale 'other browser'."""
    first = configured.cookies.get(SESSION_COOKIE)
    sign_in(configured, *ADMIN)
    listed = configured.get("/api/v1/auth/sessions").json()
    assert listed["total"] == 1 and listed["items"][0]["current"] is True
    assert configured.cookies.get(SESSION_COOKIE) != first
    sign_in(configured, *ADMIN)  # and again: still one
    assert configured.get("/api/v1/auth/sessions").json()["total"] == 1


def test_a_password_change_lists_only_this_browser(configured: TestClient, new_web: Callable[[], TestClient]) -> None:
    laptop = new_web()
    sign_in(laptop, *ADMIN)
    assert configured.get("/api/v1/auth/sessions").json()["total"] == 2
    changed = configured.post("/api/v1/auth/password", json={"current_password": ADMIN[1],
                                                             "new_password": "brand new password"})
    assert changed.status_code == 204
    listed = configured.get("/api/v1/auth/sessions").json()
    assert listed["total"] == 1 and listed["items"][0]["current"] is True
