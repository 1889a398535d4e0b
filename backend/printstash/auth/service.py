"""Users and API keys: plain functions taking the session first, never committing."""

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from printstash.auth.models import ApiKey, User
from printstash.core.db import utcnow
from printstash.core.errors import Conflict, Invalid

MIN_PASSWORD_LENGTH = 10
KEY_PREFIX = "ps_"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except VerificationError:
        return False


def create_user(session: Session, username: str, password: str, role: str = "member") -> User:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password must be at least {MIN_PASSWORD_LENGTH} characters", code="weak_password")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
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


def user_for_api_key(session: Session, key: str) -> User | None:
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == _digest(key))).first()
    if row is None or row.revoked_at is not None or row.user.disabled:
        return None
    row.last_used_at = utcnow()
    return row.user
