"""`printstash db copy --to postgresql+psycopg://…`: move a vault's database into PostgreSQL.

The vault's own database (VAULT_DB_URL, usually the SQLite file) is the source; it must be
at this version's schema. The target must hold no PrintStash rows: it is migrated to head
(the same alembic chain the api would need), then every table's rows are copied in
foreign-key order in one transaction (a failure leaves the target as empty as it was), and
then each table is compared on both sides: row count and a checksum of its rows in
primary-key order, read through the same column types. Stop the api and the worker first;
afterwards point VAULT_DB_URL at the target (docs/scaling.md).
"""

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Engine, Integer, Table, delete, func, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

import printstash.models  # noqa: F401  (every domain's tables in one MetaData)
from alembic import command
from printstash.core.command import EXIT_FAILED, Subparsers, with_settings
from printstash.core.db import Base, make_engine
from printstash.core.errors import Conflict, Invalid
from printstash.core.models import AppState
from printstash.core.schema import alembic_config, schema_state
from printstash.core.settings import Settings

BATCH = 1000
STATE = cast(Table, AppState.__table__)


@dataclass(frozen=True)
class TableCheck:
    table: str
    rows: int
    checksum: str
    matches: bool


def tables() -> list[Table]:
    """The schema's tables, each after the tables its foreign keys point at."""
    return list(Base.metadata.sorted_tables)


def copy_database(settings: Settings, target_url: str) -> list[TableCheck]:
    if not target_url.startswith("postgresql"):
        raise Invalid("--to takes a PostgreSQL URL: postgresql+psycopg://USER:PASSWORD@HOST/DBNAME",
                      code="bad_target")
    state = schema_state(settings)
    if not state.ok:
        raise Invalid(f"the vault's database is not ready to copy: {state.message}", code="schema_not_current")
    source_engine, target_engine = make_engine(settings.database_url), make_engine(target_url)
    try:
        _refuse_foreign_tables(target_engine)
        command.upgrade(alembic_config(_pointing_at(settings, target_url)), "head")
        with source_engine.connect() as src, target_engine.begin() as dst:
            _refuse_rows(dst)
            for table in tables():
                if table is not STATE:
                    _copy_table(src, dst, table)
            # Last, replacing what the migrations wrote there (the library counter, which the
            # triggers of 0007 also moved while files were copied): the source's values.
            dst.execute(delete(STATE))
            _copy_table(src, dst, STATE)
            _reset_sequences(dst)
        return _compare(source_engine, target_engine)
    finally:
        source_engine.dispose()
        target_engine.dispose()


def _pointing_at(settings: Settings, url: str) -> Settings:
    target = settings.model_copy(update={"db_url": url})
    target.__dict__.pop("database_url", None)  # a cached_property: the copy would keep the source's
    return target


def _refuse_foreign_tables(target: Engine) -> None:
    """A database with tables but no PrintStash schema is someone else's: never touch it."""
    names = set(inspect(target).get_table_names())
    if names and "alembic_version" not in names:
        raise Conflict(f"the target database is not empty ({len(names)} tables of another application); "
                       "copy into an empty database", code="target_not_empty")


def _refuse_rows(dst: Connection) -> None:
    """Rows anywhere but in app_state, where a fresh migration already writes some."""
    full = [t.name for t in tables() if t is not STATE and dst.execute(select(t).limit(1)).first() is not None]
    if full:
        raise Conflict(f"the target database already holds PrintStash data ({', '.join(full)}); "
                       "copy into an empty database", code="target_not_empty")


def _rows(conn: Connection, table: Table) -> Iterator[list[dict[str, object]]]:
    result = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
    while batch := result.fetchmany(BATCH):
        yield [dict(row) for row in batch]


def _copy_table(src: Connection, dst: Connection, table: Table) -> None:
    try:
        for batch in _rows(src, table):
            dst.execute(insert(table), batch)
    except DBAPIError as exc:  # e.g. a NUL in text, which PostgreSQL refuses; nothing is kept
        raise Invalid(f"copying table {table.name} failed, the target is left empty: {exc.orig}",
                      code="copy_failed") from exc


def _reset_sequences(dst: Connection) -> None:
    """Rows came with their ids: the id sequences continue after the largest one."""
    for table in tables():
        (column, *more) = table.primary_key.columns
        if more or not isinstance(column.type, Integer):
            continue
        top = dst.execute(select(func.max(column))).scalar()
        if top is not None:  # setval(NULL, …) of a key without a sequence does nothing
            dst.execute(text("SELECT setval(pg_get_serial_sequence(:t, :c), :v)"),
                        {"t": table.name, "c": column.name, "v": top})


def checksum(conn: Connection, table: Table) -> tuple[int, str]:
    """(rows, SHA-256 of the rows in primary-key order) as PrintStash reads them."""
    digest, count = hashlib.sha256(), 0
    for batch in _rows(conn, table):
        for row in batch:
            digest.update(json.dumps(row, default=str, sort_keys=True).encode() + b"\n")
            count += 1
    return count, digest.hexdigest()


def _compare(source: Engine, target: Engine) -> list[TableCheck]:
    checks = []
    with source.connect() as src, target.connect() as dst:
        for table in tables():
            rows, digest = checksum(src, table)
            checks.append(TableCheck(table.name, rows, digest, checksum(dst, table) == (rows, digest)))
    return checks


def register(sub: Subparsers) -> None:
    db = sub.add_parser("db", help="the database: copy a vault into PostgreSQL")
    cmds = db.add_subparsers(dest="db_command", required=True)
    copy = cmds.add_parser("copy", help="copy every row into an empty PostgreSQL database, then compare")
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql+psycopg://USER:PASSWORD@HOST/DBNAME")
    copy.set_defaults(func=with_settings(cmd_copy))


def cmd_copy(settings: Settings, args: argparse.Namespace) -> None:
    checks = copy_database(settings, args.to)
    for check in checks:
        print(f"{check.table:24} {check.rows:>9} rows  sha256 {check.checksum[:16]}  "
              f"{'ok' if check.matches else 'DIFFERENT'}")
    bad = [c.table for c in checks if not c.matches]
    if bad:
        print(f"printstash db copy: the copy differs in {', '.join(bad)}", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    print(f"copied {sum(c.rows for c in checks)} rows in {len(checks)} tables; every table matches. "
          "Now set VAULT_DB_URL to the new database.")
