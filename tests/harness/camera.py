"""A webcam on loopback for the printer-page tests: the one peer that cannot be real here.

It answers like the camera streamers Moonraker's webcam list points at (mjpg-streamer,
crowsnest, ustreamer): `/snapshot` is one JPEG, `/stream` is an MJPEG stream
(multipart/x-mixed-replace, one JPEG per part). The pictures are real JPEGs made with Pillow;
every snapshot is a new frame, so a test can see the picture change.

    with webcam() as cam:
        cam.url("/snapshot"); cam.frames[0]
"""

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

from harness.processes import free_port

BOUNDARY = "frame"
COLOURS = [(200, 40, 40), (40, 160, 60), (40, 80, 200)]


def jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80)
    return out.getvalue()


class Camera:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port()
        self.frames = [jpeg(colour) for colour in COLOURS]
        self.snapshots_served = 0
        self.server = ThreadingHTTPServer((host, self.port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/snapshot"):
                    camera._snapshot(self)
                elif self.path.startswith("/stream"):
                    camera._stream(self)
                else:
                    self.send_error(404)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def _snapshot(self, request: BaseHTTPRequestHandler) -> None:
        frame = self.frames[self.snapshots_served % len(self.frames)]
        self.snapshots_served += 1
        request.send_response(200)
        request.send_header("Content-Type", "image/jpeg")
        request.send_header("Content-Length", str(len(frame)))
        request.end_headers()
        request.wfile.write(frame)

    def _stream(self, request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", f"multipart/x-mixed-replace;boundary={BOUNDARY}")
        request.end_headers()
        try:
            for frame in self.frames:
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame)}\r\n\r\n"
                request.wfile.write(head.encode() + frame + b"\r\n")
                request.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the reader had its frame and hung up, as it should

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def webcam(host: str = "127.0.0.1") -> Iterator[Camera]:
    camera = Camera(host)
    camera.start()
    try:
        yield camera
    finally:
        camera.stop()
