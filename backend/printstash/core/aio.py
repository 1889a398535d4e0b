"""Small asyncio helpers shared by the worker's loops."""

import asyncio
import contextlib


async def sleep_or_stop(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake at once when the process is asked to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
