"""SQLAlchemy engine, sessions and the SQLite pragmas that make api + worker share one file.

Reads use a plain (deferred) engine; writes use a second engine whose transactions begin
with BEGIN IMMEDIATE: a deferred transaction that reads then writes can fail with
"database is locked" without waiting for busy_timeout (measured under api + worker load).
On PostgreSQL the read engine is read-only and in autocommit, and pooled connections are
pinged only when they may be stale: a request's round trips are its statements (below).
"""

import select
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import Dialect, ExceptionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
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


# Reads go through a shared read-only mapping of the database file instead of a read() per
# page into each connection's own 2 MB cache: a search's row lookups (a thousand random pages
# for a word found in 1% of 100k files) then cost memory reads, not system calls (bench/search:
# the one-word query's SQL 81 -> 50 ms under load). Address space, not memory: the kernel's
# page cache holds the pages either way. Writes still go through the WAL.
SQLITE_MMAP_BYTES = 1 << 30
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000",
                  f"mmap_size={SQLITE_MMAP_BYTES}")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control away from pysqlite so our BEGIN is the one that runs.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


# psycopg prepares a statement once it ran 5 times on a connection, and PostgreSQL then may plan
# it once for any values (a generic plan). Search statements depend on their values: for
# `filament_type=PETG&nozzle_diameter=0.4` the generic plan guesses 500 files in any nozzle range
# and reads the 20k matching rows where the planned-for-these-values one checks the 1,186 text
# matches (the count 7 -> 55 ms at 100k files, bench/search/bench_search.py). Planning anew costs
# a fraction of a millisecond; prepared statements still save the parsing.
# JIT compilation pays off for long analytic queries; a search at 1M files crosses its cost
# threshold and spent 31 ms compiling (EXPLAIN ANALYZE) to save less than that.
POSTGRESQL_SETTINGS = ("plan_cache_mode = force_custom_plan", "jit = off")


# Reads on PostgreSQL run without a transaction of their own (autocommit): no BEGIN before the
# first statement and no ROLLBACK at the end, two of a search request's round trips to the
# server, each a wait for another process on a busy machine (docs/performance.md, issue 15).
# What a reader sees is the same: at PostgreSQL's READ COMMITTED every statement of a
# transaction takes a new snapshot anyway, so a page and its total (library/search.py), or the
# facets' library version and counts, could always come from two moments; the facets read
# the version first, so their cache never holds counts older than its key. What needs one
# snapshot takes it itself (backups/pgdump.py: REPEATABLE READ). The read engine's sessions
# are also read-only, so a write sent through Database.read() fails instead of committing.
POSTGRESQL_READ_SETTINGS = ("default_transaction_read_only = on",)


