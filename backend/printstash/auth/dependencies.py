"""Who is calling: every non-public route depends on CurrentUser (or AdminUser).

Contract for every domain: `user: CurrentUser` on a route makes it authenticated,
`user: AdminUser` makes it admin-only. The auth issue adds session cookies + CSRF here.
"""

from typing import Annotated

from fastapi import Depends, Request

from printstash.auth import service
from printstash.auth.models import User
from printstash.core.deps import DatabaseDep
from printstash.core.errors import Forbidden, Unauthorized


def _presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_user(request: Request, db: DatabaseDep) -> User:
    key = _presented_key(request)
    if key is not None:
        with db.write() as session:  # records last_used_at
            user = service.user_for_api_key(session, key)
        if user is not None:
            return user
        raise Unauthorized("invalid or revoked API key", code="invalid_api_key")
    raise Unauthorized("sign in or send an API key (X-Api-Key)", code="not_authenticated")


def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise Forbidden("admin only", code="admin_required")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]
