"""PostgreSQL's side of a backup: `pg_dump` in its custom format (`-Fc`) into the archive,
`pg_restore --list` to check a dump, `pg_restore` to load one into an empty database.

The dump and the rows a backup reads to list stored content come from one snapshot: a
REPEATABLE READ transaction exports its snapshot and pg_dump runs with `--snapshot`, so every
row in the dump is in the listing and the other way round, while the api and worker go on
writing. The client programs come from PATH, else from the newest Debian server directory
(/usr/lib/postgresql/<version>/bin); pg_dump must not be older than the server.
"""

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, make_url, text
from sqlalchemy.pool import NullPool

from printstash.core.db import make_engine
from printstash.core.errors import Invalid, Unavailable
from printstash.core.settings import Settings

SERVER_BINARIES = Path("/usr/lib/postgresql")
TIMEOUT = 6 * 3600  # a dump or load of a very large database; a hung server ends it
USER_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"


class DumpFailed(Exception):
    """pg_dump, pg_restore --list or pg_restore said no (the message is its own)."""


def tool(name: str) -> str:
    """pg_dump or pg_restore: from PATH, else the newest installed server version's."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(SERVER_BINARIES.glob(f"*/bin/{name}"), key=_version, reverse=True)
    if not versions:
        raise Unavailable(f"{name} is not installed: install PostgreSQL's client programs "
                          "(Debian: apt-get install postgresql-client)", code="backup_no_pg_tools")
    return str(versions[0])


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.parts[-3]))


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The database URL as libpq takes it, and the environment that carries the password
    (never on the command line, where `ps` would show it)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    target = parsed.set(drivername="postgresql", password=None)
    return target.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise DumpFailed(f"{Path(args[0]).name} did not finish within {TIMEOUT // 3600} hours") from None
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        raise DumpFailed(f"{Path(args[0]).name} failed: {' '.join(lines[-3:]) or f'exit {done.returncode}'}")
    return done.stdout


@contextmanager
def snapshot(settings: Settings, dst: Path) -> Iterator[Connection]:
    """Dump the database into `dst` and yield a connection that sees exactly what the dump
    holds (the same exported snapshot), for the listing; it ends when the context does."""
    engine = make_engine(settings.database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.execute(text("SET TRANSACTION READ ONLY"))
                exported = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                target, env = libpq_target(settings.database_url)
                os.close(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # owner-only
                _run([tool("pg_dump"), "--format=custom", f"--snapshot={exported}", f"--file={dst}",
                      f"--dbname={target}"], env)
                yield conn
    finally:
        engine.dispose()


def rows(conn: Connection, sql: str) -> Iterator[tuple[Any, ...]]:
    yield from (tuple(row) for row in conn.execute(text(sql)))


def check_dump(dump: Path) -> None:
    """`pg_restore --list` reads the whole table of contents: a truncated or foreign file fails."""
    listing = _run([tool("pg_restore"), "--list", str(dump)])
    if "TABLE DATA" not in listing:
        raise DumpFailed("pg_restore --list finds no table data in the dump")


def refuse_non_empty(settings: Settings) -> None:
    """Restore loads into an empty database only: it never mixes a backup with other rows."""
    engine = make_engine(settings.database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            tables = [r[0] for r in rows(conn, USER_TABLES)]
    except Exception as exc:  # unreachable server, refused credentials, no such database
        raise Unavailable(f"cannot reach the PostgreSQL database to restore into: {exc}",
                          code="restore_database_unreachable") from None
    finally:
        engine.dispose()
    if tables:
        shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
        raise Invalid(f"the PostgreSQL database of VAULT_DB_URL is not empty (it has tables: {shown}); restore "
                      "loads only into an empty database: create a new one (createdb) and point VAULT_DB_URL "
                      "at it, or drop this one's tables yourself", code="restore_database_not_empty")


def load(settings: Settings, dump: Path) -> None:
    """pg_restore in one transaction: the database gets the whole dump or, on any error, nothing."""
    target, env = libpq_target(settings.database_url)
    _run([tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges",
          f"--dbname={target}", str(dump)], env)
