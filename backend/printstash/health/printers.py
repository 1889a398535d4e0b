"""The printer_providers component of /health: every provider's printers by how they last
answered, and whether the worker that polls them is alive."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from printstash.core.db import utcnow
from printstash.core.models import WorkerHeartbeat
from printstash.health.schemas import Component
from printstash.printers import service as printers

# A worker beats every few seconds; older than this and polling has probably stopped.
HEARTBEAT_STALE_S = 30.0
OFFLINE_STATES = frozenset({"offline"})
ERROR_STATES = frozenset({"error", "klippy_not_ready"})


def provider_summary(session: Session) -> Component:
    """Counts per provider (online | offline | error) and the worker heartbeat's age."""
    rows = printers.provider_states(session)
    providers: dict[str, dict[str, int]] = {}
    for provider, state in rows:
        counts = providers.setdefault(provider, {"online": 0, "offline": 0, "error": 0})
        counts[_bucket(state)] += 1
    age = heartbeat_age_s(session)
    summary: Component = {
        "status": _summary_status(providers, age, len(rows)),
        "providers": providers,
        "printers": len(rows),
        "worker_heartbeat_age_s": None if age is None else round(age, 1),
    }
    if not rows:
        summary["detail"] = "no printers configured"
    return summary


def heartbeat_age_s(session: Session) -> float | None:
    """Seconds since the freshest worker heartbeat; None when no worker ever ran."""
    beat: datetime | None = session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    if beat is None:
        return None
    return max(0.0, (utcnow() - beat).total_seconds())


def _bucket(state: str | None) -> str:
    """online | offline | error. Never polled yet counts as offline."""
    if state is None or state in OFFLINE_STATES:
        return "offline"
    return "error" if state in ERROR_STATES else "online"


def _summary_status(providers: dict[str, dict[str, int]], age: float | None, total: int) -> str:
    """degraded when a printer is down or the worker's heartbeat is stale."""
    down = sum(c["offline"] + c["error"] for c in providers.values())
    # No worker ever started only matters once there are printers to poll.
    worker_stale = (age is None and total > 0) or (age is not None and age > HEARTBEAT_STALE_S)
    return "degraded" if down or worker_stale else "ok"
