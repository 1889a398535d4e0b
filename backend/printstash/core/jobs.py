"""The durable job queue: enqueue in the caller's transaction, claim with a lease.

A worker that dies while holding a job loses its lease when `lease_until` passes; the next
claim picks the job up again (attempts + 1). Completion is fenced on the lease owner so a
worker that lost its lease cannot overwrite the new owner's result.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from printstash.core.db import utcnow
from printstash.core.models import Job

RETRY_BASE_SECONDS = 5.0


def enqueue(session: Session, kind: str, payload: dict[str, Any] | None = None,
            *, run_after: datetime | None = None, max_attempts: int = 5) -> Job:
    job = Job(kind=kind, payload=payload or {}, run_after=run_after or utcnow(),
              max_attempts=max_attempts, attempts=0, state="queued")
    session.add(job)
    session.flush()
    return job


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Job.state == "queued", Job.run_after <= now),
        and_(Job.state == "running", Job.lease_until < now),
    )


def any_due(session: Session, kinds: list[str]) -> bool:
    """A cheap read: is there anything to claim?"""
    return session.scalar(select(Job.id).where(_due(utcnow()), Job.kind.in_(kinds)).limit(1)) is not None


def claim(session: Session, owner: str, kinds: list[str], lease_seconds: float) -> Job | None:
    """Take the next due job (or one whose lease expired). Call in a write transaction.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so two workers claiming at once each get a different
    job (without it both read the same row and both take it). SQLite ignores the clause; its
    write transactions (BEGIN IMMEDIATE) already run one at a time."""
    now = utcnow()
    job = session.scalars(
        select(Job).where(_due(now), Job.kind.in_(kinds)).order_by(Job.run_after, Job.id).limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if job is None:
        return None
    job.state = "running"
    job.lease_owner = owner
    job.lease_until = now + timedelta(seconds=lease_seconds)
    job.attempts += 1
    session.flush()
    return job


def complete(session: Session, job_id: int, owner: str) -> bool:
    result = session.execute(
        update(Job).where(Job.id == job_id, Job.lease_owner == owner, Job.state == "running")
        .values(state="done", finished_at=utcnow(), lease_until=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def fail(session: Session, job_id: int, owner: str, error: str) -> bool:
    """Record a failure; retry with exponential backoff until max_attempts."""
    job = session.get(Job, job_id)
    if job is None or job.lease_owner != owner or job.state != "running":
        return False
    job.last_error = error[:2000]
    job.lease_until = None
    if job.attempts >= job.max_attempts:
        job.state = "failed"
        job.finished_at = utcnow()
    else:
        job.state = "queued"
        job.run_after = utcnow() + timedelta(seconds=RETRY_BASE_SECONDS * 2 ** (job.attempts - 1))
    return True
