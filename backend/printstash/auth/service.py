"""Users and API keys: plain functions taking the session first, never committing."""

import functools
import hashlib
import re
import secrets
import threading
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from printstash.auth.models import ApiKey, User, UserSession
from printstash.core.db import utcnow
from printstash.core.errors import Conflict, Invalid, NotFound

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes anything, but a megabyte "password" is a DoS
USERNAME_RE = re.compile(r"[A-Za-z0-9._@-]{1,64}")
ROLES = ("admin", "member")
SESSION_TTL = timedelta(hours=12)  # a working day; the browser forgets the cookie on close anyway
REMEMBER_TTL = timedelta(days=30)
LAST_USED_RESOLUTION = timedelta(seconds=60)
KEY_PREFIX = "ps_"
# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): ~70 ms here, against ~470 ms and
# 64 MiB for argon2-cffi's defaults (bench/compat/RESULTS.md). Old hashes keep verifying and
# are upgraded at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# At most this many verifications at once: a burst of sign-ins queues instead of taking
# every threadpool thread and 19 MiB each.
_verify_slots = threading.BoundedSemaphore(2)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Always runs one argon2 verification, even for an unknown user, so response time does
    not tell an attacker which usernames exist."""
    try:
        with _verify_slots:
            return _hasher.verify(user.password_hash if user else _dummy_hash(), password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(user: User) -> bool:
    try:
        return _hasher.check_needs_rehash(user.password_hash)
    except InvalidHashError:
        return True


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password must be at least {MIN_PASSWORD_LENGTH} characters", code="weak_password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(f"password must be at most {MAX_PASSWORD_LENGTH} characters", code="weak_password")


def check_username(username: str) -> None:
    if not USERNAME_RE.fullmatch(username):
        raise Invalid("username: 1-64 letters, digits or . _ - @", code="invalid_username")


def find_user(session: Session, username: str) -> User | None:
    """Usernames are matched case-insensitively: "Alice" and "alice" are one person."""
    return session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()


def create_user(session: Session, username: str, password: str, role: str = "member") -> User:
    check_username(username)
    check_password_strength(password)
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    if find_user(session, username) is not None:
        raise Conflict(f"user {username!r} already exists", code="user_exists")
    user = User(username=username, password_hash=hash_password(password), role=role, disabled=False)
    session.add(user)
    session.flush()
    return user


def _digest(key: str) -> str:
    # API keys are 256-bit random: a fast hash is enough (argon2 would slow every request).
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, user: User, name: str) -> tuple[ApiKey, str]:
    """Returns the row and the key in clear, which is never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(user_id=user.id, name=name, prefix=key[:10], key_hash=_digest(key))
    session.add(row)
    session.flush()
    return row, key


# Every authenticated request runs one of these: built once, with the hash bound per call,
# rather than a select, a joinedload and a comparison built again each time (0.79 -> 0.48 ms a
# look-up in one process, the two forms alternating; bench/search's SQLite library, 2026-12-04)
_API_KEY_BY_HASH = select(ApiKey).options(joinedload(ApiKey.user)).where(ApiKey.key_hash == bindparam("key_hash"))
_SESSION_BY_HASH = (select(UserSession).options(joinedload(UserSession.user))
                    .where(UserSession.token_hash == bindparam("token_hash")))


def find_api_key(session: Session, key: str) -> ApiKey | None:
    """The live key row (its user loaded) for a presented key, or None."""
    row = session.scalars(_API_KEY_BY_HASH, {"key_hash": _digest(key)}).first()
    if row is None or row.revoked_at is not None or row.user.disabled:
        return None
    return row


def key_needs_touch(row: ApiKey) -> bool:
    # last_used_at is informational: refreshing it at most once a minute keeps ordinary
    # key-authenticated reads from taking the database write lock on every request.
    return row.last_used_at is None or utcnow() - row.last_used_at > LAST_USED_RESOLUTION


def touch_api_key(session: Session, key_id: int) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))


def user_for_api_key(session: Session, key: str) -> User | None:
    row = find_api_key(session, key)
    if row is None:
        return None
    row.last_used_at = utcnow()
    return row.user


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _digest(token)


