"""Constants and helpers shared by the auth tests."""

from fastapi.testclient import TestClient

SETUP_TOKEN = "test-setup-token-0123456789"
ADMIN = ("root", "admin password 1")
ORIGIN = {"Origin": "http://testserver"}  # what a browser on the PrintStash page sends


def sign_in(client: TestClient, username: str, password: str, remember: bool = False) -> None:
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password,
                                                      "remember": remember})
    assert answer.status_code == 200, answer.text
    assert answer.json()["username"].lower() == username.lower()
