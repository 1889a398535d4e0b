"""Printer leases (printers/lease.py): each printer is polled by exactly one worker, and
another worker takes over when the holder dies. Runs on both backends: on PostgreSQL the
racing acquisitions really run side by side."""

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from subprocess import Popen

import httpx
import pytest
from harness.processes import free_port, printstash, stop, vault_env
from sqlalchemy import event, select

from printstash.core.db import Database, utcnow
from printstash.core.runtime import WorkerContext
from printstash.core.settings import Settings
from printstash.printers import lease
from printstash.printers.models import Printer, PrinterLease, PrinterStatus
from printstash.printers.poller import Writer
from printstash.printers.providers.base import LiveStatus

TTL = 10.0


def _printers(db: Database, count: int) -> list[int]:
    with db.write() as session:
        rows = [Printer(name=f"p{i}", provider="moonraker", base_url=f"http://127.0.0.1:{free_port()}")
                for i in range(count)]
        session.add_all(rows)
        session.flush()
        return [p.id for p in rows]


def _acquire(db: Database, worker: str, ids: list[int], when: float = 0.0) -> set[int]:
    with db.write() as session:
        return lease.acquire(session, worker, ids, TTL, utcnow() + timedelta(seconds=when))


def _holders(db: Database) -> dict[int, str]:
    with db.read() as session:
        return {r.printer_id: r.worker_id for r in session.scalars(select(PrinterLease))}


def test_one_worker_holds_renews_and_an_expired_lease_moves(db: Database) -> None:
    ids = _printers(db, 3)
    assert _acquire(db, "a", ids) == set(ids)
    assert _acquire(db, "b", ids) == set()  # held by a
    assert _acquire(db, "a", ids, when=TTL - 1) == set(ids)  # a renews before the end
    assert _acquire(db, "b", ids, when=TTL + 1) == set()  # ... so the lease runs on
    assert _acquire(db, "b", ids, when=2 * TTL) == set(ids)  # a stopped renewing: b takes over
    with db.read() as session:
        assert lease.held(session, "a", utcnow()) == set()
    assert _holders(db) == dict.fromkeys(ids, "b")


def test_a_released_lease_is_taken_at_once_and_deleting_a_printer_drops_its_lease(db: Database) -> None:
    ids = _printers(db, 2)
    _acquire(db, "a", ids)
    with db.write() as session:
        assert lease.release(session, "a") == 2
    assert _acquire(db, "b", ids) == set(ids)
    with db.write() as session:
        session.delete(session.get(Printer, ids[0]))
    assert _holders(db) == {ids[1]: "b"}


@pytest.mark.parametrize("expired", [False, True], ids=["new printers", "expired leases"])
def test_racing_workers_never_share_a_printer(db: Database, expired: bool) -> None:
    """Eight workers acquire the same printers at once: each printer ends with exactly one
    holder, and the holder is the only one that was told it holds it. Fails with a
    read-then-write acquisition on PostgreSQL (two workers read a lease as free)."""
    ids = _printers(db, 20)
    if expired:
        _acquire(db, "dead", ids, when=-2 * TTL)
    barrier = threading.Barrier(8, timeout=1.0)

    def race(i: int) -> set[int]:
        with db.write() as session:
            session.scalar(select(PrinterLease.printer_id).limit(1))  # the transaction is open
            with contextlib.suppress(threading.BrokenBarrierError):  # SQLite: the others wait at BEGIN
                barrier.wait()
            return lease.acquire(session, f"w{i}", ids, TTL, utcnow())

    with ThreadPoolExecutor(8) as pool:
        told = list(pool.map(race, range(8)))
    counts = Counter(pid for got in told for pid in got)
    assert set(counts) == set(ids) and set(counts.values()) == {1}
    holders = _holders(db)
    assert all(pid in told[int(holders[pid][1:])] for pid in ids)


def test_the_writer_writes_only_printers_whose_lease_it_holds(vault: Settings, db: Database) -> None:
    mine, theirs = _printers(db, 2)
    _acquire(db, "me", [mine])
    _acquire(db, "other", [theirs])
    ctx = WorkerContext(vault, db, httpx.AsyncClient(), asyncio.Event(), "me")
    writer = Writer(ctx)
    for pid in (mine, theirs):
        writer.put(pid, LiveStatus(online=True, state="standby"), seen=True)
    asyncio.run(writer.flush())
    with db.read() as session:
        assert set(session.scalars(select(PrinterStatus.printer_id))) == {mine}


