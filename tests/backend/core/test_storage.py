"""core/storage.py's contract, run against both implementations: the data dir and a real
S3-compatible server (moto on loopback, tests/harness/s3.py)."""

import errno
import hashlib
import os
import time
from pathlib import Path

import httpx
import pytest
from harness.s3 import MotoS3
from harness.vault import make_settings

from printstash.core.objects import Storage, StorageUnavailable
from printstash.core.settings import Settings
from printstash.core.storage import content_key, storage_for

BODY = os.urandom(40 * 1024 * 1024 + 123)  # above the multipart threshold: three parts


@pytest.fixture(params=["local", "s3"])
def vault_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "local":
        return make_settings(tmp_path / "data")
    moto: MotoS3 = request.getfixturevalue("moto")
    return moto.settings(tmp_path / "data", moto.new_bucket(), s3_presigned_downloads=True)


@pytest.fixture
def storage(vault_settings: Settings) -> Storage:
    return storage_for(vault_settings)


def a_part(settings: Settings, data: bytes) -> Path:
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    path = settings.tmp_dir / f"{time.monotonic_ns()}.part"
    path.write_bytes(data)
    return path


def read_all(storage: Storage, key: str) -> bytes:
    got = storage.read_range(key, 0, None)
    assert got is not None
    return b"".join(got.chunks)


def test_put_file_stores_the_bytes_and_never_overwrites(vault_settings: Settings, storage: Storage) -> None:
    key = content_key(hashlib.sha256(BODY).hexdigest())
    assert not storage.exists(key) and storage.size(key) is None
    part = a_part(vault_settings, BODY)
    assert storage.put_file(key, part) is True
    assert storage.size(key) == len(BODY) and read_all(storage, key) == BODY
    assert part.read_bytes() == BODY  # the source stays the caller's: it parses it meanwhile
    assert storage.put_file(key, a_part(vault_settings, b"other")) is False  # the key is taken
    assert read_all(storage, key) == BODY


def test_a_volume_without_hard_links_gets_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FAT or a network share refuses link(2) (EPERM here): the file is copied into place."""
    settings = make_settings(tmp_path / "data")
    storage, key, part = storage_for(settings), content_key(hashlib.sha256(BODY).hexdigest()), a_part(settings, BODY)

    def no_links(src: object, dst: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    assert storage.put_file(key, part) is True
    assert read_all(storage, key) == BODY and part.read_bytes() == BODY
    assert not any(p.name.startswith(".") for p in settings.data_dir.joinpath("files").rglob("*"))
    assert storage.put_file(key, a_part(settings, b"other")) is False and read_all(storage, key) == BODY


def test_the_create_only_upload_loses_a_race_without_overwriting(moto: MotoS3, tmp_path: Path) -> None:
    """The HEAD check said "absent", then another upload stored the key: If-None-Match
    makes the server refuse ours (412) and the first object stays."""
    vault_settings = moto.settings(tmp_path / "data", moto.new_bucket())
    storage = storage_for(vault_settings)
    key = content_key("ab" * 32)
    moto.client().put_object(Bucket=vault_settings.s3_bucket, Key=key, Body=b"first")
    storage.exists = lambda _key: False  # type: ignore[method-assign]  # the race: checked before
    assert storage.put_file(key, a_part(vault_settings, BODY)) is False
    assert moto.read(vault_settings.s3_bucket, key) == b"first"


def test_ranges_copies_lists_and_deletes(vault_settings: Settings, storage: Storage) -> None:
    key = content_key(hashlib.sha256(BODY).hexdigest())
    storage.put_file(key, a_part(vault_settings, BODY))
    part = storage.read_range(key, 1000, 1999)
    assert part is not None and (part.start, part.end, part.total) == (1000, 1999, len(BODY))
    assert b"".join(part.chunks) == BODY[1000:2000]
    with pytest.raises(ValueError):
        storage.read_range(key, len(BODY), None)
    with storage.local_copy(key) as path:
        assert path is not None and path.read_bytes() == BODY
    storage.put_bytes("thumbs/ab/x-0.png", b"png1")
    storage.put_bytes("thumbs/ab/x-0.png", b"png2")  # derived data may be replaced
    assert read_all(storage, "thumbs/ab/x-0.png") == b"png2"
    listed = {o.key: o for o in [*storage.list("files"), *storage.list("thumbs")]}
    assert set(listed) == {key, "thumbs/ab/x-0.png"} and listed[key].size == len(BODY)
    assert abs(listed[key].modified - time.time()) < 120
    storage.delete(key)
    assert not storage.exists(key) and storage.read_range(key, 0, None) is None
    with storage.local_copy(key) as path:
        assert path is None


def test_presigned_urls_serve_the_bytes(vault_settings: Settings, storage: Storage) -> None:
    storage.put_bytes("thumbs/ab/y-0.png", b"\x89PNG tiny")
    url = storage.presigned_url("thumbs/ab/y-0.png", "cone ü.gcode", "image/png")
    if storage.kind == "local":
        assert url is None
        return
    assert url is not None
    got = httpx.get(url, timeout=10)
    assert got.status_code == 200 and got.content == b"\x89PNG tiny"
    assert got.headers["content-type"] == "image/png"
    assert "filename*=utf-8''cone%20%C3%BC.gcode" in got.headers["content-disposition"]


def test_probe_and_an_unreachable_endpoint(vault_settings: Settings, storage: Storage, tmp_path: Path) -> None:
    storage.probe()
    if storage.kind == "local":
        return
    dead = vault_settings.model_copy(update={"s3_endpoint_url": "http://127.0.0.1:9"})
    with pytest.raises(StorageUnavailable) as err:
        storage_for(dead).probe()
    assert err.value.status_code == 503 and "object store" in err.value.detail


def test_a_missing_bucket_is_unavailable(moto: MotoS3, tmp_path: Path) -> None:
    settings = moto.settings(tmp_path / "data", "no-such-bucket-here")
    with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
        storage_for(settings).probe()
