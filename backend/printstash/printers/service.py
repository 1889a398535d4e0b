"""Printers domain services: plain functions taking the session first, never committing."""

import re
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from printstash.core.db import utcnow
from printstash.core.errors import Conflict, NotFound
from printstash.core.models import WorkerHeartbeat
from printstash.core.pagination import Page
from printstash.core.settings import Settings
from printstash.library import service as library
from printstash.library.models import File
from printstash.printers import secrets
from printstash.printers.models import Printer, PrinterStatus, PrintJob
from printstash.printers.providers import make_provider
from printstash.printers.providers.base import (
    BUSY_STATES,
    HistoryJob,
    PrinterProvider,
    ProviderError,
    Rejected,
    Unreachable,
)
from printstash.printers.relay import relayed, relayed_fields
from printstash.printers.schemas import (
    PrinterCreate,
    PrinterRead,
    PrinterStatusRead,
    PrinterUpdate,
    PrintJobRead,
)
from printstash.printers.urls import redacted

# A worker beats every few seconds; older than this and polling has probably stopped.
HEARTBEAT_STALE_S = 30.0
OFFLINE_STATES = frozenset({"offline"})
ERROR_STATES = frozenset({"error", "klippy_not_ready"})
# print_stats "error" is a failed print: Klipper accepts the next one.
IDLE_STATES = frozenset({"standby", "complete", "cancelled", "error"})
COMMAND_TIMEOUT_S = 10.0
JOB_START_TOLERANCE_S = 1.0  # one job, fetched again: the same start time (stored to the microsecond)
REMOTE_DIR = "printstash"
_SENT = re.compile(rf"^{REMOTE_DIR}/([0-9a-f]{{64}})/[^/]+$")
# Moonraker's job statuses, as the library's "last result" words
_RESULTS = {"completed": "completed", "cancelled": "cancelled", "error": "error",
            "klippy_shutdown": "error", "klippy_disconnect": "error", "interrupted": "interrupted"}


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


# ---- printers (admin-managed) -----------------------------------------------------------------

def get_printer(session: Session, printer_id: int) -> Printer:
    row = session.get(Printer, printer_id)
    if row is None:
        raise NotFound(f"printer {printer_id} not found", code="printer_not_found")
    return row


def list_printers(session: Session) -> list[tuple[Printer, PrinterStatus | None]]:
    query = (select(Printer, PrinterStatus)
             .outerjoin(PrinterStatus, PrinterStatus.printer_id == Printer.id).order_by(Printer.name))
    return [(p, s) for p, s in session.execute(query).all()]


def _name_free(session: Session, name: str, exclude_id: int | None = None) -> None:
    query = select(Printer.id).where(func.lower(Printer.name) == name.lower())
    other = session.scalar(query)
    if other is not None and other != exclude_id:
        raise Conflict(f"a printer named {name!r} already exists", code="printer_name_taken")


def create_printer(session: Session, settings: Settings, body: PrinterCreate) -> Printer:
    _name_free(session, body.name)
    row = Printer(name=body.name, provider=body.provider, base_url=body.url,
                  poll_interval=body.poll_interval,
                  api_key_encrypted=secrets.encrypt(settings, body.api_key) if body.api_key else None)
    session.add(row)
    session.flush()
    return row


def update_printer(session: Session, settings: Settings, printer_id: int, body: PrinterUpdate) -> Printer:
    row = get_printer(session, printer_id)
    sent = body.model_fields_set
    if "name" in sent and body.name is not None:
        _name_free(session, body.name, exclude_id=row.id)
        row.name = body.name
    if "url" in sent and body.url is not None:
        row.base_url = body.url
    if "poll_interval" in sent:
        row.poll_interval = body.poll_interval
    if "api_key" in sent:
        row.api_key_encrypted = secrets.encrypt(settings, body.api_key) if body.api_key else None
    session.flush()
    return row


def delete_printer(session: Session, printer_id: int) -> None:
    """History rows go with it (CASCADE); the files' print counts stay."""
    session.delete(get_printer(session, printer_id))
    session.flush()


def api_key(settings: Settings, printer: Printer) -> str | None:
    return secrets.decrypt(settings, printer.api_key_encrypted) if printer.api_key_encrypted else None


def interval(settings: Settings, printer: Printer) -> float:
    return printer.poll_interval or settings.printer_poll_seconds


# ---- reading status ----------------------------------------------------------------------------

