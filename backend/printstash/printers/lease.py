"""Printer leases: with several workers, each printer is polled by exactly one of them.

A worker holds a printer's lease row (its worker id, `expires_at`) and renews it each time
it re-reads the printer list; a lease nobody renews (the worker was killed, hangs, or lost
the database) expires after VAULT_PRINTER_LEASE_SECONDS and the next worker to re-read the
list takes it over. Each step is one conditional statement on the lease rows, never a
table or global lock:
- renew or take over: UPDATE ... WHERE worker_id = me OR expires_at < now. Two workers
  taking the same expired lease at once: on PostgreSQL the second UPDATE waits for the
  first one's row lock, re-checks its WHERE on the committed row and matches nothing; on
  SQLite write transactions run one at a time;
- a printer without a lease: INSERT ... ON CONFLICT DO NOTHING, so one insert wins.
Times come from the workers' clocks: hosts running workers keep them in sync (NTP).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from printstash.core.db import insert_missing
from printstash.printers.models import PrinterLease


def acquire(session: Session, worker_id: str, printer_ids: Iterable[int], ttl_seconds: float,
            now: datetime) -> set[int]:
    """Renew this worker's leases and take free or expired ones among `printer_ids`;
    returns the printers this worker now holds. Call in a write transaction."""
    wanted = set(printer_ids)
    if not wanted:
        return set()
    until = now + timedelta(seconds=ttl_seconds)
    session.execute(
        update(PrinterLease)
        .where(PrinterLease.printer_id.in_(wanted),
               or_(PrinterLease.worker_id == worker_id, PrinterLease.expires_at < now))
        .values(worker_id=worker_id, expires_at=until)
    )
    leased = set(session.scalars(select(PrinterLease.printer_id).where(PrinterLease.printer_id.in_(wanted))))
    insert_missing(session, PrinterLease, [{"printer_id": pid, "worker_id": worker_id, "expires_at": until}
                                           for pid in sorted(wanted - leased)])
    return held(session, worker_id, now) & wanted


def held(session: Session, worker_id: str, now: datetime) -> set[int]:
    """The printers whose unexpired lease this worker holds."""
    query = select(PrinterLease.printer_id).where(PrinterLease.worker_id == worker_id,
                                                  PrinterLease.expires_at >= now)
    return set(session.scalars(query))


def release(session: Session, worker_id: str) -> int:
    """A worker stopping cleanly hands its printers over at once instead of after the TTL."""
    result = session.execute(delete(PrinterLease).where(PrinterLease.worker_id == worker_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
