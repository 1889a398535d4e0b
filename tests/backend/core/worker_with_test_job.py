"""Runs the real worker with one extra job kind, `test.sleep`, for the lease test.

Usage: python worker_with_test_job.py MARKER_DIR — the handler records each start in MARKER_DIR
and sleeps for payload["seconds"].
"""

import sys
import time
from pathlib import Path
from typing import Any

from printstash.cli import load_settings
from printstash.core.runtime import WorkerContext
from printstash.worker import main

MARKERS = Path(sys.argv[1])


def sleepy(ctx: WorkerContext, payload: dict[str, Any]) -> None:
    (MARKERS / f"start-{ctx.worker_id.replace(':', '_')}").write_text(str(payload))
    deadline = time.monotonic() + float(payload["seconds"])
    while time.monotonic() < deadline and not ctx.stopping.is_set():
        time.sleep(0.05)


main.HANDLERS["test.sleep"] = sleepy
main.run(load_settings())
