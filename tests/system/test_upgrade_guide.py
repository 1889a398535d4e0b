"""docs/upgrading.md as a test, from a checkout (the local form):

maintenance on → backup create → (stop) → `uv run alembic upgrade head` → start, smoke-check
through a live api → maintenance off; then the rollback: stop → backup restore → the database
is back at the previous revision with exactly the data it had, and the current version refuses
to start on it until migrated.

The vault at the previous revision is built the only way this checkout can: real uploads
through the api at head, then alembic's own downgrade to the revision before head.
"""

import hashlib
import subprocess
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from harness.backups import cli, dump_db, populate, tree
from harness.paths import BACKEND
from harness.processes import live_api, vault_env
from harness.vault import add_user_with_key, downgrade, make_settings, migrate

from printstash.app import create_app
from printstash.core.schema import alembic_config, current_revision, head_revision
from printstash.core.settings import Settings


def _previous_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config())
    down = script.get_revision(head_revision()).down_revision
    assert isinstance(down, str)
    return down


def _vault_at_previous_revision(settings: Settings) -> tuple[str, list[dict[str, object]]]:
    migrate(settings)
    key = add_user_with_key(settings, "admin", "admin", "correct horse battery")
    with TestClient(create_app(settings), headers={"X-Api-Key": key}) as client:
        files = populate(client, settings)
    downgrade(settings, _previous_revision())
    return key, files


def _run(data_dir: Path, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), cwd=BACKEND, env=vault_env(data_dir), capture_output=True, text=True,
                          timeout=300)


def _smoke(base: str, key: str, files: list[dict[str, object]], settings: Settings) -> None:
    with httpx.Client(base_url=base, headers={"X-Api-Key": key}, timeout=30) as client:
        health = client.get("/api/v1/health").json()
        assert health["status"] != "error"
        assert health["components"]["database"]["revision"] == head_revision()
        assert health["maintenance"]["on"] is True  # still paused until the admin says so
        listed = client.get("/api/v1/files", params={"limit": 200}).json()
        assert listed["total"] == len(files)
        first = files[0]
        got = client.get(f"/api/v1/files/{first['id']}/download")
        assert hashlib.sha256(got.content).hexdigest() == first["sha256"]
        found = client.get("/api/v1/files", params={"q": Path(str(first["name"])).stem}).json()
        assert any(item["id"] == first["id"] for item in found["items"]), "search after upgrade"


@pytest.mark.system
def test_upgrade_then_roll_back_by_restoring(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    key, files = _vault_at_previous_revision(settings)
    previous = _previous_revision()
    data = settings.data_dir

    # 1-2. pause uploads and scheduled jobs, back up
    assert cli(data, "maintenance", "on", "--message", "Upgrading PrintStash").returncode == 0
    made = cli(data, "backup", "create")
    assert made.returncode == 0, made.stderr
    assert f"schema revision {previous}" in made.stdout
    archive = made.stdout.split("backup written: ", 1)[1].split()[0]
    before_rows, before_tree = dump_db(settings.sqlite_path), tree(data)  # type: ignore[arg-type]

    # the current version refuses the old schema until migrated
    refused = cli(data, "serve", "--port", "9")
    assert refused.returncode == 3 and "alembic upgrade head" in refused.stderr

    # 5. migrate: the explicit step, exactly as the guide says
    migrated = _run(data, "uv", "run", "alembic", "upgrade", "head")
    assert migrated.returncode == 0, migrated.stderr
    assert current_revision(settings) == head_revision()

    # 6. start the new version, smoke-check, resume
    with live_api(data) as base:
        _smoke(base, key, files, settings)
    assert cli(data, "maintenance", "off").returncode == 0

    # Rollback: (api stopped) restore the pre-upgrade backup
    restored = cli(data, "backup", "restore", archive)
    assert restored.returncode == 0, restored.stderr
    assert current_revision(settings) == previous
    assert dump_db(settings.sqlite_path) == before_rows  # type: ignore[arg-type]
    assert tree(data) == before_tree
    assert "maintenance mode was on" in restored.stdout
    again = cli(data, "serve", "--port", "9")
    assert again.returncode == 3 and f"({previous}) is behind" in again.stderr
    assert list(data.glob("before-restore-*")), "the upgraded data is kept aside"
