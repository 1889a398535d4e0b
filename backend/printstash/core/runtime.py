"""What the worker hands to domain tasks and job handlers."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from printstash.core.db import Database
from printstash.core.settings import Settings


@dataclass
class WorkerContext:
    settings: Settings
    db: Database
    http: httpx.AsyncClient
    stopping: asyncio.Event
    worker_id: str


@dataclass(frozen=True)
class Scheduled:
    """A cron-style job of a domain; the worker runs `func` in a thread (skipped in maintenance)."""

    name: str
    cron: str  # crontab syntax, e.g. "0 3 * * *"
    func: Callable[[WorkerContext], None]
