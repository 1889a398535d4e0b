"""Backups of a vault whose files live in a bucket (VAULT_STORAGE=s3, moto on loopback;
tests/harness/s3.py says where moto differs from real S3).

These tests rely only on what moto does like a real bucket: keys, sizes (HEAD), bytes and
deletes. Moto does not verify `x-amz-checksum-sha256` on uploads, so nothing here depends on
the store checking a hash: every SHA-256 is computed by PrintStash from the bytes it reads, and
what a restored vault serves is compared with the fixture files themselves
(tests/fixtures/gcode/, uploaded through the API).
"""

import hashlib
import json
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from backupkit import copy_bucket, drop_bucket, fill
from fastapi.testclient import TestClient
from harness import postgres
from harness.backups import archives, cli, fixture_paths, populate
from harness.paths import BACKEND
from harness.processes import vault_env
from harness.s3 import MotoS3
from harness.vault import add_user_with_key, migrate
from sqlalchemy import make_url

from printstash.app import create_app
from printstash.backups import service
from printstash.backups.archive import DB_MEMBER, MANIFEST_NAME, PG_MEMBER
from printstash.core.settings import Settings

API = "/api/v1"
FIXTURE_BYTES = {p.name: p.read_bytes() for p in fixture_paths()}


@dataclass
class BucketVault:
    settings: Settings
    key: str  # an admin's API key (restored with the database)
    files: list[dict[str, Any]]
    with_objects: Path  # archive made --with-objects
    listed: Path  # archive that lists the objects


