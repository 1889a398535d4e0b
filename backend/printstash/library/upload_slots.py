"""At most VAULT_MAX_UPLOADS_PER_USER uploads per user at once, in each api process.

Each running upload holds a connection, a temp file and a parser; one account (or one leaked
key) must not be able to hold hundreds. The next upload beyond the cap is refused before its
body is read, with 429 and Retry-After.
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from printstash.auth.dependencies import CurrentUser
from printstash.core.deps import SettingsDep
from printstash.core.errors import DomainError
from printstash.core.slots import KeyedSlots

RETRY_AFTER_S = 5


class TooManyUploads(DomainError):
    status_code = 429
    code = "too_many_uploads"


def _slots(request: Request) -> KeyedSlots:
    state = request.app.state
    if not hasattr(state, "upload_slots"):
        state.upload_slots = KeyedSlots()
    slots: KeyedSlots = state.upload_slots
    return slots


def upload_slot(request: Request, user: CurrentUser, settings: SettingsDep) -> Iterator[None]:
    slots, limit = _slots(request), settings.max_uploads_per_user
    if not slots.try_take(user.id, limit):
        raise TooManyUploads(f"{limit} uploads of yours are already running; wait for one to finish and retry",
                             headers={"Retry-After": str(RETRY_AFTER_S)})
    try:
        yield
    finally:
        slots.give_back(user.id)


UploadSlot = Annotated[None, Depends(upload_slot)]
