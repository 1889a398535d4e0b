"""The library on an S3-compatible bucket (moto on loopback): uploads, duplicates, downloads
with Range, thumbnails, presigned redirects, trash purge, re-parse, health when the endpoint
goes away, and a kill -9 mid-upload followed by the orphan sweep."""

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from harness.processes import free_port, live_api, printstash, stop, vault_env, wait_http
from harness.s3 import MotoS3, moto_s3
from harness.vault import migrate
from librarykit import API, fixture_by_id, fixture_path, make_key, row_count, sha256_of, upload
from test_packages import CURA, PRUSA, gcode_3mf

from printstash.app import create_app
from printstash.core.db import Database
from printstash.core.settings import Settings
from printstash.library import jobs
from printstash.library.scheduled import sweep_orphans

CONE = fixture_by_id("prusa_cone_0.05mm_PLA_0.25n_comments")
GCODE = fixture_path(CONE).read_bytes()
CUBE = fixture_by_id("prusa_cube20_0.20mm_PLA_thumbs")  # the fixture with injected thumbnails
WITH_THUMBS = fixture_path(CUBE).read_bytes()


def s3_client(moto: MotoS3, data_dir: Path, **overrides: object) -> tuple[TestClient, Settings]:
    settings = moto.settings(data_dir, moto.new_bucket(), **overrides)
    migrate(settings)
    return TestClient(create_app(settings), headers={"X-Api-Key": make_key(settings)}), settings


