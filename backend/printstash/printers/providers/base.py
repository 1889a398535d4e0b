"""What the poller needs from a printer host, whatever speaks to it (Moonraker today).

A new provider (OctoPrint, PrusaLink) implements PrinterProvider and registers a factory in
providers/__init__.py; the poller and the services never look inside it.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

# The states a printer can be in, as the API reports them ("unknown": never polled yet).
State = Literal["unknown", "offline", "klippy_not_ready", "standby", "printing", "paused",
                "complete", "cancelled", "error"]
BUSY_STATES: frozenset[State] = frozenset({"printing", "paused"})


class Heater(BaseModel):
    model_config = ConfigDict(frozen=True)

    temperature: float | None = None
    target: float | None = None


class Layer(BaseModel):
    model_config = ConfigDict(frozen=True)

    current: int | None = None
    total: int | None = None


class LiveStatus(BaseModel):
    """One printer's status as a provider reads it (the shape of DESIGN.md): what the poller
    compares and stores, and the base of the API's PrinterStatusRead. Frozen, so the copy
    the poller last wrote cannot change under it."""

    model_config = ConfigDict(frozen=True)

    online: bool = False
    state: State = "unknown"
    klippy_state: str | None = None
    print_state: str | None = None
    filename: str | None = None
    file_id: int | None = Field(default=None, description="the vault file being printed, when known")
    progress: float | None = Field(default=None, description="0-1")
    print_duration: float | None = None
    eta_s: float | None = None
    extruder: Heater | None = None
    heater_bed: Heater | None = None
    layer: Layer | None = None
    message: str | None = None
    error: str | None = None


SensorKind = Literal["heater", "temperature_sensor", "temperature_fan", "other"]


class SensorSeries(BaseModel):
    """One thermometer of the printer with its recent readings, oldest first, one a second
    (Moonraker keeps the last 20 minutes in its temperature store)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="as configured, e.g. extruder, heater_bed, chamber")
    kind: SensorKind
    temperatures: list[float | None]
    targets: list[float | None] | None = Field(default=None, description="heaters and temperature fans")
    speed: float | None = Field(default=None, description="a temperature fan's speed now, 0-1")


class Webcam(BaseModel):
    """A camera the printer host knows (Moonraker's webcam list), its URLs as configured."""

    model_config = ConfigDict(frozen=True)

    name: str
    service: str | None = None
    stream_url: str | None = None
    snapshot_url: str | None = None
    flip_horizontal: bool = False
    flip_vertical: bool = False
    rotation: int = 0


class ProviderError(Exception):
    """The printer host answered, but not in a way we can use (bad JSON, 5xx, refused)."""


class Unreachable(ProviderError):
    """No answer at all: connection refused, DNS, timeout. The printer is offline."""


class Rejected(ProviderError):
    """The host refused a command (busy, not ready, file in use): a 409 for our caller."""


@dataclass(frozen=True)
class HostInfo:
    """What a printer host says about itself before it is added: its software's version and
    whether the printer firmware behind it is connected (Klippy's state for Moonraker)."""

    software: str  # e.g. "Moonraker"
    version: str | None
    firmware_state: str | None
    firmware_words: str  # the state as a sentence, e.g. "Klippy is ready"


@dataclass
class HistoryJob:
    """One job of the host's own print history, in provider-neutral terms."""

    job_id: str
    filename: str
    status: str  # in_progress | completed | cancelled | error | klippy_shutdown | …
    start_time: float | None  # unix seconds
    end_time: float | None
    print_duration: float | None
    total_duration: float | None
    filament_used: float | None

    def __post_init__(self) -> None:
        # A host may put NUL in its text, which PostgreSQL refuses in a text column (the whole
        # history import would stop); the rest of the text is kept and relayed as usual.
        self.job_id, self.filename, self.status = (t.replace("\x00", "") for t in
                                                   (self.job_id, self.filename, self.status))

    @property
    def finished(self) -> bool:
        return self.status != "in_progress"


class PrinterProvider(Protocol):
    async def fetch_status(self) -> LiveStatus:
        """The printer's status now; raises Unreachable/ProviderError."""
        ...

    async def identify(self) -> HostInfo:
        """The host's version and firmware state; raises Unreachable/ProviderError."""
        ...

    async def fetch_history(self, since: float | None) -> list[HistoryJob]:
        """Jobs that started after `since` (unix seconds), oldest first."""
        ...

    async def upload_and_print(self, remote_name: str, path: Path) -> None:
        """Upload `path` under `remote_name` and start printing it."""
        ...

    async def fetch_temperatures(self) -> list[SensorSeries]:
        """Every thermometer's recent readings; raises Unreachable/ProviderError."""
        ...

    async def fetch_webcams(self) -> list[Webcam]:
        """The cameras configured on the printer host."""
        ...

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def cancel(self) -> None: ...