def test_a_write_fenced_by_a_lapsed_lease_is_stored_once_the_worker_renews_it(vault: Settings, db: Database) -> None:
    """A renewal that comes late (a loaded machine) lets the lease lapse for a moment; the
    status polled meanwhile waits for the renewal. Before, it was dropped, and the printer's
    task, which sends a status only when it changes, never sent that `printing` again."""
    (pid,) = _printers(db, 1)
    _acquire(db, "me", [pid], when=-2 * TTL)  # lapsed, and no other worker took it
    writer = Writer(WorkerContext(vault, db, httpx.AsyncClient(), asyncio.Event(), "me"))
    writer.polled.add(pid)  # as Poller.sync records a running task
    writer.put(pid, LiveStatus(online=True, state="printing"), seen=True)
    asyncio.run(writer.flush())
    with db.read() as session:
        assert session.get(PrinterStatus, pid) is None  # fenced
    writer.put(pid, None, seen=True)  # the next poll: the same status, only seen again
    _acquire(db, "me", [pid])  # the late renewal
    asyncio.run(writer.flush())
    with db.read() as session:
        row = session.get(PrinterStatus, pid)
        assert row is not None and row.state == "printing"


def _flush_counting(db: Database, writer: Writer) -> int:
    """Flush the writer; how many statements its transaction sent to the database."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)
    event.listen(db.write_engine, "before_cursor_execute", count)
    try:
        asyncio.run(writer.flush())
    finally:
        event.remove(db.write_engine, "before_cursor_execute", count)
    return len(sent)


def test_the_writer_stores_a_batch_in_a_fixed_number_of_statements(vault: Settings, db: Database) -> None:
    """On PostgreSQL each statement is a round trip to another process: a read and an update
    per printer made a flush of 10 changes take seconds on a loaded machine, long enough for
    a printer's next poll to replace a pending `printing` that then never reached a client
    (bench/farm/RESULTS.md). The writer's statements do not grow with the batch."""
    ids = _printers(db, 22)
    _acquire(db, "me", ids)
    writer = Writer(WorkerContext(vault, db, httpx.AsyncClient(), asyncio.Event(), "me"))
    sizes = {}
    for state, batch in (("standby", ids[:2]), ("standby", ids[2:]), ("printing", ids[:2]), ("printing", ids[2:])):
        for pid in batch[:-1]:
            writer.put(pid, LiveStatus(online=True, state=state), seen=True)
        writer.put(batch[-1], None, seen=True)  # one printer's last_seen only
        sizes[state, len(batch)] = _flush_counting(db, writer)
    assert sizes["standby", 2] == sizes["standby", 20] and sizes["printing", 2] == sizes["printing", 20]
    with db.read() as session:
        states = {r.printer_id: (r.state, r.last_seen is not None) for r in session.scalars(select(PrinterStatus))}
    assert states == {pid: ("unknown" if pid in (ids[1], ids[-1]) else "printing", True) for pid in ids}


# ---- real worker processes ------------------------------------------------------------------

def _worker(vault: Settings) -> Popen[str]:
    env = vault_env(vault.data_dir, VAULT_PRINTER_POLL_SECONDS="0.5", VAULT_PRINTER_LEASE_SECONDS="3",
                    VAULT_BACKUP_SCHEDULE="")
    return printstash("worker", env=env)


def _holder_pid(db: Database, printer_id: int) -> int | None:
    holder = _holders(db).get(printer_id)
    return None if holder is None else int(holder.split(":")[1])


def _wait(check, timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {check.__doc__}")


def _polls(proc: Popen[str], name: str) -> bool:
    log: Path = proc.log_path  # type: ignore[attr-defined]
    return f"printer {name}: polled by this worker" in log.read_text(errors="replace")


@pytest.mark.timeout(300)
def test_two_worker_processes_poll_a_printer_once_and_fail_over_after_kill_9(vault: Settings, db: Database) -> None:
    (printer_id,) = _printers(db, 1)  # nothing listens at its address: polled as offline
    workers = {p.pid: p for p in (_worker(vault), _worker(vault))}
    try:
        def leased() -> int | None:
            """a worker took the printer's lease"""
            return _holder_pid(db, printer_id)
        first = _wait(leased, 150)  # worker start-up took over 60 s on a 2-CPU machine at load 15
        time.sleep(2.0)  # both workers re-read the printer list several times meanwhile
        assert _holder_pid(db, printer_id) == first
        other = next(pid for pid in workers if pid != first)
        assert _polls(workers[first], "p0") and not _polls(workers[other], "p0")

        killed_at = utcnow()
        os.kill(first, signal.SIGKILL)  # no clean-up: only the lease's expiry frees the printer
        workers[first].wait()

        def taken_over() -> bool:
            """the other worker holds the lease and has written the printer's status"""
            with db.read() as session:
                row = session.get(PrinterStatus, printer_id)
            return _holder_pid(db, printer_id) == other and row is not None and row.updated_at > killed_at
        _wait(taken_over, 15)
        assert _polls(workers[other], "p0")
    finally:
        for proc in workers.values():
            stop(proc)
