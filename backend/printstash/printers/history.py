"""Print history: the jobs the worker imports from each printer's own history, linked to the
vault files they printed, and the pages the api serves of them.

A job links to a vault file by the SHA-256 in the name send-to-print gave it (remote_name),
else by file name. A finished linked job counts once in that file's print count.
"""

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from printstash.core.db import utcnow
from printstash.core.pagination import Page
from printstash.library import service as library
from printstash.library.models import File
from printstash.printers.models import Printer, PrinterStatus, PrintJob
from printstash.printers.providers.base import HistoryJob
from printstash.printers.schemas import PrintJobRead
from printstash.printers.service import get_printer

JOB_START_TOLERANCE_S = 1.0  # one job, fetched again: the same start time (stored to the microsecond)
REMOTE_DIR = "printstash"
_SENT = re.compile(rf"^{REMOTE_DIR}/([0-9a-f]{{64}})/[^/]+$")
# Moonraker's job statuses, as the library's "last result" words
_RESULTS = {"completed": "completed", "cancelled": "cancelled", "error": "error",
            "klippy_shutdown": "error", "klippy_disconnect": "error", "interrupted": "interrupted"}


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
    return _jobs_page(session, PrintJob.printer_id == printer_id, limit, offset)


def file_history(session: Session, file_id: int, limit: int, offset: int) -> Page[PrintJobRead]:
    """One vault file's prints on every printer (404 for a file that is gone or in the trash)."""
    library.get_file(session, file_id)
    return _jobs_page(session, PrintJob.file_id == file_id, limit, offset)


def _jobs_page(session: Session, where: ColumnElement[bool], limit: int, offset: int) -> Page[PrintJobRead]:
    """Newest first; every signed-in user sees every printer, so no row is filtered out."""
    total = session.scalar(select(func.count()).select_from(PrintJob).where(where)) or 0
    rows = session.execute(select(PrintJob, Printer.name).join(Printer, Printer.id == PrintJob.printer_id)
                           .where(where).order_by(PrintJob.start_time.desc(), PrintJob.id.desc())
                           .limit(limit).offset(offset)).all()
    return Page[PrintJobRead](items=[_job_read(job, name) for job, name in rows], total=total)


def _job_read(row: PrintJob, printer_name: str) -> PrintJobRead:
    return PrintJobRead(id=row.id, printer_id=row.printer_id, printer_name=printer_name, job_id=row.job_id,
                        filename=row.filename, file_id=row.file_id, status=row.status,
                        start_time=row.start_time, end_time=row.end_time, print_duration=row.print_duration,
                        total_duration=row.total_duration, filament_used=row.filament_used)


def save_cursor(session: Session, printer_id: int, cursor: float | None) -> None:
    """Where the next import of this printer's history starts (kept with its status row)."""
    row = session.get(PrinterStatus, printer_id)
    if row is None:
        row = PrinterStatus(printer_id=printer_id, state="unknown", online=False, status_json={})
        session.add(row)
    row.history_since = cursor
