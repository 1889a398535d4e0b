"""One settings object for every process; every path hangs off VAULT_DATA_DIR."""

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The checkout's ./data, whatever the working directory: `make run` (repo root) and the
# upgrade guide's `cd backend && uv run alembic upgrade head` must see the same vault.
# Containers set VAULT_DATA_DIR=/data.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[3] / "data"
DB_FILENAME = "printstash.sqlite"
LEGACY_DB_FILENAME = "nexus3d.sqlite"
DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VAULT_", env_file=".env", extra="ignore", frozen=True, populate_by_name=True
    )

    data_dir: Path = DEFAULT_DATA_DIR
    db_url: str | None = Field(default=None, description="default: sqlite:///<DATA_DIR>/db/printstash.sqlite")
    setup_token: SecretStr | None = None
    max_upload_mb: int = Field(default=2048, gt=0)
    printer_poll_seconds: float = Field(default=2.0, gt=0)
    # a worker renews its printers' leases every 2 s at most; a dead worker's printers are
    # taken over by another worker within this (printers/lease.py)
    printer_lease_seconds: float = Field(default=10.0, ge=3.0)
    backup_schedule: str = "0 3 * * *"
    backup_keep: int = Field(default=7, ge=1)
    backup_max_age_hours: float = Field(default=36.0, gt=0)
    trash_retention_days: float = Field(default=30.0, ge=0)  # trashed files purged after this
    # the toolpath preview's plain G-code of packaged plates (cache/plain/): the hourly
    # housekeeping removes the least recently previewed beyond this size (library/store.py)
    preview_cache_mb: int = Field(default=4096, ge=0)
    log_level: str = "INFO"
    # how long a worker holds a deferred job; a crashed worker's job is retried after this
    job_lease_seconds: float = Field(default=300.0, gt=0)
    # reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or
    # networks, comma-separated; empty: none). The default covers the shipped proxies, which
    # connect from loopback or a private network.
    trusted_proxies: str = DEFAULT_TRUSTED_PROXIES
    # slow clients (core/httpserver.py): a request's headers must arrive within this, and a
    # body may pause at most this long; uploads running at once per user (more: 429)
    header_timeout_seconds: float = Field(default=20.0, gt=0)
    body_idle_timeout_seconds: float = Field(default=30.0, gt=0)
    max_uploads_per_user: int = Field(default=4, ge=1)
    # where content-addressed data (files/, thumbs/) lives: the data dir, or a bucket
    storage: Literal["local", "s3"] = "local"
    s3_bucket: str = Field(default="", validate_default=True)
    s3_prefix: str = ""  # keys become <prefix>files/ab/<sha256>; give it a trailing "/"
    s3_endpoint_url: str | None = None  # empty: AWS; else MinIO, Garage, Ceph RGW, ...
    s3_region: str | None = None
    s3_presigned_downloads: bool = False
    # the standard AWS names (no VAULT_ prefix); unset: boto3's own chain (instance profile, ...)
    aws_access_key_id: str | None = Field(default=None, validation_alias=AliasChoices(
        "aws_access_key_id", "AWS_ACCESS_KEY_ID"))
    aws_secret_access_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices(
        "aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"))

    @field_validator("db_url", "setup_token", "s3_endpoint_url", "s3_region", "aws_access_key_id",
                     "aws_secret_access_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # docker compose passes `${VAR:-}` through as an empty string
        return None if value == "" else value

    @field_validator("backup_schedule")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        # Validate here so a typo stops start-up instead of silently disabling backups.
        if value.strip():
            from apscheduler.triggers.cron import CronTrigger

            CronTrigger.from_crontab(value.strip())
        return value.strip()

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            ipaddress.ip_network(part, strict=False)  # ValueError names the bad entry
        return value

    @cached_property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = filter(None, (p.strip() for p in self.trusted_proxies.split(",")))
        return tuple(ipaddress.ip_network(p, strict=False) for p in parts)
    @field_validator("s3_bucket")
    @classmethod
    def _bucket_named(cls, value: str, info: ValidationInfo) -> str:
        # a field validator: a model validator's error would echo every input, secrets included
        if info.data.get("storage") == "s3" and not value.strip():
            raise ValueError("VAULT_STORAGE=s3 needs VAULT_S3_BUCKET")
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _valid_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @cached_property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.db_dir / DB_FILENAME}"

    @property
    def db_url_is_default(self) -> bool:
        """True for the default URL, whether left unset or spelled out (as compose may do)."""
        return self.database_url == f"sqlite:///{self.db_dir / DB_FILENAME}"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, when the URL points at a SQLite file."""
        prefix = "sqlite:///"
        url = self.database_url
        if not url.startswith(prefix) or url.endswith(":memory:"):
            return None
        return Path(url[len(prefix) :].split("?", 1)[0])

    @property
    def legacy_db_path(self) -> Path:
        return self.db_dir / LEGACY_DB_FILENAME

    @property
    def db_dir(self) -> Path:
        return self.data_dir / "db"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def thumbs_dir(self) -> Path:
        return self.data_dir / "thumbs"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def masked(self) -> dict[str, str]:
        """Every setting as text, secrets masked: what `printstash check` prints."""
        shown: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            env = name.upper() if name.startswith("aws_") else f"VAULT_{name.upper()}"
            shown[env] = "" if value is None else str(value)
        shown["VAULT_DB_URL"] = _mask_url(self.database_url)
        return shown


def _mask_url(url: str) -> str:
    """Hide a password in a database URL (postgresql://user:secret@host/db)."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    return f"{scheme}{sep}{creds.split(':', 1)[0]}:********@{host}"
