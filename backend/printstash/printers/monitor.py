"""What the printer page shows beyond the polled status: the temperature graph and every
sensor (Moonraker's temperature store) and the webcams. Asked from the printer when a page
asks, through the api (the browser may not reach the printer, and the app's
Content-Security-Policy loads pictures from its own origin only); nothing is stored."""

from collections.abc import Awaitable
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from printstash.core.db import Database
from printstash.core.errors import Conflict, NotFound
from printstash.core.settings import Settings
from printstash.printers import service
from printstash.printers.commands import provider_for
from printstash.printers.models import Printer
from printstash.printers.providers.base import ProviderError, SensorSeries, Unreachable, Webcam
from printstash.printers.relay import relayed
from printstash.printers.schemas import SensorRead, Temperatures, WebcamRead

T = TypeVar("T")
PICTURE_MAX_BYTES = 8 * 1024 * 1024
PICTURE_TIMEOUT = httpx.Timeout(5.0)
NAME_MAX = 100
JPEG_START, JPEG_END = b"\xff\xd8", b"\xff\xd9"


async def temperatures(db: Database, settings: Settings, http: httpx.AsyncClient, printer_id: int,
                       seconds: int) -> Temperatures:
    printer = _printer(db, printer_id)
    found = await _ask(printer, provider_for(settings, http, printer).fetch_temperatures())
    return Temperatures(sensors=[_sensor(series, seconds) for series in found])


def _sensor(series: SensorSeries, seconds: int) -> SensorRead:
    history = [_round(t) for t in series.temperatures[-seconds:]]
    targets = None if series.targets is None else [_round(t) for t in series.targets[-seconds:]]
    return SensorRead(name=relayed(series.name, NAME_MAX), kind=series.kind,
                      temperature=history[-1] if history else None,
                      target=targets[-1] if targets else None, speed=series.speed, history=history,
                      target_history=targets)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def webcams(db: Database, settings: Settings, http: httpx.AsyncClient, printer_id: int) -> list[WebcamRead]:
    printer = _printer(db, printer_id)
    cams = await _ask(printer, provider_for(settings, http, printer).fetch_webcams())
    return [WebcamRead(**_relayed(cam).model_dump(), index=index,
                       picture_url=f"/api/v1/printers/{printer_id}/webcams/{index}/picture")
            for index, cam in enumerate(cams)]


async def picture(db: Database, settings: Settings, http: httpx.AsyncClient, printer_id: int,
                  index: int) -> tuple[bytes, str]:
    """One current picture of webcam `index`: its snapshot URL, else the first frame of its
    MJPEG stream. JPEG or PNG bytes and their media type."""
    printer = _printer(db, printer_id)
    cams = await _ask(printer, provider_for(settings, http, printer).fetch_webcams())
    if index >= len(cams):
        raise NotFound(f"printer {printer.name!r} has no webcam {index}", code="webcam_not_found")
    cam = cams[index]
    url = cam.snapshot_url or cam.stream_url
    if url is None:
        raise Conflict(f"webcam {cam.name!r} has neither a snapshot nor a stream URL", code="webcam_unavailable")
    return await _fetch_picture(http, cam, camera_url(printer.base_url, url))


def camera_url(printer_url: str, configured: str) -> str:
    """Moonraker's webcam URLs are usually paths on the printer host's web server (port 80,
    where Mainsail and the camera streamer sit), e.g. /webcam/?action=snapshot. Only the
    printer's own host is fetched: a webcam entry cannot send the api elsewhere."""
    base = urlsplit(printer_url)
    host = f"[{base.hostname}]" if base.hostname and ":" in base.hostname else base.hostname
    target = urlsplit(urljoin(f"{base.scheme}://{host}/", configured.strip()))
    if target.scheme not in ("http", "https") or target.hostname != base.hostname:
        raise Conflict(f"the webcam URL {relayed(configured)} is not on the printer's host "
                       f"({base.hostname}); PrintStash fetches pictures from there only", code="webcam_elsewhere")
    return target.geturl()


async def _fetch_picture(http: httpx.AsyncClient, cam: Webcam, url: str) -> tuple[bytes, str]:
    try:
        async with http.stream("GET", url, timeout=PICTURE_TIMEOUT, follow_redirects=False) as resp:
            if resp.status_code >= 400:
                raise _no_picture(cam, f"it answered HTTP {resp.status_code}")
            data = await _first_picture(resp)
    except httpx.HTTPError as exc:
        raise _no_picture(cam, f"it did not answer ({type(exc).__name__})") from exc
    media_type = _media_type(data)
    if media_type is None:
        raise _no_picture(cam, "its answer is not a JPEG or PNG picture")
    return data, media_type


async def _first_picture(resp: httpx.Response) -> bytes:
    """The whole answer for a snapshot; for an MJPEG stream, its first complete frame."""
    stream = resp.headers.get("content-type", "").startswith("multipart/")
    data = b""
    async for chunk in resp.aiter_bytes():
        data += chunk
        if stream and (frame := _jpeg_frame(data)) is not None:
            return frame
        if len(data) > PICTURE_MAX_BYTES:
            break
    return b"" if stream else data[:PICTURE_MAX_BYTES + 1]


def _jpeg_frame(data: bytes) -> bytes | None:
    start = data.find(JPEG_START)
    end = data.find(JPEG_END, start + 2) if start >= 0 else -1
    return data[start:end + 2] if end >= 0 else None


def _media_type(data: bytes) -> str | None:
    if len(data) > PICTURE_MAX_BYTES:
        return None
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def _relayed(cam: Webcam) -> Webcam:
    """Names and URLs as the printer host wrote them, made fit to show (printers/relay.py)."""
    text = {k: relayed(v) for k in ("name", "service", "stream_url", "snapshot_url")
            if isinstance(v := getattr(cam, k), str)}
    return cam.model_copy(update=text)


def _no_picture(cam: Webcam, why: str) -> Conflict:
    return Conflict(f"no picture from webcam {cam.name!r}: {why}", code="webcam_unavailable")


def _printer(db: Database, printer_id: int) -> Printer:
    with db.read() as session:
        return service.get_printer(session, printer_id)


async def _ask(printer: Printer, question: Awaitable[T]) -> T:
    try:
        return await question
    except Unreachable as exc:
        raise Conflict(f"printer {printer.name!r} is offline: {relayed(exc)}", code="printer_offline") from exc
    except ProviderError as exc:
        raise Conflict(f"printer {printer.name!r} answered with an error: {relayed(exc)}",
                       code="printer_error") from exc
