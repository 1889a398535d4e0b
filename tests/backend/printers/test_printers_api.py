"""The printers API through the app (TestClient, real migrated SQLite): CRUD, permissions,
validation, the encrypted API key, and clear 409s for an unreachable printer."""

import stat

from fastapi.testclient import TestClient
from harness.processes import free_port
from sqlalchemy import select

from printstash.core.db import Database, utcnow
from printstash.core.settings import Settings
from printstash.printers import secrets, service
from printstash.printers.models import Printer, PrinterStatus
from printstash.printers.providers.base import Heater, LiveStatus

URL = "http://127.0.0.1:7125"


def _create(client: TestClient, **body: object) -> dict:
    resp = client.post("/api/v1/printers", json={"name": "voron", "url": URL, **body})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def test_admin_creates_member_views(admin_client: TestClient, member_client: TestClient) -> None:
    created = _create(admin_client, poll_interval=3)
    assert created["provider"] == "moonraker" and created["url"] == URL and created["poll_interval"] == 3
    assert created["status"]["state"] == "unknown" and "not polled yet" in created["status"]["error"]
    listed = member_client.get("/api/v1/printers").json()
    assert [p["id"] for p in listed["items"]] == [created["id"]] and listed["total"] == 1
    assert member_client.get(f"/api/v1/printers/{created['id']}").json()["name"] == "voron"


def test_members_control_prints_but_cannot_manage_printers(admin_client: TestClient,
                                                            member_client: TestClient) -> None:
    """Whoever may print on a printer (members: every printer) may pause, resume and cancel
    there; adding, changing and removing printers stays with admins."""
    pid = _create(admin_client, url=f"http://127.0.0.1:{free_port()}")["id"]
    assert member_client.post("/api/v1/printers", json={"name": "x", "url": URL}).status_code == 403
    assert member_client.patch(f"/api/v1/printers/{pid}", json={"name": "y"}).status_code == 403
    assert member_client.delete(f"/api/v1/printers/{pid}").status_code == 403
    for action in ("pause", "resume", "cancel"):
        resp = member_client.post(f"/api/v1/printers/{pid}/{action}")  # allowed: only the printer is away
        assert resp.status_code == 409 and resp.json()["code"] == "printer_offline", resp.text


def test_anonymous_is_refused(app_client: TestClient) -> None:
    for method, path in (("GET", "/api/v1/printers"), ("GET", "/api/v1/printers/events"),
                         ("POST", "/api/v1/printers"), ("GET", "/api/v1/printers/1/history")):
        resp = app_client.request(method, path)
        assert resp.status_code == 401 and resp.json()["code"] == "not_authenticated"