def _postgresql_settings(settings: tuple[str, ...]) -> Callable[[Any, Any], None]:
    def apply(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            for setting in settings:
                cur.execute(f"SET {setting}")
        dbapi_conn.commit()
    return apply


# pool_pre_ping would send a ping at every checkout: on PostgreSQL a round trip before each
# session's first statement, two per api request. A connection used a moment ago is alive
# unless the server has spoken since: a server that shuts down, restarts or ends one session
# sends its last words and closes the socket, and either makes an idle socket readable, which
# poll() sees without a round trip. So only a connection that sat in the pool for a while
# (a server lost without a word, behind a firewall that forgot it) or whose socket has news
# is pinged; a failed ping discards it and the pool connects anew (DisconnectionError).
PING_IDLE_S = 5.0
_RETURNED = "printstash_returned_at"


def _returned(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
    record.info[_RETURNED] = time.monotonic()


def _server_spoke(dbapi_conn: Any) -> bool:
    """Is there something to read (a message, or the end) on an idle connection's socket?"""
    if dbapi_conn.closed:
        return True
    poller = select.poll()
    poller.register(dbapi_conn.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def _ping_when_stale(dialect: Dialect) -> Callable[[Any, ConnectionPoolEntry, PoolProxiedConnection], None]:
    def check(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        returned = record.info.get(_RETURNED)
        if returned is None:  # connected for this checkout
            return
        if time.monotonic() - returned < PING_IDLE_S and not _server_spoke(dbapi_conn):
            return
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection lost: {exc}") from exc
    return check


def driver_url(url: str) -> str:
    """psycopg 3 is the one PostgreSQL driver we ship: `postgresql://` (which SQLAlchemy
    would give to psycopg2, not installed) means `postgresql+psycopg://`."""
    if url.startswith("postgresql"):
        return "postgresql+psycopg" + url[url.index(":") :]
    return url


def _unreachable_is_a_disconnect(context: ExceptionContext) -> None:
    """A failure to connect (server down or restarting) is, as a connection lost in use, a
    reason to try again, not a bug: both carry `connection_invalidated`, and the api answers
    them with 503 (core/errors.py). Only a connect failure has no connection in its context."""
    if context.connection is None:
        context.is_disconnect = True


def make_engine(url: str, *, immediate: bool = False, reads: bool = False, **kwargs: Any) -> Engine:
    """`immediate`: SQLite write transactions take the write lock at BEGIN. `reads`: the
    engine of Database.read(); on PostgreSQL read-only and in autocommit (above)."""
    is_sqlite = url.startswith("sqlite")
    connect_args = {"check_same_thread": False} if is_sqlite else {}
    if url.startswith("postgresql"):
        import psycopg  # only PostgreSQL installs need the driver loaded

        kwargs.setdefault("module", psycopg)
        if reads:
            kwargs.setdefault("isolation_level", "AUTOCOMMIT")
        url = driver_url(url)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
    else:
        settings = POSTGRESQL_SETTINGS + (POSTGRESQL_READ_SETTINGS if reads else ())
        event.listen(engine, "connect", _postgresql_settings(settings))
        event.listen(engine, "checkin", _returned)
        event.listen(engine, "checkout", _ping_when_stale(engine.dialect))
        event.listen(engine, "handle_error", _unreachable_is_a_disconnect)
    return engine


def insert_missing(session: Session, target: "Table | type[Base]", rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING: a row whose unique key is taken (also by a concurrent
    transaction that committed first) is skipped instead of failing the transaction.
    Returns how many rows were inserted."""
    if not rows:
        return 0
    table = target if isinstance(target, Table) else target.__table__  # Core: a result with rowcount
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # RETURNING counts what was inserted (rowcount of a batched executemany is not reliable)
    inserted = dialect.insert(table).on_conflict_do_nothing().returning(*table.primary_key)
    return len(session.execute(inserted, rows).all())


T = TypeVar("T")

# Reads that run beside a request's own (Database.beside), per process: each has a connection
# of its own, so a PostgreSQL api process holds up to this many more.
BESIDE_READS = 4


@dataclass
class Database:
    """The process's engines and session factories (one per process)."""

    read_engine: Engine
    write_engine: Engine
    beside_engine: Engine | None = None  # PostgreSQL: the connections of Database.beside

    def __post_init__(self) -> None:
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._beside = sessionmaker(self.beside_engine, expire_on_commit=False) if self.beside_engine else None
        self._beside_slots = threading.BoundedSemaphore(BESIDE_READS)
        # threads start at the first use (ThreadPoolExecutor starts them as work comes)
        self._beside_threads = ThreadPoolExecutor(BESIDE_READS, thread_name_prefix="db-beside")

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        url = settings.database_url
        # A pool of its own, exactly as big as the slots: a read beside never waits for a
        # connection that a request holding one of the read engine's is waiting to give back.
        beside = make_engine(url, reads=True, pool_size=BESIDE_READS, max_overflow=0) \
            if url.startswith("postgresql") else None
        return cls(make_engine(url, reads=True), make_engine(url, immediate=True), beside)

    def beside(self, session: Session, read: Callable[[Session], T]) -> Callable[[], T]:
        """Start `read` now, on a read connection and a thread of its own, while the caller goes
        on with `session`; the function returned waits for its result (raising its error).
        PostgreSQL runs the two connections' statements at once, in two server processes
        (a search's count beside its page, library/search.py). Where that cannot be (SQLite,
        whose reads share the caller's process, or every slot busy) `read` runs on `session`
        when its result is asked for. At PostgreSQL's READ COMMITTED both ways see the same:
        every statement takes a new snapshot either way (POSTGRESQL_READ_SETTINGS above)."""
        if self._beside is None or not self._beside_slots.acquire(blocking=False):
            return lambda: read(session)
        try:
            return self._beside_threads.submit(self._read_beside, read).result
        except BaseException:
            self._beside_slots.release()
            raise

    def _read_beside(self, read: Callable[[Session], T]) -> T:
        assert self._beside is not None
        try:
            with self._beside() as session:
                return read(session)
        finally:  # when the read is over, whether or not anyone still waits for it
            self._beside_slots.release()

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
        self._beside_threads.shutdown(wait=True)
        for engine in (self.read_engine, self.write_engine, self.beside_engine):
            if engine is not None:
                engine.dispose()
