"""At most VAULT_MAX_UPLOADS_PER_USER uploads per user at once, in each api process.

Each running upload holds a connection, a temp file and a parser; one account (or one leaked
key) must not be able to hold hundreds. The next upload beyond the cap is refused before its
body is read, with 429 and Retry-After.
"""

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from printstash.auth.dependencies import CurrentUser
from printstash.core.deps import SettingsDep
from printstash.core.errors import DomainError

RETRY_AFTER_S = 5


class TooManyUploads(DomainError):
    status_code = 429
    code = "too_many_uploads"


class UploadSlots:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: Counter[int] = Counter()

    def take(self, user_id: int, limit: int) -> None:
        with self._lock:
            if self._running[user_id] >= limit:
                raise TooManyUploads(
                    f"{limit} uploads of yours are already running; wait for one to finish and retry",
                    headers={"Retry-After": str(RETRY_AFTER_S)})
            self._running[user_id] += 1

    def give_back(self, user_id: int) -> None:
        with self._lock:
            self._running[user_id] -= 1
            if self._running[user_id] <= 0:
                del self._running[user_id]


def _slots(request: Request) -> UploadSlots:
    state = request.app.state
    if not hasattr(state, "upload_slots"):
        state.upload_slots = UploadSlots()
    slots: UploadSlots = state.upload_slots
    return slots


def upload_slot(request: Request, user: CurrentUser, settings: SettingsDep) -> Iterator[None]:
    slots = _slots(request)
    slots.take(user.id, settings.max_uploads_per_user)
    try:
        yield
    finally:
        slots.give_back(user.id)


UploadSlot = Annotated[None, Depends(upload_slot)]
