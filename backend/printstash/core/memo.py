"""A small thread-safe memo of immutable values: the most recently used ones kept, and a value
missing everywhere built by one request at a time (the api answers requests on threads, and a
build, such as a layer index read from a whole file, is too costly to run twice at once)."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._size = size
        self._lock, self._building = threading.Lock(), threading.Lock()

    def get(self, key: K, load: Callable[[], V | None], build: Callable[[], V]) -> V:
        """The remembered value, else `load()` (e.g. from disk), else `build()` under the build
        lock (a request that waited finds the value `load()` can now read)."""
        found = self.recent(key)
        if found is None:
            found = load()
        if found is None:
            with self._building:
                found = load()
                if found is None:
                    found = build()
        self.remember(key, found)
        return found

    def recent(self, key: K) -> V | None:
        """The remembered value, if any: for a caller that builds a missing value itself, without
        waiting for the build lock (a build cheap enough that two at once cost less than a wait)."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def remember(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
