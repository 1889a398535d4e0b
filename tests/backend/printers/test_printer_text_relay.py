"""Text a printer answers with reaches members bounded and cleaned: the status in /printers
(the event stream serves the same status_read), the history, and a 409's detail. The printer
here is a real HTTP server on a socket that answers like a hostile or broken Moonraker."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from printstash.core.db import Database, utcnow
from printstash.printers import history, service
from printstash.printers.providers.base import HistoryJob, LiveStatus
from printstash.printers.relay import RELAY_MAX_CHARS

HOSTILE = "\x1b[2J\x1b[31mALERT\x1b[0m\u202edegnahc drowssap\u202c\r\nline two\x00" + "x" * 5000
UNSAFE = ["\x1b", "\u202e", "\r", "\n", "\x00"]


def _clean(text: str, limit: int = RELAY_MAX_CHARS) -> None:
    assert len(text) <= limit and not any(ch in text for ch in UNSAFE), text[:200]


class _Hostile(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        if self.path.startswith("/printer/objects/query"):
            body = {"result": {"status": {"webhooks": {"state": "ready"},
                                          "print_stats": {"state": "error", "message": HOSTILE},
                                          "display_status": {"message": HOSTILE}}}}
            code = 200
        else:
            body, code = {"error": {"code": 500, "message": HOSTILE}}, 500
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def hostile_printer() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _printer(client: TestClient, url: str) -> int:
    resp = client.post("/api/v1/printers", json={"name": "loud", "url": url})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def test_409_details_are_bounded_and_clean(admin_client: TestClient, hostile_printer: str) -> None:
    pid = _printer(admin_client, hostile_printer)
    for action in ("pause", "resume", "cancel"):
        resp = admin_client.post(f"/api/v1/printers/{pid}/{action}")
        assert resp.status_code == 409, resp.text
        assert "ALERT" in resp.json()["detail"]
        _clean(resp.json()["detail"], RELAY_MAX_CHARS + 100)


def test_status_text_is_bounded_and_clean(admin_client: TestClient, member_client: TestClient,
                                          db: Database) -> None:
    pid = _printer(admin_client, "http://printer.local:7125")
    status = LiveStatus(online=True, state="error", klippy_state=HOSTILE, print_state=HOSTILE,
                        filename=HOSTILE, message=HOSTILE, error=HOSTILE)
    with db.write() as session:
        assert service.save_statuses(session, [service.StatusWrite(pid, status, utcnow())], utcnow()) == {pid}
    got = member_client.get(f"/api/v1/printers/{pid}").json()["status"]
    for key in ("klippy_state", "print_state", "filename", "message", "error"):
        assert got[key].startswith("[2J [31mALERT [0m degnahc"), got[key][:80]
        _clean(got[key])


def test_history_text_is_bounded_and_clean(admin_client: TestClient, member_client: TestClient,
                                           db: Database) -> None:
    pid = _printer(admin_client, "http://printer.local:7125")
    job = HistoryJob(job_id="0001\x1b", filename=HOSTILE, status="error\u202e", start_time=1.7e9,
                     end_time=1.7e9 + 60, print_duration=60.0, total_duration=61.0, filament_used=1.0)
    with db.write() as session:
        history.import_history(session, pid, [job], None)
    item = member_client.get(f"/api/v1/printers/{pid}/history").json()["items"][0]
    _clean(item["filename"], 1024)
    _clean(item["job_id"])
    _clean(item["status"])
    assert item["filename"].startswith("[2J [31mALERT")
