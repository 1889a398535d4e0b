"""Domain errors and the one error shape every HTTP error uses: {"detail", "code"}."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Raised by services; the app turns it into an HTTP answer."""

    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.headers = headers


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Invalid(DomainError):
    status_code = 422
    code = "invalid"


class TooLarge(DomainError):
    status_code = 413
    code = "too_large"


class UnsupportedMedia(DomainError):
    status_code = 415
    code = "unsupported_media_type"


class Unavailable(DomainError):
    status_code = 503
    code = "unavailable"


class InsufficientStorage(DomainError):
    status_code = 507
    code = "insufficient_storage"


def error_response(status: int, detail: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc.status_code, exc.detail, exc.code, exc.headers)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, detail, code, getattr(exc, "headers", None))


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors]
    body = {"detail": "; ".join(parts) or "invalid request", "code": "validation_error",
            "errors": [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in errors]}
    return JSONResponse(body, status_code=422)


async def _refused_value(_: Request, exc: Exception) -> JSONResponse:
    # The database refused a value the request carried (PostgreSQL takes no NUL in text, where
    # SQLite does): the client's input, so a 422 that says what, not a 500.
    assert isinstance(exc, DataError)
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
    return error_response(422, f"the database cannot store or search a value of this request: {reason}",
                          "invalid_value")


async def _database(request: Request, exc: Exception) -> JSONResponse:
    # A connection lost in use or a database that cannot be reached (PostgreSQL restarting or
    # down, core/db.py flags both): the request did not happen, and the next one connects anew.
    assert isinstance(exc, DBAPIError)
    if not exc.connection_invalidated:
        return await _unexpected(request, exc)
    log.warning("database unreachable on %s %s: %s", request.method, request.url.path, exc.orig)
    return error_response(503, "the database cannot be reached (restarting or down); try again in a moment",
                          "database_unavailable", {"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Never a traceback to the user; the log keeps it for the admin.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error; see the server log", "internal_error")


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DataError, _refused_value)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(Exception, _unexpected)
