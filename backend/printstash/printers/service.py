"""Printers domain services: plain functions taking the session first, never committing."""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from printstash.core.db import utcnow
from printstash.core.models import WorkerHeartbeat
from printstash.printers.models import Printer, PrinterStatus

# A worker beats every few seconds; older than this and polling has probably stopped.
HEARTBEAT_STALE_S = 30.0
OFFLINE_STATES = frozenset({"offline"})
ERROR_STATES = frozenset({"error", "klippy_not_ready"})


def _bucket(state: str | None) -> str:
    """online | offline | error, for health. Never polled yet counts as offline."""
    if state is None or state in OFFLINE_STATES:
        return "offline"
    return "error" if state in ERROR_STATES else "online"


def heartbeat_age_s(session: Session) -> float | None:
    """Seconds since the freshest worker heartbeat; None when no worker ever ran."""
    beat: datetime | None = session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    if beat is None:
        return None
    return max(0.0, (utcnow() - beat).total_seconds())


def provider_summary(session: Session) -> dict[str, Any]:
    """The printer-provider component of /health: counts per provider + worker heartbeat age."""
    rows = session.execute(
        select(Printer.provider, PrinterStatus.state).outerjoin(
            PrinterStatus, PrinterStatus.printer_id == Printer.id
        )
    ).all()
    providers: dict[str, dict[str, int]] = {}
    for provider, state in rows:
        counts = providers.setdefault(provider, {"online": 0, "offline": 0, "error": 0})
        counts[_bucket(state)] += 1
    age = heartbeat_age_s(session)
    summary: dict[str, Any] = {
        "status": _summary_status(providers, age, len(rows)),
        "providers": providers,
        "printers": len(rows),
        "worker_heartbeat_age_s": None if age is None else round(age, 1),
    }
    if not rows:
        summary["detail"] = "no printers configured"
    return summary


def _summary_status(providers: dict[str, dict[str, int]], age: float | None, total: int) -> str:
    """degraded when a printer is down or the worker's heartbeat is stale."""
    down = sum(c["offline"] + c["error"] for c in providers.values())
    # No worker ever started only matters once there are printers to poll.
    worker_stale = (age is None and total > 0) or (age is not None and age > HEARTBEAT_STALE_S)
    return "degraded" if down or worker_stale else "ok"
