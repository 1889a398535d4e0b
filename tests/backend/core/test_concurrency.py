"""Racing writers on the test database (run these with VAULT_TEST_DB=postgresql too).

SQLite runs write transactions one at a time (BEGIN IMMEDIATE), so there these races cannot
happen and the tests pass with or without the fixes. On PostgreSQL transactions really run
side by side: each test lets its threads start their transactions together (a barrier inside
the transaction where one exists) and fails without the fix it names.
"""

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import func, select, text

from printstash.auth import setup, throttle
from printstash.auth.models import LoginThrottle, User
from printstash.core import jobs
from printstash.core.db import Database, utcnow
from printstash.core.errors import Conflict
from printstash.core.models import AppState, Job
from printstash.core.runtime import Scheduled, WorkerContext
from printstash.core.settings import Settings
from printstash.library import tags
from printstash.library.models import Tag
from printstash.worker import schedule

TOKEN = "a setup token of enough length"
T = TypeVar("T")


def _together(count: int, work: Callable[[int, Callable[[], None]], T]) -> list[T | BaseException]:
    """Run work(i, meet) on `count` threads; meet() waits until every thread reached it (or
    1 s passed: on SQLite the others wait at BEGIN until the first commits)."""
    barrier = threading.Barrier(count, timeout=1.0)

    def meet() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()

    def run(i: int) -> T | BaseException:
        try:
            return work(i, meet)
        except Exception as exc:  # returned, so the test can look at every outcome
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_racing_first_run_setups_create_exactly_one_admin(db: Database) -> None:
    """Fails without the lock row in auth/setup.py: every racer counts no user and all of
    them become admin."""
    def attempt(i: int, meet: Callable[[], None]) -> User:
        meet()
        return setup.setup_first_admin(db, TOKEN, TOKEN, f"admin{i}", "first admin password", "127.0.0.1")

    outcomes = _together(4, attempt)
    with db.read() as session:
        admins = session.scalars(select(User.username)).all()
    assert len(admins) == 1, outcomes
    winners = [o for o in outcomes if isinstance(o, User)]
    assert [w.username for w in winners] == admins
    losers = [o for o in outcomes if not isinstance(o, User)]
    assert len(losers) == 3 and all(isinstance(o, Conflict) and o.code == "already_configured" for o in losers)


def test_two_workers_never_claim_the_same_job(db: Database) -> None:
    """Fails without FOR UPDATE SKIP LOCKED in core/jobs.py: both workers read the same due
    job and both take it."""
    with db.write() as session:
        for n in range(40):
            jobs.enqueue(session, "test.race", {"n": n})

    def drain(i: int, meet: Callable[[], None]) -> list[int]:
        claimed: list[int] = []
        while True:
            with db.write() as session:
                session.execute(text("SELECT 1"))  # the transaction has begun
                if not claimed:
                    meet()
                job = jobs.claim(session, f"worker-{i}", ["test.race"], lease_seconds=60)
                if job is None:
                    return claimed
                claimed.append(job.id)

    outcomes = _together(2, drain)
    claims = Counter(job_id for outcome in outcomes for job_id in outcome)  # type: ignore[union-attr]
    assert all(isinstance(o, list) for o in outcomes), outcomes
    assert len(claims) == 40 and set(claims.values()) == {1}, claims.most_common(3)
    with db.read() as session:
        assert set(session.scalars(select(Job.attempts))) == {1}


@pytest.mark.parametrize("names", [("PETG", "petg"), ("PETG", "PETG")])
def test_racing_tag_creation_makes_one_tag(db: Database, names: tuple[str, str]) -> None:
    """Fails without the stored key and insert-unless-exists in library/tags.py: both
    transactions find no tag, and both insert one (two tags, or a unique-key error)."""
    def create(i: int, meet: Callable[[], None]) -> int:
        with db.write() as session:
            session.execute(text("SELECT 1"))
            meet()
            tag, _ = tags.create_tag(session, names[i])
            return tag.id

    outcomes = _together(2, create)
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert outcomes[0] == outcomes[1]
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Tag)) == 1


def test_racing_sign_in_failures_all_count(db: Database) -> None:
    """Fails without the insert-unless-exists and row lock in auth/throttle.py: racing first
    failures of one subject collide on its row, later ones overwrite each other's count."""
    subjects = [throttle.user_subject("someone"), throttle.address_subject("192.0.2.7")]
    now = utcnow() - timedelta(seconds=1)

    def fail(i: int, meet: Callable[[], None]) -> None:
        with db.write() as session:
            session.execute(text("SELECT 1"))
            meet()
            throttle.record_failure(session, subjects, now)

    outcomes = _together(4, fail)
    assert outcomes == [None] * 4
    with db.read() as session:
        counts = {s: n for s, n in session.execute(select(LoginThrottle.subject, LoginThrottle.failures))}
    assert counts == {subject: 4 for subject in subjects}


def test_each_schedule_tick_runs_in_one_worker_only(vault: Settings, db: Database) -> None:
    """Fails without claim_tick in worker/schedule.py: every worker runs every tick (on both
    databases: the workers are separate processes, each with its own scheduler)."""
    runs: list[str] = []
    item = Scheduled("probe", "* * * * *", lambda ctx: runs.append(ctx.worker_id))

    async def tick_in_three_workers() -> None:
        contexts = [WorkerContext(vault, db, httpx.AsyncClient(), asyncio.Event(), f"w{i}") for i in range(3)]
        await asyncio.gather(*(schedule._runner(ctx, item)() for ctx in contexts))

    if utcnow().second >= 55:  # all three must fire within one minute, as cron makes them
        time.sleep(6)
    asyncio.run(tick_in_three_workers())
    assert len(runs) == 1
    worker = WorkerContext(vault, db, httpx.AsyncClient(), asyncio.Event(), "w9")
    later = utcnow() + timedelta(minutes=1)
    assert schedule.claim_tick(worker, "probe", later)  # the next tick is free
    with db.read() as session:  # and the older tick's row is gone
        keys = session.scalars(select(AppState.key).where(AppState.key.startswith("schedule:probe:"))).all()
    assert keys == ["schedule:probe:" + later.strftime("%Y-%m-%dT%H:%M")]
