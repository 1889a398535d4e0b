"""Printers domain services: plain functions taking the session first, never committing.

The printers themselves and their latest status live here; the print history is in
history.py, what the api asks a printer to do in commands.py, polling in poller.py.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from printstash.core import notify
from printstash.core.db import UTCDateTime, insert_missing, utcnow
from printstash.core.errors import Conflict, NotFound
from printstash.core.settings import Settings
from printstash.printers import secrets
from printstash.printers.models import Printer, PrinterStatus
from printstash.printers.providers.base import LiveStatus, State
from printstash.printers.relay import relayed, relayed_fields
from printstash.printers.schemas import PrinterCreate, PrinterRead, PrinterStatusRead, PrinterUpdate
from printstash.printers.urls import redacted

# Changed printers are announced on this channel (PostgreSQL NOTIFY, core/notify.py): every
# api process's SSE feed (events.py) reads them once and passes them to its clients.
STATUS_CHANNEL = "printstash_printers"


def announce(session: Session, printer_ids: list[int]) -> None:
    """Tell every api process that these printers' status changed or that they were removed
    (delivered when the transaction commits; nothing on SQLite, whose streams poll)."""
    notify.publish(session, STATUS_CHANNEL, printer_ids)


# ---- printers (admin-managed) -----------------------------------------------------------------

def get_printer(session: Session, printer_id: int) -> Printer:
    row = session.get(Printer, printer_id)
    if row is None:
        raise NotFound(f"printer {printer_id} not found", code="printer_not_found")
    return row


def list_printers(session: Session, limit: int, offset: int) -> tuple[list[tuple[Printer, PrinterStatus | None]], int]:
    """One page of printers by name, each with its latest status, and how many there are."""
    total = session.scalar(select(func.count()).select_from(Printer)) or 0
    query = (select(Printer, PrinterStatus)
             .outerjoin(PrinterStatus, PrinterStatus.printer_id == Printer.id)
             .order_by(Printer.name, Printer.id).limit(limit).offset(offset))
    return [(p, s) for p, s in session.execute(query).all()], total


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
    announce(session, [printer_id])


def api_key(settings: Settings, printer: Printer) -> str | None:
    return secrets.decrypt(settings, printer.api_key_encrypted) if printer.api_key_encrypted else None


def interval(settings: Settings, printer: Printer) -> float:
    return printer.poll_interval or settings.printer_poll_seconds


# ---- reading status ----------------------------------------------------------------------------

def status_read(row: PrinterStatus | None, now: datetime | None = None) -> PrinterStatusRead:
    """The stored LiveStatus (status_json; keys of older versions are ignored) and its age."""
    if row is None:
        return PrinterStatusRead(error="not polled yet (is the worker running?)")
    now = now or utcnow()
    age = None if row.last_seen is None else round(max(0.0, (now - row.last_seen).total_seconds()), 1)
    return PrinterStatusRead.model_validate(relayed_fields({
        **(row.status_json or {}), "state": row.state, "online": row.online, "error": row.error,
        "updated_at": row.updated_at, "last_seen": row.last_seen, "age_s": age}))


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


def statuses_of(session: Session, printer_ids: set[int] | None) -> list[tuple[int, PrinterStatus | None]]:
    """These printers (None: all) that exist, each with its status row (None: not polled
    yet), in one query."""
    query = select(Printer.id, PrinterStatus).outerjoin(PrinterStatus, PrinterStatus.printer_id == Printer.id)
    if printer_ids is not None:
        query = query.where(Printer.id.in_(printer_ids))
    return [(pid, row) for pid, row in session.execute(query.order_by(Printer.id)).all()]


def printer_ids(session: Session, among: set[int] | None = None) -> set[int]:
    """The ids of the printers that exist (among these, if given)."""
    query = select(Printer.id)
    if among is not None:
        query = query.where(Printer.id.in_(among))
    return set(session.scalars(query))


def provider_states(session: Session) -> list[tuple[str, State | None]]:
    """(provider, latest state) of every printer; state None when it was never polled."""
    query = select(Printer.provider, PrinterStatus.state).outerjoin(
        PrinterStatus, PrinterStatus.printer_id == Printer.id)
    return [(provider, state) for provider, state in session.execute(query).all()]


# ---- writing status (the worker) ----------------------------------------------------------------

@dataclass(frozen=True)
class StatusWrite:
    """One printer's pending write: a changed status (None: unchanged) and when it last answered."""

    printer_id: int
    status: LiveStatus | None
    last_seen: datetime | None


_STATUS = PrinterStatus.metadata.tables[PrinterStatus.__tablename__]
_SET_STATUS = (update(_STATUS).where(_STATUS.c.printer_id == bindparam("b_id"))
               .values(status_json=bindparam("b_json", type_=_STATUS.c.status_json.type),
                       state=bindparam("b_state"), online=bindparam("b_online"), error=bindparam("b_error"),
                       updated_at=bindparam("b_now", type_=UTCDateTime),
                       last_seen=func.coalesce(bindparam("b_seen", type_=UTCDateTime), _STATUS.c.last_seen)))
_SET_SEEN = (update(_STATUS).where(_STATUS.c.printer_id == bindparam("b_id"))
             .values(last_seen=bindparam("b_seen", type_=UTCDateTime)))


def save_statuses(session: Session, writes: Sequence[StatusWrite], now: datetime) -> set[int]:
    """Store a batch of writes; returns the printers written (those that still exist).

    A fixed number of statements whatever the batch's size (one read, one UPDATE per kind of
    write, executed as one batch): on PostgreSQL each statement is a round trip to the
    database process, and a read-then-update per printer made the worker's write the slow
    part of a change's way to the clients on a loaded machine (bench/farm/RESULTS.md)."""
    if not writes:
        return set()
    rows = session.execute(select(Printer.id, PrinterStatus.printer_id)
                           .outerjoin(PrinterStatus, PrinterStatus.printer_id == Printer.id)
                           .where(Printer.id.in_({w.printer_id for w in writes}))).all()
    insert_missing(session, PrinterStatus, [{"printer_id": pid, "state": "unknown", "online": False,
                                             "status_json": {}, "updated_at": now} for pid, row in rows if row is None])
    alive = {pid for pid, _ in rows}
    changed = [_status_params(w.printer_id, w.status, w.last_seen, now)
               for w in writes if w.printer_id in alive and w.status is not None]
    seen = [{"b_id": w.printer_id, "b_seen": w.last_seen}
            for w in writes if w.printer_id in alive and w.status is None and w.last_seen is not None]
    for statement, params in ((_SET_STATUS, changed), (_SET_SEEN, seen)):
        if params:
            session.execute(statement, params)
    return alive


def _status_params(printer_id: int, status: LiveStatus, last_seen: datetime | None,
                   now: datetime) -> dict[str, object]:
    # Stored as members will see it (printers/relay.py; the worker's log has the raw text):
    # a printer's NUL or escape sequences must not reach the database, which on PostgreSQL
    # refuses NUL in text and would stop this printer's polling.
    return {"b_id": printer_id, "b_json": relayed_fields(status.model_dump(mode="json")), "b_state": status.state,
            "b_online": status.online, "b_error": relayed(status.error) if status.error is not None else None,
            "b_now": now, "b_seen": last_seen}
