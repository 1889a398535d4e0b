"""Faults, against the real api + worker processes and a real Moonraker + Klippy.

- Moonraker stopped mid-print -> offline within 2 poll intervals, health degraded, no crash;
  restarted -> back to the real state (Klippy kept printing meanwhile);
- Klippy stopped -> klippy_not_ready (Moonraker answers 404 on /printer/*), restarted -> standby;
- a hanging endpoint (accepts, never answers: the one fake here, since no real program does
  that on purpose) -> offline with a timeout, other printers' polling unaffected, one log line;
- garbage JSON -> error state with a message.
"""

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from harness.paths import GCODE_FIXTURES
from harness.peers import KlipperPrinter, klipper_printer
from systemkit import POLL_SECONDS, Stack, status, wait_for

pytestmark = pytest.mark.system
CUBE = GCODE_FIXTURES / "klipper" / "klipper_prusa_cube20_0.30mm_noextrusion.gcode"
# "within 2 poll intervals", plus the writer's 0.2 s batching and the request itself
OFFLINE_WITHIN = 2 * POLL_SECONDS + 0.5


@pytest.fixture(scope="module")
def faulty() -> Iterator[KlipperPrinter]:
    """A printer of its own: these tests stop and start its processes."""
    with klipper_printer() as printer:
        printer.upload(CUBE)
        yield printer


@pytest.fixture(scope="module")
def faulty_id(printstash_stack: Stack, faulty: KlipperPrinter) -> int:
    resp = printstash_stack.admin.post("/api/v1/printers", json={"name": "faulty", "url": faulty.url})
    assert resp.status_code == 201, resp.text
    pid = int(resp.json()["id"])
    wait_for(lambda: status(printstash_stack, pid)["state"] == "standby", 10)
    return pid


def _vault_file(stack: Stack) -> int:
    with CUBE.open("rb") as fh:
        resp = stack.admin.post("/api/v1/files", files={"file": (CUBE.name, fh)})
    assert resp.status_code in (200, 201), resp.text
    return int(resp.json()["id"])


def _health(stack: Stack) -> dict[str, Any]:
    resp = stack.admin.get("/api/v1/health")  # details (per-provider counts) are for admins
    assert resp.status_code in (200, 503), resp.text
    return dict(resp.json()["components"]["printer_providers"])


def _written_after(stack: Stack, printer_id: int, state: str, since_wall: float, timeout: float = 10) -> float:
    """Seconds from `since_wall` until the worker wrote `state` (the server's own timestamp:
    slow API round trips on a loaded machine do not count)."""
    st = wait_for(lambda: (s := status(stack, printer_id))["state"] == state and s, timeout)
    return datetime.fromisoformat(st["updated_at"]).timestamp() - since_wall


def test_moonraker_stopped_mid_print_goes_offline_then_recovers(printstash_stack: Stack, faulty: KlipperPrinter,
                                                                faulty_id: int) -> None:
    stack = printstash_stack
    faulty.gcode("M220 S100")
    faulty.start_print(CUBE.name)
    wait_for(lambda: status(stack, faulty_id)["state"] == "printing", 10)
    assert _health(stack)["status"] == "ok"
    try:
        faulty.stop_moonraker()
        took = _written_after(stack, faulty_id, "offline", time.time())
        assert took <= OFFLINE_WITHIN, f"offline after {took:.2f}s"
        st = status(stack, faulty_id)
        assert st["online"] is False and st["error"]
        refused = stack.member.post(f"/api/v1/printers/{faulty_id}/print", json={"file_id": _vault_file(stack)})
        assert refused.status_code == 409 and refused.json()["code"] == "printer_offline", refused.text
        health = _health(stack)
        assert health["status"] == "degraded"
        assert health["providers"]["moonraker"]["offline"] >= 1
        time.sleep(4 * POLL_SECONDS)  # backing off, still alive
        assert stack.member.get("/api/v1/health/live").status_code == 200
    finally:
        faulty.start_moonraker()
    # Klippy kept the print going without Moonraker: the real state comes back
    wait_for(lambda: status(stack, faulty_id)["state"] in {"printing", "complete"}, 20)
    assert faulty.print_state() in {"printing", "complete"}
    wait_for(lambda: _health(stack)["status"] == "ok", 10)
    faulty.http.post("/printer/print/cancel")
    wait_for(lambda: status(stack, faulty_id)["state"] in {"cancelled", "complete"}, 20)


