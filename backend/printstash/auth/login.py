"""Sign-in: throttle check, password check, then a session or a recorded failure.

The argon2 check runs outside any transaction: it is deliberately slow, and holding the
SQLite write lock meanwhile would stall every other writer for each attempt.
"""

import logging
from dataclasses import dataclass

from printstash.auth import service, throttle
from printstash.auth.models import User
from printstash.core.db import Database, utcnow
from printstash.core.errors import Unauthorized

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str
    max_age: int | None  # seconds for a "remember me" cookie, None for a browser-session cookie


def login(db: Database, username: str, password: str, *, remember: bool, address: str,
          user_agent: str | None) -> SignedIn:
    subjects = [throttle.user_subject(username), throttle.pair_subject(address, username)]
    with db.read() as session:
        try:
            throttle.check(session, subjects, utcnow())
        except throttle.TooManyAttempts:
            log.warning("sign-in refused (too many failures): user=%r from %s", username, address)
            raise
        user = service.find_user(session, username)
    valid = service.verify_password(user, password)  # runs even for unknown users (timing)
    if not valid or user is None or user.disabled:
        with db.write() as session:  # committed before the 401 goes out
            throttle.record_failure(session, subjects, utcnow())
        # One line per failure, for the admin (and for fail2ban-style tools).
        log.warning("failed sign-in: user=%r from %s", username, address)
        raise Unauthorized("wrong username or password", code="invalid_credentials")
    new_hash = service.hash_password(password) if service.password_needs_rehash(user) else None
    with db.write() as session:
        if new_hash:
            service.get_user(session, user.id).password_hash = new_hash
        throttle.clear(session, subjects[1])  # this client's count; the account's decays (FORGET_AFTER)
        _, token = service.create_session(session, user, remember=remember, user_agent=user_agent)
        # Housekeeping rides along with sign-ins (rare, already writing): no scheduler needed.
        service.purge_sessions(session)
        throttle.purge(session, utcnow())
    max_age = int(service.REMEMBER_TTL.total_seconds()) if remember else None
    return SignedIn(user=user, token=token, max_age=max_age)


def check_current_password(db: Database, user: User, password: str, address: str) -> None:
    """Re-authentication before a password change, under the same limits as sign-in: a
    borrowed session must not become a way to guess the password."""
    subjects = [throttle.user_subject(user.username), throttle.pair_subject(address, user.username)]
    with db.read() as session:
        throttle.check(session, subjects, utcnow())
    if not service.verify_password(user, password):
        with db.write() as session:
            throttle.record_failure(session, subjects, utcnow())
        raise Unauthorized("current password is wrong", code="invalid_credentials")
