"""core/memo.py: the most recent values kept, a missing value built once however many ask."""

import threading
import time

from printstash.core.memo import Memo


def test_keeps_the_most_recent_and_loads_the_rest() -> None:
    memo: Memo[str, int] = Memo(2)
    loads: list[str] = []

    def load(key: str) -> int:
        loads.append(key)
        return len(key)

    for key in ("a", "bb", "a", "ccc", "a", "bb"):
        memo.get(key, lambda k=key: load(k), lambda: -1)  # type: ignore[misc]
    assert loads == ["a", "bb", "ccc", "bb"]  # "bb" was evicted by "ccc"; "a" stayed recent


def test_a_missing_value_is_built_once_by_racing_requests() -> None:
    memo: Memo[str, int] = Memo(4)
    stored: dict[str, int] = {}
    builds: list[int] = []

    def build() -> int:
        builds.append(1)
        time.sleep(0.05)
        stored["k"] = 7
        return 7

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(memo.get("k", lambda: stored.get("k"), build)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [7] * 8 and builds == [1]
