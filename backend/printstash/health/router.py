"""Health routes: public, statuses only (never paths or secrets)."""

from fastapi import APIRouter

from printstash import __version__

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
def live() -> dict[str, str]:
    """Process liveness only, for container health checks."""
    return {"status": "ok", "version": __version__}
