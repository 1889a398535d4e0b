"""SQLAlchemy engine, sessions and the SQLite pragmas that make api + worker share one file.

Reads use a plain (deferred) engine; writes use a second engine whose transactions begin
with BEGIN IMMEDIATE: a deferred transaction that reads then writes can fail with
"database is locked" without waiting for busy_timeout (measured under api + worker load).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from printstash.core.settings import Settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (portable to SQLite and PostgreSQL), always returned aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use printstash.core.db.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control away from pysqlite so our BEGIN is the one that runs.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def make_engine(url: str, *, immediate: bool = False, **kwargs: Any) -> Engine:
    is_sqlite = url.startswith("sqlite")
    connect_args = {"check_same_thread": False} if is_sqlite else {}
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=not is_sqlite, **kwargs)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
    return engine


@dataclass
class Database:
    """The process's engines and session factories (one per process)."""

    read_engine: Engine
    write_engine: Engine

    def __post_init__(self) -> None:
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        url = settings.database_url
        return cls(make_engine(url), make_engine(url, immediate=True))

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commits on success, rolls back on any error."""
        with self._write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.read_engine.dispose()
        self.write_engine.dispose()
