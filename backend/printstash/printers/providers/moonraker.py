"""Moonraker (Klipper's API server) over plain HTTP polling.

Behaviour learned from the real Moonraker 0.11.0 (tests run against it):
- `/server/info` answers whenever Moonraker runs and carries `klippy_state`;
- every `/printer/*` route answers 404 while Klippy is not connected (503 as it goes away); while it is connected
  but not ready (startup, shutdown, error) the objects query answers with webhooks.state;
- `/server/history/list?since=` filters on start_time > since, `count` is the page length;
- `/server/files/upload` answers only after Moonraker parsed the file's metadata.
"""

import math
from pathlib import Path
from typing import IO, Any

import httpx

from printstash.printers.providers.base import (
    BUSY_STATES,
    Heater,
    HistoryJob,
    HostInfo,
    Layer,
    LiveStatus,
    ProviderError,
    Rejected,
    SensorKind,
    SensorSeries,
    State,
    Unreachable,
    Webcam,
)

QUERY = ("webhooks&print_stats&virtual_sdcard&display_status&extruder=temperature,target"
         "&heater_bed=temperature,target")
PRINT_STATES: dict[str, State] = {s: s for s in ("standby", "printing", "paused", "complete", "cancelled", "error")}
HISTORY_PAGE = 100
# /printer/* answers 404 while Klippy is disconnected, 503 "Klippy Host not connected" in
# the moment it goes away (both seen on the real Moonraker 0.11.0)
KLIPPY_AWAY = frozenset({404, 503})
KLIPPY_WORDS = {"ready": "Klippy is ready", "startup": "Klippy is starting up", "shutdown": "Klippy is shut down",
                "error": "Klippy reported an error", "disconnected": "Klippy is not connected to Moonraker"}
UPLOAD_TIMEOUT = httpx.Timeout(30.0, read=300.0)  # Moonraker parses before it answers
Params = dict[str, str | float]


