"""The data dir is owner-only (files 0600, directories 0700), as backups and secrets already
were: for a fresh migration, for what the real api writes, for a restore, and for a data dir
an older version left readable by everyone."""

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness.paths import BACKEND, GCODE_FIXTURES
from harness.processes import live_api, vault_env
from harness.vault import add_user_with_key, make_settings, migrate

from printstash.backups import service
from printstash.core.db import Database

# The database here is a file in the data dir, and a restore loads the SQLite archive.
pytestmark = pytest.mark.sqlite


def _exposed(root: Path) -> list[str]:
    """Every path under root (root included) that group or others may read, write or enter."""
    paths = [root, *root.rglob("*")]
    return [f"{p.relative_to(root)} {stat.filemode(p.stat().st_mode)}" for p in paths
            if not p.is_symlink() and p.stat().st_mode & 0o077]


@pytest.fixture
def shared_umask() -> Iterator[None]:
    """This test process writes as an older PrintStash did: world-readable files."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**vault_env(data_dir), "PATH": os.environ["PATH"]}
    return subprocess.run([sys.executable, "-m", *args], cwd=BACKEND, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_a_migration_creates_an_owner_only_database(tmp_path: Path, shared_umask: None) -> None:
    data = tmp_path / "data"
    done = _cli(data, "alembic", "upgrade", "head")
    assert done.returncode == 0, done.stderr
    assert _exposed(data) == []


def test_an_old_world_readable_vault_is_tightened_and_new_files_are_owner_only(
        tmp_path: Path, shared_umask: None) -> None:
    settings = make_settings(tmp_path / "data")
    migrate(settings)
    key = add_user_with_key(settings, "admin", "admin")
    for path in [settings.data_dir, *settings.data_dir.rglob("*")]:  # as an older version left it
        path.chmod(0o755 if path.is_dir() else 0o644)
    gcode = next(p for p in sorted(GCODE_FIXTURES.rglob("*.gcode")) if b"thumbnail begin" in p.read_bytes())
    with live_api(settings.data_dir) as base:
        answer = httpx.post(f"{base}/api/v1/files", headers={"X-Api-Key": key},
                            files={"file": (gcode.name, gcode.read_bytes(), "text/x-gcode")}, timeout=60)
        assert answer.status_code == 201, answer.text
        assert answer.json()["thumbnails"]
    assert _exposed(settings.data_dir) == []
    assert list(settings.files_dir.rglob("*")) and list(settings.thumbs_dir.rglob("*"))


def test_a_restore_is_owner_only(tmp_path: Path, shared_umask: None) -> None:
    source = make_settings(tmp_path / "source")
    migrate(source)
    (source.data_dir / "secrets").mkdir(exist_ok=True)
    (source.data_dir / "secrets" / "printer_api_keys.fernet").write_bytes(b"k" * 44)
    (source.files_dir / "ab").mkdir(parents=True)
    db = Database.from_settings(source)
    archive = service.create_backup(source, db).path
    db.dispose()
    target = tmp_path / "target"
    done = _cli(target, "printstash.cli", "backup", "restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert _exposed(target) == []
