"""Settings: defaults derive every path from VAULT_DATA_DIR; bad values stop with one line."""

import subprocess
import sys
from pathlib import Path

import pytest
from harness.paths import BACKEND, REPO
from harness.processes import vault_env

from printstash.core.settings import Settings


def test_defaults_hang_off_the_checkout_data_dir() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_dir == REPO / "data"
    assert settings.database_url == f"sqlite:///{REPO}/data/db/printstash.sqlite"
    assert settings.max_upload_mb == 2048
    assert settings.printer_poll_seconds == 2
    assert settings.backup_schedule == "0 3 * * *"
    assert settings.backup_keep == 7
    assert settings.backup_max_age_hours == 36


def test_container_data_dir_gives_the_documented_url() -> None:
    settings = Settings(data_dir=Path("/data"), _env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite:////data/db/printstash.sqlite"
    assert settings.files_dir == Path("/data/files")
    assert settings.tmp_dir == Path("/data/tmp")
    assert settings.thumbs_dir == Path("/data/thumbs")
    assert settings.backups_dir == Path("/data/backups")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VAULT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VAULT_DB_URL", f"sqlite:///{tmp_path}/db/nexus3d.sqlite")
    monkeypatch.setenv("VAULT_MAX_UPLOAD_MB", "10")
    monkeypatch.setenv("VAULT_BACKUP_SCHEDULE", "")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_dir == tmp_path
    assert settings.sqlite_path == tmp_path / "db" / "nexus3d.sqlite"
    assert settings.max_upload_bytes == 10 * 1024 * 1024
    assert settings.backup_schedule == ""
    assert not settings.db_url_is_default


def test_secrets_are_masked_in_check_output() -> None:
    settings = Settings(setup_token="hunter2-token", db_url="postgresql://ps:s3cret@db/ps", _env_file=None)  # type: ignore[call-arg]
    shown = settings.masked()
    assert shown["VAULT_SETUP_TOKEN"] == "********"
    assert shown["VAULT_DB_URL"] == "postgresql://ps:********@db/ps"
    assert "s3cret" not in str(shown) and "hunter2" not in str(shown)


@pytest.mark.parametrize(
    ("name", "value"),
    [("VAULT_MAX_UPLOAD_MB", "lots"), ("VAULT_MAX_UPLOAD_MB", "-1"), ("VAULT_BACKUP_SCHEDULE", "every night"),
     ("VAULT_PRINTER_POLL_SECONDS", "0")],
)
@pytest.mark.parametrize("command", ["check", "serve", "worker"])
def test_invalid_setting_is_one_line_and_exit_2(tmp_path: Path, command: str, name: str, value: str) -> None:
    env = vault_env(tmp_path, **{name: value})
    proc = subprocess.run([sys.executable, "-m", "printstash.cli", command], cwd=BACKEND, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"printstash: invalid configuration: {name}:")


def test_object_storage_settings_and_their_secret_in_check(tmp_path: Path) -> None:
    env = vault_env(tmp_path, VAULT_STORAGE="s3", VAULT_S3_BUCKET="prints", VAULT_S3_PREFIX="vault/",
                    VAULT_S3_ENDPOINT_URL="http://minio:9000", VAULT_S3_REGION="us-east-1",
                    AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI-secret")
    proc = subprocess.run([sys.executable, "-m", "printstash.cli", "check"], cwd=BACKEND, env=env,
                          capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert "wJalrXUtnFEMI" not in out
    for shown in ("VAULT_STORAGE", "s3", "http://minio:9000", "vault/", "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY"):
        assert shown in out, out


def test_s3_storage_without_a_bucket_is_refused(tmp_path: Path) -> None:
    env = vault_env(tmp_path, VAULT_STORAGE="s3", AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI-secret")
    proc = subprocess.run([sys.executable, "-m", "printstash.cli", "check"], cwd=BACKEND, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "VAULT_S3_BUCKET" in proc.stderr and "wJalrXUtnFEMI" not in proc.stderr