class MoonrakerProvider:
    """One printer behind Moonraker; the http client (and its pool) is shared by all printers."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: str | None,
                 timeout: float = 5.0) -> None:
        self.http = http
        self.base = base_url.rstrip("/")
        self.headers = {"X-Api-Key": api_key} if api_key else {}
        self.timeout = timeout
        self._estimates: dict[str, float | None] = {}  # filename -> slicer's estimated_time

    # -- transport -------------------------------------------------------------------------
    async def _request(self, method: str, path: str, *, params: Params | None = None,
                       files: dict[str, tuple[str, IO[bytes]]] | None = None, data: dict[str, str] | None = None,
                       http_timeout: httpx.Timeout | None = None) -> httpx.Response:
        try:
            return await self.http.request(method, self.base + path, headers=self.headers, params=params,
                                           files=files, data=data, timeout=http_timeout or self.timeout)
        except httpx.TimeoutException as exc:
            raise Unreachable(f"timed out after {self.timeout:g} s ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot connect: {exc or type(exc).__name__}") from exc

    async def _result(self, method: str, path: str, params: Params | None = None) -> Any:
        resp = await self._request(method, path, params=params)
        _raise_for(resp)
        return _json(resp).get("result")

    # -- status --------------------------------------------------------------------------------
    async def fetch_status(self) -> LiveStatus:
        """One request while Klippy is up (webhooks carries its state); /server/info only
        when /printer/* says Klippy is away, to learn why."""
        resp = await self._request("GET", f"/printer/objects/query?{QUERY}")
        if resp.status_code in KLIPPY_AWAY:
            info = await self._result("GET", "/server/info")
            return await self._not_ready(str((info or {}).get("klippy_state") or "disconnected"))
        _raise_for(resp)
        status = (_json(resp).get("result") or {}).get("status")
        if not isinstance(status, dict):
            raise ProviderError("objects query answered without a status object")
        return await self._ready_status(status)

    async def identify(self) -> HostInfo:
        """/server/info answers whenever Moonraker runs, Klippy up or not."""
        info = await self._result("GET", "/server/info")
        if not isinstance(info, dict):
            raise ProviderError("/server/info answered without a result object: is this Moonraker?")
        version, klippy = info.get("moonraker_version"), str(info.get("klippy_state") or "unknown")
        return HostInfo(software="Moonraker", version=str(version) if version else None, firmware_state=klippy,
                        firmware_words=_klippy_words(klippy))

    async def _not_ready(self, klippy: str) -> LiveStatus:
        message = _klippy_words(klippy)
        if klippy in {"shutdown", "error", "startup"}:
            message = await self._state_message() or message
        return _not_ready_status(klippy, message)

    async def _state_message(self) -> str | None:
        """Klippy's own explanation (e.g. the shutdown reason), when it can be had."""
        try:
            info = await self._result("GET", "/printer/info")
        except ProviderError:
            return None
        text = (info or {}).get("state_message")
        return str(text).strip() or None if text else None

    async def _ready_status(self, objs: dict[str, Any]) -> LiveStatus:
        webhooks = objs.get("webhooks") or {}
        if webhooks.get("state", "ready") != "ready":
            return _not_ready_status(str(webhooks["state"]), str(webhooks.get("state_message") or ""))
        stats = objs.get("print_stats") or {}
        print_state = str(stats.get("state") or "standby")
        state = PRINT_STATES.get(print_state, "error")
        filename = str(stats.get("filename") or "") or None
        progress = _progress(objs)
        duration = _float(stats.get("print_duration"))
        return LiveStatus(
            online=True, state=state, klippy_state="ready", print_state=print_state, filename=filename,
            progress=progress, print_duration=duration, extruder=_heater(objs.get("extruder")),
            heater_bed=_heater(objs.get("heater_bed")),
            eta_s=await self._eta(filename, progress, duration) if state in BUSY_STATES else None,
            layer=_layer(stats), message=_message(objs, stats),
        )

    async def _eta(self, filename: str | None, progress: float | None, duration: float | None) -> float | None:
        """Slicer estimate scaled by progress; else extrapolate from the time printed so far."""
        if filename is None or progress is None:
            return None
        estimate = await self._estimate(filename)
        if estimate:
            return round(max(0.0, estimate * (1.0 - progress)), 1)
        if duration and progress > 0.01:
            return round(duration / progress - duration, 1)
        return None

    async def _estimate(self, filename: str) -> float | None:
        """Fetched once per file (Moonraker's advice for pollers), then cached."""
        if filename not in self._estimates:
            try:
                meta = await self._result("GET", "/server/files/metadata", params={"filename": filename})
            except Unreachable:
                raise
            except ProviderError:
                meta = None
            self._estimates[filename] = _float((meta or {}).get("estimated_time"))
        return self._estimates[filename]

    # -- history -------------------------------------------------------------------------------
    async def fetch_history(self, since: float | None) -> list[HistoryJob]:
        jobs: list[HistoryJob] = []
        while True:
            params: Params = {"limit": HISTORY_PAGE, "start": len(jobs), "order": "asc"}
            if since is not None:
                params["since"] = since
            page = (await self._result("GET", "/server/history/list", params=params) or {}).get("jobs")
            if not isinstance(page, list):
                raise ProviderError("history list answered without a jobs list")
            jobs.extend(_history_job(raw) for raw in page if isinstance(raw, dict))
            if len(page) < HISTORY_PAGE:  # `count` is the page length, not the total
                return jobs

    # -- printer page: temperature store, webcams --------------------------------------------
    async def fetch_temperatures(self) -> list[SensorSeries]:
        """Moonraker's temperature store: every heater, temperature_sensor and temperature_fan
        Klipper reports, sampled once a second."""
        store = await self._result("GET", "/server/temperature_store", params={"include_monitors": "false"})
        if not isinstance(store, dict):
            raise ProviderError("temperature_store answered without an object")
        return [_series(name, raw) for name, raw in store.items() if isinstance(raw, dict)]

    async def fetch_webcams(self) -> list[Webcam]:
        result = await self._result("GET", "/server/webcams/list")
        cams = (result or {}).get("webcams") if isinstance(result, dict) else None
        if not isinstance(cams, list):
            raise ProviderError("webcams/list answered without a webcams list")
        return [_webcam(raw) for raw in cams if isinstance(raw, dict) and raw.get("enabled") is not False]

    # -- commands ------------------------------------------------------------------------------
    async def upload_and_print(self, remote_name: str, path: Path) -> None:
        folder, _, name = remote_name.rpartition("/")
        with path.open("rb") as fh:
            data = {"root": "gcodes", "print": "true", **({"path": folder} if folder else {})}
            resp = await self._request("POST", "/server/files/upload", files={"file": (name, fh)},
                                       data=data, http_timeout=UPLOAD_TIMEOUT)
        _raise_for(resp, command=True)
        body = _json(resp)
        if body.get("print_started") is False and not body.get("print_queued"):
            raise Rejected("the printer accepted the file but did not start printing it")

    async def pause(self) -> None:
        await self._command("/printer/print/pause")

    async def resume(self) -> None:
        await self._command("/printer/print/resume")

    async def cancel(self) -> None:
        await self._command("/printer/print/cancel")

    async def _command(self, path: str) -> None:
        resp = await self._request("POST", path)
        _raise_for(resp, command=True)


# -- pure helpers (unit-tested with recorded responses) ---------------------------------------

def _klippy_words(klippy: str) -> str:
    return KLIPPY_WORDS.get(klippy, f"Klippy is {klippy}")


def _not_ready_status(klippy: str, message: str | None) -> LiveStatus:
    """Moonraker answers but Klippy is not ready: online, nothing printing."""
    return LiveStatus(online=True, state="klippy_not_ready", klippy_state=klippy, message=message or None)


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError as exc:
        snippet = resp.text[:80].replace("\n", " ")
        where = f"{resp.request.url.path} answered {resp.status_code}"
        raise ProviderError(f"{where} with invalid JSON: {snippet!r}") from exc
    if not isinstance(body, dict):
        raise ProviderError(f"{resp.request.url.path} answered JSON that is not an object")
    return body


def _error_text(resp: httpx.Response) -> str:
    try:
        err = resp.json().get("error") or {}
        return str(err.get("message") or resp.reason_phrase)
    except (ValueError, AttributeError):
        return resp.text[:200] or resp.reason_phrase


def _raise_for(resp: httpx.Response, *, command: bool = False) -> None:
    """Map Moonraker's status codes to ours: a command refusal is a Rejected (409 upstream)."""
    if resp.status_code < 400:
        return
    text = f"{resp.request.url.path}: {resp.status_code} {_error_text(resp)}"
    if resp.status_code in {401, 403}:
        raise ProviderError(f"{text} (is the printer's API key right?)")
    if command and resp.status_code in {400, 403, 404, 409, 503}:
        raise Rejected(text)
    raise ProviderError(text)


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _progress(objs: dict[str, Any]) -> float | None:
    """File progress from virtual_sdcard (display_status follows M73, which may lag or lie)."""
    for source in ("virtual_sdcard", "display_status"):
        value = _float((objs.get(source) or {}).get("progress"))
        if value is not None:
            return round(min(1.0, max(0.0, value)), 4)
    return None


def _int(value: object) -> int | None:
    number = _float(value)
    return None if number is None or not number.is_integer() else int(number)


def _heater(obj: object) -> Heater | None:
    if not isinstance(obj, dict) or not obj:
        return None  # no such heater on this printer
    return Heater(temperature=_float(obj.get("temperature")), target=_float(obj.get("target")))


def _layer(stats: dict[str, Any]) -> Layer | None:
    info = stats.get("info") or {}
    if not isinstance(info, dict) or info.get("total_layer") is None:
        return None
    return Layer(current=_int(info.get("current_layer")), total=_int(info.get("total_layer")))


def _message(objs: dict[str, Any], stats: dict[str, Any]) -> str | None:
    text = stats.get("message") or (objs.get("display_status") or {}).get("message")
    return str(text) if text else None


def _sensor_kind(name: str) -> tuple[SensorKind, str]:
    """"temperature_sensor chamber" -> (temperature_sensor, chamber); extruder is a heater."""
    prefix, _, rest = name.partition(" ")
    if prefix in ("temperature_sensor", "temperature_fan"):
        return prefix, rest or name  # type: ignore[return-value]
    if prefix == "heater_generic":
        return "heater", rest or name
    if prefix.startswith("extruder") or prefix == "heater_bed":
        return "heater", name
    return "other", rest or name


def _floats(values: object) -> list[float | None]:
    return [_float(v) for v in values] if isinstance(values, list) else []


def _series(name: str, raw: dict[str, Any]) -> SensorSeries:
    kind, short = _sensor_kind(name)
    speeds = _floats(raw.get("speeds"))
    return SensorSeries(name=short, kind=kind, temperatures=_floats(raw.get("temperatures")),
                        targets=_floats(raw["targets"]) if "targets" in raw else None,
                        speed=speeds[-1] if speeds else None)


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value.strip() else None


def _webcam(raw: dict[str, Any]) -> Webcam:
    rotation = _int(raw.get("rotation")) or 0
    return Webcam(name=_text(raw.get("name")) or "webcam", service=_text(raw.get("service")),
                  stream_url=_text(raw.get("stream_url")), snapshot_url=_text(raw.get("snapshot_url")),
                  flip_horizontal=raw.get("flip_horizontal") is True, flip_vertical=raw.get("flip_vertical") is True,
                  rotation=rotation if rotation in (0, 90, 180, 270) else 0)


def _history_job(raw: dict[str, Any]) -> HistoryJob:
    return HistoryJob(
        job_id=str(raw.get("job_id") or ""), filename=str(raw.get("filename") or ""),
        status=str(raw.get("status") or "unknown"), start_time=_float(raw.get("start_time")),
        end_time=_float(raw.get("end_time")), print_duration=_float(raw.get("print_duration")),
        total_duration=_float(raw.get("total_duration")),
        filament_used=_float(raw.get("filament_used")),
    )
