"""The api's HTTP protocol (core/httpserver.py) buffers up to BODY_HIGH_WATER of a request body
while the app is busy, instead of uvicorn's 64 KiB, and no more: a real uvicorn on loopback
serving an app that takes its time between `receive()` calls, fed a body as fast as the socket
takes it."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from harness.processes import free_port

from printstash.core.httpserver import BODY_HIGH_WATER, guarded_protocol

UVICORN_HIGH_WATER = 64 << 10
BODY = 8 << 20


class SlowReader:
    """An ASGI app that sleeps before each receive() and records each body message's size."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.done = threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            await asyncio.sleep(0.02)  # the app is busy: the body piles up in the protocol
            message = await receive()
            self.sizes.append(len(message.get("body", b"")))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})
        self.done.set()


@pytest.fixture()
def served() -> Iterator[tuple[int, SlowReader]]:
    app = SlowReader()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           http=guarded_protocol(20.0, 30.0), lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield port, app
    server.should_exit = True
    thread.join(10)


def test_a_busy_app_gets_the_body_in_pieces_up_to_the_high_water_mark(served: tuple[int, SlowReader]) -> None:
    port, app = served
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: {BODY}\r\n\r\n".encode())
        sock.sendall(b"x" * BODY)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert app.done.wait(10)
    assert sum(app.sizes) == BODY
    # Above uvicorn's own 64 KiB (plus one socket read, at most 256 KiB) only with our buffer...
    assert max(app.sizes) > UVICORN_HIGH_WATER + (256 << 10), app.sizes
    # ...and never much above ours: reading stops once BODY_HIGH_WATER is passed.
    assert max(app.sizes) <= BODY_HIGH_WATER + (256 << 10), app.sizes
