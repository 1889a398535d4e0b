"""Cron-style jobs the worker schedules (filled in by the operations issue)."""

from collections.abc import Callable
from dataclasses import dataclass

from printstash.core.runtime import WorkerContext


@dataclass(frozen=True)
class Scheduled:
    name: str
    cron: str  # crontab syntax, e.g. "0 3 * * *"
    func: Callable[[WorkerContext], None]  # runs in a thread


def schedules(ctx: WorkerContext) -> list[Scheduled]:
    return []
