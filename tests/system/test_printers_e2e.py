"""End to end against a real Moonraker 0.11.0 + Klippy: real api and worker processes.

add printer -> standby within 2 poll intervals -> send a vault file -> printing with
progress rising (also over SSE) -> complete -> history entry linked to the vault file.
Then pause/resume/cancel, and the 409s of a busy printer.
"""

import time
from datetime import datetime
from typing import Any

import httpx
import pytest
from harness.packages import binarize, gcode_3mf
from harness.paths import GCODE_FIXTURES
from harness.peers import KlipperPrinter
from harness.processes import free_port
from systemkit import POLL_SECONDS, SSE, Stack, status, wait_for

pytestmark = pytest.mark.system
KLIPPER_FIXTURES = GCODE_FIXTURES / "klipper"
TINYBOX = KLIPPER_FIXTURES / "klipper_prusa_tinybox_0.20mm_noextrusion.gcode"
CUBE = KLIPPER_FIXTURES / "klipper_prusa_cube20_0.30mm_noextrusion.gcode"


def upload(stack: Stack, path: Any) -> dict[str, Any]:
    with path.open("rb") as fh:
        resp = stack.admin.post("/api/v1/files", files={"file": (path.name, fh)})
    assert resp.status_code in (200, 201), resp.text
    return dict(resp.json())


@pytest.fixture(scope="module")
def printer_id(printstash_stack: Stack, klipper: KlipperPrinter) -> int:
    resp = printstash_stack.admin.post("/api/v1/printers", json={"name": "voron", "url": klipper.url})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def test_add_printer_reaches_standby_within_two_intervals(printstash_stack: Stack, klipper: KlipperPrinter) -> None:
    key = klipper.api_key()  # Moonraker checks a key that is sent, even from a trusted client
    t0 = time.monotonic()
    resp = printstash_stack.admin.post("/api/v1/printers",
                                       json={"name": "standby-check", "url": klipper.url, "api_key": key})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["has_api_key"] is True and "api_key" not in body and key not in resp.text
    pid = body["id"]
    try:
        def standby() -> bool:
            """the new printer shows standby"""
            return status(printstash_stack, pid)["state"] == "standby"
        wait_for(standby, 10)
        seen_by_test = time.monotonic() - t0
        st = status(printstash_stack, pid)
        # Measured on the server's clocks (printer row created -> standby written by the
        # worker), so a loaded CI machine's slow API round trips do not count; the slack is
        # the writer's 0.2 s batching and the request itself.
        took = (datetime.fromisoformat(st["updated_at"]) - datetime.fromisoformat(body["created_at"])).total_seconds()
        assert took <= 2 * POLL_SECONDS + 0.5, f"standby {took:.2f}s after adding (test saw {seen_by_test:.2f}s)"
        assert st["online"] is True and st["klippy_state"] == "ready"
        assert st["age_s"] is not None and st["age_s"] < 5
    finally:
        assert printstash_stack.admin.delete(f"/api/v1/printers/{pid}").status_code == 204


def test_wrong_printer_api_key_is_an_error_with_a_message(printstash_stack: Stack, klipper: KlipperPrinter) -> None:
    resp = printstash_stack.admin.post("/api/v1/printers",
                                       json={"name": "wrong-key", "url": klipper.url, "api_key": "not-the-key"})
    pid = resp.json()["id"]
    try:
        st = wait_for(lambda: (s := status(printstash_stack, pid))["state"] == "error" and s, 10)
        assert "401" in st["error"] and "API key" in st["error"]
        assert st["online"] is True  # it answered: not offline
        fixed = printstash_stack.admin.patch(f"/api/v1/printers/{pid}", json={"api_key": klipper.api_key()})
        assert fixed.status_code == 200, fixed.text
        wait_for(lambda: status(printstash_stack, pid)["state"] == "standby", 10)
    finally:
        printstash_stack.admin.delete(f"/api/v1/printers/{pid}")