@pytest.fixture
def s3_vault(moto: MotoS3, tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    client, settings = s3_client(moto, tmp_path / "data")
    with client:
        yield client, settings


def test_upload_stores_one_object_in_the_bucket_and_nothing_in_data_files(
        s3_vault: tuple[TestClient, Settings], moto: MotoS3) -> None:
    client, settings = s3_vault
    first = upload(client, "cone.gcode", GCODE)
    assert first.status_code == 201, first.text
    sha = first.json()["sha256"]
    assert sha == CONE["sha256"]
    key = f"files/{sha[:2]}/{sha}"
    assert moto.keys(settings.s3_bucket, "files/") == [key]
    assert moto.read(settings.s3_bucket, key) == GCODE
    assert [p for p in settings.files_dir.rglob("*") if p.is_file()] == []
    assert list(settings.tmp_dir.glob("*")) == []
    again = upload(client, "again.gcode", GCODE)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert moto.keys(settings.s3_bucket, "files/") == [key]


def test_downloads_and_ranges_return_the_exact_bytes(s3_vault: tuple[TestClient, Settings]) -> None:
    client, _ = s3_vault
    file_id = upload(client, "cône.gcode", GCODE).json()["id"]
    url = f"{API}/files/{file_id}/download"
    whole = client.get(url)
    assert whole.status_code == 200 and whole.content == GCODE and sha256_of(whole.content) == CONE["sha256"]
    assert whole.headers["content-length"] == str(CONE["size_bytes"])
    assert "filename*=utf-8''c%C3%B4ne.gcode" in whole.headers["content-disposition"]
    assert whole.headers["x-content-type-options"] == "nosniff"
    size = len(GCODE)
    for header, want, first in (("bytes=100-199", GCODE[100:200], 100), ("bytes=-50", GCODE[-50:], size - 50),
                                (f"bytes={size - 10}-", GCODE[-10:], size - 10),
                                (f"bytes=5-{size + 99}", GCODE[5:], 5)):
        part = client.get(url, headers={"Range": header})
        assert part.status_code == 206 and part.content == want, header
        assert part.headers["content-range"] == f"bytes {first}-{first + len(want) - 1}/{size}"
    past = client.get(url, headers={"Range": f"bytes={size}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"


def test_thumbnails_come_from_the_bucket(s3_vault: tuple[TestClient, Settings], moto: MotoS3) -> None:
    client, settings = s3_vault
    body = upload(client, "cube.gcode", WITH_THUMBS).json()
    assert [(t["width"], t["height"], t["size"]) for t in body["thumbnails"]] == [
        (t["width"], t["height"], t["png_bytes"]) for t in CUBE["thumbnails_injected"]]
    sha = body["sha256"]
    keys = moto.keys(settings.s3_bucket, "thumbs/")
    thumbs = [k for k in keys if "-layers-" not in k]  # beside them: the preview's layer index
    assert len(thumbs) == len(CUBE["thumbnails_injected"]) and len(keys) == len(thumbs) + 1
    assert all(k.startswith(f"thumbs/{sha[:2]}/{sha}-") for k in keys)
    for thumb in body["thumbnails"]:
        got = client.get(thumb["url"])
        assert got.status_code == 200 and got.headers["content-type"] == "image/png"
        assert got.content.startswith(b"\x89PNG\r\n\x1a\n") and len(got.content) == thumb["size"]
        assert got.content == moto.read(settings.s3_bucket, f"thumbs/{sha[:2]}/{sha}-{thumb['index']}.png")
    assert client.get(f"{API}/files/{body['id']}/thumbnails/99").json()["code"] == "thumbnail_not_found"


def test_layers_are_read_from_the_bucket_by_range(s3_vault: tuple[TestClient, Settings], moto: MotoS3) -> None:
    client, settings = s3_vault
    body = upload(client, "cube.gcode", WITH_THUMBS).json()
    index = client.get(f"{API}/files/{body['id']}/layers").json()
    assert index["count"] == CUBE["expected"]["layer_count"]
    last = client.get(f"{API}/files/{body['id']}/layers/{index['count'] - 1}")
    assert last.status_code == 200 and last.content and len(last.content) % 28 == 0
    assert float(last.headers["x-layer-z"]) == CUBE["expected"]["max_layer_z"]
    assert list(settings.data_dir.glob("cache/**/*.gcode")) == []  # a .gcode needs no local copy


def test_a_gcode_3mf_in_the_bucket_gives_each_plate_back(s3_vault: tuple[TestClient, Settings],
                                                         moto: MotoS3) -> None:
    """Plates are extracted from the object read back from the bucket, at upload, on
    /gcode?plate=N and at a re-parse; no copy is left in tmp/."""
    client, settings = s3_vault
    data = gcode_3mf()
    answer = upload(client, "two.gcode.3mf", data)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["kind"] == "gcode.3mf" and [p["index"] for p in body["plates"]] == [1, 2]
    sha = body["sha256"]
    assert sha == sha256_of(data)
    assert moto.keys(settings.s3_bucket, "files/") == [f"files/{sha[:2]}/{sha}"]
    assert [p for p in settings.files_dir.rglob("*") if p.is_file()] == []
    for index, source in ((2, CURA), (1, PRUSA)):
        plain = client.get(f"{API}/files/{body['id']}/gcode", params={"plate": index})
        assert plain.status_code == 200 and plain.headers["content-type"].startswith("text/x-gcode")
        assert plain.content == fixture_path(source).read_bytes()
    download = client.get(f"{API}/files/{body['id']}/download")
    assert download.content == data and download.headers["content-type"] == "application/octet-stream"
    plate2 = next(p for p in body["plates"] if p["index"] == 2)
    image = client.get(plate2["thumbnails"][0]["url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    database = Database.from_settings(settings)
    try:
        assert jobs.reparse_file(settings, database, body["id"]) is True
    finally:
        database.dispose()
    again = client.get(f"{API}/files/{body['id']}").json()
    assert again["plates"] == body["plates"] and again["thumbnails"] == body["thumbnails"]
    assert list(settings.tmp_dir.glob("*")) == [], "extracted plates and fetched copies are removed"


def test_presigned_downloads_redirect_to_the_bucket(moto: MotoS3, tmp_path: Path) -> None:
    client, _ = s3_client(moto, tmp_path / "data", s3_presigned_downloads=True)
    with client:
        body = upload(client, "cube.gcode", WITH_THUMBS).json()
        redirect = client.get(f"{API}/files/{body['id']}/download", follow_redirects=False)
        assert redirect.status_code == 307
        location = redirect.headers["location"]
        assert location.startswith(moto.endpoint) and "X-Amz-Expires=300" in location
        assert httpx.get(location, timeout=30).content == WITH_THUMBS
        ranged = httpx.get(location, headers={"Range": "bytes=10-19"}, timeout=30)
        assert ranged.status_code == 206 and ranged.content == WITH_THUMBS[10:20]
        thumb = client.get(f"{API}/files/{body['id']}/thumbnails/0", follow_redirects=False)
        assert thumb.status_code == 307 and httpx.get(thumb.headers["location"]).content[:4] == b"\x89PNG"


def test_purging_the_trash_removes_the_objects(s3_vault: tuple[TestClient, Settings], moto: MotoS3) -> None:
    client, settings = s3_vault
    file_id = upload(client, "cube.gcode", WITH_THUMBS).json()["id"]
    assert client.delete(f"{API}/files/{file_id}").status_code == 204
    assert moto.keys(settings.s3_bucket, "files/"), "trashed files keep their content"
    assert moto.keys(settings.s3_bucket, "thumbs/")
    assert client.delete(f"{API}/files/trash").json()["purged"] == 1
    assert moto.keys(settings.s3_bucket, "files/") == [] and moto.keys(settings.s3_bucket, "thumbs/") == []


def test_reparse_reads_the_object_back(s3_vault: tuple[TestClient, Settings], moto: MotoS3) -> None:
    client, settings = s3_vault
    body = upload(client, "cube.gcode", WITH_THUMBS).json()
    thumbs = moto.keys(settings.s3_bucket, "thumbs/")
    database = Database.from_settings(settings)
    try:
        assert jobs.reparse_file(settings, database, body["id"]) is True
    finally:
        database.dispose()
    again = client.get(f"{API}/files/{body['id']}").json()
    assert again["metadata"]["estimated_time"] == CUBE["moonraker_0_11_metadata"]["estimated_time"]
    assert moto.keys(settings.s3_bucket, "thumbs/") == thumbs
    assert list(settings.tmp_dir.glob("*")) == [], "the fetched copy is removed"


def test_health_follows_the_endpoint_and_uploads_answer_503(tmp_path: Path) -> None:
    with moto_s3() as own:  # this test stops its server: not the session's
        bucket = own.new_bucket()
        settings = own.settings(tmp_path / "data", bucket)
        migrate(settings)
        with TestClient(create_app(settings), headers={"X-Api-Key": make_key(settings)}) as client:
            ok = client.get(f"{API}/health").json()["components"]["storage"]
            assert ok["status"] == "ok" and ok["bucket"] == bucket
            own.stop()
            down = client.get(f"{API}/health")
            assert down.status_code == 503 and down.json()["components"]["storage"]["status"] == "error"
            refused = upload(client, "cone.gcode", GCODE)
            assert refused.status_code == 503 and refused.json()["code"] == "storage_unavailable"
            assert "object store" in refused.json()["detail"] and row_count(settings) == 0
            own.start()  # moto forgets everything: the admin's bucket comes back empty
            own.new_bucket(bucket)
            back = client.get(f"{API}/health").json()["components"]["storage"]
            assert back["status"] == "ok"
            assert upload(client, "cone.gcode", GCODE).status_code == 201


def thumbnail_put_seen(moto: MotoS3, bucket: str, since: int) -> Callable[[], bool]:
    """Whether moto has answered a PUT of a thumbnail of `bucket` (its werkzeug request log,
    written as each answer goes out), reading only what the log gained since `since`."""
    line = f'"PUT /{bucket}/thumbs/'.encode()

    def seen() -> bool:
        with moto.log.open("rb") as log:
            log.seek(since)
            return line in log.read()
    return seen


def test_api_killed_mid_upload_leaves_no_row_and_the_sweep_no_object(moto: MotoS3, tmp_path: Path) -> None:
    bucket = moto.new_bucket()
    settings = moto.settings(tmp_path / "data", bucket)
    migrate(settings)
    key = make_key(settings)
    # parsed, thumbnails stored, then a multipart upload of several parts: about a second
    # between the first thumbnail and the row, where the kill lands
    body = WITH_THUMBS * (64 * 1024 * 1024 // len(WITH_THUMBS))
    boundary = "killboundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.gcode"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    port = free_port()
    proc = printstash("serve", "--port", str(port), env=vault_env(settings.data_dir, **moto.env(bucket)))
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v1/health/live")
        moto_log_start = moto.log.stat().st_size
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall((f"POST {API}/files HTTP/1.1\r\nHost: x\r\nX-Api-Key: {key}\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      f"Content-Length: {len(head) + len(body) + len(tail)}\r\n\r\n").encode() + head)
        sock.sendall(body)
        sock.sendall(tail)
        # The first thumbnail stored is seen in moto's request log, not by listing the bucket:
        # a listing waited behind the upload's parts, and the row was in by its answer.
        seen = thumbnail_put_seen(moto, bucket, since=moto_log_start)
        deadline = time.monotonic() + 60
        while not seen() and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.kill()  # SIGKILL between the first object and the row
        assert seen(), "the upload never reached the bucket"
        proc.wait(10)
        sock.close()
    finally:
        stop(proc)
    assert row_count(settings) == 0
    with live_api(settings.data_dir, **moto.env(bucket)):
        assert list(settings.tmp_dir.glob("*.part")) == []
    assert row_count(settings) == 0
    database = Database.from_settings(settings)
    try:
        assert sweep_orphans(settings, database, min_age_seconds=3600) == 0, "young objects are kept"
        assert sweep_orphans(settings, database, min_age_seconds=0) >= 1
    finally:
        database.dispose()
    assert moto.keys(bucket, "files/") == [] and moto.keys(bucket, "thumbs/") == []


def test_a_bucket_vault_backs_up_and_health_reports_it(s3_vault: tuple[TestClient, Settings]) -> None:
    """The backups page's calls on a bucket vault (tests/backend/backups/test_backup_s3.py
    covers what the archives hold and how they restore)."""
    client, _ = s3_vault
    upload(client, "cone.gcode", GCODE)
    for params in ({}, {"with_objects": "true"}):
        made = client.post(f"{API}/backups", params=params)
        assert made.status_code == 201, made.text
    assert client.get(f"{API}/backups").json()["total"] == 2
    backup = client.get(f"{API}/health").json()["components"]["backup"]
    assert backup["status"] == "ok", backup
