"""Cron-style schedules on APScheduler's asyncio scheduler (in memory: crons need no store)."""

import asyncio
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from printstash.core import maintenance
from printstash.core.runtime import Scheduled, WorkerContext

log = logging.getLogger(__name__)


def start(ctx: WorkerContext, items: list[Scheduled]) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    for item in items:
        scheduler.add_job(_runner(ctx, item), CronTrigger.from_crontab(item.cron, timezone="UTC"),
                          id=item.name, coalesce=True, max_instances=1, misfire_grace_time=3600)
    scheduler.start()
    return scheduler


def _runner(ctx: WorkerContext, item: Scheduled):  # type: ignore[no-untyped-def]
    async def run() -> None:
        try:
            if await asyncio.to_thread(_maintenance_on, ctx):
                log.info("maintenance mode is on: skipping scheduled job %s", item.name)
                return
            await asyncio.to_thread(item.func, ctx)
        except Exception:
            log.exception("scheduled job %s failed", item.name)
    return run


def _maintenance_on(ctx: WorkerContext) -> bool:
    with ctx.db.read() as session:
        return maintenance.is_on(session)
