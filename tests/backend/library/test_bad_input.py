"""Bad uploads get a clear 4xx {"detail","code"} and leave nothing behind."""

import base64
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from librarykit import (
    API,
    file_part,
    fixture_by_id,
    fixture_path,
    multipart,
    parts_left,
    row_count,
    settings_of,
    stored_files,
    upload,
)

from printstash.core.db import Database
from printstash.core.maintenance import set_mode

GCODE = fixture_path(fixture_by_id("klipper_prusa_tinybox_0.20mm_noextrusion")).read_bytes()
# a real 1x1 PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
                       "hKmMIQAAAABJRU5ErkJggg==")


def assert_nothing_stored(client: TestClient) -> None:
    settings = settings_of(client)
    assert stored_files(settings) == [] and parts_left(settings) == [] and row_count(settings) == 0
    assert [p for p in settings.thumbs_dir.rglob("*") if p.is_file()] == []


def assert_error(resp: object, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    body = resp.json()  # type: ignore[attr-defined]
    assert body["code"] == code and body["detail"]


def post_raw(client: TestClient, parts: list[tuple[bytes, bytes]]) -> object:
    body, headers = multipart(parts)
    return client.post(f"{API}/files", content=body, headers=headers)


@pytest.mark.parametrize(("raw", "want"), [
    (b"../../etc/passwd.gcode", "passwd.gcode"),
    (b"..\\..\\windows\\evil.gcode", "evil.gcode"),
    (b"/abs/path/cube.gcode", "cube.gcode"),
    (b"cu\x01be\x1b[31m\x7f.gcode", "cube[31m.gcode"),
    (b"tab\tbell\x07.gcode", "tabbell.gcode"),
    ("Würfel 🧊 ø.gcode".encode(), "Würfel 🧊 ø.gcode"),
    (b"..", "upload.gcode"),
    (b"", "upload.gcode"),
])
def test_names_are_sanitised(admin_client: TestClient, tmp_path: Path, raw: bytes, want: str) -> None:
    resp = post_raw(admin_client, [file_part(raw, GCODE)])
    assert resp.status_code == 201, resp.text  # type: ignore[attr-defined]
    assert resp.json()["name"] == want  # type: ignore[attr-defined]
    settings = settings_of(admin_client)
    assert not (settings.data_dir.parent / "etc").exists()
    assert len(stored_files(settings)) == 1


def test_long_names_are_capped_keeping_the_extension(admin_client: TestClient) -> None:
    resp = upload(admin_client, "ä" * 1000 + ".gcode", GCODE)
    name = resp.json()["name"]
    assert len(name) <= 200 and name.endswith(".gcode") and name.startswith("ää")


def test_png_renamed_gcode_is_415(admin_client: TestClient) -> None:
    assert_error(upload(admin_client, "cube.gcode", PNG * 200), 415, "not_gcode")
    assert_error(upload(admin_client, "tiny.gcode", PNG), 415, "not_gcode")
    assert_nothing_stored(admin_client)


def test_empty_file_is_422(admin_client: TestClient) -> None:
    assert_error(upload(admin_client, "empty.gcode", b""), 422, "empty_file")
    assert_nothing_stored(admin_client)


def test_missing_file_field_is_422(admin_client: TestClient) -> None:
    resp = post_raw(admin_client, [(b'name="upload"; filename="x.gcode"', GCODE), (b'name="print"', b"true")])
    assert_error(resp, 422, "missing_file")
    assert_nothing_stored(admin_client)


def test_not_multipart_is_415(admin_client: TestClient) -> None:
    assert_error(admin_client.post(f"{API}/files", content=GCODE, headers={"Content-Type": "text/x-gcode"}),
                 415, "not_multipart")
    assert_error(admin_client.post(f"{API}/files", json={"file": "G28"}), 415, "not_multipart")
    assert_nothing_stored(admin_client)


def test_truncated_multipart_is_422(admin_client: TestClient) -> None:
    body, headers = multipart([file_part(b"x.gcode", GCODE)])
    resp = admin_client.post(f"{API}/files", content=body[: len(body) // 2], headers=headers)
    assert_error(resp, 422, "malformed_multipart")
    assert_nothing_stored(admin_client)


def test_over_the_limit_is_413_and_nothing_kept(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_upload_mb=1)
    big = GCODE * (3 * 1024 * 1024 // len(GCODE))
    assert_error(upload(client, "big.gcode", big), 413, "upload_too_large")
    assert_nothing_stored(client)
    assert upload(client, "small.gcode", GCODE).status_code == 201  # the limit is not a ban


def test_over_the_limit_chunked_is_caught_while_streaming(make_client: Callable[..., TestClient]) -> None:
    """Chunked body (no Content-Length): the size is enforced on the bytes as they arrive."""
    client = make_client(max_upload_mb=1)
    body, headers = multipart([file_part(b"big.gcode", GCODE * (3 * 1024 * 1024 // len(GCODE)))])

    def chunks() -> object:
        for start in range(0, len(body), 256 * 1024):
            yield body[start:start + 256 * 1024]

    resp = client.post(f"{API}/files", content=chunks(), headers=headers)  # type: ignore[arg-type]
    assert_error(resp, 413, "upload_too_large")
    assert_nothing_stored(client)


def test_no_upload_leaves_its_threads_behind(make_client: Callable[..., TestClient]) -> None:
    """Each upload writes and hashes on two threads of its own; whatever the outcome
    (stored, duplicate, refused midway), they end with it."""
    client = make_client(max_upload_mb=4)
    data = GCODE * (3 * 1024 * 1024 // len(GCODE))
    body, headers = multipart([file_part(b"big.gcode", data * 2)])
    outcomes = [upload(client, "a.gcode", data).status_code, upload(client, "b.gcode", data).status_code,
                client.post(f"{API}/files", content=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
                            headers=headers).status_code]
    assert outcomes == [201, 200, 413]

    def upload_threads() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith("upload-")]
    deadline = time.monotonic() + 5
    while upload_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upload_threads() == []


def test_maintenance_mode_refuses_uploads_with_retry_after(admin_client: TestClient) -> None:
    database = Database.from_settings(settings_of(admin_client))
    with database.write() as session:
        set_mode(session, True, "upgrading")
    resp = upload(admin_client, "x.gcode", GCODE)
    assert_error(resp, 503, "maintenance")
    assert int(resp.headers["retry-after"]) > 0
    with database.write() as session:
        set_mode(session, False)
    database.dispose()
    assert_nothing_stored(admin_client)
    assert upload(admin_client, "x.gcode", GCODE).status_code == 201


@pytest.mark.parametrize(("disposition", "want"), [
    (b"name=\"file\"; filename*=UTF-8''W%C3%BCrfel%20%F0%9F%A7%8A.gcode", "Würfel 🧊.gcode"),
    (b"name=\"file\"; filename=\"Wurfel.gcode\"; filename*=utf-8''W%C3%BCrfel.gcode", "Würfel.gcode"),
    (b"name=\"file\"; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd.gcode", "passwd.gcode"),
    (b"name=\"file\"; filename*=x-unknown''cube.gcode", "cube.gcode"),
])
def test_rfc5987_file_names(admin_client: TestClient, disposition: bytes, want: str) -> None:
    resp = post_raw(admin_client, [(disposition, GCODE)])
    assert resp.status_code == 201, resp.text  # type: ignore[attr-defined]
    assert resp.json()["name"] == want  # type: ignore[attr-defined]