def create_session(session: Session, user: User, *, remember: bool, user_agent: str | None) -> tuple[UserSession, str]:
    """Returns the row and the token for the cookie (never stored in clear)."""
    token, digest = _new_token()
    now = utcnow()
    row = UserSession(user_id=user.id, token_hash=digest, remember=remember, created_at=now,
                      expires_at=now + (REMEMBER_TTL if remember else SESSION_TTL), last_seen_at=now,
                      user_agent=(user_agent or "")[:255] or None)
    session.add(row)
    session.flush()
    return row, token


def revoke_replaced_session(session: Session, token: str | None) -> None:
    """A browser signing in (again) gets a new cookie: the session of the cookie it carried
    ends with it, so it is never listed as a stale browser (setup's, a second sign-in)."""
    if token:
        session.execute(update(UserSession).where(UserSession.token_hash == _digest(token),
                                                  UserSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def find_session(session: Session, token: str) -> UserSession | None:
    """The live session (its user loaded) for a cookie token, or None when unknown, expired,
    revoked or its user disabled."""
    row = session.scalars(_SESSION_BY_HASH, {"token_hash": _digest(token)}).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or row.user.disabled:
        return None
    return row


def session_needs_touch(row: UserSession) -> bool:
    return row.last_seen_at is None or utcnow() - row.last_seen_at > LAST_USED_RESOLUTION


def touch_session(session: Session, session_id: int) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=utcnow()))


def list_sessions(session: Session, user: User) -> list[UserSession]:
    query = select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
                                      UserSession.expires_at > utcnow())
    return list(session.scalars(query.order_by(UserSession.id)))


def revoke_own_session(session: Session, user: User, session_id: int) -> None:
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise NotFound(f"no session {session_id}", code="session_not_found")
    row.revoked_at = utcnow()


def revoke_session(session: Session, session_id: int) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(revoked_at=utcnow()))


def purge_sessions(session: Session, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete sessions that expired or were revoked a while ago (kept briefly for audits)."""
    cutoff = utcnow() - older_than
    query = delete(UserSession).where((UserSession.expires_at < cutoff) | (UserSession.revoked_at < cutoff))
    return session.execute(query).rowcount or 0  # type: ignore[attr-defined]


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def in_use_since(session: Session) -> datetime | None:
    """When the first admin was created (setup), None while the vault is unconfigured."""
    return session.scalar(select(func.min(User.created_at)))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}", code="user_not_found")
    return user


def _active_admins(session: Session) -> int:
    query = select(func.count()).select_from(User).where(User.role == "admin", User.disabled.is_(False))
    return session.scalar(query) or 0


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse a change that would leave the vault without an enabled admin (nobody could
    then manage users, backups or restore access)."""
    if user.is_admin and not user.disabled and _active_admins(session) <= 1:
        raise Conflict("this is the last enabled admin; make another admin first", code="last_admin")


def update_user(session: Session, user: User, *, role: str | None = None, disabled: bool | None = None,
                password: str | None = None) -> User:
    if role is not None and role != user.role:
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
        _keep_an_admin(session, user)
        user.role = role
    if disabled is not None and disabled != user.disabled:
        if disabled:
            _keep_an_admin(session, user)
            revoke_user_sessions(session, user)
        user.disabled = disabled
    if password is not None:
        reset_password(session, user, password)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """The user's own change: every session is signed out (the caller starts a new one for
    this browser); their API keys keep working, each revocable on its own."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    revoke_user_sessions(session, user)


def reset_password(session: Session, user: User, password: str) -> None:
    """An admin's reset is often a response to a leak: it signs the user out everywhere and
    revokes every API key of theirs too."""
    set_password(session, user, password)
    revoke_user_api_keys(session, user)


def delete_user(session: Session, user: User) -> None:
    _keep_an_admin(session, user)
    session.delete(user)
    session.flush()


def revoke_user_sessions(session: Session, user: User) -> None:
    session.execute(update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def revoke_user_api_keys(session: Session, user: User) -> None:
    session.execute(update(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def list_api_keys(session: Session, user: User) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None)).order_by(ApiKey.id)
    return list(session.scalars(query))


def revoke_api_key(session: Session, user: User, key_id: int) -> None:
    """Users revoke their own keys; admins may revoke anyone's (e.g. a leaked hook key)."""
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None or (row.user_id != user.id and not user.is_admin):
        raise NotFound(f"no API key {key_id}", code="api_key_not_found")
    row.revoked_at = utcnow()
