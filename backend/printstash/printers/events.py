"""The printers' live events (Server-Sent Events): every printer's status now, then each change.

How a stream learns that the worker wrote a change:
- SQLite (one host): each stream reads the status rows changed since its cursor a few times
  a second (cheap on a local file), as it always has;
- PostgreSQL (several api processes): the worker's status writes and a printer's deletion
  NOTIFY the printers' ids (service.announce). Each api process runs one StatusFeed that
  LISTENs, reads each notified batch of rows once and puts the events in its streams'
  queues: a change reaches the clients of every api process as soon as it is committed,
  and a thousand clients cost one read per change, not a thousand polls a second.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from printstash.core import notify
from printstash.core.db import Database, utcnow
from printstash.core.settings import Settings
from printstash.printers import service
from printstash.printers.models import PrinterStatus

log = logging.getLogger(__name__)
KEEPALIVE_S = 15.0
# uvicorn waits for open responses before it exits, so an endless stream would block a
# shutdown for ever (measured). Streams end after this; EventSource reconnects by itself
# (after `retry`) and gets a fresh snapshot.
STREAM_MAX_S = 20.0
WAKE_S = 1.0  # a fed stream checks for a gone client at least this often
QUEUE_MAX = 1000  # a client this far behind is cut off; it reconnects to a fresh snapshot
RELISTEN_S = 1.0


def sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@dataclass(frozen=True)
class Change:
    """One event of a printer, with what a stream needs to skip one it already sent."""

    printer_id: int
    updated_at: datetime | None  # None: the printer was removed
    text: str


def _status_change(row: PrinterStatus, now: datetime) -> Change:
    status = service.status_read(row, now).model_dump(mode="json")
    return Change(row.printer_id, row.updated_at, sse("status", {"printer_id": row.printer_id, "status": status}))


def _removed(printer_id: int) -> Change:
    return Change(printer_id, None, sse("removed", {"printer_id": printer_id}))


def _news(change: Change, sent: dict[int, datetime]) -> bool:
    """True if the stream has not sent this change yet (and records it as sent)."""
    if change.updated_at is None:
        return sent.pop(change.printer_id, None) is not None
    if sent.get(change.printer_id) == change.updated_at:
        return False
    sent[change.printer_id] = change.updated_at
    return True


def changes(db: Database, since: datetime | None, sent: dict[int, datetime]) -> tuple[list[str], datetime | None]:
    """Events for rows changed since the cursor, and printers that disappeared."""
    now = utcnow()
    with db.read() as session:
        rows = service.statuses_since(session, since)
        alive = service.printer_ids(session)
    out = [c.text for c in (_status_change(row, now) for row in rows) if _news(c, sent)]
    gone = [_removed(pid) for pid in sorted(set(sent) - alive)]
    out += [c.text for c in gone if _news(c, sent)]
    newest = max((r.updated_at for r in rows), default=since)
    # Overlap: a slow writer may commit a row stamped a moment before the newest seen one.
    return out, None if newest is None else newest - timedelta(seconds=2)


def read_changes(sessions: "sessionmaker[Session]", ids: set[int] | None) -> list[Change]:
    """The events of these printers (None: of every printer) as the database has them now."""
    now = utcnow()
    with sessions() as session:
        found = service.statuses_of(session, ids)
    gone = [] if ids is None else sorted(ids - {pid for pid, _ in found})
    return [*(_status_change(row, now) for _, row in found if row is not None), *(_removed(pid) for pid in gone)]


class StatusFeed:
    """One per api process on PostgreSQL: hears of changed printers, reads them once, fans out."""

    def __init__(self, db: Database, url: str) -> None:
        self.db, self.url = db, url
        # Each notified batch is one SELECT, which needs no transaction: in autocommit the read
        # is one round trip to the server instead of three (BEGIN, SELECT, ROLLBACK).
        self.reader = sessionmaker(db.read_engine.execution_options(isolation_level="AUTOCOMMIT"))
        self.queues: set[asyncio.Queue[Change | None]] = set()
        self.task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()  # set while LISTENing (tests wait for it)

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name="printer-events")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    @contextlib.contextmanager
    def subscribe(self) -> Iterator["asyncio.Queue[Change | None]"]:
        queue: asyncio.Queue[Change | None] = asyncio.Queue(QUEUE_MAX)
        self.queues.add(queue)
        try:
            yield queue
        finally:
            self.queues.discard(queue)

    async def run(self) -> None:
        """LISTEN until cancelled; after a lost connection listen again and resend everything
        (notifications sent meanwhile are lost; streams skip what they already sent)."""
        while True:
            try:
                async with notify.listening(self.url, service.STATUS_CHANNEL) as notes:
                    await self.fan_out(None)
                    self.listening.set()
                    async for ids in notes:
                        await self.fan_out(ids)
            except Exception:  # the database restarts or is unreachable: retry, streams go on
                log.warning("printer events: listening failed; retrying", exc_info=True)
            self.listening.clear()
            await asyncio.sleep(RELISTEN_S)

    async def fan_out(self, ids: set[int] | None) -> None:
        if not self.queues:
            return
        news = await asyncio.to_thread(read_changes, self.reader, ids)
        for queue in list(self.queues):
            _offer(queue, news)


def _offer(queue: "asyncio.Queue[Change | None]", news: list[Change]) -> None:
    try:
        for change in news:
            queue.put_nowait(change)
    except asyncio.QueueFull:  # too slow a client: end its stream (None); it reconnects
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)


def feed_for(settings: Settings, db: Database) -> StatusFeed | None:
    """The api process's feed: on PostgreSQL only (SQLite streams poll, see the docstring)."""
    return StatusFeed(db, settings.database_url) if notify.is_postgresql(settings.database_url) else None


async def stream(request: Request, db: Database, settings: Settings) -> AsyncIterator[str]:
    """One client's event stream, ended after STREAM_MAX_S (the client reconnects)."""
    yield "retry: 1000\n\n"
    ends = asyncio.get_running_loop().time() + STREAM_MAX_S
    feed: StatusFeed | None = getattr(request.app.state, "printer_feed", None)
    events = _polled(request, db, settings, ends) if feed is None else _fed(request, db, feed, ends)
    async for event in events:
        yield event


async def _polled(request: Request, db: Database, settings: Settings, ends: float) -> AsyncIterator[str]:
    tick = min(1.0, max(0.1, settings.printer_poll_seconds / 2))
    since: datetime | None = None
    sent: dict[int, datetime] = {}
    quiet = 0.0
    while not await request.is_disconnected() and asyncio.get_running_loop().time() < ends:
        events, since = await asyncio.to_thread(changes, db, since, sent)
        for event in events:
            yield event
        quiet = 0.0 if events else quiet + tick
        if quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield ": keepalive\n\n"
        await asyncio.sleep(tick)


async def _fed(request: Request, db: Database, feed: StatusFeed, ends: float) -> AsyncIterator[str]:
    sent: dict[int, datetime] = {}
    quiet = 0.0
    with feed.subscribe() as queue:  # before the snapshot, so no change falls between the two
        snapshot, _ = await asyncio.to_thread(changes, db, None, sent)
        for event in snapshot:
            yield event
        while not await request.is_disconnected() and asyncio.get_running_loop().time() < ends:
            try:
                change = await asyncio.wait_for(queue.get(), timeout=WAKE_S)
            except TimeoutError:
                quiet += WAKE_S
                if quiet >= KEEPALIVE_S:
                    quiet = 0.0
                    yield ": keepalive\n\n"
                continue
            if change is None:
                return
            if _news(change, sent):
                quiet = 0.0
                yield change.text
