"""The worker's printer polling: one asyncio task per printer, one batched database writer.

Why this shape:
- a task per printer, so a printer that hangs (timeouts) or is down (backoff) never delays
  the others;
- statuses are written only when they change (minor changes such as temperatures at most
  once per interval) and all pending writes go to SQLite in one transaction per flush, so
  hundreds of printers cost a few small transactions per second, not one per poll;
- the printer list is re-read every few seconds, so printers added, edited or removed in
  the api are picked up without restarting the worker;
- with several workers, each polls only the printers whose lease it holds (lease.py),
  renewed at each re-read, and writes statuses only for those: a printer is never polled
  twice, and a dead worker's printers move to another one.
"""

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx

# httpcore imports sniffio on every request and, when it is missing, pays a full sys.path
# search each time (a quarter of the poller's CPU, bench/printers/RESULTS.md). Importing it
# here makes a missing sniffio an import error at start-up instead of a slow worker.
import sniffio  # noqa: F401
from sqlalchemy import select
from sqlalchemy.orm import Session

from printstash.core import maintenance
from printstash.core.aio import sleep_or_stop
from printstash.core.db import utcnow
from printstash.core.runtime import WorkerContext
from printstash.printers import history, lease, service
from printstash.printers.models import Printer, PrinterStatus
from printstash.printers.providers import make_provider
from printstash.printers.providers.base import (
    BUSY_STATES,
    HistoryJob,
    LiveStatus,
    PrinterProvider,
    ProviderError,
    State,
    Unreachable,
)
from printstash.printers.urls import redacted

log = logging.getLogger("printstash.printers")

RESCAN_S = 2.0  # how often the printer list is re-read
FLUSH_S = 0.2  # batched status writes
LAST_SEEN_EVERY_S = 5.0  # an unchanged, healthy printer refreshes last_seen this often
HISTORY_EVERY_S = 30.0  # history is also fetched on every print-state change
BACKOFF_FACTOR_MAX = 8  # unreachable: interval x1, x2, x4, x8 ...
BACKOFF_CAP_S = 30.0
# Changes in these fields are written at once; others (progress, temperatures) are throttled.
SIGNIFICANT = ("state", "online", "klippy_state", "print_state", "filename", "message", "error")


def call_timeout(interval: float) -> float:
    """Per-request timeout: long enough for a slow objects query (~250 ms), short for polling."""
    return min(10.0, max(2.0, interval * 2))


def backoff(interval: float, failures: int) -> float:
    if failures <= 1:
        return interval
    factor: int = min(2 ** (failures - 1), BACKOFF_FACTOR_MAX)
    return max(interval, min(interval * factor, BACKOFF_CAP_S))


def failed_status(state: State, error: str) -> LiveStatus:
    return LiveStatus(online=state != "offline", state=state, error=error)


@dataclass(frozen=True)
class Target:
    """What a printer task needs; a change of any field restarts the task."""

    id: int
    name: str
    provider: str
    base_url: str
    api_key: str | None
    interval: float


@dataclass
class Pending:
    status: LiveStatus | None = None
    last_seen: datetime | None = None


@dataclass
class Writer:
    """Collects status changes from all printer tasks; flushes them in one transaction."""

    ctx: WorkerContext
    pending: dict[int, Pending] = field(default_factory=dict)
    polled: set[int] = field(default_factory=set)  # printers this worker's tasks poll (Poller.sync)
    _links: dict[str, int | None] = field(default_factory=dict)

    def put(self, printer_id: int, status: LiveStatus | None, seen: bool) -> None:
        entry = self.pending.setdefault(printer_id, Pending())
        if status is not None:
            entry.status = status
        if seen:
            entry.last_seen = utcnow()

    def _again(self, printer_id: int, entry: Pending) -> None:
        """Put back an unwritten entry under any newer one: a newer status=None means "as
        before", so the older status still has to be written (the task will not send it again)."""
        newer = self.pending.setdefault(printer_id, Pending())
        newer.status = newer.status or entry.status
        newer.last_seen = newer.last_seen or entry.last_seen

    async def loop(self) -> None:
        while not self.ctx.stopping.is_set():
            await sleep_or_stop(self.ctx.stopping, FLUSH_S)
            await self.flush()

    async def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, {}
        try:
            fenced = await asyncio.to_thread(self._write, batch)
        except Exception:  # a locked/broken database must not kill polling; retry next flush
            log.exception("writing %d printer statuses failed; will retry", len(batch))
            for pid, entry in batch.items():
                self._again(pid, entry)
            return
        # Fenced while this worker still polls the printer: its lease lapsed (a renewal came
        # late on a loaded machine) without another worker taking it. Kept until the renewal;
        # dropped when the lease moves, as the task then stops (Poller.sync).
        for pid in fenced & self.polled:
            self._again(pid, batch[pid])

    def _write(self, batch: dict[int, Pending]) -> set[int]:
        """Store the batch; returns the printers left out because this worker's lease on
        them is not current (fenced: a printer whose lease passed to another worker is that
        worker's to write)."""
        now = utcnow()
        with self.ctx.db.write() as session:
            mine = lease.held(session, self.ctx.worker_id, now)
            writes = [service.StatusWrite(pid, self._linked(session, entry.status), entry.last_seen)
                      for pid, entry in batch.items() if pid in mine]
            stored = service.save_statuses(session, writes, now)
            service.announce(session, [w.printer_id for w in writes if w.status is not None and w.printer_id in stored])
        return set(batch) - mine

    def _linked(self, session: Session, status: LiveStatus | None) -> LiveStatus | None:
        if status is None:
            return None
        return status.model_copy(update={"file_id": self._link(session, status.filename)})

    def _link(self, session: Session, filename: str | None) -> int | None:
        if not filename:
            return None
        if filename not in self._links:
            if len(self._links) > 1000:
                self._links.clear()
            self._links[filename] = history.link_file(session, filename)
        return self._links[filename]


