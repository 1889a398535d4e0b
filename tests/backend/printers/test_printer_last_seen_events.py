"""A printer's last contact on the live event stream (printers/events.py) over a real api
(uvicorn on loopback), on both backends: SQLite (each stream reads last contacts itself) and
PostgreSQL (one StatusFeed per api process reads them). The worker refreshes an unchanged,
healthy printer's last_seen alone (no new updated_at, no NOTIFY: printers/poller.py); that write
must reach an open stream as a `seen` event, and an unchanged last_seen must send nothing."""

import contextlib
import json
import queue
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.processes import live_api
from harness.vault import add_user_with_key, make_settings, migrate

from printstash.core.db import Database, utcnow
from printstash.core.settings import Settings
from printstash.printers import events, service
from printstash.printers.models import Printer
from printstash.printers.providers.base import LiveStatus


class Stream:
    """One open /printers/events connection read in a thread: (event, data) as they come."""

    def __init__(self, base: str, key: str) -> None:
        self.got: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = httpx.Client(base_url=base, headers={"X-Api-Key": key}, timeout=None)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        event = None
        # suppress: the test closes the client while the stream is open
        with contextlib.suppress(httpx.HTTPError), self.client.stream("GET", "/api/v1/printers/events") as resp:
            for line in resp.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    self.got.put((event, json.loads(line[6:])))

    def next(self, timeout: float) -> tuple[str, Any] | None:
        try:
            return self.got.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self.client.close()


def _save(settings: Settings, printer_id: int, status: LiveStatus | None, last_seen: datetime) -> None:
    db = Database.from_settings(settings)
    try:
        with db.write() as session:
            service.save_statuses(session, [service.StatusWrite(printer_id, status, last_seen)], utcnow())
    finally:
        db.dispose()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[str, str, Settings, int]]:
    """A real api over a vault with one polled printer; (base url, member key, settings, id)."""
    data_dir = tmp_path / "data"
    settings = make_settings(data_dir)
    migrate(settings)
    key = add_user_with_key(settings, "member", "member")
    db = Database.from_settings(settings)
    try:
        with db.write() as session:
            printer = Printer(name="voron", provider="moonraker", base_url="http://127.0.0.1:7125")
            session.add(printer)
            session.flush()
            pid = printer.id
    finally:
        db.dispose()
    _save(settings, pid, LiveStatus(online=True, state="standby"), utcnow() - timedelta(minutes=1))
    with live_api(data_dir) as base:
        yield base, key, settings, pid


def test_a_last_seen_only_write_reaches_an_open_stream_as_a_seen_event(
        api: tuple[str, str, Settings, int]) -> None:
    base, key, settings, pid = api
    stream = Stream(base, key)
    try:
        first = stream.next(10)
        assert first is not None and first[0] == "status" and first[1]["printer_id"] == pid

        # Unchanged last contact: two checks pass and nothing is sent.
        assert stream.next(2 * events.SEEN_EVERY_S + 0.5) is None

        seen_at = utcnow()
        _save(settings, pid, None, seen_at)  # what the worker writes for an unchanged printer
        started = time.monotonic()
        got = stream.next(2 * events.SEEN_EVERY_S + 1)
        assert got is not None, "no event within two checks of a last_seen write"
        event, data = got
        assert event == "seen" and time.monotonic() - started <= 2 * events.SEEN_EVERY_S + 1
        assert [entry["printer_id"] for entry in data["printers"]] == [pid]
        assert datetime.fromisoformat(data["printers"][0]["last_seen"]) == seen_at

        # Sent once: the next checks find nothing new.
        assert stream.next(events.SEEN_EVERY_S + 0.5) is None
    finally:
        stream.close()
