"""History import on a real migrated database: idempotent on job_id, a since-cursor that
never skips an unfinished job, linking by SHA-256 (send-to-print path) else by name, and
each completed vault print counted once in the library (cancelled and failed ones are kept in
the history with their state and as the file's last result, but are not prints)."""

from fastapi.testclient import TestClient
from harness.vault import migrate

from printstash.core.db import Database
from printstash.core.settings import Settings
from printstash.library import service as library
from printstash.library.models import File
from printstash.printers import history, service
from printstash.printers.models import Printer, PrintJob
from printstash.printers.providers.base import HistoryJob

SHA_A = "a" * 64
SHA_B = "b" * 64


def _setup(db: Database) -> tuple[int, int, int]:
    with db.write() as s:
        printer = Printer(name="p", provider="moonraker", base_url="http://127.0.0.1:1")
        s.add(printer)
        a = library.create_file(s, name="cube.gcode", size=1, sha256=SHA_A, uploaded_by=None, fields={},
                                parse_error=None, full_scan_done=True, thumbnails=[], kind="gcode", plates=[])
        b = library.create_file(s, name="boat.gcode", size=1, sha256=SHA_B, uploaded_by=None, fields={},
                                parse_error=None, full_scan_done=True, thumbnails=[], kind="gcode", plates=[])
        s.flush()
        return printer.id, a.id, b.id


def _job(job_id: str, filename: str, status: str, start: float, end: float | None = None) -> HistoryJob:
    return HistoryJob(job_id=job_id, filename=filename, status=status, start_time=start,
                      end_time=end, print_duration=10.0, total_duration=12.0, filament_used=100.0)


def _import(db: Database, pid: int, jobs: list[HistoryJob], since: float | None = None) -> float | None:
    with db.write() as s:
        return history.import_history(s, pid, jobs, since)


def test_links_by_sha_path_then_by_name_and_counts_once(db: Database) -> None:
    pid, a, b = _setup(db)
    jobs = [
        # sent by PrintStash under printstash/<sha>/<name>: linked by content even though
        # a different file now has the same name
        _job("000001", f"printstash/{SHA_A}/boat.gcode", "completed", 1000.0, 1100.0),
        _job("000002", "sub/dir/boat.gcode", "cancelled", 2000.0, 2050.0),  # by name
        _job("000003", "unknown.gcode", "completed", 3000.0, 3100.0),
        _job("000004", "", "completed", 4000.0, 4100.0),  # Moonraker's empty-filename quirk
    ]
    cursor = _import(db, pid, jobs)
    assert cursor == 4000.0
    _import(db, pid, jobs, None)  # the same page again: nothing doubles
    with db.read() as s:
        rows = {r.job_id: r for r in s.query(PrintJob).all()}
        fa, fb = s.get(File, a), s.get(File, b)
    assert len(rows) == 4
    assert rows["000001"].file_id == a and rows["000002"].file_id == b
    assert rows["000003"].file_id is None and rows["000004"].file_id is None
    assert fa is not None and fb is not None
    assert (fa.print_count, fa.last_print_result) == (1, "completed")
    assert (fb.print_count, fb.last_print_result) == (0, "cancelled")  # cancelled: not printed
    assert fa.last_printed_at is not None and fa.last_printed_at.timestamp() == 1100.0


def test_cursor_holds_at_an_unfinished_job_until_it_ends(db: Database) -> None:
    pid, a, _ = _setup(db)
    done = _job("000001", "cube.gcode", "completed", 1000.0, 1100.0)
    running = _job("000002", "cube.gcode", "in_progress", 2000.0)
    cursor = _import(db, pid, [done, running])
    assert cursor is not None and 1000.0 < cursor < 2000.0  # start_time > since fetches it again
    with db.read() as s:
        assert s.get(File, a).print_count == 1  # type: ignore[union-attr]
    finished = _job("000002", "cube.gcode", "error", 2000.0, 2300.0)
    cursor = _import(db, pid, [finished], cursor)
    assert cursor == 2000.0
    with db.read() as s:
        f = s.get(File, a)
        row = s.query(PrintJob).filter_by(job_id="000002").one()
    assert f is not None and f.print_count == 1 and f.last_print_result == "error"  # failed: not counted
    assert row.status == "error" and row.end_time is not None


def test_no_new_jobs_keeps_the_cursor(db: Database) -> None:
    pid, _, _ = _setup(db)
    assert _import(db, pid, [], 1234.5) == 1234.5
    assert _import(db, pid, [], None) is None


def test_history_page_newest_first(db: Database) -> None:
    pid, _, _ = _setup(db)
    _import(db, pid, [_job(f"{i:06X}", "x.gcode", "completed", 1000.0 + i, 1000.5 + i) for i in range(1, 8)])
    with db.read() as s:
        page = history.history(s, pid, limit=3, offset=0)
        rest = history.history(s, pid, limit=10, offset=3)
    assert page.total == 7 and [j.job_id for j in page.items] == ["000007", "000006", "000005"]
    assert [j.job_id for j in rest.items] == ["000004", "000003", "000002", "000001"]


