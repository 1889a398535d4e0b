"""FastAPI dependencies for what the lifespan built: settings, database sessions, HTTP client.

FastAPI runs a plain `def` dependency in its thread pool, a trip to another thread and back
for each one on every request: with other processes busy those trips were most of a small
request's time (a cached /files/facets: 4-10 ms with six of them, 1.5-2 ms without,
docs/performance.md). So what does no I/O here is `async def`, and the sessions are opened
on the event loop (a Session takes its connection at its first statement, in the handler's
thread). A read session is closed there too (no I/O, see read_session); a write session's
commit or rollback happens in a worker thread.
"""

from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from typing import Annotated

import anyio
import httpx
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from printstash.core.db import Database
from printstash.core.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


async def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http  # type: ignore[no-any-return]


@asynccontextmanager
async def in_thread(session: AbstractContextManager[Session]) -> AsyncIterator[Session]:
    """A session context entered here (no I/O) and left in a worker thread (commit, rollback
    or the connection's return to the pool). Leaving has a thread of its own, as FastAPI's own
    sync dependencies have: with every pool thread busy waiting for a connection, the one
    that gives a connection back must not wait for a thread."""
    value = session.__enter__()
    try:
        yield value
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            if not await anyio.to_thread.run_sync(session.__exit__, type(exc), exc, exc.__traceback__,
                                                  limiter=anyio.CapacityLimiter(1)):
                raise
    else:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(session.__exit__, None, None, None, limiter=anyio.CapacityLimiter(1))


async def read_session(db: Annotated[Database, Depends(get_database)]) -> AsyncIterator[Session]:
    """Closed after the answer is sent (FastAPI's default scope for a yield dependency), here
    on the event loop: leaving a read session does no I/O. It only gives the connection back,
    and there is no transaction to end: PostgreSQL reads run in autocommit (core/db.py), where
    psycopg's rollback returns at once on an idle connection, and SQLite's ROLLBACK of a read
    transaction only lets go of its snapshot. The trip to a worker thread and back cost more
    than the leaving."""
    with db.read() as session:
        yield session


async def write_session(db: Annotated[Database, Depends(get_database)]) -> AsyncIterator[Session]:
    """A write transaction around the whole handler, committed before the answer goes out
    (scope="function" below): a client told "done" finds its change, also in its next request."""
    async with in_thread(db.write()) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ReadSession = Annotated[Session, Depends(read_session)]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]
HttpClient = Annotated[httpx.AsyncClient, Depends(get_http)]
