"""Request sequences of real slicers' OctoPrint hosts, byte for byte where it matters.

- PrusaSlicer 2.x (also SuperSlicer/OrcaSlicer's "OctoPrint" host type): libcurl. "Test"
  sends GET /api/version; upload sends a curl_mime body with the text parts `print` and
  `path` before `file` (application/octet-stream), boundary of 24 dashes + 22 alphanumerics,
  and `Expect: 100-continue` for large bodies. It requires `api` in the version answer and
  a `text` starting with "OctoPrint"; any 2xx upload answer is success.
- Cura's OctoPrint plugin: Qt's QNetworkAccessManager + QHttpMultiPart. It polls version,
  settings, printer profiles and job state, then uploads `select`, `print` and `file`; Qt
  quotes the boundary in Content-Type and adds `MIME-Version: 1.0`.

Each step lists the answer keys the slicer reads (dotted paths), which is what a
compatible server must get right. Host and Content-Length are added by the transport.
"""

import secrets
import string
from dataclasses import dataclass
from pathlib import Path

CRLF = b"\r\n"


@dataclass(frozen=True)
class Step:
    label: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    reads: tuple[str, ...] = ()
    expect_status: int | None = 200  # None: any 4xx (servers word refusals differently)
    compare: bool = True  # False: a deliberate difference from a printer-attached OctoPrint


def _part(name: str, value: bytes, filename: str | None = None, ctype: str | None = None) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = [disposition] + ([f"Content-Type: {ctype}"] if ctype else [])
    return CRLF.join(h.encode() for h in head) + CRLF + CRLF + value + CRLF


def _multipart(boundary: str, parts: list[bytes]) -> bytes:
    delimiter = b"--" + boundary.encode() + CRLF
    return b"".join(delimiter + part for part in parts) + b"--" + boundary.encode() + b"--" + CRLF


UPLOAD_READS = ("files.local.name", "files.local.origin", "files.local.refs.resource",
                "files.local.refs.download", "done")

# ---- PrusaSlicer ---------------------------------------------------------------------------

PRUSA_AGENT = "PrusaSlicer/2.5.0"


def _curl_boundary() -> str:
    return "-" * 24 + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(22))


def prusaslicer(key: str, gcode: Path, upload_name: str, *, start_print: bool = False) -> list[Step]:
    common = {"User-Agent": PRUSA_AGENT, "Accept": "*/*", "X-Api-Key": key}
    boundary = _curl_boundary()
    body = _multipart(boundary, [
        _part("print", b"true" if start_print else b"false"),
        _part("path", b""),  # the parent folder; empty = the storage root
        _part("file", gcode.read_bytes(), upload_name, "application/octet-stream"),
    ])
    upload_headers = {**common, "Content-Type": f"multipart/form-data; boundary={boundary}",
                      "Expect": "100-continue"}
    return [
        Step("prusa: test connection", "GET", "/api/version", common, reads=("api", "text")),
        Step("prusa: upload", "POST", "/api/files/local", upload_headers, body, reads=UPLOAD_READS,
             expect_status=201),
    ]


# ---- Cura OctoPrint plugin -----------------------------------------------------------------

CURA_AGENT = "Cura/5.7.0 OctoPrintPlugin/3.7.3"


def _qt_boundary() -> str:
    return "boundary_.oOo._" + secrets.token_urlsafe(30)[:40]


def cura(key: str, gcode: Path, upload_name: str) -> list[Step]:
    common = {"User-Agent": CURA_AGENT, "X-Api-Key": key, "Connection": "Keep-Alive",
              "Accept-Encoding": "gzip, deflate", "Accept-Language": "en-US,*"}
    boundary = _qt_boundary()
    body = _multipart(boundary, [
        _part("select", b"false"),
        _part("print", b"false"),
        _part("file", gcode.read_bytes(), upload_name, "application/octet-stream"),
    ])
    upload_headers = {**common, "MIME-Version": "1.0",
                      "Content-Type": f'multipart/form-data; boundary="{boundary}"'}
    return [
        Step("cura: version", "GET", "/api/version", common, reads=("api", "server", "text")),
        Step("cura: settings", "GET", "/api/settings", common, reads=("feature", "webcam", "plugins")),
        Step("cura: printer profiles", "GET", "/api/printerprofiles", common, reads=("profiles",)),
        Step("cura: job", "GET", "/api/job", common, reads=("job", "progress", "state")),
        # A real OctoPrint without a connected printer answers 409 here; PrintStash reports a
        # ready "printer" so that Cura offers its upload button.
        Step("cura: printer", "GET", "/api/printer", common, reads=("state",), compare=False),
        Step("cura: upload", "POST", "/api/files/local", upload_headers, body, reads=UPLOAD_READS,
             expect_status=201),
    ]


def wrong_key(gcode: Path) -> list[Step]:
    """A mistyped key must fail the slicer's connection test and its upload (any non-2xx)."""
    steps = prusaslicer("wrong-key-0000", gcode, "never.gcode")
    return [Step(f"{s.label} (wrong key)", s.method, s.path, s.headers, s.body, expect_status=None)
            for s in steps]


def lookup(document: object, dotted: str) -> object:
    """The value at a dotted path, or KeyError."""
    for name in dotted.split("."):
        if not isinstance(document, dict) or name not in document:
            raise KeyError(dotted)
        document = document[name]
    return document


def status_ok(step: Step, status: int) -> bool:
    return 400 <= status < 500 if step.expect_status is None else status == step.expect_status
