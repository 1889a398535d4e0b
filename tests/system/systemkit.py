"""What the printer system tests share: the running api + worker stack and small helpers.

A module of its own (not conftest.py): `from conftest import …` picks whichever conftest
was imported last when the whole suite runs.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from printstash.core.db import Database

POLL_SECONDS = 0.5


@dataclass
class Stack:
    base: str
    admin: httpx.Client
    member: httpx.Client
    data_dir: Path
    db: Database
    worker_log: Path


def wait_for(check: Callable[[], Any], timeout: float, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not true within {timeout}s: {check.__doc__ or check}")


def status(stack: Stack, printer_id: int) -> dict[str, Any]:
    resp = stack.member.get(f"/api/v1/printers/{printer_id}")
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["status"])


class SSE:
    """Collects the /printers/events stream in a thread (real uvicorn, real streaming)."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self.client = httpx.Client(base_url=base, headers=headers, timeout=None)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        # like a browser's EventSource: the server ends each stream after a while; reconnect
        while not self.stop.is_set():
            try:
                self._read_stream()
            except httpx.HTTPError:
                if not self.stop.is_set():
                    raise

    def _read_stream(self) -> None:
        with self.client.stream("GET", "/api/v1/printers/events") as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            event = None
            for line in resp.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    self.events.append((time.monotonic(), event, json.loads(line[6:])))

    def close(self) -> None:
        self.stop.set()
        self.client.close()
