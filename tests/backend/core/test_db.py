"""The SQLite connection setup api and worker rely on to share one file."""

import threading

import pytest
from sqlalchemy import text

from printstash.core.db import Database
from printstash.core.models import AppState

pytestmark = pytest.mark.sqlite


def test_pragmas(db: Database) -> None:
    with db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_concurrent_read_then_write_transactions_never_see_locked(db: Database) -> None:
    """Deferred read-then-write transactions fail with 'database is locked'; IMMEDIATE waits."""
    errors: list[BaseException] = []

    def bump(n: int) -> None:
        try:
            for i in range(40):
                with db.write() as session:
                    row = session.get(AppState, "counter")
                    if row is None:
                        session.add(AppState(key="counter", value=1))
                    else:
                        row.value = int(row.value) + 1
                    session.add(AppState(key=f"t{n}-{i}", value=i))
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.read() as session:
        assert session.get(AppState, "counter").value == 160  # type: ignore[union-attr]
