"""A lock on the data directory: api and worker hold it shared, restore needs it exclusive.

flock() locks vanish with the process, so a crashed api never blocks a later restore.
"""

import fcntl
import os
from pathlib import Path

from printstash.core.settings import Settings

LOCK_NAME = ".printstash.lock"


class DataDirBusy(RuntimeError):
    pass


def _open(settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return os.open(Path(settings.data_dir) / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)


def hold_shared(settings: Settings) -> int:
    """Taken by api and worker for their lifetime; returns the fd to keep open."""
    fd = _open(settings)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def acquire_exclusive(settings: Settings) -> int:
    """For restore: fails at once while any api or worker runs on this data dir."""
    fd = _open(settings)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirBusy(
            f"PrintStash processes are running on {settings.data_dir}; stop the api and worker first"
        ) from None
    return fd


def release(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
