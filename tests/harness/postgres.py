"""A real PostgreSQL server for the tests: Debian's binaries, a throwaway cluster, one database per test.

`VAULT_TEST_DB=postgresql` switches the backend suite to it: make_settings() (harness/vault.py)
then points every new vault at a fresh database of this server instead of a SQLite file.
The cluster lives in a temp dir (initdb as the `postgres` user when we are root: the server
refuses to run as root), listens on a unix socket only and runs with fsync off. Migrating a
new database copies a template that alembic migrated once, which is what makes a database per
test affordable (a copy takes ~30 ms, a migration ~1 s).
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

BIN_DIRS = [Path("/usr/lib/postgresql") / v / "bin" for v in ("17", "16", "15")] + [Path("/usr/local/bin")]
TEMPLATE = "vault_template"
ENV_SWITCH = "VAULT_TEST_DB"


def wanted() -> bool:
    """True when the suite runs on PostgreSQL (VAULT_TEST_DB=postgresql)."""
    return os.environ.get(ENV_SWITCH, "sqlite").lower() in {"postgresql", "postgres", "pg"}


def bin_dir() -> Path:
    for candidate in BIN_DIRS:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise RuntimeError("PostgreSQL binaries not found: apt-get install postgresql (make backend does it as root)")


def _as_server_user() -> tuple[list[str], int | None]:
    """The command prefix that runs a server binary, and the uid owning the cluster."""
    if os.geteuid() != 0:
        return [], None
    return ["runuser", "-u", "postgres", "--"], pwd.getpwnam("postgres").pw_uid


@dataclass
class Server:
    root: Path
    bin: Path
    prefix: list[str]
    names: Iterator[int] = field(default_factory=itertools.count)
    template_ready: bool = False
    created: list[str] = field(default_factory=list)
    vaults: dict[str, str] = field(default_factory=dict)  # data dir -> database
    admin: psycopg.Connection[tuple[object, ...]] | None = None

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def connect(self, database: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(dbname=database, user="postgres", host=str(self.socket_dir), autocommit=True)

    def psql(self, sql: str, database: str = "postgres") -> list[tuple[object, ...]]:
        """Run one statement (autocommit, so CREATE/DROP DATABASE work) and return its rows."""
        if database != "postgres":
            with self.connect(database) as conn:
                return _rows(conn.execute(sql.encode()))
        if self.admin is None:
            self.admin = self.connect("postgres")
        return _rows(self.admin.execute(sql.encode()))

    def new_database(self, *, migrated: bool = False) -> str:
        name = f"vault_{os.getpid()}_{next(self.names)}"
        template = TEMPLATE if migrated else "template0"
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE {template} STRATEGY FILE_COPY')
        self.created.append(name)
        return name

    def database_for(self, data_dir: Path) -> str:
        """One database per vault: settings made again for the same data dir share it."""
        key = str(data_dir.resolve())
        if key not in self.vaults:
            self.vaults[key] = self.new_database()
        return self.vaults[key]

    def replace_with_template(self, name: str) -> None:
        """Make `name` a fresh copy of the migrated template (it must have no connections)."""
        self.drop_database(name)
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE} STRATEGY FILE_COPY')

    def is_empty(self, name: str) -> bool:
        return self.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", name) == [(0,)]

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_created(self, since: int = 0) -> None:
        """Drop the databases made after the first `since` (a test's own, at its teardown;
        those of module-scoped fixtures made before it stay)."""
        dropped = set(self.created[since:])
        del self.created[since:]
        self.vaults = {key: name for key, name in self.vaults.items() if name not in dropped}
        for name in dropped:
            self.drop_database(name)

    def stop(self) -> None:
        if self.admin is not None:
            self.admin.close()
        subprocess.run([*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
                        "stop"], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    @contextmanager
    def down(self) -> Iterator[None]:
        """The server stopped for the block (a fast shutdown: each client is told and cut
        off, as by an admin's restart), then started again with its databases."""
        if self.admin is not None:
            self.admin.close()
            self.admin = None
        _pg_ctl(self, "-m", "fast", "stop")
        try:
            yield
        finally:
            _pg_ctl(self, "-o", _options(self), "-l", str(self.root / "server.log"), "start")

    def restart(self) -> None:
        with self.down():
            pass


def start(root: Path | None = None) -> Server:
    """initdb + start a cluster in a new temp dir, stopped and removed at interpreter exit; or
    in `root`, kept: initdb only the first time, started unless it runs already, and left
    running at exit (a benchmark's data, used again, maybe by two runs at once)."""
    prefix, uid = _as_server_user()
    keep = root is not None
    root = root or Path(tempfile.mkdtemp(prefix="printstash-pg-"))
    server = Server(root=root, bin=bin_dir(), prefix=prefix)
    data = str(root / "data")
    run = {"check": True, "capture_output": True, "text": True}
    if not (root / "data" / "PG_VERSION").exists():
        (root / "socket").mkdir(parents=True, exist_ok=True)
        if uid is not None:
            for path in (root, root / "socket"):
                os.chown(path, uid, -1)
        subprocess.run([*prefix, str(server.bin / "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], **run)  # type: ignore[call-overload]
    running = subprocess.run([*prefix, str(server.bin / "pg_ctl"), "-D", data, "status"], capture_output=True)
    if running.returncode != 0:
        _pg_ctl(server, "-o", _options(server), "-l", str(root / "server.log"), "start")
    if not keep:
        atexit.register(server.stop)
    return server


def _options(server: Server) -> str:
    return (f"-c listen_addresses='' -c unix_socket_directories='{server.socket_dir}' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")


def _pg_ctl(server: Server, *args: str) -> None:
    """pg_ctl on the cluster, waiting until the server is up or down."""
    subprocess.run([*server.prefix, str(server.bin / "pg_ctl"), "-D", str(server.root / "data"), "-w", *args],
                   check=True, capture_output=True, text=True)


def _rows(cursor: psycopg.Cursor[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return cursor.fetchall() if cursor.description else []


_server: Server | None = None


def server() -> Server:
    """The process's one server, started on first use."""
    global _server
    if _server is None:
        _server = start()
    return _server


def migrated_template(migrate: Callable[[str], None]) -> None:
    """Create the template database once, migrated by `migrate(url)` (a real alembic upgrade)."""
    srv = server()
    if srv.template_ready:
        return
    srv.psql(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0")
    migrate(srv.url(TEMPLATE))
    srv.template_ready = True
