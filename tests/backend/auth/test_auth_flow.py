"""The whole first-run story: setup token → admin → sign-in → member → API key → upload →
revoke → the same key gets 401."""

from collections.abc import Callable

from authkit import ADMIN, SETUP_TOKEN, sign_in
from fastapi.testclient import TestClient
from harness.paths import GCODE_FIXTURES

from printstash.auth.dependencies import SESSION_COOKIE

MEMBER = ("maker", "member password 1")
GCODE = GCODE_FIXTURES / "prusaslicer" / "prusa_cube20_0.20mm_PLA_thumbs.gcode"


def test_full_flow(web: TestClient, new_web: Callable[[], TestClient]) -> None:
    assert web.get("/api/v1/auth/status").json() == {"configured": False}
    wrong = web.post("/api/v1/auth/setup", json={"setup_token": "nope", "username": ADMIN[0],
                                                     "password": ADMIN[1]})
    assert wrong.status_code == 403 and wrong.json()["code"] == "invalid_setup_token"
    assert web.get("/api/v1/auth/status").json() == {"configured": False}

    created = web.post("/api/v1/auth/setup", json={"setup_token": SETUP_TOKEN, "username": ADMIN[0],
                                                       "password": ADMIN[1]})
    assert created.status_code == 201 and created.json()["role"] == "admin"
    assert web.get("/api/v1/auth/status").json() == {"configured": True}
    again = web.post("/api/v1/auth/setup", json={"setup_token": SETUP_TOKEN, "username": "other",
                                                     "password": ADMIN[1]})
    assert again.status_code == 409 and again.json()["code"] == "already_configured"

    # sign out and back in with the password
    assert web.post("/api/v1/auth/logout").status_code == 204
    assert web.get("/api/v1/auth/me").status_code == 401
    sign_in(web, *ADMIN)
    assert web.get("/api/v1/auth/me").json()["role"] == "admin"

    made = web.post("/api/v1/users", json={"username": MEMBER[0], "password": MEMBER[1]})
    assert made.status_code == 201 and made.json()["role"] == "member"
    member_id = made.json()["id"]

    member = new_web()
    sign_in(member, *MEMBER)
    assert member.get("/api/v1/auth/me").json()["username"] == MEMBER[0]
    for method, path, body in [("GET", "/api/v1/users", None),
                               ("POST", "/api/v1/users", {"username": "x", "password": "long enough pw"}),
                               ("PATCH", f"/api/v1/users/{member_id}", {"role": "admin"}),
                               ("DELETE", "/api/v1/users/1", None)]:
        answer = member.request(method, path, json=body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["code"] == "admin_required"
    assert member.get("/api/v1/auth/me").json()["role"] == "member"

    key_answer = member.post("/api/v1/api-keys", json={"name": "PrusaSlicer"})
    assert key_answer.status_code == 201
    key, key_id = key_answer.json()["key"], key_answer.json()["id"]
    listed = member.get("/api/v1/api-keys").json()
    assert listed["total"] == 1 and "key" not in listed["items"][0]
    assert key.startswith(listed["items"][0]["prefix"]) and key not in str(listed)
    assert listed["items"][0]["last_used_at"] is None

    slicer = new_web()
    slicer.cookies.clear()
    with GCODE.open("rb") as fh:
        uploaded = slicer.post("/api/files/local", headers={"X-Api-Key": key},
                               files={"file": (GCODE.name, fh, "application/octet-stream")},
                               data={"print": "false", "path": ""})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["files"]["local"]["name"] == GCODE.name
    assert member.get("/api/v1/api-keys").json()["items"][0]["last_used_at"] is not None

    assert member.delete(f"/api/v1/api-keys/{key_id}").status_code == 204
    revoked = slicer.get("/api/v1/auth/me", headers={"X-Api-Key": key})
    assert revoked.status_code == 401 and revoked.json()["code"] == "invalid_api_key"
    assert slicer.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert member.get("/api/v1/api-keys").json()["total"] == 0


def test_session_cookie_attributes(configured: TestClient) -> None:
    configured.post("/api/v1/auth/logout")
    plain = configured.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
    cookie = plain.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Max-Age" not in cookie and "Secure" not in cookie  # web-session cookie over http
    remembered = configured.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1],
                                                             "remember": True})
    assert "Max-Age=2592000" in remembered.headers["set-cookie"]


def test_cookie_is_secure_over_https(token_vault_https: TestClient) -> None:
    client = token_vault_https
    answer = client.post("/api/v1/auth/setup", json={"setup_token": SETUP_TOKEN, "username": ADMIN[0],
                                                     "password": ADMIN[1]})
    assert answer.status_code == 201
    assert "Secure" in answer.headers["set-cookie"]
