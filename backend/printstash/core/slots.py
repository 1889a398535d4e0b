"""A cap on how many things one key (a user id) runs at once in this process.

The lock lives here, in core/, so a domain that caps something (library/upload_slots.py) reads
as "take a slot or refuse", not as thread machinery: FastAPI runs sync dependencies on its
thread pool, so the count is shared between threads.
"""

import threading
from collections import Counter


class KeyedSlots:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: Counter[int] = Counter()

    def try_take(self, key: int, limit: int) -> bool:
        """One more slot for `key`, unless it already holds `limit`."""
        with self._lock:
            if self._running[key] >= limit:
                return False
            self._running[key] += 1
            return True

    def give_back(self, key: int) -> None:
        with self._lock:
            self._running[key] -= 1
            if self._running[key] <= 0:
                del self._running[key]
