"""The api's printer event feed (printers/events.py, core/notify.py): on PostgreSQL a committed
status write and a printer's deletion reach a subscribed stream through LISTEN/NOTIFY, a
rolled-back one never does. The system test tests/system/test_farm.py runs it across api
processes."""

import asyncio
import contextlib

import pytest

from printstash.core import notify
from printstash.core.db import Database, utcnow
from printstash.core.settings import Settings
from printstash.printers import events, service
from printstash.printers.models import Printer
from printstash.printers.providers.base import LiveStatus


def test_long_id_lists_are_split_under_postgresqls_payload_limit() -> None:
    ids = range(1, 5000)
    payloads = notify.payloads(ids)
    assert len(payloads) > 1 and all(len(p) <= notify.PAYLOAD_MAX for p in payloads)
    assert set().union(*map(notify.parse, payloads)) == set(ids)
    assert notify.parse("3,x,,4") == {3, 4}


@pytest.mark.sqlite
def test_sqlite_has_no_feed_its_streams_poll(vault: Settings, db: Database) -> None:
    assert events.feed_for(vault, db) is None


def _write_status(db: Database, printer_id: int, state: str, *, commit: bool = True) -> None:
    with contextlib.suppress(RuntimeError), db.write() as session:
        write = service.StatusWrite(printer_id, LiveStatus(online=True, state=state), utcnow())
        service.save_statuses(session, [write], utcnow())
        service.announce(session, [printer_id])
        if not commit:
            raise RuntimeError("roll back")


async def _next(queue: "asyncio.Queue[events.Change | None]") -> events.Change:
    change = await asyncio.wait_for(queue.get(), 2.0)
    assert change is not None
    return change


@pytest.mark.postgresql
def test_committed_changes_reach_a_subscriber_within_two_seconds(vault: Settings, db: Database) -> None:
    with db.write() as session:
        printer = Printer(name="voron", provider="moonraker", base_url="http://127.0.0.1:7125")
        session.add(printer)
        session.flush()
        pid = printer.id

    async def scenario() -> None:
        feed = events.feed_for(vault, db)
        assert feed is not None
        feed.start()
        try:
            with feed.subscribe() as queue:
                await asyncio.wait_for(feed.listening.wait(), 10)
                await asyncio.to_thread(_write_status, db, pid, "printing", commit=False)
                await asyncio.to_thread(_write_status, db, pid, "standby")
                change = await _next(queue)  # the rolled-back write was never announced
                assert change.printer_id == pid and '"state":"standby"' in change.text
                with db.write() as session:
                    service.delete_printer(session, pid)
                change = await _next(queue)
                assert change.text == events.sse("removed", {"printer_id": pid})
                assert queue.empty()
        finally:
            await feed.stop()

    asyncio.run(scenario())
