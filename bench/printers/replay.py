"""A loopback server speaking recorded Moonraker 0.11.0 responses, for many printers at once.

    python replay.py PORT            (an ASGI app run by uvicorn; printers at /p/<n>/...)

The bodies come from a real Moonraker 0.11.0 + PyPI Klippy (recorded/); only the printing
samples are replayed on a clock. Printer n is standby until POST /control/flip {"ids": [n]};
from then on it replays the recorded print (printing with progress rising, then complete).
Scale stand-in only: tests use the real Moonraker.
"""

import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "recorded"


def _body(name: str) -> Any:
    return json.loads((HERE / f"{name}.json").read_text())["body"]


SERVER_INFO = json.dumps(_body("server_info")).encode()
STANDBY = _body("printer_objects_query")
METADATA = json.dumps(_body("server_files_metadata")).encode()
SAMPLES = json.loads((HERE / "print_progress.json").read_text())["samples"]
PRINT_S = SAMPLES[-1]["t"] + 0.5
EMPTY_HISTORY = json.dumps({"result": {"count": 0, "jobs": []}}).encode()
STANDBY_BYTES = json.dumps(STANDBY).encode()
flipped: dict[int, float] = {}
counts = {"objects_query": 0, "server_info": 0, "history": 0}


def _objects(printer: int) -> bytes:
    started = flipped.get(printer)
    if started is None:
        return STANDBY_BYTES
    elapsed = time.monotonic() - started
    sample = SAMPLES[-1]
    for candidate in SAMPLES:
        if candidate["t"] >= elapsed:
            sample = candidate
            break
    status = dict(STANDBY["result"]["status"])
    for key in ("print_stats", "virtual_sdcard", "display_status"):
        if key in sample:
            status[key] = sample[key]
    return json.dumps({"result": {"eventtime": elapsed, "status": status}}).encode()


def _route(method: str, path: str, body: bytes) -> tuple[int, bytes]:
    if method == "POST" and path == "/control/flip":
        now = time.monotonic()
        for n in json.loads(body)["ids"]:
            flipped[int(n)] = now
        return 200, json.dumps({"flipped_at_wall": time.time()}).encode()
    if path == "/control/stats":
        return 200, json.dumps(counts).encode()
    parts = path.split("/", 3)  # "", "p", n, rest
    if len(parts) < 4 or parts[1] != "p":
        return 404, b'{"error": {"message": "Not Found"}}'
    printer, rest = int(parts[2]), "/" + parts[3]
    routes = {"/server/info": ("server_info", lambda: SERVER_INFO),
              "/printer/objects/query": ("objects_query", lambda: _objects(printer)),
              "/server/history/list": ("history", lambda: EMPTY_HISTORY),
              "/server/files/metadata": ("", lambda: METADATA)}
    counter, handler = routes.get(rest, ("", None))
    if counter:
        counts[counter] += 1
    return (200, handler()) if handler else (404, b'{"error": {"message": "Not Found"}}')


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    status, payload = _route(scope["method"], scope["path"], body)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


if __name__ == "__main__":
    import uvicorn

    uvicorn.run("replay:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False, app_dir=str(Path(__file__).parent))
