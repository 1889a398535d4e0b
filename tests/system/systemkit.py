"""What the printer system tests share: the running api + worker stack and small helpers.

A module of its own (not conftest.py): `from conftest import …` picks whichever conftest
was imported last when the whole suite runs.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from printstash.core.db import Database

POLL_SECONDS = 0.5


@dataclass
class Stack:
    base: str
    admin: httpx.Client
    member: httpx.Client
    data_dir: Path
    db: Database
    worker_log: Path


def wait_for(check: Callable[[], Any], timeout: float, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not true within {timeout}s: {check.__doc__ or check}")


def status(stack: Stack, printer_id: int) -> dict[str, Any]:
    resp = stack.member.get(f"/api/v1/printers/{printer_id}")
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["status"])