class PrinterWatch:
    """Polls one printer until cancelled."""

    def __init__(self, ctx: WorkerContext, http: httpx.AsyncClient, target: Target, writer: Writer) -> None:
        self.ctx, self.target, self.writer, self.http = ctx, target, writer, http
        self.provider: PrinterProvider = make_provider(
            target.provider, http, target.base_url, target.api_key, timeout=call_timeout(target.interval))
        self.written: LiveStatus | None = None
        self.written_at = 0.0
        self.seen_at = 0.0
        self.failures = 0
        self.history_due = 0.0
        self.cursor: float | None = None
        self.cursor_loaded = False
        self.last_print: tuple[str | None, str | None] | None = None
        self.history_error: str | None = None

    async def run(self, delay: float = 0.0) -> None:
        async with self.http:
            await sleep_or_stop(self.ctx.stopping, delay)
            await self._loop()

    async def _loop(self) -> None:
        while not self.ctx.stopping.is_set():
            started = time.monotonic()
            await self.poll_once()
            # A fixed cadence while healthy (the poll's own time is part of the interval);
            # a growing pause while failing.
            pause = backoff(self.target.interval, self.failures)
            await sleep_or_stop(self.ctx.stopping, pause - (time.monotonic() - started) if not self.failures else pause)

    async def poll_once(self) -> None:
        status, ok = await self._fetch()
        self._log_change(status)
        self._record(status, ok)
        if ok:
            await self._maybe_history(status)

    async def _fetch(self) -> tuple[LiveStatus, bool]:
        try:
            status = await self.provider.fetch_status()
        except Unreachable as exc:
            self.failures += 1
            return failed_status("offline", str(exc)), False
        except ProviderError as exc:
            self.failures += 1
            return failed_status("error", str(exc)), False
        except Exception as exc:  # a provider bug must not end this printer's polling
            self.failures += 1
            log.debug("printer %s: unexpected poll failure", self.target.name, exc_info=True)
            return failed_status("error", f"unexpected answer: {type(exc).__name__}: {exc}"), False
        self.failures = 0
        return status, True

    def _log_change(self, status: LiveStatus) -> None:
        before = None if self.written is None else self.written.state
        if status.state == before:
            return
        why = status.error or status.message
        log.info("printer %s (%s): %s -> %s%s", self.target.name, redacted(self.target.base_url),
                 before or "started", status.state, f": {why}" if why else "")

    def _record(self, status: LiveStatus, ok: bool) -> None:
        now = time.monotonic()
        written = self.written
        changed = written is None or any(getattr(status, k) != getattr(written, k) for k in SIGNIFICANT)
        minor = not changed and status != self.written
        throttled = now - self.written_at < max(self.target.interval, 1.0)
        write = changed or (minor and not throttled)
        seen = ok and (write or now - self.seen_at >= LAST_SEEN_EVERY_S)
        if write:
            self.written, self.written_at = status, now
        if seen:
            self.seen_at = now
        if write or seen:
            self.writer.put(self.target.id, status if write else None, seen)

    async def _maybe_history(self, status: LiveStatus) -> None:
        now = time.monotonic()
        changed = self._print_changed(status)
        if now < self.history_due and not changed:
            return
        self.history_due = now + HISTORY_EVERY_S
        if await asyncio.to_thread(self._in_maintenance):
            return  # the upgrade window: history waits; live status polling goes on
        try:
            if not self.cursor_loaded:
                self.cursor = await asyncio.to_thread(self._load_cursor)
                self.cursor_loaded = True
            jobs = await self.provider.fetch_history(self.cursor)
            self.cursor, open_jobs = await asyncio.to_thread(self._store_history, jobs)
        except Exception as exc:  # history is best effort; status polling goes on
            if str(exc) != self.history_error:  # once per kind of failure, not every 30 s
                log.warning("printer %s: history import failed: %s", self.target.name, exc)
            self.history_error = str(exc)
            return
        self.history_error = None
        if open_jobs and status.state not in BUSY_STATES:
            # The print ended but Moonraker has not closed the job yet: look again soon.
            self.history_due = now + self.target.interval

    def _print_changed(self, status: LiveStatus) -> bool:
        last, self.last_print = self.last_print, (status.print_state, status.filename)
        return last is not None and last != self.last_print

    def _in_maintenance(self) -> bool:
        with self.ctx.db.read() as session:
            return maintenance.is_on(session)

    def _load_cursor(self) -> float | None:
        with self.ctx.db.read() as session:
            row = session.get(PrinterStatus, self.target.id)
            return None if row is None else row.history_since

    def _store_history(self, jobs: list[HistoryJob]) -> tuple[float | None, bool]:
        with self.ctx.db.write() as session:
            if session.get(Printer, self.target.id) is None:
                return self.cursor, False
            cursor = history.import_history(session, self.target.id, jobs, self.cursor)
            history.save_cursor(session, self.target.id, cursor)
        return cursor, any(not j.finished for j in jobs)


