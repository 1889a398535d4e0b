"""`printstash storage copy --to s3`: a local library's files/ and thumbs/ into the bucket
that VAULT_S3_* names, each object verified after the copy (size; stored files also by their
SHA-256 read back from the bucket). Safe to run again: objects already there are not
re-sent, only verified. The data dir is left as it was (docs/configuration.md says when to
remove it)."""

import argparse
import hashlib
import sys
from dataclasses import dataclass, field

from printstash.core.command import EXIT_FAILED, Subparsers, with_settings
from printstash.core.errors import Invalid
from printstash.core.objects import Storage
from printstash.core.settings import Settings
from printstash.core.storage import FILES, THUMBS, storage_for


@dataclass
class CopyReport:
    copied: int = 0
    present: int = 0  # already in the target (left as it was, verified)
    problems: list[str] = field(default_factory=list)


def copy_library(source: Storage, target: Storage) -> CopyReport:
    report = CopyReport()
    for folder in (FILES, THUMBS):
        for obj in source.list(folder):
            if obj.key.rsplit("/", 1)[-1].startswith("."):
                continue  # an atomic write's leftover temp file
            with source.local_copy(obj.key) as path:
                if path is None:
                    continue  # removed meanwhile (a purge)
                stored = target.put_file(obj.key, path)
            report.copied += stored
            report.present += not stored
            problem = _verify(target, obj.key, obj.size)
            if problem:
                report.problems.append(problem)
    return report


def _verify(target: Storage, key: str, size: int) -> str | None:
    if target.size(key) != size:
        return f"{key}: size in the target is {target.size(key)}, expected {size}"
    if not key.startswith(f"{FILES}/"):
        return None
    got = target.read_range(key, 0, None)
    digest = hashlib.sha256()
    for chunk in got.chunks if got else ():
        digest.update(chunk)
    name = key.rsplit("/", 1)[-1]
    return None if digest.hexdigest() == name else f"{key}: content in the target hashes to {digest.hexdigest()}"


def register(sub: Subparsers) -> None:
    storage = sub.add_parser("storage", help="object storage: copy a local library into a bucket")
    cmds = storage.add_subparsers(dest="storage_command", required=True)
    copy = cmds.add_parser("copy", help="copy files/ and thumbs/ of the data dir into VAULT_S3_BUCKET, verified")
    copy.add_argument("--to", choices=("s3",), required=True)
    copy.set_defaults(func=with_settings(cmd_copy))


def cmd_copy(settings: Settings, _: argparse.Namespace) -> None:
    if not settings.s3_bucket:
        raise Invalid("set VAULT_S3_BUCKET (and VAULT_S3_ENDPOINT_URL, VAULT_S3_REGION, the credentials)")
    local = storage_for(settings.model_copy(update={"storage": "local"}))
    report = copy_library(local, storage_for(settings.model_copy(update={"storage": "s3"})))
    print(f"copied {report.copied} object(s), {report.present} already in the bucket; "
          f"{len(report.problems)} problem(s)")
    for problem in report.problems:
        print(f"  {problem}", file=sys.stderr)
    if report.problems:
        sys.exit(EXIT_FAILED)
