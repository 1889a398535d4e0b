"""Drains the durable job table: claim with a lease, run the handler in a thread, record."""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from printstash.core import jobs
from printstash.core.aio import sleep_or_stop
from printstash.core.runtime import WorkerContext

log = logging.getLogger(__name__)
Handler = Callable[[WorkerContext, dict[str, Any]], None]
IDLE_SECONDS = 0.5


async def loop(ctx: WorkerContext, handlers: dict[str, Handler]) -> None:
    kinds = sorted(handlers)
    while not ctx.stopping.is_set():
        ran = await asyncio.to_thread(run_one, ctx, handlers, kinds) if kinds else False
        if not ran:
            await sleep_or_stop(ctx.stopping, IDLE_SECONDS)


def run_one(ctx: WorkerContext, handlers: dict[str, Handler], kinds: list[str]) -> bool:
    """Claim and run one due job; False when there was none."""
    with ctx.db.read() as session:  # idle polls must not take the database's write lock
        if not jobs.any_due(session, kinds):
            return False
    with ctx.db.write() as session:
        job = jobs.claim(session, ctx.worker_id, kinds, ctx.settings.job_lease_seconds)
        claimed = (job.id, job.kind, dict(job.payload)) if job else None
    if claimed is None:
        return False
    job_id, kind, payload = claimed
    try:
        handlers[kind](ctx, payload)
    except Exception as exc:  # a failing job must never stop the worker
        log.exception("job %s (%s) failed", job_id, kind)
        with ctx.db.write() as session:
            jobs.fail(session, job_id, ctx.worker_id, f"{type(exc).__name__}: {exc}")
        return True
    with ctx.db.write() as session:
        jobs.complete(session, job_id, ctx.worker_id)
    return True
