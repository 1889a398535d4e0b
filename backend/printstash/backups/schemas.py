"""Shapes of the backups and maintenance API."""

from datetime import datetime

from pydantic import BaseModel, Field


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
