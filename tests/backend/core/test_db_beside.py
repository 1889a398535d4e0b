"""Database.beside (core/db.py): a read started on a connection of its own while the caller goes
on with its session, on PostgreSQL; on SQLite, or with every slot busy, the read runs on the
caller's session when its result is asked for. Never a wait for a connection: a request holds
one of the read engine's while it waits for a read beside."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from printstash.core.db import BESIDE_READS, Database

LOCK = 4711  # an advisory lock the caller holds while the reads beside wait for it


def backend_pid(session: Session) -> int:
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def pid_once_unlocked(side: Session) -> int:
    side.execute(text(f"SELECT pg_advisory_lock_shared({LOCK})"))
    side.execute(text(f"SELECT pg_advisory_unlock_shared({LOCK})"))
    return backend_pid(side)


def waiting_for_lock(session: Session) -> int:
    return int(session.execute(text(
        f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = {LOCK} AND NOT granted")).scalar_one())


@contextmanager
def locked(session: Session) -> Iterator[None]:
    session.execute(text(f"SELECT pg_advisory_lock({LOCK})"))
    try:
        yield
    finally:
        session.execute(text(f"SELECT pg_advisory_unlock({LOCK})"))


def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def fails(_side: Session) -> None:
    raise ValueError("the read failed")


@pytest.mark.postgresql
def test_reads_beside_run_at_once_on_other_server_processes(db: Database) -> None:
    """Each read beside is blocked on a lock the caller holds, and the caller sees them all
    waiting in pg_locks while its own statements go on: they run now, elsewhere. One more,
    with every slot taken, runs on the caller's session when asked, not waiting for a slot."""
    with db.read() as session:
        own = backend_pid(session)
        with locked(session):
            results = [db.beside(session, pid_once_unlocked) for _ in range(BESIDE_READS)]
            until(lambda: waiting_for_lock(session) == BESIDE_READS)
            extra = db.beside(session, pid_once_unlocked)
            assert waiting_for_lock(session) == BESIDE_READS  # nothing started for it
        pids = [result() for result in results]
        assert own not in pids and len(set(pids)) == BESIDE_READS
        assert extra() == own


@pytest.mark.postgresql
def test_a_failed_read_beside_reaches_the_caller_and_gives_its_slot_back(db: Database) -> None:
    with db.read() as session:
        for _ in range(2 * BESIDE_READS):
            with pytest.raises(ValueError, match="the read failed"):
                db.beside(session, fails)()
        own = backend_pid(session)
        with locked(session):  # every slot is free again: all of these run beside
            results = [db.beside(session, pid_once_unlocked) for _ in range(BESIDE_READS)]
            until(lambda: waiting_for_lock(session) == BESIDE_READS)
        assert own not in [result() for result in results]


@pytest.mark.sqlite
def test_on_sqlite_the_read_runs_on_the_callers_session_when_asked(db: Database) -> None:
    sessions: list[Session] = []

    def read(side: Session) -> int:
        sessions.append(side)
        return int(side.execute(text("SELECT 7")).scalar_one())

    with db.read() as session:
        result = db.beside(session, read)
        assert sessions == []  # not yet: the caller's session is the caller's until it asks
        assert result() == 7 and sessions == [session]
        with pytest.raises(ValueError, match="the read failed"):
            db.beside(session, fails)()
