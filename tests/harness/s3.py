"""A real S3-compatible server for tests: moto in server mode on loopback, as a subprocess
(so a test can stop and start it like an admin's MinIO).

Where moto differs from a real bucket (tests must not rely on what it skips): it does not
verify `x-amz-checksum-sha256` or other checksums sent with a part, keeps everything in its
own process (in memory, bodies over ~5 MB in temp files it deletes; a restart forgets every
bucket: `start()` after `stop()` is a fresh, empty server),
and applies no lifecycle rules. It does honour `If-None-Match: *` on PutObject and
CompleteMultipartUpload (412 PreconditionFailed), which the create-only upload relies on.
"""

import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

from harness.processes import free_port, wait_http
from harness.vault import make_settings
from printstash.core.settings import Settings

KEY_ID, SECRET, REGION = "printstash-test", "printstash-test-secret", "us-east-1"


class MotoS3:
    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.mkstemp(prefix="moto-", suffix=".log")[1])

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                          "-p", str(self.port)], stdout=out, stderr=subprocess.STDOUT)
        wait_http(f"{self.endpoint}/moto-api/", timeout=60)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)

    def new_bucket(self, name: str | None = None) -> str:
        bucket = name or f"vault-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return bytes(self.client().get_object(Bucket=bucket, Key=key)["Body"].read())

    def settings(self, data_dir: Path, bucket: str, **overrides: object) -> Settings:
        return make_settings(data_dir, storage="s3", s3_bucket=bucket, s3_endpoint_url=self.endpoint,
                             s3_region=REGION, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                             **overrides)

    def env(self, bucket: str, **extra: str) -> dict[str, str]:
        """What a live api/worker process gets (vault_env adds the data dir)."""
        return {"VAULT_STORAGE": "s3", "VAULT_S3_BUCKET": bucket, "VAULT_S3_ENDPOINT_URL": self.endpoint,
                "VAULT_S3_REGION": REGION, "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                **extra}


@contextmanager
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.log.unlink(missing_ok=True)
