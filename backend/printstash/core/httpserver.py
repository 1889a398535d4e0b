"""The api's HTTP protocol: uvicorn's httptools protocol with limits for slow clients and a
larger buffer for request bodies (`printstash serve` uses it).

Slow clients: uvicorn closes idle keep-alive connections but has no limit on how long a client
may take to send a request's headers, nor on a body that stops arriving: a thousand trickling
clients would each hold a descriptor and an upload's temp file for as long as they like. So:
- the request head (request line and headers) must be complete within `header_timeout`
  of its first byte (of the connection, for the first request); else 408 and close;
- while a body is being received, a gap of `body_idle_timeout` without a byte closes the
  connection (the upload is discarded as after any disconnect). Time while the api itself
  is not reading (flow control: a slow disk) does not count.

Body buffer: uvicorn stops reading the socket once 64 KiB of body wait for the app and starts
again at the app's next `receive()`, so a 500 MB upload pauses and resumes reading ~8,000 times.
Up to BODY_HIGH_WATER (1 MiB) is buffered instead: the bare drain of a 500 MB `curl -F` took
0.32 s against 0.48 s and a third less CPU (medians of 6, same run, 2 CPUs; 256 KiB and 4 MiB
were both slower than 1 MiB). Memory stays bounded per connection, as before.
"""

import asyncio
import json
from typing import Literal

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

Phase = Literal["head", "body", "idle"]
_TIMEOUT_BODY = json.dumps({"detail": "the request headers took too long to arrive",
                            "code": "request_timeout"}).encode()
TIMEOUT_408 = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
               b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY)


BODY_HIGH_WATER = 1 << 20


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_timeout = 20.0
    body_idle_timeout = 30.0
    _phase: Phase = "idle"
    _guard: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._enter("head", self.header_timeout)

    def data_received(self, data: bytes) -> None:
        if self._phase == "body":
            self._arm(self.body_idle_timeout)  # any byte of the body restarts the idle clock
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._phase == "idle":  # the next request on a kept-alive connection
            self._enter("head", self.header_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._enter("body", self.body_idle_timeout)

    def on_body(self, body: bytes) -> None:
        # uvicorn's own on_body with BODY_HIGH_WATER in place of its 64 KiB (see above).
        cycle = self.cycle
        if (self.parser.should_upgrade() and self._should_upgrade()) or cycle.response_complete:
            return
        cycle.body += body
        if len(cycle.body) > BODY_HIGH_WATER:
            self.flow.pause_reading()
        cycle.message_event.set()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._enter("idle", None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._enter("idle", None)
        super().connection_lost(exc)

    def _enter(self, phase: Phase, timeout: float | None) -> None:
        self._phase = phase
        self._arm(timeout)

    def _arm(self, timeout: float | None) -> None:
        if self._guard is not None:
            self._guard.cancel()
        self._guard = None if timeout is None else self.loop.call_later(timeout, self._expired)

    def _expired(self) -> None:
        self._guard = None
        if self.transport.is_closing():
            return
        if self._phase == "body" and self.flow.read_paused:
            self._arm(self.body_idle_timeout)  # we are not reading: not the client's delay
            return
        if self._phase == "head":
            self.transport.write(TIMEOUT_408)
        self.transport.close()


def guarded_protocol(header_timeout: float, body_idle_timeout: float) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for uvicorn's `http=` with these timeouts."""
    return type("GuardedHttp", (GuardedHttpToolsProtocol,),
                {"header_timeout": header_timeout, "body_idle_timeout": body_idle_timeout})
