"""Maintenance mode: a flag in app_state that api and worker both read.

While on, uploads (web and slicer) answer 503 with Retry-After and the worker pauses its
scheduled jobs: the upgrade guide's "pause slicer hooks and scheduled jobs" step.
"""

from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from printstash.core.db import utcnow
from printstash.core.errors import Unavailable
from printstash.core.models import AppState

KEY = "maintenance"
RETRY_AFTER_SECONDS = 300


@dataclass(frozen=True)
class Mode:
    on: bool = False
    message: str = ""  # shown to uploaders while on
    since: str | None = None  # ISO 8601, when it was switched on


def status(session: Session) -> Mode:
    row = session.get(AppState, KEY)
    value = row.value if row and isinstance(row.value, dict) else {}
    since = value.get("since")
    return Mode(on=bool(value.get("on")), message=str(value.get("message") or ""),
                since=since if isinstance(since, str) else None)


def is_on(session: Session) -> bool:
    return status(session).on


def set_mode(session: Session, on: bool, message: str = "") -> Mode:
    mode = Mode(on=on, message=message, since=utcnow().isoformat() if on else None)
    row = session.get(AppState, KEY)
    if row is None:
        session.add(AppState(key=KEY, value=asdict(mode)))
    else:
        row.value = asdict(mode)
    return mode


def refuse_if_on(session: Session) -> None:
    """For upload paths: a clear 503 the slicer can retry later."""
    state = status(session)
    if state.on:
        reason = state.message or "PrintStash is in maintenance mode (upgrade in progress)"
        raise Unavailable(f"{reason}; uploads are paused, retry later", code="maintenance",
                          headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
