"""The S3-compatible store behind core/storage.py's interface (AWS, MinIO, Garage, Ceph RGW).

boto3 because it is the reference client every S3-compatible server tests against, it is
thread-safe per client, and its transfer manager (s3transfer) already uploads a file's
parts concurrently from a local file (bench/s3_upload.py measures our upload against its
plain upload_file).

No overwrite: every create-only write (PutObject, CompleteMultipartUpload) carries
`If-None-Match: *`, so a second upload of stored content fails with 412 and the first object
stays. A store that ignores the header would let an identical object replace an identical
one; the HEAD check before each upload keeps even that from happening in the usual case.
"""

import contextlib
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from printstash.core.objects import READ_CHUNK, ByteRange, ObjectInfo, StorageUnavailable, attachment
from printstash.core.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)
# 16 MiB parts, 8 at a time: a 1 GiB file is 64 parts; memory stays at 8 parts in flight
TRANSFER = TransferConfig(multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024,
                          max_concurrency=8, use_threads=True)
PRESIGNED_SECONDS = 300
MISSING = {"404", "NoSuchKey", "NotFound"}
EXISTS = {"412", "PreconditionFailed", "409", "ConditionalRequestConflict"}


class S3Storage:
    kind: Literal["local", "s3"] = "s3"

    def __init__(self, client: "S3Client", create_only: "S3Client", quick: "S3Client", bucket: str,
                 prefix: str, presigned: bool, tmp_dir: Path) -> None:
        self.client, self.create_only, self.quick = client, create_only, quick
        self.bucket, self.prefix, self.presigned, self.tmp_dir = bucket, prefix, presigned, tmp_dir

    @classmethod
    def from_settings(cls, settings: Settings) -> "S3Storage":
        steady = Config(connect_timeout=5, read_timeout=60, retries={"mode": "standard", "max_attempts": 3},
                        max_pool_connections=16, signature_version="s3v4")  # v4: presigned URLs expire
        # health and the pre-upload check must answer fast when the endpoint is down
        quick = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 1})
        create_only = _client(settings, steady)
        for operation in ("PutObject", "CompleteMultipartUpload"):
            create_only.meta.events.register(f"before-parameter-build.s3.{operation}", _if_none_match)
        return cls(_client(settings, steady), create_only, _client(settings, quick), settings.s3_bucket,
                   settings.s3_prefix, settings.s3_presigned_downloads, settings.tmp_dir)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def put_file(self, key: str, path: Path) -> bool:
        if self.exists(key):
            return False
        with _unavailable("upload"):
            try:
                self.create_only.upload_file(str(path), self.bucket, self._key(key), Config=TRANSFER)
            except S3UploadFailedError as exc:
                if _code(_client_error(exc)) in EXISTS:
                    return False  # stored meanwhile by another upload: that object stays
                raise
        return True

    def put_bytes(self, key: str, data: bytes) -> None:
        with _unavailable("write"):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def size(self, key: str) -> int | None:
        with _unavailable("check"):
            try:
                return self.quick.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"]
            except ClientError as exc:
                if _code(exc) in MISSING:
                    return None
                raise

    def read_range(self, key: str, start: int, end: int | None) -> ByteRange | None:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key)}
        if start or end is not None:
            args["Range"] = f"bytes={start}-{'' if end is None else end}"
        with _unavailable("read"):
            try:
                answer = self.client.get_object(**args)
            except ClientError as exc:
                if _code(exc) in MISSING:
                    return None
                if _code(exc) in {"416", "InvalidRange"}:
                    raise ValueError(f"range starts at {start}, past the end") from exc
                raise
        length = answer["ContentLength"]
        total = int(answer["ContentRange"].rsplit("/", 1)[1]) if "ContentRange" in answer else length
        return ByteRange(_chunks(answer["Body"]), start, start + length - 1, total)

    def local_path(self, key: str) -> Path | None:
        return None

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path | None]:
        """Downloaded into tmp/ next to the uploads (same volume); removed afterwards."""
        if not self.exists(key):
            yield None
            return
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        dest = self.tmp_dir / f"{uuid.uuid4().hex}.fetch"
        try:
            with _unavailable("download"):
                self.client.download_file(self.bucket, self._key(key), str(dest), Config=TRANSFER)
            yield dest
        finally:
            dest.unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        with _unavailable("delete"):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, folder: str) -> Iterator[ObjectInfo]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                      Prefix=self._key(folder) + "/")
        with _unavailable("list"):
            for page in pages:
                for item in page.get("Contents", []):
                    yield ObjectInfo(item["Key"][len(self.prefix):], item["Size"],
                                     item["LastModified"].timestamp())

    def presigned_url(self, key: str, filename: str | None, media_type: str) -> str | None:
        if not self.presigned:
            return None
        params = {"Bucket": self.bucket, "Key": self._key(key), "ResponseContentType": media_type}
        if filename is not None:
            params["ResponseContentDisposition"] = attachment(filename)
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=PRESIGNED_SECONDS)

    def probe(self) -> None:
        key = self._key(f".health/{uuid.uuid4().hex}")
        with _unavailable("probe"):
            self.quick.put_object(Bucket=self.bucket, Key=key, Body=b"ok")
            try:
                self.quick.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            finally:
                self.quick.delete_object(Bucket=self.bucket, Key=key)


def _client(settings: Settings, config: Config) -> "S3Client":
    secret = settings.aws_secret_access_key.get_secret_value() if settings.aws_secret_access_key else None
    client: S3Client = boto3.session.Session().client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
        aws_access_key_id=settings.aws_access_key_id, aws_secret_access_key=secret, config=config)
    return client


def _if_none_match(params: dict[str, Any], **_: Any) -> None:
    params["IfNoneMatch"] = "*"


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(READ_CHUNK)
    finally:
        body.close()


def _code(exc: BaseException | None) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


@contextlib.contextmanager
def _unavailable(what: str) -> Iterator[None]:
    """Connection failures, a missing bucket, refused credentials: 503 with the reason."""
    try:
        yield
    except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
        log.warning("object store %s failed: %s", what, exc)
        raise StorageUnavailable(f"the object store did not answer the {what}: {_reason(exc)}") from exc


def _client_error(exc: BaseException) -> BaseException:
    """boto3 raises S3UploadFailedError while handling the service's error: that one."""
    if isinstance(exc, S3UploadFailedError):
        return exc.__cause__ or exc.__context__ or exc
    return exc


def _reason(exc: BaseException) -> str:
    cause = _client_error(exc)
    return _code(cause) or type(cause).__name__
