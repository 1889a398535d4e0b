"""`printstash worker`: one asyncio process; SIGTERM stops it cleanly within seconds."""

import asyncio
import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

import printstash.models  # noqa: F401  (map every table, so cross-domain foreign keys resolve)
from printstash import __version__
from printstash.backups.scheduled import schedules as backup_schedules
from printstash.core import datalock
from printstash.core.db import Database
from printstash.core.runtime import WorkerContext
from printstash.core.settings import Settings
from printstash.core.storage import ensure_layout
from printstash.library.jobs import HANDLERS as LIBRARY_HANDLERS
from printstash.library.scheduled import schedules as library_schedules
from printstash.printers.poller import run as run_printers
from printstash.worker import heartbeat, jobloop, schedule

log = logging.getLogger("printstash.worker")
SHUTDOWN_GRACE_SECONDS = 4.0

HANDLERS: dict[str, jobloop.Handler] = {**LIBRARY_HANDLERS}
LONG_RUNNING: list[Callable[[WorkerContext], Coroutine[Any, Any, None]]] = [run_printers]


def run(settings: Settings) -> None:
    asyncio.run(main(settings))


async def main(settings: Settings) -> None:
    ensure_layout(settings)
    lock_fd = datalock.hold_shared(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    db = Database.from_settings(settings)
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=3.0)) as http:
        ctx = WorkerContext(settings, db, http, stopping, worker_id)
        log.info("worker %s started (PrintStash %s)", worker_id, __version__)
        await _supervise(ctx)
    db.dispose()
    datalock.release(lock_fd)
    log.info("worker %s stopped", worker_id)


async def _supervise(ctx: WorkerContext) -> None:
    scheduler = schedule.start(ctx, [*backup_schedules(ctx), *library_schedules(ctx)])
    tasks = [
        asyncio.create_task(heartbeat.loop(ctx), name="heartbeat"),
        asyncio.create_task(jobloop.loop(ctx, HANDLERS), name="jobs"),
        *(asyncio.create_task(fn(ctx), name=fn.__module__) for fn in LONG_RUNNING),
    ]
    await ctx.stopping.wait()
    log.info("stopping: waiting up to %.0fs for tasks", SHUTDOWN_GRACE_SECONDS)
    scheduler.shutdown(wait=False)
    _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
