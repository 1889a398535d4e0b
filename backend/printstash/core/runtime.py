"""What the worker hands to domain tasks and job handlers."""

import asyncio
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