def status_read(row: PrinterStatus | None, now: datetime | None = None) -> PrinterStatusRead:
    if row is None:
        return PrinterStatusRead(error="not polled yet (is the worker running?)")
    now = now or utcnow()
    data = {k: v for k, v in (row.status_json or {}).items() if k in PrinterStatusRead.model_fields}
    age = None if row.last_seen is None else round(max(0.0, (now - row.last_seen).total_seconds()), 1)
    data.update(state=row.state, online=row.online, error=row.error, updated_at=row.updated_at,
                last_seen=row.last_seen, age_s=age)
    return PrinterStatusRead.model_validate(relayed_fields(data))


def to_read(settings: Settings, printer: Printer, status: PrinterStatus | None,
            now: datetime | None = None) -> PrinterRead:
    return PrinterRead(id=printer.id, name=printer.name, provider=printer.provider, url=redacted(printer.base_url),
                       has_api_key=printer.api_key_encrypted is not None,
                       poll_interval=interval(settings, printer), created_at=printer.created_at,
                       status=status_read(status, now))


def get_status(session: Session, printer_id: int) -> PrinterStatus | None:
    return session.get(PrinterStatus, printer_id)


def statuses_since(session: Session, since: datetime | None) -> list[PrinterStatus]:
    """Status rows changed at or after `since` (the SSE stream's cursor)."""
    query = select(PrinterStatus)
    if since is not None:
        query = query.where(PrinterStatus.updated_at >= since)
    return list(session.scalars(query.order_by(PrinterStatus.updated_at)))


def printer_ids(session: Session) -> set[int]:
    return set(session.scalars(select(Printer.id)))


# ---- writing status (the worker) ----------------------------------------------------------------

def save_status(session: Session, printer_id: int, status: dict[str, Any] | None,
                last_seen: datetime | None, now: datetime) -> bool:
    """Store a changed status (status=None: only last_seen). False if the printer is gone."""
    if session.get(Printer, printer_id) is None:
        return False
    row = session.get(PrinterStatus, printer_id)
    if row is None:
        row = PrinterStatus(printer_id=printer_id, state="unknown", online=False, status_json={})
        session.add(row)
    if status is not None:
        row.status_json = status
        row.state = str(status.get("state") or "error")
        row.online = bool(status.get("online"))
        row.error = status.get("error")
        row.updated_at = now
    if last_seen is not None:
        row.last_seen = last_seen
    return True


def save_cursor(session: Session, printer_id: int, cursor: float | None) -> None:
    row = session.get(PrinterStatus, printer_id)
    if row is None:
        row = PrinterStatus(printer_id=printer_id, state="unknown", online=False, status_json={})
        session.add(row)
    row.history_since = cursor


# ---- linking printed files to the vault --------------------------------------------------------

def remote_name(file: File) -> str:
    """Where send-to-print puts a vault file on the printer: the path carries the SHA-256,
    so history can link the job back to this exact content even if it is renamed."""
    return f"{REMOTE_DIR}/{file.sha256}/{file.name}"


def link_file(session: Session, filename: str) -> int | None:
    """The vault file a printer's filename refers to: by SHA-256 when we sent it, else by name."""
    if not filename:
        return None
    match = _SENT.match(filename)
    if match:
        row = library.find_by_sha256(session, match.group(1))
        if row is not None:
            return row.id
    row = library.find_by_name(session, PurePosixPath(filename).name)
    return None if row is None else row.id