@pytest.fixture(scope="module")
def source(moto: MotoS3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BucketVault]:
    """A bucket vault with every real fixture uploaded through the API, and its two backups.
    Tests only read it; those that damage a bucket damage a copy."""
    settings = moto.settings(tmp_path_factory.mktemp("s3source") / "data", moto.new_bucket())
    migrate(settings)
    key = add_user_with_key(settings, "admin", "admin")
    with TestClient(create_app(settings), headers={"X-Api-Key": key}) as client:
        files = populate(client, settings)
    env = moto.env(settings.s3_bucket)
    made = cli(settings.data_dir, "backup", "create", "--with-objects", env=env)
    assert made.returncode == 0, made.stderr
    listed = cli(settings.data_dir, "backup", "create", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "are listed, not copied" in listed.stdout
    only_listed, with_objects = [i.path for i in service.list_backups(settings)]  # newest first
    yield BucketVault(settings, key, files, with_objects, only_listed)
    drop_bucket(moto, settings.s3_bucket)


def has_database(settings: Settings) -> bool:
    """Whether a restore put a database in place (a SQLite file, or tables in PostgreSQL)."""
    if settings.sqlite_path is not None:
        return settings.sqlite_path.exists()
    return not postgres.server().is_empty(make_url(settings.database_url).database or "")


def tar_names(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return tar.getnames()


def manifest_lines(archive: Path) -> list[dict[str, Any]]:
    with tarfile.open(archive) as tar:
        raw = tar.extractfile(MANIFEST_NAME).read()  # type: ignore[union-attr]
    return [json.loads(line) for line in raw.splitlines()]


def bucket_objects(moto: MotoS3, bucket: str) -> dict[str, str]:
    """key -> SHA-256 of every stored file and thumbnail in the bucket."""
    return {k: hashlib.sha256(moto.read(bucket, k)).hexdigest() for k in moto.keys(bucket)
            if k.startswith(("files/", "thumbs/"))}


def assert_serves_every_file(settings: Settings, vault: BucketVault) -> None:
    """The restored vault answers every file's download with the fixture's exact bytes."""
    with TestClient(create_app(settings), headers={"X-Api-Key": vault.key}) as client:
        listed = client.get(f"{API}/files").json()
        assert listed["total"] == len(vault.files)
        for item in listed["items"]:
            got = client.get(f"{API}/files/{item['id']}/download")
            assert got.status_code == 200, got.text
            assert got.content == FIXTURE_BYTES[item["name"]], item["name"]
            for thumb in item["thumbnails"]:
                assert client.get(f"{API}/files/{item['id']}/thumbnails/{thumb['index']}").status_code == 200


def test_the_archives_hold_or_list_every_referenced_object(source: BucketVault, moto: MotoS3) -> None:
    stored = bucket_objects(moto, source.settings.s3_bucket)
    assert any(k.startswith("thumbs/") for k in stored) and len(source.files) >= 10
    assert [p for p in (source.settings.data_dir / "files").rglob("*") if p.is_file()] == []
    # --with-objects: the objects are members, under the keys the bucket uses
    names = tar_names(source.with_objects)
    assert names[:2] == [MANIFEST_NAME, DB_MEMBER if source.settings.sqlite_path else PG_MEMBER]
    assert sorted(n for n in names if n.startswith(("files/", "thumbs/"))) == sorted(stored)
    # without: only the database and secrets are members; the manifest lists every object
    assert not [n for n in tar_names(source.listed) if n.startswith(("files/", "thumbs/"))]
    lines = manifest_lines(source.listed)
    assert lines[0]["objects"] == "referenced" and lines[0]["format_version"] == 2
    listed = {line["object"]: line["sha256"] for line in lines if "object" in line}
    assert listed == stored  # key and SHA-256 of each: the manifest's own hashes match the bucket's bytes
    assert manifest_lines(source.with_objects)[0]["objects"] == "included"


def test_restore_with_objects_into_an_empty_data_dir_and_a_fresh_bucket(source: BucketVault, moto: MotoS3,
                                                                         tmp_path: Path) -> None:
    fresh = moto.new_bucket()
    target = moto.settings(tmp_path / "elsewhere" / "data", fresh)
    done = cli(target.data_dir, "backup", "restore", str(source.with_objects), env=moto.env(fresh))
    assert done.returncode == 0, done.stderr
    assert bucket_objects(moto, fresh) == bucket_objects(moto, source.settings.s3_bucket)
    assert [p for p in (target.data_dir / "files").rglob("*") if p.is_file()] == []  # all in the bucket
    assert (target.data_dir / "secrets" / "printer-keys.fernet").read_bytes() == b"k" * 44
    assert_serves_every_file(target, source)
    drop_bucket(moto, fresh)


def test_a_listing_archive_restores_against_the_bucket_that_holds_the_objects(source: BucketVault,
                                                                              moto: MotoS3, tmp_path: Path) -> None:
    bucket = copy_bucket(moto, source.settings.s3_bucket)
    target = moto.settings(tmp_path / "again" / "data", bucket)
    done = cli(target.data_dir, "backup", "restore", str(source.listed), env=moto.env(bucket))
    assert done.returncode == 0, done.stderr
    assert_serves_every_file(target, source)
    drop_bucket(moto, bucket)


def test_restore_refuses_when_listed_objects_are_missing_unless_allowed(source: BucketVault, moto: MotoS3,
                                                                       tmp_path: Path) -> None:
    empty = moto.new_bucket()
    target = moto.settings(tmp_path / "target" / "data", empty)
    refused = cli(target.data_dir, "backup", "restore", str(source.listed), env=moto.env(empty))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "is missing" in refused.stderr and "--allow-missing-objects" in refused.stderr
    assert "Nothing was changed" in refused.stderr
    assert not has_database(target)
    assert not list(target.data_dir.glob(".restore-*")) and moto.keys(empty) == []

    allowed = cli(target.data_dir, "backup", "restore", "--allow-missing-objects", str(source.listed),
                  env=moto.env(empty))
    assert allowed.returncode == 0, allowed.stderr
    assert "warning: restored without" in allowed.stdout and "is missing" in allowed.stdout
    assert has_database(target)
    drop_bucket(moto, empty)


def test_verify_checks_every_listed_object_and_deep_rehashes_them(source: BucketVault, moto: MotoS3) -> None:
    bucket = copy_bucket(moto, source.settings.s3_bucket)
    env, data_dir = moto.env(bucket), source.settings.data_dir
    ok = cli(data_dir, "backup", "verify", "--deep", str(source.listed), env=env)
    assert ok.returncode == 0, ok.stderr
    assert "objects it lists are in bucket" in ok.stdout and "SHA-256 checked" in ok.stdout

    files = [k for k in moto.keys(bucket) if k.startswith("files/")]
    changed, deleted = files[0], files[1]
    data = bytearray(moto.read(bucket, changed))
    data[len(data) // 2] ^= 0x01  # same size: only --deep can tell
    moto.client().put_object(Bucket=bucket, Key=changed, Body=bytes(data))
    shallow = cli(data_dir, "backup", "verify", str(source.listed), env=env)
    assert shallow.returncode == 0, shallow.stderr
    deep = cli(data_dir, "backup", "verify", "--deep", str(source.listed), env=env)
    assert deep.returncode == 1 and f"{changed} has different content" in deep.stderr

    moto.client().delete_object(Bucket=bucket, Key=deleted)
    missing = cli(data_dir, "backup", "verify", str(source.listed), env=env)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert f"{deleted} is missing" in missing.stderr and "1 of the" in missing.stderr
    # an archive holding its objects needs no bucket to be checked
    assert cli(data_dir, "backup", "verify", str(source.with_objects), env=env).returncode == 0
    drop_bucket(moto, bucket)


def test_a_listing_archive_needs_the_bucket_settings(source: BucketVault) -> None:
    local = cli(source.settings.data_dir, "backup", "verify", str(source.listed))
    assert local.returncode == 1 and "VAULT_STORAGE=s3" in local.stderr


def test_kill_9_midway_of_a_bucket_backup_leaves_no_archive(moto: MotoS3, tmp_path: Path) -> None:
    settings = moto.settings(tmp_path / "data", moto.new_bucket())
    migrate(settings)
    fill(settings, 96, bucket=moto.client())
    env = moto.env(settings.s3_bucket)
    proc = subprocess.Popen([sys.executable, "-m", "printstash.cli", "backup", "create", "--with-objects"],
                            cwd=BACKEND, env=vault_env(settings.data_dir, **env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not [p for p in settings.backups_dir.glob(".tmp-*.tar") if p.stat().st_size > 8 * 1024 * 1024]:
        assert proc.poll() is None, f"the backup ended before it could be interrupted: {proc.communicate()}"
        assert time.monotonic() < deadline, "no partial archive appeared"
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert archives(settings) == []
    again = cli(settings.data_dir, "backup", "create", "--with-objects", env=env)
    assert again.returncode == 0, again.stderr
    assert len(archives(settings)) == 1 and list(settings.backups_dir.glob(".tmp-*")) == []
    assert cli(settings.data_dir, "backup", "verify", archives(settings)[0].name, env=env).returncode == 0
    drop_bucket(moto, settings.s3_bucket)