def test_validation_is_a_clear_422(admin_client: TestClient) -> None:
    for body in ({"name": "a", "url": "ftp://host"}, {"name": "a", "url": "printer.local"},
                 {"name": "   ", "url": URL}, {"name": "a", "url": URL, "provider": "octoprint"},
                 {"name": "a", "url": URL, "poll_interval": 0}, {"name": "a", "url": URL, "extra": 1},
                 {"name": "a", "url": URL + "/?x=1"}):
        resp = admin_client.post("/api/v1/printers", json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.json()["code"] == "validation_error" and resp.json()["detail"]
    assert admin_client.get("/api/v1/printers").json() == {"items": [], "total": 0}


def test_names_are_unique_ignoring_case(admin_client: TestClient) -> None:
    _create(admin_client)
    resp = admin_client.post("/api/v1/printers", json={"name": "VORON", "url": URL})
    assert resp.status_code == 409 and resp.json()["code"] == "printer_name_taken"
    other = admin_client.post("/api/v1/printers", json={"name": "ender", "url": URL}).json()
    clash = admin_client.patch(f"/api/v1/printers/{other['id']}", json={"name": "Voron"})
    assert clash.status_code == 409


def test_api_key_encrypted_at_rest_and_never_returned(admin_client: TestClient, vault: Settings,
                                                      db: Database) -> None:
    secret = "moonraker-key-0123456789abcdef"
    created = _create(admin_client, api_key=secret)
    assert created["has_api_key"] is True
    for resp in (admin_client.get("/api/v1/printers"), admin_client.get(f"/api/v1/printers/{created['id']}")):
        assert secret not in resp.text and "api_key_encrypted" not in resp.text
    with db.read() as session:
        stored = session.scalars(select(Printer.api_key_encrypted)).one()
    assert stored and secret not in stored
    key_file = secrets.key_path(vault)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.parent == vault.data_dir / "secrets"
    assert secrets.decrypt(vault, stored) == secret
    # a different key file cannot read it (e.g. a database restored without its secrets/)
    key_file.unlink()
    assert secrets.decrypt(vault, stored) is None


def test_patch_changes_only_what_is_sent(admin_client: TestClient) -> None:
    pid = _create(admin_client, api_key="k1", poll_interval=5)["id"]
    renamed = admin_client.patch(f"/api/v1/printers/{pid}", json={"name": "  big   voron "}).json()
    assert renamed["name"] == "big voron" and renamed["has_api_key"] and renamed["poll_interval"] == 5
    cleared = admin_client.patch(f"/api/v1/printers/{pid}", json={"api_key": None, "poll_interval": None}).json()
    assert cleared["has_api_key"] is False
    assert cleared["poll_interval"] == 2.0  # back to VAULT_PRINTER_POLL_SECONDS
    assert admin_client.patch("/api/v1/printers/999", json={"name": "x"}).status_code == 404


def test_delete_then_404(admin_client: TestClient) -> None:
    pid = _create(admin_client)["id"]
    assert admin_client.delete(f"/api/v1/printers/{pid}").status_code == 204
    for path in (f"/api/v1/printers/{pid}", f"/api/v1/printers/{pid}/history"):
        resp = admin_client.get(path)
        assert resp.status_code == 404 and resp.json()["code"] == "printer_not_found"
    assert admin_client.delete(f"/api/v1/printers/{pid}").status_code == 404


def test_status_written_by_the_worker_is_served_with_its_age(admin_client: TestClient, db: Database) -> None:
    pid = _create(admin_client)["id"]
    status = LiveStatus(online=True, state="printing", klippy_state="ready", print_state="printing",
                        filename="cube.gcode", progress=0.25, print_duration=60.0, eta_s=180.0,
                        extruder=Heater(temperature=210.1, target=210.0), heater_bed=None,
                        message=None, error=None)
    with db.write() as session:
        assert service.save_statuses(session, [service.StatusWrite(pid, status, utcnow())], utcnow()) == {pid}
    got = admin_client.get(f"/api/v1/printers/{pid}").json()["status"]
    assert got["state"] == "printing" and got["progress"] == 0.25 and got["eta_s"] == 180.0
    assert got["extruder"] == {"temperature": 210.1, "target": 210.0}
    assert got["age_s"] is not None and 0 <= got["age_s"] < 5
    assert got["updated_at"] and got["last_seen"]


def test_status_stored_by_an_older_version_is_still_served(admin_client: TestClient, db: Database) -> None:
    """Rows written before the status was typed carry keys it no longer has (homed_axes)."""
    pid = _create(admin_client)["id"]
    with db.write() as session:
        session.add(PrinterStatus(printer_id=pid, state="paused", online=True, updated_at=utcnow(), status_json={
            "online": True, "state": "paused", "filename": "cube.gcode", "homed_axes": "xyz",
            "layer": {"current": 3, "total": 40}, "heater_bed": {"temperature": 60.0, "target": 60.0}}))
    got = admin_client.get(f"/api/v1/printers/{pid}").json()["status"]
    assert got["state"] == "paused" and got["filename"] == "cube.gcode" and "homed_axes" not in got
    assert got["layer"] == {"current": 3, "total": 40} and got["heater_bed"]["target"] == 60.0


def test_commands_to_an_unreachable_printer_are_409(admin_client: TestClient) -> None:
    # a free port with nothing listening: connection refused, a real "offline" printer
    pid = _create(admin_client, name="gone", url=f"http://127.0.0.1:{free_port()}")["id"]
    resp = admin_client.post(f"/api/v1/printers/{pid}/pause")
    assert resp.status_code == 409 and resp.json()["code"] == "printer_offline"
    assert "gone" in resp.json()["detail"]


def test_print_of_missing_file_or_printer_is_404(admin_client: TestClient) -> None:
    pid = _create(admin_client)["id"]
    resp = admin_client.post(f"/api/v1/printers/{pid}/print", json={"file_id": 12345})
    assert resp.status_code == 404 and resp.json()["code"] == "file_not_found"
    assert admin_client.post("/api/v1/printers/777/print", json={"file_id": 1}).status_code == 404


def test_history_paging_and_bounds(admin_client: TestClient) -> None:
    pid = _create(admin_client)["id"]
    page = admin_client.get(f"/api/v1/printers/{pid}/history?limit=10&offset=0").json()
    assert page == {"items": [], "total": 0}
    assert admin_client.get(f"/api/v1/printers/{pid}/history?limit=0").status_code == 422
    assert admin_client.get(f"/api/v1/printers/{pid}/history?limit=501").status_code == 422


def test_printer_list_is_a_page_by_name(admin_client: TestClient, member_client: TestClient) -> None:
    for name in ("voron", "ender", "prusa"):
        _create(admin_client, name=name)
    everything = member_client.get("/api/v1/printers").json()
    assert [p["name"] for p in everything["items"]] == ["ender", "prusa", "voron"]
    assert everything["total"] == 3
    second = member_client.get("/api/v1/printers?limit=1&offset=1").json()
    assert [p["name"] for p in second["items"]] == ["prusa"] and second["total"] == 3
    for bad in ("limit=0", "limit=501", "offset=-1"):
        assert member_client.get(f"/api/v1/printers?{bad}").status_code == 422


def test_check_before_adding_says_why_a_printer_cannot_be_reached(admin_client: TestClient,
                                                                  member_client: TestClient) -> None:
    """A dead port is an answer (reachable false, why in words), not an error; the real
    Moonraker + Klippy side is in tests/system/test_printers_e2e.py."""
    dead = f"http://127.0.0.1:{free_port()}"
    answer = admin_client.post("/api/v1/printers/check", json={"url": dead})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {**answer.json(), "reachable": False, "version": None, "klippy_state": None}
    assert answer.json()["message"].startswith(f"Could not reach {dead}: cannot connect")
    assert admin_client.get("/api/v1/printers").json()["total"] == 0  # checking adds nothing
    bad = admin_client.post("/api/v1/printers/check", json={"url": "http://user:pw@host:7125"})
    assert bad.status_code == 422 and bad.json()["code"]
    assert member_client.post("/api/v1/printers/check", json={"url": dead}).status_code == 403