def _aware(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def import_history(session: Session, printer_id: int, jobs: list[HistoryJob],
                   since: float | None) -> float | None:
    """Upsert jobs (idempotent on the printer's job_id); count finished vault prints once.
    Returns the next cursor: it never moves past an unfinished job, so that job is fetched
    again and its end recorded."""
    for job in jobs:
        if job.job_id:
            _upsert_job(session, printer_id, job)
    return next_cursor(jobs, since)


def next_cursor(jobs: list[HistoryJob], since: float | None) -> float | None:
    open_starts = [j.start_time for j in jobs if not j.finished and j.start_time is not None]
    if open_starts:
        return min(open_starts) - 0.001  # Moonraker filters start_time > since
    starts = [j.start_time for j in jobs if j.start_time is not None]
    return max([*starts, *([since] if since is not None else [])], default=None)


def _upsert_job(session: Session, printer_id: int, job: HistoryJob) -> None:
    row = _same_job(session, printer_id, job)
    if row is None:
        row = PrintJob(printer_id=printer_id, job_id=job.job_id, recorded=False)
        session.add(row)
    row.filename = job.filename[:1024]
    row.status = job.status[:32]
    row.start_time, row.end_time = _aware(job.start_time), _aware(job.end_time)
    row.print_duration, row.total_duration = job.print_duration, job.total_duration
    row.filament_used = job.filament_used
    if row.file_id is None:
        row.file_id = link_file(session, job.filename)
    session.flush()
    if job.finished and row.file_id is not None and not row.recorded:
        library.record_print(session, row.file_id, row.end_time or utcnow(), _RESULTS.get(job.status, job.status))
        row.recorded = True


def _same_job(session: Session, printer_id: int, job: HistoryJob) -> PrintJob | None:
    """The row of this job, if imported before. A job id alone is not enough: Moonraker reuses
    the ids of deleted jobs, so after its history is cleared it numbers jobs from 000001
    again. A row with the id but another start time is an earlier job: it keeps its record
    under a retired id (`<id>~<its start, unix seconds>`) instead of being overwritten."""
    row = session.scalars(select(PrintJob).where(PrintJob.printer_id == printer_id,
                                                 PrintJob.job_id == job.job_id)).first()
    if row is None or row.start_time is None or job.start_time is None:
        return row
    started = row.start_time.timestamp()
    if abs(started - job.start_time) <= JOB_START_TOLERANCE_S:
        return row
    row.job_id = f"{row.job_id}~{started:.0f}"[:64]
    session.flush()  # frees the id for the new job's row
    return None


def history(session: Session, printer_id: int, limit: int, offset: int) -> Page[PrintJobRead]:
    get_printer(session, printer_id)
    where = PrintJob.printer_id == printer_id
    total = session.scalar(select(func.count()).select_from(PrintJob).where(where)) or 0
    rows = session.scalars(select(PrintJob).where(where)
                           .order_by(PrintJob.start_time.desc(), PrintJob.id.desc())
                           .limit(limit).offset(offset))
    return Page[PrintJobRead](items=[_job_read(r) for r in rows], total=total)


def _job_read(row: PrintJob) -> PrintJobRead:
    return PrintJobRead(id=row.id, printer_id=row.printer_id, job_id=relayed(row.job_id),
                        filename=relayed(row.filename, 1024), file_id=row.file_id, status=relayed(row.status),
                        start_time=row.start_time, end_time=row.end_time, print_duration=row.print_duration,
                        total_duration=row.total_duration, filament_used=row.filament_used)


# ---- commands (the api talks to the printer directly) -------------------------------------------

def provider_for(settings: Settings, http: httpx.AsyncClient, printer: Printer) -> PrinterProvider:
    return make_provider(printer.provider, http, printer.base_url, api_key(settings, printer),
                         timeout=COMMAND_TIMEOUT_S)


async def ensure_ready(provider: PrinterProvider, name: str) -> None:
    """409 unless the printer answers now and is idle: a stale database row is not enough."""
    status = await _live(provider, name)
    state = status.get("state")
    if state in BUSY_STATES:
        raise Conflict(f"printer {name!r} is busy ({state} {relayed(status.get('filename') or '')})".rstrip(),
                       code="printer_busy")
    if state not in IDLE_STATES:
        detail = relayed(status.get("message") or state)
        raise Conflict(f"printer {name!r} is not ready: {detail}", code="printer_not_ready")


async def _live(provider: PrinterProvider, name: str) -> dict[str, Any]:
    try:
        return await provider.fetch_status()
    except Unreachable as exc:
        raise Conflict(f"printer {name!r} is offline: {relayed(exc)}", code="printer_offline") from exc
    except ProviderError as exc:
        raise Conflict(f"printer {name!r} answered with an error: {relayed(exc)}", code="printer_error") from exc


async def run_command(name: str, action: Awaitable[None]) -> None:
    """Pause/resume/cancel/upload: a printer refusal or outage becomes a clear 409."""
    try:
        await action
    except Rejected as exc:
        raise Conflict(f"printer {name!r} refused: {relayed(exc)}", code="printer_refused") from exc
    except Unreachable as exc:
        raise Conflict(f"printer {name!r} is offline: {relayed(exc)}", code="printer_offline") from exc
    except ProviderError as exc:
        raise Conflict(f"printer {name!r} answered with an error: {relayed(exc)}", code="printer_error") from exc