def test_checking_a_printer_before_adding_it_says_what_is_there(printstash_stack: Stack, klipper: KlipperPrinter,
                                                               ) -> None:
    """POST /printers/check reports Moonraker's own version and Klippy's state (read from the
    real Moonraker directly for comparison), a refused key and a dead port in words."""
    check = printstash_stack.admin
    own = httpx.get(f"{klipper.url}/server/info", headers={"X-Api-Key": klipper.api_key()}).json()["result"]
    found = check.post("/api/v1/printers/check", json={"url": klipper.url})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["reachable"] is True and body["version"] == own["moonraker_version"]
    assert body["klippy_state"] == own["klippy_state"] == "ready"
    assert body["message"] == f"Found Moonraker {own['moonraker_version']}; Klippy is ready"
    wrong_key = check.post("/api/v1/printers/check", json={"url": klipper.url, "api_key": "not-the-key"}).json()
    assert wrong_key["reachable"] is False and "API key" in wrong_key["message"] and "401" in wrong_key["message"]
    dead = f"http://127.0.0.1:{free_port()}"
    gone = check.post("/api/v1/printers/check", json={"url": dead}).json()
    assert gone["reachable"] is False and gone["message"].startswith(f"Could not reach {dead}: cannot connect")
    assert printstash_stack.member.post("/api/v1/printers/check", json={"url": klipper.url}).status_code == 403


def test_send_to_print_progress_complete_history_linked(printstash_stack: Stack, klipper: KlipperPrinter,
                                                        printer_id: int) -> None:
    stack = printstash_stack
    wait_for(lambda: status(stack, printer_id)["state"] in {"standby", "complete", "cancelled"}, 10)
    vault_file = upload(stack, TINYBOX)
    klipper.gcode("M220 S2000")  # 20x speed: the real PrusaSlicer tinybox in ~5 s
    sse = SSE(stack.base, dict(stack.member.headers))
    try:
        resp = stack.member.post(f"/api/v1/printers/{printer_id}/print", json={"file_id": vault_file["id"]})
        assert resp.status_code == 202, resp.text
        remote = resp.json()["remote_filename"]
        assert remote == f"printstash/{vault_file['sha256']}/{TINYBOX.name}"

        seen: list[tuple[str, float | None]] = []

        def complete() -> bool:
            """the print is complete"""
            st = status(stack, printer_id)
            seen.append((st["state"], st["progress"]))
            return st["state"] == "complete"
        wait_for(complete, 60, step=0.1)
        printing = [p for s, p in seen if s == "printing" and p is not None]
        assert len(set(printing)) >= 2, seen
        assert printing == sorted(printing), seen
        time.sleep(2 * POLL_SECONDS)  # let the SSE stream catch up
    finally:
        sse.close()

    mine = [(e, d["status"]) for _, e, d in sse.events if d.get("printer_id") == printer_id]
    states = [s["state"] for e, s in mine if e == "status"]
    assert "printing" in states and states[-1] == "complete", states
    sse_progress = [s["progress"] for e, s in mine if s["state"] == "printing" and s["progress"] is not None]
    assert len(set(sse_progress)) >= 2 and sse_progress == sorted(sse_progress), sse_progress
    assert any(s.get("file_id") == vault_file["id"] for _, s in mine if s["state"] == "printing")

    def history_linked() -> Any:
        """the completed job is in the history, linked to the vault file"""
        items = stack.member.get(f"/api/v1/printers/{printer_id}/history").json()["items"]
        return next((j for j in items if j["filename"] == remote and j["status"] == "completed"), None)
    job = wait_for(history_linked, 10, step=0.2)
    assert job["file_id"] == vault_file["id"]
    moonraker_job = next(j for j in klipper.history() if j["job_id"] == job["job_id"])
    assert moonraker_job["status"] == "completed"
    assert job["print_duration"] == pytest.approx(moonraker_job["print_duration"])
    f = stack.member.get(f"/api/v1/files/{vault_file['id']}").json()
    assert f["print_count"] == 1 and f["last_print_result"] == "completed"
    time.sleep(3 * POLL_SECONDS)  # re-imports must not count it twice
    assert stack.member.get(f"/api/v1/files/{vault_file['id']}").json()["print_count"] == 1


