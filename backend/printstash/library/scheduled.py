"""Cron-style jobs of the library domain (trash purge; filled in by the ingest issue)."""

from printstash.core.runtime import Scheduled, WorkerContext


def schedules(ctx: WorkerContext) -> list[Scheduled]:
    return []
