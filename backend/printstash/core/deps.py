"""FastAPI dependencies for what the lifespan built: settings, database sessions, HTTP client."""

from collections.abc import Iterator
from typing import Annotated

import httpx
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from printstash.core.db import Database
from printstash.core.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http  # type: ignore[no-any-return]


def read_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with db.read() as session:
        yield session


def write_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """A write transaction around the whole request: committed when the handler returns."""
    with db.write() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ReadSession = Annotated[Session, Depends(read_session)]
WriteSession = Annotated[Session, Depends(write_session)]
HttpClient = Annotated[httpx.AsyncClient, Depends(get_http)]
