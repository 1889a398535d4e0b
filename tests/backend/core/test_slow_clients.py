"""Slow clients against the real api (`printstash serve`, real uvicorn, real sockets): headers
that never finish get 408, a body that stops arriving is cut off, a slow but steady upload is
not, and one user cannot run more than VAULT_MAX_UPLOADS_PER_USER uploads at once."""

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness.paths import GCODE_FIXTURES
from harness.processes import live_api
from harness.vault import add_user_with_key, make_settings, migrate

from printstash.core.settings import Settings

LIMITS = {"VAULT_HEADER_TIMEOUT_SECONDS": "1", "VAULT_BODY_IDLE_TIMEOUT_SECONDS": "1",
          "VAULT_MAX_UPLOADS_PER_USER": "2"}
BOUNDARY = "slowclientboundary"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Settings]]:
    settings = make_settings(tmp_path_factory.mktemp("slow") / "data")
    migrate(settings)
    key = add_user_with_key(settings, "admin", "admin")
    with live_api(settings.data_dir, **LIMITS) as base:
        yield base, key, settings


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _gcode() -> bytes:
    return next(p for p in sorted(GCODE_FIXTURES.rglob("*.gcode")) if p.stat().st_size < 200_000).read_bytes()


def _upload_head(key: str, length: int) -> bytes:
    return (f"POST /api/v1/files HTTP/1.1\r\nHost: test\r\nX-Api-Key: {key}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\r\n").encode()


def _multipart(data: bytes, name: str = "slow.gcode") -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: text/x-gcode\r\n\r\n").encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def test_a_connection_that_sends_nothing_gets_408(served: tuple[str, str, Settings]) -> None:
    base, _, _ = served
    started = time.monotonic()
    with _connect(base) as sock:
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408") and b'"code": "request_timeout"' in answer
    assert 0.9 <= time.monotonic() - started < 5


def test_headers_trickled_byte_by_byte_get_408(served: tuple[str, str, Settings]) -> None:
    base, _, _ = served
    started = time.monotonic()
    with _connect(base) as sock:
        sock.sendall(b"GET /api/v1/health/live HTTP/1.1\r\nHost: test\r\n")
        try:
            for _ in range(40):  # a header byte every 0.1 s, forever: never a complete head
                sock.sendall(b"X")
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 3.5


def test_a_body_that_stops_arriving_is_cut_off_and_its_temp_file_removed(
        served: tuple[str, str, Settings]) -> None:
    base, key, settings = served
    body = _multipart(_gcode())
    with _connect(base) as sock:
        sock.sendall(_upload_head(key, len(body)) + body[: len(body) // 2])
        started = time.monotonic()
        answer = _read_all(sock)  # the server closes the connection
    assert time.monotonic() - started < 4
    assert b"201" not in answer.split(b"\r\n", 1)[0]
    deadline = time.monotonic() + 5
    while list(settings.tmp_dir.glob("*.part")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(settings.tmp_dir.glob("*.part")) == []


def test_a_slow_but_steady_upload_is_not_cut_off(served: tuple[str, str, Settings]) -> None:
    base, key, _ = served
    body = _multipart(_gcode() + b"; steady\n")
    pieces = [body[i: i + len(body) // 6 + 1] for i in range(0, len(body), len(body) // 6 + 1)]
    with _connect(base) as sock:
        sock.sendall(_upload_head(key, len(body)))
        for piece in pieces:  # ~2.4 s in all, longer than either timeout, never idle for 1 s
            time.sleep(0.4)
            sock.sendall(piece)
        answer = _read_all_response(sock)
    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.1 201 Created", b"HTTP/1.1 200 OK"), answer[:300]


def _read_all_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = int(next(line.split(b":")[1] for line in lines if line.lower().startswith(b"content-length")))
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


def test_uploads_per_user_are_capped_with_a_clear_429(served: tuple[str, str, Settings]) -> None:
    base, key, _ = served
    body = _multipart(_gcode() + b"; held\n", "held.gcode")
    held = [_connect(base) for _ in range(2)]
    try:
        for sock in held:  # two uploads in progress: headers in, body still coming
            sock.sendall(_upload_head(key, len(body)) + body[:100])
        time.sleep(0.3)
        third = httpx.post(f"{base}/api/v1/files", headers={"X-Api-Key": key},
                           files={"file": ("third.gcode", _gcode(), "text/x-gcode")}, timeout=30)
        assert third.status_code == 429, third.text
        assert third.json()["code"] == "too_many_uploads" and "2 uploads" in third.json()["detail"]
        assert int(third.headers["retry-after"]) > 0
        for sock in held:
            sock.sendall(body[100:])
        for sock in held:
            assert json.loads(_read_all_response(sock).partition(b"\r\n\r\n")[2])["name"] == "held.gcode"
    finally:
        for sock in held:
            sock.close()
    again = httpx.post(f"{base}/api/v1/files", headers={"X-Api-Key": key},
                       files={"file": ("fourth.gcode", _gcode(), "text/x-gcode")}, timeout=30)
    assert again.status_code in (200, 201), again.text


def test_the_settings_are_documented() -> None:
    docs = (Path(__file__).parents[3] / "docs" / "configuration.md").read_text()
    for name in LIMITS:
        assert f"`{name}`" in docs
