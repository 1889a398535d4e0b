"""Backups of a PostgreSQL vault (VAULT_TEST_DB=postgresql; skipped on the SQLite run): the
archive carries a pg_dump in custom format, verify checks it with `pg_restore --list`, and
restore loads it into an empty database only. test_backup_roundtrip.py's round trip runs on
PostgreSQL too."""

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from harness import postgres
from harness.backups import archives, cli, dump_db, tree
from harness.vault import make_settings, migrate

from printstash.backups import restore, service
from printstash.backups.archive import MANIFEST_NAME, PG_MEMBER
from printstash.backups.pgdump import tool
from printstash.core.db import Database
from printstash.core.errors import Invalid
from printstash.core.settings import Settings

pytestmark = pytest.mark.postgresql


@pytest.fixture
def archive(db: Database, vault: Settings) -> Path:
    (vault.data_dir / "secrets").mkdir(parents=True, exist_ok=True)
    (vault.data_dir / "secrets" / "printer-keys.fernet").write_bytes(b"k" * 44)
    return service.create_backup(vault, db).path


def test_the_archive_carries_a_custom_format_pg_dump(archive: Path, tmp_path: Path) -> None:
    with tarfile.open(archive) as tar:
        assert tar.getnames()[:2] == [MANIFEST_NAME, PG_MEMBER]
        head = json.loads(tar.extractfile(MANIFEST_NAME).readline())  # type: ignore[union-attr]
        dump = tar.extractfile(PG_MEMBER).read()  # type: ignore[union-attr]
    assert head["database"] == "postgresql" and head["counts"]["tables"]["alembic_version"] == 1
    assert dump.startswith(b"PGDMP")  # the custom format's signature
    (tmp_path / "dump").write_bytes(dump)
    listed = subprocess.run([tool("pg_restore"), "--list", str(tmp_path / "dump")], capture_output=True,
                            text=True, check=True).stdout
    assert "TABLE DATA public files" in listed and "TABLE DATA public alembic_version" in listed


def test_restore_refuses_a_database_that_is_not_empty(archive: Path, vault: Settings, tmp_path: Path) -> None:
    target = make_settings(tmp_path / "target")
    migrate(target)  # a migrated database: tables, rows in alembic_version
    before = dump_db(target)
    done = cli(target.data_dir, "backup", "restore", str(archive))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "is not empty" in done.stderr and "alembic_version" in done.stderr
    assert dump_db(target) == before
    assert not list(target.data_dir.glob(".restore-*")) and not list(target.data_dir.glob("before-restore-*"))


def test_a_dump_that_pg_restore_cannot_read_is_refused(archive: Path, vault: Settings, tmp_path: Path) -> None:
    """The manifest's hashes are recomputed as an attacker (or a bug) would: only
    `pg_restore --list` can tell the dump is not one."""
    crafted = _with_dump(archive, b"PGDMP" + b"\0" * 4000, tmp_path / "crafted.tar")
    target = make_settings(tmp_path / "target")
    for action, settings in ((restore.verify_backup, vault), (restore.restore_backup, target)):
        with pytest.raises(Invalid) as caught:
            action(settings, crafted)
        assert caught.value.code == "backup_corrupt" and "dump is damaged" in caught.value.detail, caught.value
    assert postgres.server().is_empty(postgres.server().database_for(target.data_dir))


def test_archives_restore_only_into_the_database_they_were_made_from(archive: Path, tmp_path: Path) -> None:
    sqlite_target = Settings(data_dir=tmp_path / "sqlite", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(Invalid) as caught:
        restore.restore_backup(sqlite_target, archive)
    assert caught.value.code == "restore_wrong_database" and "PostgreSQL" in caught.value.detail
    assert not (tmp_path / "sqlite" / "db" / "printstash.sqlite").exists()

    migrate(sqlite_target)  # a SQLite vault's archive does not load into PostgreSQL either
    database = Database.from_settings(sqlite_target)
    try:
        from_sqlite = service.create_backup(sqlite_target, database).path
    finally:
        database.dispose()
    pg_target = make_settings(tmp_path / "pg")
    with pytest.raises(Invalid) as caught:
        restore.restore_backup(pg_target, from_sqlite)
    assert caught.value.code == "restore_wrong_database" and "SQLite" in caught.value.detail
    assert postgres.server().is_empty(postgres.server().database_for(pg_target.data_dir))


def test_verify_via_the_cli(archive: Path, vault: Settings) -> None:
    done = cli(vault.data_dir, "backup", "verify", str(archive))
    assert done.returncode == 0 and done.stdout.startswith("ok:"), done.stderr
    assert archives(vault) == [archive] and tree(vault.data_dir)["secrets/printer-keys.fernet"]


def _with_dump(archive: Path, dump: bytes, out: Path) -> Path:
    """The archive with another dump, its manifest line and trailer made to match."""
    with tarfile.open(archive) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    lines = members[0][1].splitlines(keepends=True)[:-1]
    lines[1] = json.dumps({"path": PG_MEMBER, "size": len(dump), "sha256": hashlib.sha256(dump).hexdigest()}
                          ).encode() + b"\n"
    trailer = json.dumps({"manifest_sha256": hashlib.sha256(b"".join(lines)).hexdigest()}).encode() + b"\n"
    members = [(MANIFEST_NAME, b"".join(lines) + trailer), (PG_MEMBER, dump), *members[2:]]
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out
