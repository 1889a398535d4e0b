"""Failed sign-ins slow down further attempts, per account and per client address + account.

Nothing sleeps: after a few free failures a subject is blocked for a window that doubles
with each further failure (capped), and attempts inside the window get 429 + Retry-After
before any password is checked. Subjects:
- `pair:<address>|<name>`: one client guessing one account. Few free failures; it blocks only
  that client for that account, so a correct password from anyone else still signs in.
- `user:<name>`: one account from every address together. More free failures; when it
  trips, the account itself is under attack (many addresses) and is blocked for everyone.
- `addr:<address>`: setup-token guesses only (they have no account). Sign-in never blocks by
  address alone: everyone behind one reverse proxy or NAT shares it.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from printstash.auth.models import LoginThrottle
from printstash.core.db import insert_missing
from printstash.core.errors import DomainError


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"


@dataclass(frozen=True)
class Policy:
    free_failures: int
    base_delay: timedelta
    max_delay: timedelta


PAIR_POLICY = Policy(free_failures=5, base_delay=timedelta(seconds=2), max_delay=timedelta(minutes=15))
USER_POLICY = Policy(free_failures=20, base_delay=timedelta(seconds=2), max_delay=timedelta(minutes=15))
ADDRESS_POLICY = Policy(free_failures=20, base_delay=timedelta(seconds=2), max_delay=timedelta(minutes=15))
_POLICIES = {"pair": PAIR_POLICY, "user": USER_POLICY, "addr": ADDRESS_POLICY}
# A subject whose last failure is this old starts again from zero.
FORGET_AFTER = timedelta(hours=1)


def user_subject(username: str) -> str:
    return f"user:{username.lower()}"


def address_subject(address: str) -> str:
    return f"addr:{address[:64]}"


def pair_subject(address: str, username: str) -> str:
    return f"pair:{address[:64]}|{username.lower()[:120]}"


def _policy(subject: str) -> Policy:
    return _POLICIES[subject.split(":", 1)[0]]


def delay_after(failures: int, policy: Policy) -> timedelta:
    """How long a subject is blocked after its `failures`-th consecutive failure."""
    extra = failures - policy.free_failures
    if extra < 0:
        return timedelta(0)
    delay: timedelta = policy.base_delay * (2 ** min(extra, 20))
    return min(delay, policy.max_delay)


def check(session: Session, subjects: list[str], now: datetime) -> None:
    """Raise 429 when any subject is inside its blocked window."""
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.subject.in_(subjects)))
    waits = [row.blocked_until - now for row in rows if row.blocked_until and row.blocked_until > now]
    if waits:
        seconds = math.ceil(max(waits).total_seconds())
        raise TooManyAttempts(f"too many failed sign-ins; try again in {seconds} s", code="too_many_attempts",
                              headers={"Retry-After": str(seconds)})


def _locked_rows(session: Session, subjects: list[str], now: datetime) -> list[LoginThrottle]:
    """The subjects' rows, created when missing and locked (PostgreSQL) until commit, so
    concurrent failures neither collide on the insert nor lose a count."""
    # sorted: two transactions take the same subjects in the same order (no deadlock)
    insert_missing(session, LoginThrottle,
                   [{"subject": s, "failures": 0, "last_failure_at": now} for s in sorted(set(subjects))])
    query = select(LoginThrottle).where(LoginThrottle.subject.in_(subjects))
    return list(session.scalars(query.order_by(LoginThrottle.subject).with_for_update()
                                .execution_options(populate_existing=True)))


def record_failure(session: Session, subjects: list[str], now: datetime) -> None:
    for row in _locked_rows(session, subjects, now):
        if now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        delay = delay_after(row.failures, _policy(row.subject))
        row.blocked_until = now + delay if delay else None
    session.flush()


def purge(session: Session, now: datetime) -> None:
    """Forget subjects that are neither blocked nor recent (e.g. sprayed random usernames)."""
    stale = (LoginThrottle.last_failure_at < now - FORGET_AFTER) & (
        LoginThrottle.blocked_until.is_(None) | (LoginThrottle.blocked_until < now))
    session.execute(delete(LoginThrottle).where(stale))


def clear(session: Session, subject: str) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.subject == subject))
