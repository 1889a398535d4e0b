"""What the api asks a printer to do, talking to it directly (not through the worker): send a
vault file and start it, pause, resume, cancel. Every refusal or outage is a clear 409."""

from collections.abc import Awaitable
from typing import Literal

import anyio
import httpx

from printstash.core.db import Database
from printstash.core.errors import Conflict
from printstash.core.settings import Settings
from printstash.library import service as library
from printstash.library import sliced
from printstash.printers import service
from printstash.printers.history import remote_name
from printstash.printers.models import Printer
from printstash.printers.providers import make_provider
from printstash.printers.providers.base import (
    BUSY_STATES,
    LiveStatus,
    PrinterProvider,
    ProviderError,
    Rejected,
    State,
    Unreachable,
)
from printstash.printers.relay import relayed
from printstash.printers.schemas import PrinterCheck, PrinterFound, PrintStarted

COMMAND_TIMEOUT_S = 10.0
# print_stats "error" is a failed print: Klipper accepts the next one.
IDLE_STATES: frozenset[State] = frozenset({"standby", "complete", "cancelled", "error"})
Action = Literal["pause", "resume", "cancel"]


async def send_to_print(db: Database, settings: Settings, http: httpx.AsyncClient, printer_id: int,
                        file_id: int, plate: int = 1) -> PrintStarted:
    """Upload a vault file's plate as plain G-code (Klipper prints neither .bgcode nor a zip)
    and start it; 409 when the printer is not idle."""
    with db.read() as session:
        printer = service.get_printer(session, printer_id)
        file = library.get_file(session, file_id)
        remote = remote_name(file, plate)
        sliced.check_plate(file, plate)  # its plates load here, in the session
    provider = provider_for(settings, http, printer)
    await ensure_ready(provider, printer.name)
    # A bucket's object is fetched into tmp/ (and a plate decoded or extracted), in a thread.
    plain = await anyio.to_thread.run_sync(sliced.plain_gcode, settings, file, plate)
    try:
        await run_command(printer.name, provider.upload_and_print(remote, plain.path))
    finally:
        plain.release()
    return PrintStarted(printer_id=printer.id, file_id=file.id, remote_filename=remote)


async def command(db: Database, settings: Settings, http: httpx.AsyncClient, printer_id: int,
                  action: Action) -> None:
    with db.read() as session:
        printer = service.get_printer(session, printer_id)
    provider = provider_for(settings, http, printer)
    method = {"pause": provider.pause, "resume": provider.resume, "cancel": provider.cancel}[action]
    await run_command(printer.name, method())


async def check_connection(http: httpx.AsyncClient, body: PrinterCheck) -> PrinterFound:
    """Ask the host at `body.url` who it is, as adding it would: an unreachable or wrong
    address is an answer here (reachable false, why in words), not an error."""
    provider = make_provider(body.provider, http, body.url, body.api_key, timeout=COMMAND_TIMEOUT_S)
    try:
        info = await provider.identify()
    except Unreachable as exc:
        return PrinterFound(reachable=False, message=f"Could not reach {body.url}: {relayed(exc)}")
    except ProviderError as exc:
        return PrinterFound(reachable=False, message=f"{body.url} answered, but not as expected: {relayed(exc)}")
    version = relayed(info.version) if info.version else None
    return PrinterFound(reachable=True, version=version, klippy_state=relayed(info.firmware_state),
                        message=f"Found {info.software} {version or '(version unknown)'}; "
                                f"{relayed(info.firmware_words)}")


def provider_for(settings: Settings, http: httpx.AsyncClient, printer: Printer) -> PrinterProvider:
    return make_provider(printer.provider, http, printer.base_url, service.api_key(settings, printer),
                         timeout=COMMAND_TIMEOUT_S)


async def ensure_ready(provider: PrinterProvider, name: str) -> None:
    """409 unless the printer answers now and is idle: a stale database row is not enough."""
    status = await _live(provider, name)
    state = status.state
    if state in BUSY_STATES:
        raise Conflict(f"printer {name!r} is busy ({state} {relayed(status.filename or '')})".rstrip(),
                       code="printer_busy")
    if state not in IDLE_STATES:
        detail = relayed(status.message or state)
        raise Conflict(f"printer {name!r} is not ready: {detail}", code="printer_not_ready")


async def _live(provider: PrinterProvider, name: str) -> LiveStatus:
    try:
        return await provider.fetch_status()
    except Unreachable as exc:
        raise Conflict(f"printer {name!r} is offline: {relayed(exc)}", code="printer_offline") from exc
    except ProviderError as exc:
        raise Conflict(f"printer {name!r} answered with an error: {relayed(exc)}", code="printer_error") from exc


async def run_command(name: str, action: Awaitable[None]) -> None:
    """Pause/resume/cancel/upload: a printer refusal or outage becomes a clear 409."""
    try:
        await action
    except Rejected as exc:
        raise Conflict(f"printer {name!r} refused: {relayed(exc)}", code="printer_refused") from exc
    except Unreachable as exc:
        raise Conflict(f"printer {name!r} is offline: {relayed(exc)}", code="printer_offline") from exc
    except ProviderError as exc:
        raise Conflict(f"printer {name!r} answered with an error: {relayed(exc)}", code="printer_error") from exc
