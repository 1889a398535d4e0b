"""Who is calling: every non-public route depends on CurrentUser (or AdminUser).

Contract for every domain: `user: CurrentUser` on a route makes it authenticated,
`user: AdminUser` makes it admin-only. Credentials, in order: `X-Api-Key` or
`Authorization: Bearer` (scripts, slicer hooks), then the browser's session cookie.
Cookie-authenticated state-changing requests must also come from our own origin (CSRF):
browsers attach cookies to cross-site form posts, but never let a page forge Origin, nor
add custom headers cross-site without a CORS preflight we never grant.
"""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from printstash.auth import service
from printstash.auth.models import User
from printstash.core.db import Database
from printstash.core.deps import DatabaseDep
from printstash.core.errors import Forbidden, Unauthorized

SESSION_COOKIE = "printstash_session"
CSRF_HEADER = "x-requested-with"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _host(netloc: str) -> str:
    """host[:port], lower case, without a default port (some proxies add ":80")."""
    netloc = netloc.strip().lower()
    return netloc.removesuffix(":80").removesuffix(":443")


def _our_hosts(request: Request) -> set[str]:
    # X-Forwarded-Host: the frontend's proxy may rewrite Host; a browser cannot forge it.
    names = (request.headers.get("host"), request.headers.get("x-forwarded-host"))
    return {_host(name) for header in names if header for name in header.split(",")}


def same_origin(request: Request) -> bool:
    """Does a state-changing request come from a PrintStash page (or a non-browser client
    that says so with a custom header)?"""
    origin = request.headers.get("origin")
    if origin is not None:  # "null" (sandboxed frames, file://) never matches
        return _host(urlsplit(origin).netloc) in _our_hosts(request)
    referer = request.headers.get("referer")
    if referer:
        return _host(urlsplit(referer).netloc) in _our_hosts(request)
    return bool(request.headers.get(CSRF_HEADER))


def check_origin(request: Request) -> None:
    if request.method in STATE_CHANGING and not same_origin(request):
        raise Forbidden("cross-site request refused: Origin/Referer does not match this server "
                        "(use the PrintStash web app, send X-Requested-With, or use an API key)",
                        code="csrf_failed")


def _user_for_key(db: Database, key: str) -> User:
    with db.read() as session:
        row = service.find_api_key(session, key)
        user = row.user if row else None
    if row is None or user is None:
        raise Unauthorized("invalid or revoked API key", code="invalid_api_key")
    if service.key_needs_touch(row):
        with db.write() as session:
            service.touch_api_key(session, row.id)
    return user


def _user_for_cookie(request: Request, db: Database, token: str) -> User:
    with db.read() as session:
        row = service.find_session(session, token)
        user = row.user if row else None
    if row is None or user is None:
        raise Unauthorized("session expired or signed out; sign in again", code="session_expired")
    check_origin(request)
    request.state.session_id = row.id
    if service.session_needs_touch(row):  # at most once a minute per session
        with db.write() as session:
            service.touch_session(session, row.id)
    return user


def current_user(request: Request, db: DatabaseDep) -> User:
    key = _presented_key(request)
    if key is not None:
        return _user_for_key(db, key)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return _user_for_cookie(request, db, token)
    raise Unauthorized("sign in or send an API key (X-Api-Key)", code="not_authenticated")


async def admin_user(user: Annotated[User, Depends(current_user)]) -> User:  # no I/O: no thread hop
    if not user.is_admin:
        raise Forbidden("admin only", code="admin_required")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]