class Poller:
    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        # One TLS context for all printers: building one per client costs ~10 ms and memory.
        self.tls = httpx.create_ssl_context()
        self.writer = Writer(ctx)
        self.tasks: dict[int, tuple[Target, asyncio.Task[None]]] = {}
        self.started = False

    async def run(self) -> None:
        flusher = asyncio.create_task(self.writer.loop(), name="printers-writer")
        try:
            while not self.ctx.stopping.is_set():
                try:
                    await self.sync(await asyncio.to_thread(self.targets))
                except Exception:  # e.g. the database is being restored: keep polling what we have
                    log.exception("reading the printer list failed; retrying")
                # a new printer is polled within one interval of being added
                await sleep_or_stop(self.ctx.stopping, min(RESCAN_S, self.ctx.settings.printer_poll_seconds))
        finally:
            await self.stop_all()
            await flusher
            await self.writer.flush()
            await asyncio.to_thread(self._release)

    def targets(self) -> dict[int, Target]:
        """The printers this worker polls: every printer whose lease it holds or just took."""
        settings = self.ctx.settings
        with self.ctx.db.write() as session:
            printers = list(session.scalars(select(Printer)))
            mine = lease.acquire(session, self.ctx.worker_id, [p.id for p in printers],
                                 settings.printer_lease_seconds, utcnow())
            return {p.id: Target(p.id, p.name, p.provider, p.base_url, service.api_key(settings, p),
                                 service.interval(settings, p)) for p in printers if p.id in mine}

    def _release(self) -> None:
        try:
            with self.ctx.db.write() as session:
                lease.release(session, self.ctx.worker_id)
        except Exception:  # the leases then expire by themselves
            log.exception("handing over the printer leases failed")

    async def sync(self, wanted: dict[int, Target]) -> None:
        for pid, (target, task) in list(self.tasks.items()):
            if wanted.get(pid) != target:
                await _cancel(task)
                del self.tasks[pid]
                self.writer.polled.discard(pid)
                if pid not in wanted:
                    log.info("printer %s: polling stopped here (removed, or another worker holds its lease)",
                             target.name)
        first = not self.started
        self.started = True
        for pid, target in wanted.items():
            if pid not in self.tasks:
                watch = PrinterWatch(self.ctx, self._client(), target, self.writer)
                # The printers found at start-up are spread over one interval, so hundreds of
                # them do not all poll (and write) in the same instant; new ones start at once.
                delay = random.uniform(0, target.interval) if first else 0.0
                log.info("printer %s: polled by this worker (%s)", target.name, self.ctx.worker_id)
                self.tasks[pid] = (target, asyncio.create_task(watch.run(delay), name=f"printer-{pid}"))
                self.writer.polled.add(pid)

    def _client(self) -> httpx.AsyncClient:
        """A small client per printer: httpcore scans a pool's connections on every request,
        so one shared pool of hundreds of connections costs O(printers) per poll (measured),
        and a hanging printer cannot starve the others of connections."""
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=2)
        return httpx.AsyncClient(verify=self.tls, limits=limits, timeout=httpx.Timeout(10.0))

    async def stop_all(self) -> None:
        for _, task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*(t for _, t in self.tasks.values()), return_exceptions=True)
        self.tasks.clear()
        self.writer.polled.clear()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def run(ctx: WorkerContext) -> None:
    """Poll every configured printer until ctx.stopping is set."""
    # httpx logs every request at INFO: hundreds of lines a second here, where the contract is
    # one line per printer state change.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    await Poller(ctx).run()
