"""Health routes: public, statuses only (never paths or secrets); admins get the details."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from printstash import __version__
from printstash.auth.dependencies import current_user
from printstash.core.deps import DatabaseDep, SettingsDep
from printstash.health import service
from printstash.health.schemas import HealthRead

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
def live() -> dict[str, str]:
    """Process liveness only, for container health checks."""
    return {"status": "ok", "version": __version__}


@router.get("", response_model=HealthRead,
            responses={503: {"model": HealthRead, "description": "a component is in error"}})
def health(request: Request, settings: SettingsDep, db: DatabaseDep) -> JSONResponse:
    """database, storage, backup, printer_providers and the maintenance flag. 200 for ok and
    degraded, 503 only for error."""
    body: dict[str, Any] = {"version": __version__, **service.report(settings, db, detailed=_is_admin(request, db))}
    return JSONResponse(body, status_code=503 if body["status"] == service.ERROR else 200)


def _is_admin(request: Request, db: DatabaseDep) -> bool:
    """Health stays public: bad or missing credentials just mean the public view."""
    try:
        return current_user(request, db).is_admin
    except Exception:  # DomainError (no/bad credentials) or the database is the broken part
        return False
