"""api and worker never migrate: missing/behind, ahead and legacy databases stop them."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from harness.paths import BACKEND
from harness.processes import vault_env
from harness.vault import make_settings, migrate
from sqlalchemy import create_engine, text

from printstash.core.schema import head_revision

PROCESSES = ["serve", "worker"]


def run(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "printstash.cli", *args], cwd=BACKEND,
                          env=vault_env(data_dir, **env), capture_output=True, text=True, timeout=60)


def previous_revision() -> str:
    from alembic.script import ScriptDirectory

    from printstash.core.schema import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    down = script.get_revision(head_revision()).down_revision
    assert isinstance(down, str)
    return down


@pytest.mark.parametrize("process", PROCESSES)
def test_no_database_names_the_migration_commands(tmp_path: Path, process: str) -> None:
    proc = run(tmp_path, process)
    assert proc.returncode == 3
    assert "uv run alembic upgrade head" in proc.stderr
    assert "docker compose run --rm api uv run alembic upgrade head" in proc.stderr
    assert not (tmp_path / "db" / "printstash.sqlite").exists(), "the guard must not create a database"


@pytest.mark.parametrize("process", PROCESSES)
def test_schema_behind_head_refuses_with_the_command(tmp_path: Path, process: str) -> None:
    migrate(make_settings(tmp_path), previous_revision())
    proc = run(tmp_path, process)
    assert proc.returncode == 3
    assert f"({previous_revision()}) is behind" in proc.stderr
    assert "uv run alembic upgrade head" in proc.stderr


@pytest.mark.parametrize("process", PROCESSES)
def test_schema_ahead_says_newer_and_rollback_is_restore(tmp_path: Path, process: str) -> None:
    settings = make_settings(tmp_path)
    migrate(settings)
    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9001_from_the_future'"))
    engine.dispose()
    proc = run(tmp_path, process)
    assert proc.returncode == 3
    assert "newer than this version" in proc.stderr
    assert "restoring the backup taken before the upgrade" in proc.stderr


@pytest.mark.sqlite  # the legacy guard is about the default SQLite file
@pytest.mark.parametrize("process", [*PROCESSES, "check"])
def test_legacy_database_is_never_replaced_by_an_empty_one(tmp_path: Path, process: str) -> None:
    legacy = tmp_path / "db" / "nexus3d.sqlite"
    legacy.parent.mkdir(parents=True)
    sqlite3.connect(legacy).close()
    proc = run(tmp_path, process)
    assert proc.returncode == 3
    assert f"VAULT_DB_URL=sqlite:///{legacy}" in proc.stdout + proc.stderr
    assert not (tmp_path / "db" / "printstash.sqlite").exists()


@pytest.mark.sqlite  # the legacy guard is about the default SQLite file
def test_alembic_refuses_to_create_a_database_beside_a_legacy_one(tmp_path: Path) -> None:
    legacy = tmp_path / "db" / "nexus3d.sqlite"
    legacy.parent.mkdir(parents=True)
    sqlite3.connect(legacy).close()
    proc = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=BACKEND,
                          env=vault_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "VAULT_DB_URL=sqlite:///" in proc.stderr
    assert not (tmp_path / "db" / "printstash.sqlite").exists()


@pytest.mark.sqlite  # the legacy guard is about the default SQLite file
def test_legacy_url_works_once_set(tmp_path: Path) -> None:
    legacy_url = f"sqlite:///{tmp_path}/db/nexus3d.sqlite"
    migrate(make_settings(tmp_path, db_url=legacy_url))
    proc = run(tmp_path, "check", VAULT_DB_URL=legacy_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"schema: current (database {head_revision()}" in proc.stdout
    assert not (tmp_path / "db" / "printstash.sqlite").exists()


def test_check_reports_current_schema(tmp_path: Path) -> None:
    migrate(make_settings(tmp_path))
    proc = run(tmp_path, "check", VAULT_SETUP_TOKEN="do-not-print-me")
    assert proc.returncode == 0
    assert "schema: current" in proc.stdout
    assert "do-not-print-me" not in proc.stdout
    assert f"VAULT_DATA_DIR={tmp_path}" in proc.stdout


@pytest.mark.parametrize("process", PROCESSES)
def test_interrupted_restore_blocks_start_until_finished(tmp_path: Path, process: str) -> None:
    migrate(make_settings(tmp_path))
    (tmp_path / ".restore-journal.json").write_text('{"staging": ".restore-x", "aside": "before-restore-x"}')
    proc = run(tmp_path, process)
    assert proc.returncode == 3
    assert "restore into" in proc.stderr and "was interrupted" in proc.stderr
