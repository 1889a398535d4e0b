"""Round trip: a vault with real fixtures, tags, users and printers → backup → restore into
an empty data dir (on PostgreSQL: and an empty database) → every file byte-identical, every
row equal."""

import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from harness.backups import archives, cli, dump_db, populate, tree
from harness.vault import make_settings

from printstash.backups.archive import DB_MEMBER, PG_MEMBER
from printstash.core.schema import head_revision
from printstash.core.settings import Settings


def test_round_trip_into_an_empty_data_dir(admin_client: TestClient, vault: Settings, tmp_path: Path) -> None:
    files = populate(admin_client, vault)
    assert len(files) >= 10
    made = cli(vault.data_dir, "backup", "create")
    assert made.returncode == 0, made.stderr
    [archive] = archives(vault)
    assert archive.stat().st_mode & 0o777 == 0o600  # password hashes and the printer-key secret
    source_rows, source_tree = dump_db(vault), tree(vault.data_dir)
    assert len(source_rows["files"]) == len(files) and source_rows["tags"] and len(source_rows["printers"]) == 2
    assert any(p.startswith("secrets/") for p in source_tree)
    assert any(p.startswith("thumbs/") for p in source_tree)
    # a plain tar (GNU tar reads it), manifest first, then the database, then every stored file
    listing = subprocess.run(["tar", "-tf", str(archive)], capture_output=True, text=True, check=True).stdout.split()
    assert listing[:2] == ["MANIFEST.jsonl", DB_MEMBER if vault.sqlite_path else PG_MEMBER]
    assert sorted(listing[2:]) == sorted(source_tree)

    target = make_settings(tmp_path / "elsewhere" / "data")
    restored = cli(target.data_dir, "backup", "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert tree(target.data_dir) == source_tree
    assert dump_db(target) == source_rows
    assert f"schema revision {head_revision()}" in restored.stdout


@pytest.mark.sqlite  # PostgreSQL: restore loads only into an empty database (test_backup_postgresql.py)
def test_restore_over_existing_data_keeps_the_previous_data_aside(admin_client: TestClient,
                                                                  vault: Settings) -> None:
    populate(admin_client, vault)
    assert cli(vault.data_dir, "backup", "create").returncode == 0
    [archive] = archives(vault)
    before = tree(vault.data_dir)
    extra = admin_client.post("/api/v1/files", files={"file": ("late.gcode", b"G28\nG1 X1\n", "text/x-gcode")})
    assert extra.status_code == 201
    admin_client.__exit__(None, None, None)  # stop the app: restore needs the data dir to itself
    restored = cli(vault.data_dir, "backup", "restore", archive.name)
    assert restored.returncode == 0, restored.stderr
    assert tree(vault.data_dir) == before
    [aside] = list(vault.data_dir.glob("before-restore-*"))
    late = extra.json()["sha256"]
    assert (aside / "files" / late[:2] / late).read_bytes() == b"G28\nG1 X1\n"
    assert archive.exists()  # backups/ stays in place
