"""Uploads through a REAL uvicorn on loopback: dropped connections, streaming 413, start-up
cleanup, and a full data volume (a real, tiny tmpfs)."""

import fcntl
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from fastapi.testclient import TestClient
from harness.processes import free_port, live_api, printstash, stop, vault_env, wait_http
from harness.vault import make_settings, migrate
from librarykit import (
    API,
    file_part,
    fixture_by_id,
    fixture_path,
    make_key,
    multipart,
    parts_left,
    row_count,
    stored_files,
)

from printstash.app import create_app
from printstash.core.settings import Settings

GCODE = fixture_path(fixture_by_id("prusa_cone_0.05mm_PLA_0.25n_comments")).read_bytes()
BOUNDARY = b"livetestboundary"


@pytest.fixture
def vault_with_key(tmp_path: Path) -> tuple[Settings, str]:
    settings = make_settings(tmp_path / "data")
    migrate(settings)
    return settings, make_key(settings)


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def open_upload(base: str, key: str, headers: dict[str, str]) -> socket.socket:
    url = urlparse(base)
    sock = socket.create_connection((url.hostname, url.port), timeout=15)
    head = f"POST {API}/files HTTP/1.1\r\nHost: {url.netloc}\r\nX-Api-Key: {key}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode())
    return sock


