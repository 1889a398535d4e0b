"""Cron-style schedules on APScheduler's asyncio scheduler (in memory: crons need no store).

Every worker process runs the same schedule; each tick of a job runs in only one of them:
the first to insert the tick's row in app_state (`schedule:<job>:<minute>`) runs it, the
others find the key taken and skip (one unique key, no lock held while the job runs).
"""

import asyncio
import logging
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import delete

from printstash.core import maintenance
from printstash.core.db import insert_missing, utcnow
from printstash.core.models import AppState
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
            if not await asyncio.to_thread(claim_tick, ctx, item.name, utcnow()):
                log.info("scheduled job %s: this tick runs in another worker", item.name)
                return
            await asyncio.to_thread(item.func, ctx)
        except Exception:
            log.exception("scheduled job %s failed", item.name)
    return run


def _maintenance_on(ctx: WorkerContext) -> bool:
    with ctx.db.read() as session:
        return maintenance.is_on(session)


def claim_tick(ctx: WorkerContext, name: str, now: datetime) -> bool:
    """True for the one worker that takes this minute's run of `name` (cron's resolution is a
    minute, and every worker fires on the minute). Older tick rows of the job are removed."""
    prefix = f"schedule:{name}:"
    key = prefix + now.strftime("%Y-%m-%dT%H:%M")
    with ctx.db.write() as session:
        if not insert_missing(session, AppState, [{"key": key, "value": {"worker": ctx.worker_id},
                                                   "updated_at": now}]):
            return False
        session.execute(delete(AppState).where(AppState.key.startswith(prefix, autoescape=True),
                                               AppState.key < key))
        return True