def test_deleting_a_printer_keeps_the_files_counts(db: Database) -> None:
    pid, a, _ = _setup(db)
    _import(db, pid, [_job("000001", "cube.gcode", "completed", 1000.0, 1100.0)])
    with db.write() as s:
        service.delete_printer(s, pid)
    with db.read() as s:
        assert s.query(PrintJob).count() == 0
        assert s.get(File, a).print_count == 1  # type: ignore[union-attr]


def test_a_cleared_printer_history_reusing_job_ids_keeps_the_earlier_jobs(db: Database) -> None:
    """Moonraker reuses deleted jobs' ids: after its history is cleared the next job is 000001
    again. That is a new print (counted) and the earlier 000001 keeps its record."""
    pid, a, b = _setup(db)
    first = [_job("000001", "cube.gcode", "completed", 1000.0, 1100.0),
             _job("000002", "boat.gcode", "cancelled", 2000.0, 2050.0)]
    cursor = _import(db, pid, first)
    after_reset = _job("000001", "boat.gcode", "completed", 5000.0, 5100.0)
    for _ in range(2):  # imported twice: the second time it is the same job
        cursor = _import(db, pid, [after_reset], cursor)
    with db.read() as s:
        rows = {r.job_id: r for r in s.query(PrintJob).all()}
        fa, fb = s.get(File, a), s.get(File, b)
    assert set(rows) == {"000001~1000", "000001", "000002"}
    old, new = rows["000001~1000"], rows["000001"]
    assert (old.filename, old.status, old.file_id) == ("cube.gcode", "completed", a)
    assert old.start_time is not None and old.start_time.timestamp() == 1000.0
    assert (new.filename, new.status, new.file_id) == ("boat.gcode", "completed", b)
    assert fa is not None and fa.print_count == 1
    # the cancelled one is no print
    assert fb is not None and (fb.print_count, fb.last_print_result) == (1, "completed")


def test_file_history_lists_its_prints_on_every_printer(db: Database, member_client: TestClient,
                                                        app_client: TestClient) -> None:
    pid, a, b = _setup(db)
    with db.write() as s:
        other = Printer(name="second", provider="moonraker", base_url="http://127.0.0.1:2")
        s.add(other)
        s.flush()
        other_id = other.id
    _import(db, pid, [_job("000001", "cube.gcode", "completed", 1000.0, 1100.0),
                      _job("000002", "boat.gcode", "completed", 2000.0, 2100.0)])
    _import(db, other_id, [_job("000001", "cube.gcode", "cancelled", 3000.0, 3050.0)])
    page = member_client.get(f"/api/v1/files/{a}/history").json()
    assert page["total"] == 2
    assert [(j["printer_name"], j["status"], j["file_id"]) for j in page["items"]] == [
        ("second", "cancelled", a), ("p", "completed", a)]  # newest first
    one = member_client.get(f"/api/v1/files/{a}/history?limit=1&offset=1").json()
    assert [j["printer_id"] for j in one["items"]] == [pid] and one["total"] == 2
    assert member_client.get(f"/api/v1/files/{b}/history").json()["total"] == 1
    assert member_client.get(f"/api/v1/files/{a}/history?limit=0").status_code == 422
    assert app_client.get(f"/api/v1/files/{a}/history").status_code == 401


def test_file_history_of_a_missing_or_trashed_file_is_404(db: Database, member_client: TestClient) -> None:
    _, a, _ = _setup(db)
    with db.write() as s:
        library.trash_file(s, a)
    for file_id in (a, 999_999):
        resp = member_client.get(f"/api/v1/files/{file_id}/history")
        assert resp.status_code == 404 and resp.json()["code"] == "file_not_found"


def test_upgrade_takes_counted_cancelled_prints_out_of_the_count(settings: Settings) -> None:
    """Migration 0014: counts made before (every finished job) lose the jobs that did not
    complete; a count whose jobs are gone with a deleted printer stays."""
    migrate(settings, "0013")
    db = Database.from_settings(settings)
    try:
        pid, a, b = _setup(db)
        with db.write() as s:
            for job_id, file_id, status in (("1", a, "completed"), ("2", a, "cancelled"), ("3", a, "klippy_shutdown"),
                                            ("4", b, "cancelled")):
                s.add(PrintJob(printer_id=pid, job_id=job_id, file_id=file_id, status=status, recorded=True))
            s.add(PrintJob(printer_id=pid, job_id="5", file_id=a, status="in_progress", recorded=False))
            s.get_one(File, a).print_count, s.get_one(File, b).print_count = 3, 3  # b: two from a deleted printer
        migrate(settings)
        with db.read() as s:
            assert (s.get_one(File, a).print_count, s.get_one(File, b).print_count) == (1, 2)
    finally:
        db.dispose()
