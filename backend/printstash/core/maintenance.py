"""Maintenance mode: a flag in app_state that api and worker both read.

While on, uploads (web and slicer) answer 503 with Retry-After and the worker pauses its
scheduled jobs: the upgrade guide's "pause slicer hooks and scheduled jobs" step.
"""

from typing import Any

from sqlalchemy.orm import Session

from printstash.core.db import utcnow
from printstash.core.errors import Unavailable
from printstash.core.models import AppState

KEY = "maintenance"
RETRY_AFTER_SECONDS = 300


def status(session: Session) -> dict[str, Any]:
    row = session.get(AppState, KEY)
    return dict(row.value) if row and isinstance(row.value, dict) else {"on": False}


def is_on(session: Session) -> bool:
    return bool(status(session).get("on"))


def set_mode(session: Session, on: bool, message: str = "") -> dict[str, Any]:
    value = {"on": on, "message": message, "since": utcnow().isoformat() if on else None}
    row = session.get(AppState, KEY)
    if row is None:
        session.add(AppState(key=KEY, value=value))
    else:
        row.value = value
    return value


def refuse_if_on(session: Session) -> None:
    """For upload paths: a clear 503 the slicer can retry later."""
    state = status(session)
    if state.get("on"):
        reason = state.get("message") or "PrintStash is in maintenance mode (upgrade in progress)"
        raise Unavailable(f"{reason}; uploads are paused, retry later", code="maintenance",
                          headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
