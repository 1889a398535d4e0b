"""Worker job handlers of the library domain: kind -> handler(ctx, payload), run in a thread."""

from collections.abc import Callable
from typing import Any

from printstash.core.runtime import WorkerContext

HANDLERS: dict[str, Callable[[WorkerContext, dict[str, Any]], None]] = {}
