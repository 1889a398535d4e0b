"""Shape of GET /api/v1/health, for the OpenAPI document (and the generated frontend client)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["ok", "degraded", "error", "unknown"]
# One component's check result: {"status", "reason"?, …details} (ComponentRead's JSON)
Component = dict[str, Any]


class ComponentRead(BaseModel):
    """status and, when not ok, a reason code; admins also get the component's details."""

    model_config = ConfigDict(extra="allow")
    status: Status
    reason: str | None = None


class MaintenanceFlag(BaseModel):
    on: bool
    message: str | None = None
    since: str | None = None


class HealthRead(BaseModel):
    status: Literal["ok", "degraded", "error"]
    version: str
    components: dict[str, ComponentRead]
    maintenance: MaintenanceFlag
