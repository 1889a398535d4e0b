"""A print farm's setup: 2 api processes (real uvicorn) and 2 workers on one PostgreSQL
database, polling a real Moonraker 0.11.0 + Klippy (docs/scaling.md).

- the printer lease: exactly one worker polls the printer; kill -9 that worker and the
  other one takes the printer over within 15 s (with the default lease of 10 s);
- a scheduled job runs once per tick with 2 workers (the backup, every minute here);
- an SSE client of api #2 sees, within 2 s, a change api #1 made (a deleted printer) and
  one the worker wrote (a new printer's first status): LISTEN/NOTIFY, one listening
  connection per api process.
"""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.peers import KlipperPrinter
from harness.processes import free_port, printstash, stop, vault_env, wait_http
from harness.vault import add_user_with_key, make_settings, migrate
from sqlalchemy import select, text
from systemkit import SSE, wait_for

from printstash.core.db import Database, utcnow
from printstash.core.models import AppState
from printstash.printers.models import PrinterLease, PrinterStatus

pytestmark = [pytest.mark.system, pytest.mark.postgresql]
FANOUT_S = 2.0
TAKEOVER_S = 15.0
SKIPPED_TICK = "scheduled job backup: this tick runs in another worker"


def _log(proc: subprocess.Popen[str]) -> str:
    path: Path = proc.log_path  # type: ignore[attr-defined]
    return path.read_text(errors="replace")


class Farm:
    def __init__(self, data_dir: Path) -> None:
        settings = make_settings(data_dir)
        migrate(settings)
        self.db = Database.from_settings(settings)
        self.headers = {"X-Api-Key": add_user_with_key(settings, "admin", "admin")}
        self.env = vault_env(data_dir, VAULT_PRINTER_POLL_SECONDS="0.5", VAULT_BACKUP_SCHEDULE="* * * * *")
        ports = [free_port(), free_port()]
        self.bases = [f"http://127.0.0.1:{port}" for port in ports]
        self.clients = [httpx.Client(base_url=b, headers=self.headers, timeout=60.0) for b in self.bases]
        self.apis = [printstash("serve", "--port", str(port), env=self.env) for port in ports]
        self.workers: list[subprocess.Popen[str]] = []

    def start(self) -> None:
        self.workers = [printstash("worker", env=self.env) for _ in range(2)]
        for base in self.bases:
            # four processes starting at once on a loaded 2-CPU machine took over 90 s here
            wait_http(f"{base}/api/v1/health/live", timeout=180.0)

    def holder(self, printer_id: int) -> subprocess.Popen[str] | None:
        """The worker process whose lease on the printer is current (worker ids: host:pid:…)."""
        with self.db.read() as session:
            row = session.get(PrinterLease, printer_id)
        if row is None or row.expires_at < utcnow():
            return None
        pid = int(row.worker_id.split(":")[1])
        return next(w for w in self.workers if w.pid == pid)

    def status(self, printer_id: int) -> PrinterStatus | None:
        with self.db.read() as session:
            return session.get(PrinterStatus, printer_id)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for name, proc in [*(("api", p) for p in self.apis), *(("worker", p) for p in self.workers)]:
            log = stop(proc)  # shown by pytest when the test failed
            print(f"---- {name} {proc.pid} (exit {proc.returncode}) ----\n{log[-3000:]}")
        self.db.dispose()


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[Farm]:
    farm = Farm(tmp_path / "data")
    try:
        farm.start()
        yield farm
    finally:
        farm.close()


def _add_printer(client: httpx.Client, name: str, klipper: KlipperPrinter) -> dict[str, Any]:
    resp = client.post("/api/v1/printers", json={"name": name, "url": klipper.url})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _received(sse: SSE, event: str, printer_id: int) -> tuple[float, dict[str, Any]] | None:
    return next(((at, data) for at, name, data in sse.events if name == event and data["printer_id"] == printer_id),
                None)


@pytest.mark.timeout(240)
def test_two_apis_two_workers_lease_failover_schedule_and_fanout(farm: Farm, klipper: KlipperPrinter) -> None:
    api1, api2 = farm.clients
    printer = _add_printer(api1, "farm-voron", klipper)["id"]

    # -- the lease: one worker polls the printer, the other never does
    def polled() -> bool:
        """a worker holds the printer's lease and wrote its standby status"""
        row = farm.status(printer)
        return farm.holder(printer) is not None and row is not None and row.state == "standby"
    wait_for(polled, 30)
    holder = farm.holder(printer)
    other = next(w for w in farm.workers if w is not holder)
    assert holder is not None and "printer farm-voron: polled by this worker" in _log(holder)
    assert "farm-voron" not in _log(other)

    # -- SSE fan-out: a client of api #2 hears of what api #1 and the worker did
    listeners = farm.db.read_engine.connect()
    rows = listeners.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND query LIKE 'LISTEN %'")).scalar()
    listeners.close()
    assert rows == 2  # one LISTENing connection per api process
    sse = SSE(farm.bases[1], farm.headers)
    try:
        wait_for(lambda: _received(sse, "status", printer), 10)  # the snapshot: the stream is open
        clock = time.time() - time.monotonic()  # received (monotonic) -> wall clock
        second = _add_printer(api1, "farm-second", klipper)["id"]
        got = wait_for(lambda: _received(sse, "status", second), 10)
        written = datetime.fromisoformat(got[1]["status"]["updated_at"])
        lag = got[0] + clock - written.timestamp()
        assert lag <= FANOUT_S, f"api #2 streamed the worker's write {lag:.2f}s after it"
        deleted_at = time.monotonic()
        assert api1.delete(f"/api/v1/printers/{second}").status_code == 204
        got = wait_for(lambda: _received(sse, "removed", second), 10)
        assert got[0] - deleted_at <= FANOUT_S, f"api #2 streamed api #1's deletion {got[0] - deleted_at:.2f}s after"
    finally:
        sse.close()

    # -- the schedule: both workers fire the minute's backup; one runs it, the other skips it
    def ticked() -> str | None:
        """a minute's backup tick was claimed and the other worker logged its skip"""
        with farm.db.read() as session:
            row = session.scalars(select(AppState).where(AppState.key.startswith("schedule:backup:"))).first()
        skipped = [w for w in farm.workers if SKIPPED_TICK in _log(w)]
        return row.value["worker"] if row is not None and skipped else None
    claimer = wait_for(ticked, 75, step=0.5)
    skipped = [w for w in farm.workers if SKIPPED_TICK in _log(w)]
    assert len(skipped) == 1 and skipped[0].pid != int(claimer.split(":")[1])
    assert _log(skipped[0]).count(SKIPPED_TICK) == 1

    # -- failover: kill -9 the polling worker; the other takes over within 15 s
    killed_at = datetime.now(UTC)
    started = time.monotonic()
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()

    def taken_over() -> bool:
        """the other worker holds the lease and wrote the printer's status since the kill"""
        row = farm.status(printer)
        return farm.holder(printer) is other and row is not None and row.updated_at > killed_at
    wait_for(taken_over, TAKEOVER_S + 5)
    took = time.monotonic() - started
    assert took <= TAKEOVER_S, f"taken over {took:.1f}s after kill -9"
    assert "printer farm-voron: polled by this worker" in _log(other)
    assert api2.get(f"/api/v1/printers/{printer}").json()["status"]["state"] == "standby"
