"""HTTP routes of the auth domain (thin: parse, call the service, shape the answer).

Public: GET /auth/status, POST /auth/setup, POST /auth/login. Everything else needs a user.
"""

from fastapi import APIRouter, Request, Response, status

from printstash.auth import client, service, setup
from printstash.auth import login as login_flow
from printstash.auth.dependencies import SESSION_COOKIE, AdminUser, CurrentUser, same_origin
from printstash.auth.models import User
from printstash.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    LoginRequest,
    PasswordChange,
    SessionRead,
    SetupRequest,
    StatusRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from printstash.core.db import Database
from printstash.core.deps import DatabaseDep, ReadSession, WriteSession
from printstash.core.errors import Forbidden
from printstash.core.pagination import Page
from printstash.core.params import RowId

router = APIRouter(tags=["auth"])


def _set_cookie(request: Request, response: Response, token: str, max_age: int | None) -> None:
    # Secure only over https, or a plain-http LAN install could never keep its session.
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=client.is_https(request), path="/")


def _refuse_foreign_origin(request: Request) -> None:
    """Login CSRF: a page elsewhere must not sign a visitor in to an account of its choosing."""
    if ("origin" in request.headers or "referer" in request.headers) and not same_origin(request):
        raise Forbidden("cross-site sign-in refused", code="csrf_failed")


def _start_session(db: Database, request: Request, response: Response, user: User, remember: bool) -> None:
    with db.write() as session:
        service.revoke_replaced_session(session, request.cookies.get(SESSION_COOKIE))
        _, token = service.create_session(session, user, remember=remember,
                                          user_agent=request.headers.get("user-agent"))
    _set_cookie(request, response, token, int(service.REMEMBER_TTL.total_seconds()) if remember else None)


@router.get("/auth/status")
def auth_status(session: ReadSession) -> StatusRead:
    return StatusRead(configured=service.count_users(session) > 0)


@router.post("/auth/setup", status_code=status.HTTP_201_CREATED)
def auth_setup(body: SetupRequest, request: Request, response: Response, db: DatabaseDep) -> UserRead:
    """Create the first admin with the setup token from the api log; signs them in."""
    _refuse_foreign_origin(request)
    user = setup.setup_first_admin(db, request.app.state.setup_token, body.setup_token, body.username,
                                   body.password, client.client_address(request))
    _start_session(db, request, response, user, remember=False)
    return UserRead.model_validate(user)


@router.post("/auth/login")
def auth_login(body: LoginRequest, request: Request, response: Response, db: DatabaseDep) -> UserRead:
    _refuse_foreign_origin(request)
    address = client.client_address(request)
    signed_in = login_flow.login(db, body.username, body.password, remember=body.remember, address=address,
                                 user_agent=request.headers.get("user-agent"))
    with db.write() as session:
        service.revoke_replaced_session(session, request.cookies.get(SESSION_COOKIE))
    _set_cookie(request, response, signed_in.token, signed_in.max_age)
    return UserRead.model_validate(signed_in.user)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def auth_logout(user: CurrentUser, request: Request, session: WriteSession) -> Response:
    """Revokes the session server-side: the old cookie is dead even if someone copied it."""
    session_id = getattr(request.state, "session_id", None)
    if session_id is not None:
        service.revoke_session(session, session_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/auth/me")
def auth_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(body: PasswordChange, user: CurrentUser, request: Request, db: DatabaseDep) -> Response:
    """Change your own password; every other session of yours is signed out."""
    login_flow.check_current_password(db, user, body.current_password, client.client_address(request))
    with db.write() as session:
        service.set_password(session, service.get_user(session, user.id), body.new_password)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if getattr(request.state, "session_id", None) is not None:
        _start_session(db, request, response, user, remember=False)
    return response


@router.get("/auth/sessions")
def list_sessions(user: CurrentUser, request: Request, session: ReadSession) -> Page[SessionRead]:
    """Where you are signed in; `current` marks this browser."""
    current = getattr(request.state, "session_id", None)
    rows = [SessionRead.model_validate(row).model_copy(update={"current": row.id == current})
            for row in service.list_sessions(session, user)]
    return Page(items=rows, total=len(rows))


@router.delete("/auth/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_session(session_id: RowId, user: CurrentUser, session: WriteSession) -> None:
    """Sign out one of your browsers (e.g. a lost laptop)."""
    service.revoke_own_session(session, user, session_id)


@router.get("/users")
def list_users(_: AdminUser, session: ReadSession) -> Page[UserRead]:
    users = [UserRead.model_validate(u) for u in service.list_users(session)]
    return Page(items=users, total=len(users))


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, _: AdminUser, session: WriteSession) -> UserRead:
    return UserRead.model_validate(service.create_user(session, body.username, body.password, body.role))


@router.get("/users/{user_id}")
def get_user(user_id: RowId, _: AdminUser, session: ReadSession) -> UserRead:
    return UserRead.model_validate(service.get_user(session, user_id))


@router.patch("/users/{user_id}")
def update_user(user_id: RowId, body: UserUpdate, admin: AdminUser, request: Request, response: Response,
                db: DatabaseDep) -> UserRead:
    with db.write() as session:
        user = service.get_user(session, user_id)
        updated = service.update_user(session, user, role=body.role, disabled=body.disabled,
                                      password=body.password)
    # A reset signs the user out everywhere and revokes their API keys; an admin resetting
    # their own password keeps this browser signed in.
    if body.password is not None and user_id == admin.id and getattr(request.state, "session_id", None):
        _start_session(db, request, response, updated, remember=False)
    return UserRead.model_validate(updated)


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: RowId, _: AdminUser, session: WriteSession) -> None:
    service.delete_user(session, service.get_user(session, user_id))


@router.post("/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(body: ApiKeyCreate, user: CurrentUser, session: WriteSession) -> ApiKeyCreated:
    row, key = service.create_api_key(session, user, body.name.strip() or "key")
    return ApiKeyCreated(id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at,
                         last_used_at=row.last_used_at, key=key)


@router.get("/api-keys")
def list_api_keys(user: CurrentUser, session: ReadSession) -> Page[ApiKeyRead]:
    keys = [ApiKeyRead.model_validate(k) for k in service.list_api_keys(session, user)]
    return Page(items=keys, total=len(keys))


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(key_id: RowId, user: CurrentUser, session: WriteSession) -> None:
    service.revoke_api_key(session, user, key_id)