def test_pause_resume_cancel_and_busy_conflicts(printstash_stack: Stack, klipper: KlipperPrinter,
                                               printer_id: int) -> None:
    stack = printstash_stack
    wait_for(lambda: status(stack, printer_id)["state"] in {"standby", "complete", "cancelled"}, 10)
    cube = upload(stack, CUBE)
    klipper.gcode("M220 S100")  # the cube must still be printing while we pause and resume
    url = f"/api/v1/printers/{printer_id}"
    assert stack.admin.post(f"{url}/print", json={"file_id": cube["id"]}).status_code == 202
    wait_for(lambda: status(stack, printer_id)["state"] == "printing", 10)

    busy = stack.member.post(f"{url}/print", json={"file_id": cube["id"]})
    assert busy.status_code == 409 and busy.json()["code"] == "printer_busy", busy.text
    assert "printing" in busy.json()["detail"]

    # a member controls the printers they may print on (every printer): pause, resume, cancel
    assert stack.member.post(f"{url}/pause").status_code == 204
    wait_for(lambda: status(stack, printer_id)["state"] == "paused", 2 * POLL_SECONDS + 5)
    p1 = status(stack, printer_id)["progress"]
    time.sleep(3 * POLL_SECONDS)
    assert status(stack, printer_id)["progress"] == p1  # frozen while paused

    assert stack.member.post(f"{url}/resume").status_code == 204
    wait_for(lambda: status(stack, printer_id)["state"] == "printing", 2 * POLL_SECONDS + 5)
    assert stack.member.post(f"{url}/cancel").status_code == 204
    wait_for(lambda: status(stack, printer_id)["state"] == "cancelled", 2 * POLL_SECONDS + 10)
    # Klipper refuses to resume a cancelled print: passed through as a clear 409
    refused = stack.admin.post(f"{url}/resume")
    assert refused.status_code in (204, 409), refused.text

    def cancelled_in_history() -> Any:
        """the cancelled cube is in the history, linked"""
        items = stack.member.get(f"{url}/history").json()["items"]
        return next((j for j in items if j["file_id"] == cube["id"] and j["status"] == "cancelled"), None)
    wait_for(cancelled_in_history, 10, step=0.2)
    f = stack.member.get(f"/api/v1/files/{cube['id']}").json()
    assert f["print_count"] == 0 and f["last_print_result"] == "cancelled"  # a cancelled print is no print


def test_a_cleared_moonraker_history_loses_no_print(printstash_stack: Stack, klipper: KlipperPrinter,
                                                    printer_id: int) -> None:
    """Moonraker numbers jobs from 000001 again once its history is cleared: the next print
    reuses an id we imported already. It must be a new history row and a new print count,
    and the earlier row must stay as it was."""
    stack = printstash_stack
    url = f"/api/v1/printers/{printer_id}"
    wait_for(lambda: status(stack, printer_id)["state"] in {"standby", "complete", "cancelled"}, 10)
    box = upload(stack, TINYBOX)
    count = stack.member.get(f"/api/v1/files/{box['id']}").json()["print_count"]
    klipper.gcode("M220 S2000")

    def print_box() -> str:
        """send the box; Moonraker's id of the finished job"""
        known = {j["job_id"] for j in klipper.history(limit=200)}
        assert stack.admin.post(f"{url}/print", json={"file_id": box["id"]}).status_code == 202

        def finished() -> Any:
            jobs = klipper.history(limit=1)
            new = jobs and jobs[0]["status"] != "in_progress" and jobs[0]["job_id"] not in known
            return jobs[0] if new else None
        job = wait_for(finished, 60, step=0.2)
        assert job["status"] == "completed", job
        return str(job["job_id"])

    newest = print_box()

    def imported(job_id: str) -> Any:
        items = stack.member.get(f"{url}/history?limit=200").json()["items"]
        return next((j for j in items if j["job_id"] == job_id and j["status"] == "completed"), None)
    before = wait_for(lambda: imported(newest), 10, step=0.2)
    first = imported("000001")
    assert first is not None  # imported before: the id the next print will reuse
    deleted = klipper.clear_history()
    assert newest in deleted and klipper.history() == []

    reused = print_box()
    assert reused == "000001"

    def both_counted() -> Any:
        f = stack.member.get(f"/api/v1/files/{box['id']}").json()
        return f if f["print_count"] == count + 2 else None
    wait_for(both_counted, 10, step=0.2)
    items = stack.member.get(f"{url}/history?limit=200").json()["items"]
    new = [j for j in items if j["job_id"] == reused]
    assert len(new) == 1 and new[0]["file_id"] == box["id"] and new[0]["status"] == "completed"
    for earlier in (first, before):  # not overwritten; the one whose id was reused is retired
        kept = next(j for j in items if j["id"] == earlier["id"])
        assert {**kept, "job_id": None} == {**earlier, "job_id": None}
        assert kept["job_id"].split("~")[0] == earlier["job_id"]
    retired = next(j for j in items if j["id"] == first["id"])["job_id"]
    assert retired.startswith("000001~")
    assert len({j["job_id"] for j in items}) == len(items)