def preamble(name: bytes = b"cone.gcode") -> bytes:
    return (b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="' + name
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n')


def test_dropped_connection_mid_upload_leaves_no_file_row_or_part(vault_with_key: tuple[Settings, str]) -> None:
    settings, key = vault_with_key
    with live_api(settings.data_dir) as base:
        ctype = f"multipart/form-data; boundary={BOUNDARY.decode()}"
        sock = open_upload(base, key, {"Content-Type": ctype, "Content-Length": str(20 * 1024 * 1024)})
        sock.sendall(preamble())
        sent = 0
        while sent < 4 * 1024 * 1024:
            sock.sendall(GCODE)
            sent += len(GCODE)
        assert wait_for(lambda: bool(parts_left(settings))), "the upload never reached tmp/*.part"
        sock.close()  # half a body, then gone
        assert wait_for(lambda: not parts_left(settings)), parts_left(settings)
        assert stored_files(settings) == [] and row_count(settings) == 0
        # the api is fine afterwards
        body, headers = multipart([file_part(b"ok.gcode", GCODE)])
        resp = httpx.post(f"{base}{API}/files", content=body, headers={**headers, "X-Api-Key": key}, timeout=30)
        assert resp.status_code == 201, resp.text


def test_api_killed_mid_upload_leaves_nothing_after_restart(vault_with_key: tuple[Settings, str]) -> None:
    """SIGKILL, not a clean shutdown: the .part stays on disk until the next start-up."""
    settings, key = vault_with_key
    port = free_port()
    proc = printstash("serve", "--port", str(port), env=vault_env(settings.data_dir))
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/api/v1/health/live")
        ctype = f"multipart/form-data; boundary={BOUNDARY.decode()}"
        sock = open_upload(base, key, {"Content-Type": ctype, "Content-Length": str(20 * 1024 * 1024)})
        sock.sendall(preamble() + GCODE * 2)
        assert wait_for(lambda: bool(parts_left(settings)))
        proc.kill()
        proc.wait(10)
        sock.close()
    finally:
        stop(proc)
    assert parts_left(settings), "a killed process cannot clean up: the part must still be there"
    with live_api(settings.data_dir):
        assert parts_left(settings) == []
    assert stored_files(settings) == [] and row_count(settings) == 0


def test_413_arrives_while_the_client_is_still_sending(tmp_path: Path) -> None:
    """Chunked body with no Content-Length: the server answers 413 after ~1 MiB, without
    waiting for (or storing) the rest."""
    settings = make_settings(tmp_path / "data", max_upload_mb=1)
    migrate(settings)
    key = make_key(settings)
    with live_api(settings.data_dir, VAULT_MAX_UPLOAD_MB="1") as base:
        ctype = f"multipart/form-data; boundary={BOUNDARY.decode()}"
        sock = open_upload(base, key, {"Content-Type": ctype, "Transfer-Encoding": "chunked"})
        payload = preamble() + GCODE * 2  # ~4 MB: over the limit, but far less than "the whole file"
        sock.sendall(b"%x\r\n%s\r\n" % (len(payload), payload))
        answer = _read_head(sock)  # the body's final chunk was never sent
        sock.close()
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"upload_too_large" in answer
        # A slicer (libcurl) sending Expect: 100-continue with a too large Content-Length is
        # refused before it sends a single body byte.
        sock = open_upload(base, key, {"Content-Type": ctype, "Content-Length": str(50 * 1024 * 1024),
                                       "Expect": "100-continue"})
        early = _read_head(sock)
        sock.close()
        assert early.startswith(b"HTTP/1.1 413") and b"100 Continue" not in early, early[:200]
        assert wait_for(lambda: not parts_left(settings)) and stored_files(settings) == [] and row_count(settings) == 0


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    sock.settimeout(15)
    while b"upload_too_large" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_stale_parts_are_removed_at_start_up_but_not_live_ones(vault_with_key: tuple[Settings, str]) -> None:
    settings, _ = vault_with_key
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    stale = settings.tmp_dir / "deadbeef.part"
    stale.write_bytes(GCODE[:1000])
    live = settings.tmp_dir / "cafebabe.part"
    with live.open("wb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # as an upload in another api process holds it
        with TestClient(create_app(settings)):
            pass
        assert not stale.exists() and live.exists()
    other = settings.tmp_dir / "keep.txt"
    other.write_text("not a part")
    with TestClient(create_app(settings)):
        pass
    assert not live.exists() and other.exists()


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    """A real 3 MiB tmpfs as the data volume (needs root; skipped otherwise)."""
    mount = tmp_path / "vol"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_is_507_and_the_partial_is_removed(tmp_path: Path, small_volume: Path) -> None:
    settings = make_settings(small_volume / "data", db_url=f"sqlite:///{tmp_path / 'vault.sqlite'}")
    migrate(settings)
    with TestClient(create_app(settings), headers={"X-Api-Key": make_key(settings)}) as client:
        body, headers = multipart([file_part(b"big.gcode", GCODE * 3)])  # ~6 MB onto 3 MiB
        resp = client.post(f"{API}/files", content=body, headers=headers)
        assert resp.status_code == 507, resp.text
        assert resp.json()["code"] == "disk_full" and "full" in resp.json()["detail"]
        assert parts_left(settings) == [] and stored_files(settings) == [] and row_count(settings) == 0
        small, small_headers = multipart([file_part(b"small.gcode", GCODE[:200_000])])
        assert client.post(f"{API}/files", content=small, headers=small_headers).status_code == 201


def test_a_part_deleted_by_a_cleanup_before_it_was_locked_is_replaced(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The race between creating a .part and flock'ing it, forced: the cleaner (another api
    process starting up) wins once; the upload must end up writing a file that still exists."""
    from printstash.library import ingest, store

    settings = make_settings(tmp_path / "data")
    settings.tmp_dir.mkdir(parents=True)
    real_flock = fcntl.flock
    raced: list[int] = []

    def flock_after_cleanup(fd: int, op: int) -> None:
        if not raced:  # (fcntl is one module: the cleaner's own flock comes through here too)
            raced.append(-1)
            raced[0] = store.clean_stale_parts(settings)  # runs between open and our flock
        real_flock(fd, op)

    monkeypatch.setattr(ingest.fcntl, "flock", flock_after_cleanup)
    part = ingest.PartFile.create(settings.tmp_dir)
    monkeypatch.setattr(ingest.fcntl, "flock", real_flock)
    try:
        assert raced == [1] and part.path.exists() and parts_left(settings) == [part.path]
        os.write(part.fd, GCODE[:1000])
        os.fsync(part.fd)
        # still locked after fsync, until it is renamed into the store and discarded
        assert store.clean_stale_parts(settings) == 0 and part.path.read_bytes() == GCODE[:1000]
    finally:
        part.discard()
