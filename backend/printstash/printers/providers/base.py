"""What the poller needs from a printer host, whatever speaks to it (Moonraker today).

A new provider (OctoPrint, PrusaLink) implements PrinterProvider and registers a factory in
providers/__init__.py; the poller and the services never look inside it.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# The states a printer can be in, as the API reports them.
STATES = ("offline", "klippy_not_ready", "standby", "printing", "paused", "complete",
          "cancelled", "error")
BUSY_STATES = frozenset({"printing", "paused"})


class ProviderError(Exception):
    """The printer host answered, but not in a way we can use (bad JSON, 5xx, refused)."""


class Unreachable(ProviderError):
    """No answer at all: connection refused, DNS, timeout. The printer is offline."""


class Rejected(ProviderError):
    """The host refused a command (busy, not ready, file in use): a 409 for our caller."""


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
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status != "in_progress"


class PrinterProvider(Protocol):
    async def fetch_status(self) -> dict[str, Any]:
        """The status shape of DESIGN.md (without updated_at); raises Unreachable/ProviderError."""
        ...

    async def fetch_history(self, since: float | None) -> list[HistoryJob]:
        """Jobs that started after `since` (unix seconds), oldest first."""
        ...

    async def upload_and_print(self, remote_name: str, path: Path) -> None:
        """Upload `path` under `remote_name` and start printing it."""
        ...

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def cancel(self) -> None: ...