def test_print_errors_are_clear(printstash_stack: Stack, printer_id: int) -> None:
    stack = printstash_stack
    missing = stack.member.post(f"/api/v1/printers/{printer_id}/print", json={"file_id": 999999})
    assert missing.status_code == 404 and missing.json()["code"] == "file_not_found"
    nope = stack.member.post("/api/v1/printers/999999/print", json={"file_id": 1})
    assert nope.status_code == 404 and nope.json()["code"] == "printer_not_found"
    bad = stack.member.post(f"/api/v1/printers/{printer_id}/print", json={"file": 1})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"


def _print_until_complete(stack: Stack, printer_id: int, body: dict[str, Any]) -> str:
    wait_for(lambda: status(stack, printer_id)["state"] in {"standby", "complete", "cancelled"}, 30)
    resp = stack.member.post(f"/api/v1/printers/{printer_id}/print", json=body)
    assert resp.status_code == 202, resp.text
    remote = str(resp.json()["remote_filename"])
    wait_for(lambda: (s := status(stack, printer_id))["state"] == "complete" and s["filename"] == remote, 60, step=0.2)
    return remote


def test_any_plate_of_a_package_and_a_bgcode_print_as_plain_gcode(printstash_stack: Stack, klipper: KlipperPrinter,
                                                                  printer_id: int, tmp_path: Any) -> None:
    stack = printstash_stack
    klipper.gcode("M220 S2000")
    tinybox = TINYBOX.read_bytes()
    two_plates = gcode_3mf([CUBE.read_bytes(), tinybox])
    package = stack.admin.post("/api/v1/files", files={"file": ("two.gcode.3mf", two_plates)})
    assert package.status_code == 201, package.text
    remote = _print_until_complete(stack, printer_id, {"file_id": package.json()["id"], "plate": 2})
    assert remote == f"printstash/{package.json()['sha256']}/two-plate2.gcode"
    on_printer = httpx.get(f"{klipper.url}/server/files/gcodes/{remote}",
                           headers={"X-Api-Key": klipper.api_key()}, timeout=10)
    assert on_printer.content == tinybox  # the plate's G-code, byte for byte

    binarized = binarize(TINYBOX, tmp_path / "t.bgcode")
    binary = stack.admin.post("/api/v1/files", files={"file": ("tinybox.bgcode", binarized)})
    assert binary.status_code == 201 and binary.json()["kind"] == "bgcode", binary.text
    remote = _print_until_complete(stack, printer_id, {"file_id": binary.json()["id"]})
    on_printer = httpx.get(f"{klipper.url}/server/files/gcodes/{remote}",
                           headers={"X-Api-Key": klipper.api_key()}, timeout=10)
    assert on_printer.content.startswith(b"; generated by PrusaSlicer")  # decoded text, not GCDE
    assert _commands(on_printer.content) == _commands(tinybox)


def _commands(text: bytes) -> list[bytes]:
    """G-code commands without comments (libbgcode's binarizer drops comments)."""
    return [c for c in (line.split(b";")[0].strip() for line in text.splitlines()) if c]
