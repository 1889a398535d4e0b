"""Cron-style jobs of the operations domain (scheduled backups; filled in by the operations issue)."""

from printstash.core.runtime import Scheduled, WorkerContext


def schedules(ctx: WorkerContext) -> list[Scheduled]:
    return []
