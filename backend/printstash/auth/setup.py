"""First run: while no user exists, a setup token gates creating the first admin.

The token comes from VAULT_SETUP_TOKEN or is generated once per api process and written to
the log, so only someone who can read the server's log (or set its environment) can claim
a fresh vault that is already reachable on the network.
"""

import logging
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from printstash.auth import service, throttle
from printstash.auth.models import User
from printstash.core.db import Database, insert_missing, utcnow
from printstash.core.errors import Conflict, Forbidden
from printstash.core.models import AppState
from printstash.core.settings import Settings

log = logging.getLogger(__name__)
MIN_ENV_TOKEN_LENGTH = 16
SETUP_LOCK_KEY = "setup_lock"  # app_state row that first-run setups lock, one at a time


def announce_setup_token(state: Any) -> None:
    """Called from the api lifespan: store the token in app.state and log it while unconfigured."""
    settings: Settings = state.settings
    configured_token = settings.setup_token.get_secret_value() if settings.setup_token else ""
    from_env = bool(configured_token)
    state.setup_token = configured_token or secrets.token_urlsafe(24)
    if _configured(state.db):
        return
    if from_env:
        log.warning("setup token: (the value of VAULT_SETUP_TOKEN) - no user exists yet; create the first admin")
        if len(configured_token) < MIN_ENV_TOKEN_LENGTH:
            log.warning("VAULT_SETUP_TOKEN is shorter than %d characters: anyone who reaches PrintStash "
                        "before you could guess it", MIN_ENV_TOKEN_LENGTH)
    else:
        log.warning("setup token: %s", state.setup_token)


def _configured(db: Database) -> bool:
    try:
        with db.read() as session:
            return service.count_users(session) > 0
    except SQLAlchemyError:  # schema missing: the schema guard reports that, not us
        return False


def _refuse_when_configured(session: Session) -> None:
    if service.count_users(session) > 0:
        raise Conflict("PrintStash is already set up; sign in instead", code="already_configured")


def create_first_admin(session: Session, expected_token: str, token: str, username: str, password: str) -> User:
    _refuse_when_configured(session)
    if not secrets.compare_digest(expected_token.encode(), token.encode()):
        raise Forbidden("wrong setup token (see the api log line 'setup token: ...')", code="invalid_setup_token")
    # On PostgreSQL racing setups each see no user in their snapshot: they queue on one lock
    # row, and each counts again once it holds it, seeing what the winner committed. (SQLite
    # runs write transactions one at a time; there the first count already decides.)
    insert_missing(session, AppState, [{"key": SETUP_LOCK_KEY, "value": {}, "updated_at": utcnow()}])
    session.scalars(select(AppState).where(AppState.key == SETUP_LOCK_KEY).with_for_update()).one()
    _refuse_when_configured(session)
    return service.create_user(session, username, password, role="admin")


def setup_first_admin(db: Database, expected_token: str, token: str, username: str, password: str,
                      address: str) -> User:
    """create_first_admin behind the per-address sign-in limit: a short VAULT_SETUP_TOKEN must
    not be guessable by hammering the setup form."""
    subjects = [throttle.address_subject(address)]
    with db.read() as session:
        throttle.check(session, subjects, utcnow())
    try:
        with db.write() as session:
            return create_first_admin(session, expected_token, token, username, password)
    except Forbidden:
        with db.write() as session:
            throttle.record_failure(session, subjects, utcnow())
        log.warning("wrong setup token from %s", address)
        raise
