"""`printstash backup create|list|verify FILE|restore FILE`: the admin's side of
docs/backup-restore.md."""

import argparse
from pathlib import Path

from printstash.backups import restore, service
from printstash.core import datalock, maintenance
from printstash.core.command import Command, Subparsers, open_database, with_settings
from printstash.core.settings import Settings


def register(sub: Subparsers) -> None:
    backup = sub.add_parser("backup", help="create, list, verify and restore backups")
    cmds = backup.add_subparsers(dest="backup_command", required=True)
    create = cmds.add_parser("create", help="write a backup now (api and worker may keep running)")
    create.add_argument("--with-objects", action="store_true",
                        help="VAULT_STORAGE=s3: copy the bucket's objects into the archive too (else it lists them)")
    create.set_defaults(func=with_settings(cmd_create))
    cmds.add_parser("list", help="list finished backups, newest first").set_defaults(func=with_settings(cmd_list))
    verify = _archive_command(cmds, "verify", cmd_verify, "check every hash, the database copy and the listed objects")
    verify.add_argument("--deep", action="store_true", help="also re-hash every listed object's bytes in the bucket")
    restore_ = _archive_command(cmds, "restore", cmd_restore,
                                "replace the data with a backup (stop api and worker first)")
    restore_.add_argument("--allow-missing-objects", action="store_true",
                          help="restore even when objects the archive lists are missing from the bucket")


def _archive_command(cmds: Subparsers, name: str, func: Command, text: str) -> argparse.ArgumentParser:
    parser = cmds.add_parser(name, help=text)
    parser.add_argument("file", help="an archive path, or a name from `printstash backup list`")
    parser.set_defaults(func=with_settings(func))
    return parser


def cmd_create(settings: Settings, args: argparse.Namespace) -> None:
    # The shared data-dir lock keeps a restore from swapping the data out from under us.
    lock = datalock.hold_shared(settings)
    try:
        with open_database(settings) as db:
            info = service.create_backup(settings, db, "manual", args.with_objects)
    finally:
        datalock.release(lock)
    head = service.header_of(info.path) or {}
    counts = head.get("counts", {})
    print(f"backup written: {info.path}")
    print(f"  {info.size} bytes, {counts.get('files', 0)} stored files, {counts.get('thumbs', 0)} thumbnails, "
          f"schema revision {head.get('alembic_revision')}")
    if head.get("objects") == "referenced":
        print(f"  the {counts.get('objects', 0)} objects in bucket {settings.s3_bucket} are listed, not copied: "
              "keep the bucket (or use --with-objects)")


def cmd_list(settings: Settings, _: argparse.Namespace) -> None:
    backups = service.list_backups(settings)
    if not backups:
        print(f"no backups in {settings.backups_dir}")
    for info in backups:
        head = service.header_of(info.path) or {}
        print(f"{info.name}  {info.size:>14} bytes  revision {head.get('alembic_revision', '?')}  "
              f"PrintStash {head.get('app_version', '?')}")


def _resolve(settings: Settings, given: str) -> Path:
    path = Path(given)
    if not path.exists() and service.NAME_RE.match(given):
        path = settings.backups_dir / given
    return path.resolve()


def cmd_verify(settings: Settings, args: argparse.Namespace) -> None:
    path = _resolve(settings, args.file)
    head, found = restore.verify_backup(settings, path, args.deep)
    counts = head["counts"]
    print(f"ok: {path} is intact ({counts['members']} members, {counts['bytes']} bytes, "
          f"schema revision {head.get('alembic_revision')}, taken {head.get('created_at')})")
    if found.checked:
        how = "size and SHA-256" if args.deep else "size"
        print(f"ok: all {found.checked} objects it lists are in bucket {settings.s3_bucket} ({how} checked)")


def cmd_restore(settings: Settings, args: argparse.Namespace) -> None:
    path = _resolve(settings, args.file)
    result = restore.restore_backup(settings, path, args.allow_missing_objects)
    print(f"restored {path.name} (schema revision {result.header.get('alembic_revision')}, "
          f"taken {result.header.get('created_at')}) into {settings.data_dir}")
    if result.objects is not None and result.objects.problems:
        print(f"warning: restored without {result.objects.problems} of the {result.objects.checked} objects "
              f"it lists: {result.objects.summary()}")
    if result.aside is not None:
        print(f"the previous data is kept in {result.aside}; remove it once you are satisfied")
    _maintenance_note(settings)


def _maintenance_note(settings: Settings) -> None:
    with open_database(settings) as db, db.read() as session:
        if maintenance.is_on(session):
            print("note: maintenance mode was on when this backup was taken and is on now; "
                  "run `printstash maintenance off` once PrintStash is running again")
