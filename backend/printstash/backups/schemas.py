"""Shapes of the backups and maintenance API."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class BackupRead(BaseModel):
    name: str
    size: int
    created_at: datetime
    kind: str  # manual | scheduled


class MaintenanceRead(BaseModel):
    on: bool
    message: str = ""
    since: datetime | None = None


class MaintenanceUpdate(BaseModel):
    on: bool
    message: str = Field(default="", max_length=500)


class BackupOutcome(BaseModel):
    """The last backup's success and the last failure (app_state; the health check reads it).
    Times are ISO 8601 strings as stored."""

    model_config = ConfigDict(frozen=True)

    last_success_at: str | None = None
    last_name: str | None = None
    last_size: int | None = None
    last_seconds: float | None = None
    last_error: str | None = None
    last_error_at: str | None = None


class BackupVerified(BaseModel):
    """Every member read back against its hash and the database's integrity_check passed."""

    name: str
    members: int
    bytes: int
    alembic_revision: str | None = None
    taken_at: str | None = Field(default=None, description="as the archive's header says")


class BackupPolicy(BaseModel):
    """When backups run, how many are kept and where they are written (the server's settings)."""

    schedule: str | None = Field(description="cron (UTC); null: no scheduled backups")
    next_run_at: datetime | None
    keep: int = Field(description="scheduled backups kept; manual ones stay until deleted")
    max_age_hours: float = Field(description="health warns when the last backup is older")
    directory: str
    restore_command: str