def test_klippy_stopped_is_klippy_not_ready_then_standby(printstash_stack: Stack, faulty: KlipperPrinter,
                                                         faulty_id: int) -> None:
    stack = printstash_stack
    try:
        faulty.stop_klippy()
        took = _written_after(stack, faulty_id, "klippy_not_ready", time.time())
        assert took <= OFFLINE_WITHIN, f"klippy_not_ready after {took:.2f}s"
        st = status(stack, faulty_id)
        assert st["online"] is True and st["klippy_state"] in {"disconnected", "startup", "shutdown", "error"}
        assert "Klippy" in (st["message"] or "") or st["message"]
        assert _health(stack)["providers"]["moonraker"]["error"] >= 1
        refused = stack.member.post(f"/api/v1/printers/{faulty_id}/print", json={"file_id": _vault_file(stack)})
        assert refused.status_code == 409 and refused.json()["code"] == "printer_not_ready", refused.text
        assert "Klippy" in refused.json()["detail"]
    finally:
        faulty.start_klippy()
    wait_for(lambda: status(stack, faulty_id)["state"] == "standby", 20)


def test_emergency_stop_is_klippy_not_ready_with_klippers_reason(printstash_stack: Stack, faulty: KlipperPrinter,
                                                                 faulty_id: int) -> None:
    stack = printstash_stack
    wait_for(lambda: status(stack, faulty_id)["state"] in {"standby", "cancelled", "complete"}, 20)
    faulty.http.post("/printer/emergency_stop")
    try:
        st = wait_for(lambda: (s := status(stack, faulty_id))["state"] == "klippy_not_ready" and s, 10)
        assert st["klippy_state"] == "shutdown"
        assert st["message"] and "Klippy is" not in st["message"]  # Klipper's own reason, not ours
    finally:
        faulty.http.post("/printer/firmware_restart")
    wait_for(lambda: status(stack, faulty_id)["state"] == "standby", 30)


class _Hang:
    """Accepts TCP connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()


class _Garbage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>502 upstream exploded"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_hanging_endpoint_times_out_others_unaffected(printstash_stack: Stack, faulty: KlipperPrinter,
                                                      faulty_id: int) -> None:
    stack = printstash_stack
    hang = _Hang()
    resp = stack.admin.post("/api/v1/printers", json={"name": "hangs", "url": f"http://127.0.0.1:{hang.port}"})
    hid = resp.json()["id"]
    try:
        st = wait_for(lambda: (s := status(stack, hid))["state"] == "offline" and s, 15)
        assert "timed out" in st["error"]
        # while it hangs, the real printer's changes still show within 2 intervals
        wait_for(lambda: status(stack, faulty_id)["state"] in {"standby", "cancelled", "complete"}, 10)
        faulty.gcode("M220 S100")
        started = time.time()
        faulty.start_print(CUBE.name)
        took = _written_after(stack, faulty_id, "printing", started)
        assert took <= OFFLINE_WITHIN, f"printing written {took:.2f}s after the start"
        time.sleep(6 * POLL_SECONDS)  # several failed polls of the hanging one
        lines = [ln for ln in stack.worker_log.read_text().splitlines() if "printer hangs " in ln]
        assert len(lines) == 1, lines  # one log line per state change, not per failed poll
    finally:
        stack.admin.delete(f"/api/v1/printers/{hid}")
        hang.close()
        faulty.http.post("/printer/print/cancel")
    wait_for(lambda: status(stack, faulty_id)["state"] in {"cancelled", "complete"}, 20)


def test_garbage_json_is_error_state_with_message(printstash_stack: Stack) -> None:
    stack = printstash_stack
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    resp = stack.admin.post("/api/v1/printers",
                            json={"name": "garbage", "url": f"http://127.0.0.1:{server.server_address[1]}"})
    gid = resp.json()["id"]
    try:
        st = wait_for(lambda: (s := status(stack, gid))["state"] == "error" and s, 10)
        assert "invalid JSON" in st["error"] and "502 upstream exploded" in st["error"]
        assert st["online"] is True
        assert _health(stack)["providers"]["moonraker"]["error"] >= 1
        sent = stack.admin.post(f"/api/v1/printers/{gid}/print", json={"file_id": 1})
        assert sent.status_code in (404, 409), sent.text  # never a 5xx
    finally:
        stack.admin.delete(f"/api/v1/printers/{gid}")
        server.shutdown()
        server.server_close()
