"""provider_summary: the printer-provider component of /health."""

from datetime import timedelta

from printstash.core.db import Database, utcnow
from printstash.core.models import WorkerHeartbeat
from printstash.health.printers import provider_summary
from printstash.printers.models import Printer, PrinterStatus


def _beat(db: Database, age_s: float) -> None:
    with db.write() as s:
        now = utcnow()
        s.add(WorkerHeartbeat(worker_id="w1", hostname="h", pid=1, version="t",
                              started_at=now, beat_at=now - timedelta(seconds=age_s)))


def _printer(db: Database, name: str, state: str | None) -> None:
    with db.write() as s:
        p = Printer(name=name, provider="moonraker", base_url="http://127.0.0.1:1")
        s.add(p)
        s.flush()
        if state is not None:
            s.add(PrinterStatus(printer_id=p.id, state=state, online=state != "offline"))


def test_no_printers_is_ok_with_detail(db: Database) -> None:
    with db.read() as s:
        out = provider_summary(s)
    assert out["status"] == "ok"
    assert out["printers"] == 0
    assert out["detail"] == "no printers configured"
    assert out["worker_heartbeat_age_s"] is None


def test_counts_per_provider_and_degraded_when_one_is_down(db: Database) -> None:
    _beat(db, 1)
    _printer(db, "a", "standby")
    _printer(db, "b", "printing")
    _printer(db, "c", "offline")
    _printer(db, "d", "klippy_not_ready")
    _printer(db, "e", None)
    with db.read() as s:
        out = provider_summary(s)
    assert out["providers"] == {"moonraker": {"online": 2, "offline": 2, "error": 1}}
    assert out["printers"] == 5
    assert out["status"] == "degraded"
    assert 0.5 < out["worker_heartbeat_age_s"] < 10


def test_all_online_fresh_worker_is_ok(db: Database) -> None:
    _beat(db, 0)
    _printer(db, "a", "standby")
    with db.read() as s:
        assert provider_summary(s)["status"] == "ok"


def test_stale_or_missing_worker_is_degraded(db: Database) -> None:
    _printer(db, "a", "standby")
    with db.read() as s:
        assert provider_summary(s)["status"] == "degraded"  # no worker ever
    _beat(db, 45)
    with db.read() as s:
        out = provider_summary(s)
    assert out["status"] == "degraded"
    assert out["worker_heartbeat_age_s"] >= 45
