"""The worker process: heartbeat, graceful SIGTERM, and jobs that survive a killed worker."""

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from harness.paths import BACKEND
from harness.processes import printstash, stop, vault_env
from sqlalchemy import select

from printstash.core import jobs
from printstash.core.db import Database
from printstash.core.models import Job, WorkerHeartbeat
from printstash.core.settings import Settings

HERE = Path(__file__).parent


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def heartbeats(db: Database) -> list[WorkerHeartbeat]:
    with db.read() as session:
        return list(session.scalars(select(WorkerHeartbeat)))


def test_worker_beats_and_stops_on_sigterm_within_5s(vault: Settings, db: Database) -> None:
    proc = printstash("worker", env=vault_env(vault.data_dir))
    try:
        wait_for(lambda: len(heartbeats(db)) == 1)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=5)
        assert time.monotonic() - started < 5
        assert proc.returncode == 0
    finally:
        out = stop(proc)
    assert "stopped" in out


def test_job_of_a_killed_worker_is_taken_over_after_its_lease(vault: Settings, db: Database, tmp_path: Path) -> None:
    with db.write() as session:
        job_id = jobs.enqueue(session, "test.sleep", {"seconds": 3}).id
    markers = tmp_path / "markers"
    markers.mkdir()
    env = vault_env(vault.data_dir, VAULT_JOB_LEASE_SECONDS="2")
    cmd = [sys.executable, str(HERE / "worker_with_test_job.py"), str(markers)]
    first = subprocess.Popen(cmd, cwd=BACKEND, env=env)
    wait_for(lambda: len(list(markers.iterdir())) == 1)
    first.kill()  # SIGKILL: no chance to clean up, the lease is all that is left
    first.wait()
    with db.read() as session:
        assert session.get(Job, job_id).state == "running"  # type: ignore[union-attr]
    second = subprocess.Popen(cmd, cwd=BACKEND, env=env)
    try:
        wait_for(lambda: _state(db, job_id) == "done", timeout=30)
    finally:
        second.terminate()
        second.wait(10)
    with db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.attempts == 2
    assert len(list(markers.iterdir())) == 2


def _state(db: Database, job_id: int) -> str:
    with db.read() as session:
        job = session.get(Job, job_id)
        return job.state if job else "missing"


def test_failed_job_is_retried_with_backoff_then_marked_failed(db: Database) -> None:
    with db.write() as session:
        job_id = jobs.enqueue(session, "x", max_attempts=2).id
    for attempt in (1, 2):
        with db.write() as session:
            job = session.get(Job, job_id)
            assert job is not None
            job.run_after = job.created_at  # skip the backoff wait
            claimed = jobs.claim(session, "w1", ["x"], 60)
            assert claimed is not None and claimed.attempts == attempt
        with db.write() as session:
            assert jobs.fail(session, job_id, "w1", "boom")
    assert _state(db, job_id) == "failed"


def test_a_worker_that_lost_its_lease_cannot_complete(db: Database) -> None:
    with db.write() as session:
        job_id = jobs.enqueue(session, "x").id
    with db.write() as session:
        assert jobs.claim(session, "old", ["x"], -1) is not None  # lease already expired
    with db.write() as session:
        assert jobs.claim(session, "new", ["x"], 60) is not None
    with db.write() as session:
        assert not jobs.complete(session, job_id, "old")
        assert jobs.complete(session, job_id, "new")
