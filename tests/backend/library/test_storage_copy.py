"""`printstash storage copy --to s3`: a local library moves into a bucket (moto on loopback),
every object verified, and the vault then serves the same bytes from the bucket."""

import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from harness.paths import BACKEND
from harness.processes import vault_env
from harness.s3 import MotoS3
from harness.vault import make_settings, migrate
from librarykit import API, fixture_by_id, fixture_path, make_key, upload

from printstash.app import create_app

FIXTURES = [fixture_by_id(i) for i in ("prusa_cube20_0.20mm_PLA_thumbs", "prusa_cone_0.05mm_PLA_0.25n_comments")]


def copy_to_s3(data_dir: Path, moto: MotoS3, bucket: str) -> subprocess.CompletedProcess[str]:
    env = vault_env(data_dir, **moto.env(bucket, VAULT_STORAGE="local"))
    return subprocess.run([sys.executable, "-m", "printstash.cli", "storage", "copy", "--to", "s3"],
                          cwd=BACKEND, env=env, capture_output=True, text=True, timeout=120)


def test_a_local_library_moves_into_a_bucket_and_is_served_from_it(moto: MotoS3, tmp_path: Path) -> None:
    local = make_settings(tmp_path / "data")
    migrate(local)
    key = make_key(local)
    with TestClient(create_app(local), headers={"X-Api-Key": key}) as client:
        uploaded = [upload(client, f"{e['id']}.gcode", fixture_path(e).read_bytes()).json() for e in FIXTURES]
    local_objects = sorted(p.relative_to(local.data_dir).as_posix()
                           for root in (local.files_dir, local.thumbs_dir) for p in root.rglob("*") if p.is_file())
    bucket = moto.new_bucket()
    done = copy_to_s3(local.data_dir, moto, bucket)
    assert done.returncode == 0, done.stderr
    assert f"copied {len(local_objects)} object(s), 0 already in the bucket; 0 problem(s)" in done.stdout
    assert moto.keys(bucket) == local_objects
    again = copy_to_s3(local.data_dir, moto, bucket)  # idempotent: nothing re-sent
    assert f"copied 0 object(s), {len(local_objects)} already in the bucket" in again.stdout
    on_s3 = moto.settings(local.data_dir, bucket)
    with TestClient(create_app(on_s3), headers={"X-Api-Key": key}) as client:
        for entry, body in zip(FIXTURES, uploaded, strict=True):
            got = client.get(f"{API}/files/{body['id']}/download")
            assert got.status_code == 200 and got.content == fixture_path(entry).read_bytes()
            for thumb in body["thumbnails"]:
                assert client.get(thumb["url"]).content == (local.thumbs_dir / _thumb_rel(body, thumb)).read_bytes()


def test_a_differing_object_in_the_bucket_is_reported_and_kept(moto: MotoS3, tmp_path: Path) -> None:
    local = make_settings(tmp_path / "data")
    migrate(local)
    with TestClient(create_app(local), headers={"X-Api-Key": make_key(local)}) as client:
        sha = upload(client, "cone.gcode", fixture_path(FIXTURES[1]).read_bytes()).json()["sha256"]
    bucket = moto.new_bucket()
    moto.client().put_object(Bucket=bucket, Key=f"files/{sha[:2]}/{sha}", Body=b"not the content")
    done = copy_to_s3(local.data_dir, moto, bucket)
    assert done.returncode == 1
    assert f"files/{sha[:2]}/{sha}: size in the target is 15" in done.stderr
    assert moto.read(bucket, f"files/{sha[:2]}/{sha}") == b"not the content"


def _thumb_rel(body: dict[str, object], thumb: dict[str, object]) -> str:
    sha = str(body["sha256"])
    return f"{sha[:2]}/{sha}-{thumb['index']}.{thumb['format']}"
