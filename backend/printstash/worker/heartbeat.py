"""The worker's heartbeat row, read by the health check."""

import asyncio
import os
import socket

from sqlalchemy.orm import Session

from printstash import __version__
from printstash.core.aio import sleep_or_stop
from printstash.core.db import utcnow
from printstash.core.models import WorkerHeartbeat
from printstash.core.runtime import WorkerContext

INTERVAL_SECONDS = 5.0


def beat(session: Session, worker_id: str, started_at: object) -> None:
    row = session.get(WorkerHeartbeat, worker_id)
    now = utcnow()
    if row is None:
        row = WorkerHeartbeat(worker_id=worker_id, hostname=socket.gethostname(), pid=os.getpid(),
                              version=__version__, started_at=now, beat_at=now)
        session.add(row)
    row.beat_at = now


async def loop(ctx: WorkerContext) -> None:
    started = utcnow()
    while not ctx.stopping.is_set():
        await asyncio.to_thread(_beat_once, ctx, started)
        await sleep_or_stop(ctx.stopping, INTERVAL_SECONDS)


def _beat_once(ctx: WorkerContext, started: object) -> None:
    with ctx.db.write() as session:
        beat(session, ctx.worker_id, started)
